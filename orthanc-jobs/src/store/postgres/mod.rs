//! [`PostgresStore`]: jobs in PostgreSQL, shared by engines on several hosts.
//!
//! - **Claims** are one statement, `UPDATE … WHERE seq IN (SELECT … ORDER BY priority DESC,
//!   seq LIMIT n FOR UPDATE SKIP LOCKED)`: engines never claim the same job and never wait on
//!   each other. A claim sets the owner, a lease deadline and increments the job's
//!   generation, its fencing token. The `WHERE` also names the claiming engine's affinity
//!   (`affinity IS NULL`; for an engine with a name `affinity IS NULL OR affinity = $5`, or
//!   `affinity = $5` when it takes pinned jobs only),
//!   over partial indexes of pending jobs without and with an affinity: an engine never
//!   walks past jobs pinned to other hosts in claim order.
//! - **Fencing.** Every later write for the run (step reports, releases, heartbeats) names
//!   `(id, owner, generation)` and changes nothing when they no longer match; a step report
//!   is then refused with [`Error::LeaseLost`]. Every saved step is also written to a step
//!   log with its owner and generation ([`PostgresStore::saved_steps`]).
//! - **Leases are judged by the database's clock.** The engine passes instants from its
//!   own clock (`Claim::lease_until`, heartbeat deadlines); this store keeps only the lease's
//!   length (`lease_until - now`) and adds it to the database's `now()`, and expiry is
//!   checked against `now()` too. Hosts whose clocks disagree still agree on every lease,
//!   and the store reads no clock of its own. (Retry deadlines and timestamps shown to users
//!   stay the engines' times.)
//! - **Wake-ups.** Submissions, releases and actions send `NOTIFY orthanc_jobs`; a listener
//!   connection calls the engines' hooks ([`Store::watch`]), so an idle engine starts a new
//!   job within milliseconds. Polling stays the fallback (a lost notification only costs a
//!   poll interval).
//! - **Schema.** The store creates and migrates its tables itself (`orthanc_jobs*`), in one
//!   transaction under an advisory lock, so hosts starting together do not race.
//! - **Stalled engines.** An engine paused (or cut off) inside a transaction holds its job's
//!   row lock; the database ends such a transaction after
//!   [`PostgresOptions::idle_transaction_timeout`], so the job can be taken back once its
//!   lease also expired (claims and recovery skip locked rows instead of waiting).
//! - **Restarts of the database.** Calls fail while it is away (the engine logs, retries
//!   and gives back a job whose step it could not save); pooled connections it closed are
//!   replaced when next taken, and the listener reconnects with backoff.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use deadpool_postgres::{Object, Pool};

use crate::error::Error;
use crate::id::{JobId, OwnerId};
use crate::job::JobOutput;
use crate::record::JobRecord;
use crate::state::{Action, JobState, Recovery, Request, StepEnd};
use crate::store::{
    ActionReport, Claim, ClaimedJob, NewJob, StateCounts, StepReport, Store, StoreFuture, WakeHook,
    Wakeup,
};

mod connect;
mod listen;
mod ops;
mod schema;
mod target;

pub use target::{is_postgres_url, redact_url};

/// Options for [`PostgresStore::connect_with`] (long-lived configuration: `&mut self` setters).
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    pool_size: usize,
    listen: bool,
    timeout: Duration,
    idle_transaction_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 8,
            listen: true,
            timeout: Duration::from_secs(10),
            idle_transaction_timeout: Duration::from_secs(5),
        }
    }
}

impl PostgresOptions {
    /// Defaults: at most 8 pooled connections, `LISTEN` for notifications, 10 s to get a
    /// connection, 5 s before the database ends a transaction its engine left idle.
    pub fn new() -> PostgresOptions {
        PostgresOptions::default()
    }

    /// At most this many connections in the pool (at least 1; the listener has its own).
    pub fn pool_size(&mut self, size: usize) -> &mut Self {
        self.pool_size = size.max(1);
        self
    }

    /// Whether to keep a connection that `LISTEN`s for other processes' submissions and
    /// actions (without it, engines find new work at their next poll).
    pub fn listen(&mut self, listen: bool) -> &mut Self {
        self.listen = listen;
        self
    }

    /// How long the database lets a transaction of this store sit idle before it ends the
    /// session (`idle_in_transaction_session_timeout`). An engine paused or cut off in the
    /// middle of a step report holds the job's row lock; this bounds how long other engines
    /// cannot take the job back. Keep it well above a round trip, and below the lease.
    pub fn idle_transaction_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.idle_transaction_timeout = timeout.max(Duration::from_millis(100));
        self
    }

    /// How long a call waits for a connection (to be made or freed) before failing.
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }
}

/// One saved step in the step log: which engine saved it, under which fencing token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedStep {
    /// The job.
    pub id: JobId,
    /// The job's step count after this step (1 for its first step).
    pub step: u64,
    /// The engine that saved it.
    pub owner: OwnerId,
    /// The generation of the claim it ran under.
    pub generation: u64,
    /// When it was saved, by the database's clock.
    pub saved_at: SystemTime,
}

/// A store in a PostgreSQL database, shared by any number of engines on any number of
/// hosts. Start engines on it with [`Recovery::ExpiredLeases`]: [`Recovery::AllRunning`]
/// would take back jobs that live engines elsewhere are running.
///
/// The URL is libpq's: `postgres://user[:password]@host[:port]/database`. A password comes
/// from the URL, else `PGPASSWORD`, else the password file (`PGPASSFILE` or `~/.pgpass`); a
/// missing user from `PGUSER`, else the login name. `sslmode=require`, `verify-ca` or
/// `verify-full` connect through TLS (rustls), always verifying the server's certificate and
/// name against `sslrootcert` (a PEM file) or the system's roots; without them, plain TCP.
/// Messages show the URL with its password redacted.
pub struct PostgresStore {
    pool: Pool,
    hooks: listen::Hooks,
    listener: Option<tokio::task::JoinHandle<()>>,
    url: String,
}

/// A driver error with its causes (its own text says only which kind of error it is).
pub(crate) fn describe_pg(error: &tokio_postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A pool error with its causes.
pub(crate) fn describe_pool(error: &deadpool_postgres::PoolError) -> String {
    match error {
        deadpool_postgres::PoolError::Backend(error) => describe_pg(error),
        deadpool_postgres::PoolError::Timeout(_) => {
            "timed out waiting for a connection (the database is slow or unreachable)".into()
        }
        other => other.to_string(),
    }
}

/// Turn a driver error into the crate's, saying what was being done.
pub(crate) fn pg_error(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |source| Error::Postgres { context, source }
}

impl PostgresStore {
    /// Connect with default options, creating or migrating the schema. Must be called inside
    /// a tokio runtime.
    pub async fn connect(url: &str) -> Result<PostgresStore, Error> {
        PostgresStore::connect_with(url, &PostgresOptions::default()).await
    }

    /// Connect, creating or migrating the schema. Must be called inside a tokio runtime.
    pub async fn connect_with(
        url: &str,
        options: &PostgresOptions,
    ) -> Result<PostgresStore, Error> {
        let mut target = target::Target::parse(url, &target::Environment::process())?;
        let idle = format!(
            "-c idle_in_transaction_session_timeout={}",
            options.idle_transaction_timeout.as_millis()
        );
        let session_options = match target.config.get_options() {
            Some(given) => format!("{given} {idle}"),
            None => idle,
        };
        target.config.options(session_options);
        let tls = connect::Tls::for_target(&target)?;
        let pool = connect::pool(&target, &tls, options.pool_size, options.timeout)?;
        let mut store = PostgresStore {
            pool,
            hooks: Arc::new(Mutex::new(Vec::new())),
            listener: None,
            url: target.redacted.clone(),
        };
        let mut client = store.client().await?;
        schema::migrate(&mut client).await?;
        drop(client);
        if options.listen {
            let hooks = store.hooks.clone();
            let url = target.redacted.clone();
            let task = listen::run(target.config, tls, hooks, url);
            store.listener = Some(tokio::spawn(task));
        }
        Ok(store)
    }

    /// The database's URL, password redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The step log: every saved step of the jobs still in the store, in the order saved.
    pub async fn saved_steps(&self) -> Result<Vec<SavedStep>, Error> {
        let client = self.client().await?;
        ops::saved_steps(&client).await
    }

    async fn client(&self) -> Result<Object, Error> {
        let pooled = self.pool.get().await;
        pooled.map_err(|source| Error::PostgresPool { source })
    }
}

/// Run `body` in a transaction on a pooled connection and commit.
macro_rules! in_transaction {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut client = $store.client().await?;
        let $tx = client
            .transaction()
            .await
            .map_err(pg_error("starting a transaction"))?;
        let result = $body.await?;
        $tx.commit()
            .await
            .map_err(pg_error("committing a transaction"))?;
        Ok(result)
    }};
}

impl Store for PostgresStore {
    fn insert(&self, jobs: Vec<NewJob>) -> StoreFuture<'_, ()> {
        Box::pin(async move { in_transaction!(self, |tx| ops::insert(&tx, &jobs)) })
    }

    fn claim(&self, claim: Claim) -> StoreFuture<'_, Vec<ClaimedJob>> {
        Box::pin(async move {
            let client = self.client().await?;
            ops::claim(&client, &claim).await
        })
    }

    fn report_step(&self, report: StepReport) -> StoreFuture<'_, JobState> {
        Box::pin(async move {
            if report.end == StepEnd::Continue
                && ops::continue_step(&self.client().await?, &report).await?
            {
                return Ok(JobState::Running);
            }
            in_transaction!(self, |tx| ops::report_step(&tx, report))
        })
    }

    fn release<'a>(
        &'a self,
        owner: &'a OwnerId,
        held: Vec<(JobId, u64)>,
        now: SystemTime,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { in_transaction!(self, |tx| ops::release(&tx, owner, &held, now)) })
    }

    fn act(
        &self,
        id: JobId,
        action: Action,
        now: SystemTime,
        history_size: usize,
    ) -> StoreFuture<'_, ActionReport> {
        Box::pin(
            async move { in_transaction!(self, |tx| ops::act(&tx, id, action, now, history_size)) },
        )
    }

    fn heartbeat<'a>(
        &'a self,
        owner: &'a OwnerId,
        held: Vec<(JobId, u64)>,
        now: SystemTime,
        lease_until: SystemTime,
    ) -> StoreFuture<'a, Vec<(JobId, Request)>> {
        let lease = lease_until.duration_since(now).unwrap_or(Duration::ZERO);
        Box::pin(
            async move { in_transaction!(self, |tx| ops::heartbeat(&tx, owner, &held, lease)) },
        )
    }

    fn requests<'a>(&'a self, owner: &'a OwnerId) -> StoreFuture<'a, Vec<(JobId, Request)>> {
        Box::pin(async move { in_transaction!(self, |tx| ops::requests(&tx, owner)) })
    }

    fn recover(&self, recovery: Recovery, now: SystemTime) -> StoreFuture<'_, u64> {
        Box::pin(async move { in_transaction!(self, |tx| ops::recover(&tx, recovery, now)) })
    }

    fn wake_retries(&self, now: SystemTime) -> StoreFuture<'_, Wakeup> {
        Box::pin(async move { in_transaction!(self, |tx| ops::wake_retries(&tx, now)) })
    }

    fn get(&self, id: JobId) -> StoreFuture<'_, Option<JobRecord>> {
        Box::pin(async move { ops::get(&self.client().await?, id).await })
    }

    fn list(&self) -> StoreFuture<'_, Vec<JobRecord>> {
        Box::pin(async move { ops::list(&self.client().await?).await })
    }

    fn counts(&self) -> StoreFuture<'_, StateCounts> {
        Box::pin(async move { ops::counts(&self.client().await?).await })
    }

    fn output<'a>(&'a self, id: JobId, name: &'a str) -> StoreFuture<'a, Option<JobOutput>> {
        Box::pin(async move { ops::output(&self.client().await?, id, name).await })
    }

    fn watch(&self, hook: WakeHook) {
        self.hooks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(hook);
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.url)
            .field("listening", &self.listener.is_some())
            .finish()
    }
}
