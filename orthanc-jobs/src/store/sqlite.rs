//! [`SqliteStore`]: jobs in an SQLite file (WAL), written by one thread with group commit.
//!
//! Every call becomes a command for the store's writer thread. The thread takes all commands
//! waiting, runs them in one `BEGIN IMMEDIATE` transaction (each inside its own savepoint,
//! so a failing command does not undo the others), commits, and only then answers. Under
//! load, many transitions share one commit.
//!
//! Several processes may open the same file: SQLite serialises their transactions, and the
//! store's semantics (claims, owners, requests) are all in the rows.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::SystemTime;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::Error;
use crate::id::{JobId, OwnerId};
use crate::job::JobOutput;
use crate::record::JobRecord;
use crate::state::{Action, JobState, Recovery, Request};
use crate::store::sqlite_ops as ops;
use crate::store::{
    ActionReport, Claim, ClaimedJob, NewJob, StateCounts, StepReport, Store, StoreFuture, Wakeup,
};

/// Options for [`SqliteStore::open_with`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    synchronous_full: bool,
    busy_timeout: std::time::Duration,
    max_batch: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous_full: false,
            busy_timeout: std::time::Duration::from_secs(10),
            max_batch: 512,
        }
    }
}

impl SqliteOptions {
    /// Defaults: `synchronous = NORMAL` (a commit survives a crash of the process; a power
    /// loss may undo the last commits), a 10 s busy timeout, up to 512 calls per transaction.
    pub fn new() -> SqliteOptions {
        SqliteOptions::default()
    }

    /// `synchronous = FULL`: every commit is on disk before the call returns (slower).
    pub fn synchronous_full(&mut self, full: bool) -> &mut Self {
        self.synchronous_full = full;
        self
    }

    /// How long to wait for another process's write transaction.
    pub fn busy_timeout(&mut self, timeout: std::time::Duration) -> &mut Self {
        self.busy_timeout = timeout;
        self
    }

    /// At most this many calls in one transaction (at least 1).
    pub fn max_batch(&mut self, calls: usize) -> &mut Self {
        self.max_batch = calls.max(1);
        self
    }
}

/// A store in an SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    commands: mpsc::Sender<Box<dyn Command>>,
    path: PathBuf,
}

impl SqliteStore {
    /// Open (or create) the store at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, Error> {
        SqliteStore::open_with(path, &SqliteOptions::default())
    }

    /// Open (or create) the store at `path`.
    pub fn open_with(
        path: impl AsRef<Path>,
        options: &SqliteOptions,
    ) -> Result<SqliteStore, Error> {
        let path = path.as_ref().to_path_buf();
        let connection = Connection::open(&path)?;
        connection.busy_timeout(options.busy_timeout)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        let synchronous = if options.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        connection.pragma_update(None, "synchronous", synchronous)?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        ops::create_schema(&connection)?;
        let (commands, receiver) = mpsc::channel::<Box<dyn Command>>();
        let max_batch = options.max_batch;
        std::thread::Builder::new()
            .name("orthanc-jobs-sqlite".into())
            .spawn(move || writer(connection, receiver, max_batch))
            .map_err(|source| Error::Io {
                context: "starting the SQLite writer thread".into(),
                source,
            })?;
        Ok(SqliteStore { commands, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn call<T, F>(&self, run: F) -> StoreFuture<'_, T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let sent = self.commands.send(Box::new(Call { run, reply }));
        Box::pin(async move {
            sent.map_err(|_| Error::ShutDown)?;
            answer.await.map_err(|_| Error::ShutDown)?
        })
    }
}

/// A call waiting for the writer thread.
trait Command: Send {
    /// Run inside the open transaction; the reply goes out after the commit.
    fn run(self: Box<Self>, connection: &Connection) -> Box<dyn Reply>;
    /// The transaction could not be started.
    fn fail(self: Box<Self>, error: Error);
}

/// An answer held until the commit.
trait Reply: Send {
    fn send(self: Box<Self>, commit: Result<(), Error>);
}

struct Call<T, F> {
    run: F,
    reply: oneshot::Sender<Result<T, Error>>,
}

struct Answer<T> {
    result: Result<T, Error>,
    reply: oneshot::Sender<Result<T, Error>>,
}

impl<T, F> Command for Call<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
{
    fn run(self: Box<Self>, connection: &Connection) -> Box<dyn Reply> {
        let result = match execute(connection, "SAVEPOINT call") {
            Ok(()) => {
                let result = (self.run)(connection);
                let mut end = Ok(());
                if result.is_err() {
                    end = execute(connection, "ROLLBACK TO call");
                }
                match end.and_then(|()| execute(connection, "RELEASE call")) {
                    Ok(()) => result,
                    Err(error) => Err(error.into()),
                }
            }
            Err(error) => Err(error.into()),
        };
        Box::new(Answer {
            result,
            reply: self.reply,
        })
    }

    fn fail(self: Box<Self>, error: Error) {
        let _ = self.reply.send(Err(error));
    }
}

impl<T: Send + 'static> Reply for Answer<T> {
    fn send(self: Box<Self>, commit: Result<(), Error>) {
        let _ = self.reply.send(commit.and(self.result));
    }
}

/// Run a statement without parameters, prepared once per connection.
fn execute(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// A copy of an SQLite error for every caller of a failed commit.
fn copy_error(error: &rusqlite::Error) -> Error {
    let copy = match error {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    };
    Error::Sqlite(copy)
}

/// The writer thread: group commit until every sender is gone.
fn writer(connection: Connection, commands: mpsc::Receiver<Box<dyn Command>>, max_batch: usize) {
    let mut batch: Vec<Box<dyn Command>> = Vec::with_capacity(max_batch);
    while let Ok(first) = commands.recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match commands.try_recv() {
                Ok(command) => batch.push(command),
                Err(_) => break,
            }
        }
        if let Err(error) = execute(&connection, "BEGIN IMMEDIATE") {
            for command in batch.drain(..) {
                command.fail(copy_error(&error));
            }
            continue;
        }
        let replies: Vec<Box<dyn Reply>> = batch
            .drain(..)
            .map(|command| command.run(&connection))
            .collect();
        match execute(&connection, "COMMIT") {
            Ok(()) => {
                for reply in replies {
                    reply.send(Ok(()));
                }
            }
            Err(error) => {
                let _ = execute(&connection, "ROLLBACK");
                for reply in replies {
                    reply.send(Err(copy_error(&error)));
                }
            }
        }
    }
}

impl Store for SqliteStore {
    fn insert(&self, jobs: Vec<NewJob>) -> StoreFuture<'_, ()> {
        self.call(move |c| ops::insert(c, &jobs))
    }

    fn claim(&self, claim: Claim) -> StoreFuture<'_, Vec<ClaimedJob>> {
        self.call(move |c| ops::claim(c, &claim))
    }

    fn report_step(&self, report: StepReport) -> StoreFuture<'_, JobState> {
        self.call(move |c| ops::report_step(c, report))
    }

    fn release<'a>(
        &'a self,
        owner: &'a OwnerId,
        held: Vec<(JobId, u64)>,
        now: SystemTime,
    ) -> StoreFuture<'a, ()> {
        let owner = owner.clone();
        self.call(move |c| ops::release(c, &owner, &held, now))
    }

    fn act(
        &self,
        id: JobId,
        action: Action,
        now: SystemTime,
        history_size: usize,
    ) -> StoreFuture<'_, ActionReport> {
        self.call(move |c| ops::act(c, id, action, now, history_size))
    }

    fn heartbeat<'a>(
        &'a self,
        owner: &'a OwnerId,
        held: Vec<(JobId, u64)>,
        _now: SystemTime,
        lease_until: SystemTime,
    ) -> StoreFuture<'a, Vec<(JobId, Request)>> {
        let owner = owner.clone();
        self.call(move |c| {
            ops::extend_leases(c, &owner, &held, lease_until)?;
            ops::requests(c, &owner)
        })
    }

    fn requests<'a>(&'a self, owner: &'a OwnerId) -> StoreFuture<'a, Vec<(JobId, Request)>> {
        let owner = owner.clone();
        self.call(move |c| ops::requests(c, &owner))
    }

    fn recover(&self, recovery: Recovery, now: SystemTime) -> StoreFuture<'_, u64> {
        self.call(move |c| ops::recover(c, recovery, now))
    }

    fn wake_retries(&self, now: SystemTime) -> StoreFuture<'_, Wakeup> {
        self.call(move |c| ops::wake_retries(c, now))
    }

    fn get(&self, id: JobId) -> StoreFuture<'_, Option<JobRecord>> {
        self.call(move |c| ops::get(c, id))
    }

    fn list(&self) -> StoreFuture<'_, Vec<JobRecord>> {
        self.call(ops::list)
    }

    fn counts(&self) -> StoreFuture<'_, StateCounts> {
        self.call(ops::counts)
    }

    fn output<'a>(&'a self, id: JobId, name: &'a str) -> StoreFuture<'a, Option<JobOutput>> {
        let name = name.to_owned();
        self.call(move |c| ops::output(c, id, &name))
    }
}
