//! `dicomweb jobs`: the persistent jobs in a state folder (SQLite) or a PostgreSQL database
//! (`--jobs-db`), listed, shown, run to the end, paused, resumed, canceled or resubmitted —
//! from this process or while another one runs them, on this host or another (the store is
//! the source of truth).
//!
//! `run` takes back every unfinished job (also those a killed process left running: each
//! resumes from its last saved step) and runs them until none is pending, running or waiting
//! to retry. `list` and `show` print Orthanc's JSON (ID, Type, State, Progress, Priority,
//! CreationTime, …).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dicomweb_client::jobs;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use orthanc_jobs::store::{is_postgres_url, redact_url};
use orthanc_jobs::{
    Action as JobAction, Engine, EngineConfig, JobId, JobRecord, JobRegistry, JobState, JobsHandle,
    PostgresStore, Recovery, SqliteStore, Store,
};

use crate::Failure;
use crate::endpoint::Endpoints;
use crate::output::print_json;

/// Where the jobs live (`--state` or `--jobs-db`), shared by `transfer` and `jobs`.
#[derive(Clone, Debug, clap::Args)]
pub struct StateArg {
    /// The folder holding the jobs' state (default: $XDG_DATA_HOME/dicomweb, else
    /// ~/.local/share/dicomweb).
    #[arg(long = "state", value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub jobs_db: JobsDbArg,
}

/// `--jobs-db URL` (or `DICOMWEB_JOBS_DB`): the PostgreSQL job database, shared by
/// `transfer`, `jobs` and `adapter`.
#[derive(Clone, Debug, clap::Args)]
pub struct JobsDbArg {
    /// A PostgreSQL database holding the jobs instead of the state folder, shared by workers
    /// on several hosts: postgres://user@host:port/database (add ?sslmode=require for TLS). A
    /// password comes from the URL, else PGPASSWORD or ~/.pgpass; it is never printed or saved
    /// (default: $DICOMWEB_JOBS_DB).
    #[arg(
        long = "jobs-db",
        value_name = "URL",
        env = "DICOMWEB_JOBS_DB",
        hide_env_values = true,
        global = true
    )]
    jobs_db: Option<JobsDbUrl>,
}

/// A job database URL, redacted in `Debug`.
#[derive(Clone)]
struct JobsDbUrl(String);

impl std::str::FromStr for JobsDbUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(JobsDbUrl(url.to_owned()))
    }
}

impl std::fmt::Debug for JobsDbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl JobsDbArg {
    /// Opens the PostgreSQL store (creating its tables if needed) when a URL is given; `None`
    /// without one. Errors show the URL with its password redacted.
    pub async fn open(&self) -> Result<Option<JobStore>, Failure> {
        let Some(url) = self
            .jobs_db
            .as_ref()
            .map(|u| u.0.as_str())
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        if !is_postgres_url(url) {
            return Err(Failure(format!(
                "--jobs-db (or DICOMWEB_JOBS_DB) expects a postgres:// or postgresql:// URL, \
                 found {:?} (SQLite job stores live in --state DIR)",
                redact_url(url)
            )));
        }
        let store = PostgresStore::connect(url).await.map_err(|e| match e {
            // Already names the URL, password redacted.
            orthanc_jobs::Error::DatabaseUrl { .. } => Failure(e.to_string()),
            e => Failure(format!(
                "cannot open the job database {}: {e}",
                redact_url(url)
            )),
        })?;
        Ok(Some(JobStore {
            store: Arc::new(store),
            shared: true,
        }))
    }
}

/// An open job store, and whether engines on other hosts may share it.
pub struct JobStore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// True for PostgreSQL: engines take back only jobs whose lease expired.
    pub shared: bool,
}

impl JobStore {
    /// Which jobs an engine starting on this store takes back.
    pub fn recovery(&self) -> Recovery {
        if self.shared {
            Recovery::ExpiredLeases
        } else {
            Recovery::AllRunning
        }
    }
}

/// `dicomweb jobs …`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    state: StateArg,
    /// How many jobs `run` runs at once.
    #[arg(long, default_value_t = 2, global = true)]
    concurrency: usize,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Print every job as a JSON array (Orthanc's fields).
    List,
    /// Print one job.
    Show {
        /// The job's ID.
        id: String,
    },
    /// Run every unfinished job to the end.
    Run,
    /// Pause a job (between two steps).
    Pause {
        /// The job's ID.
        id: String,
    },
    /// Resume a paused job.
    Resume {
        /// The job's ID.
        id: String,
    },
    /// Cancel a job.
    Cancel {
        /// The job's ID.
        id: String,
    },
    /// Run a failed or canceled job again from the start.
    Resubmit {
        /// The job's ID.
        id: String,
    },
    /// Run jobs until SIGTERM or Ctrl-C, serving Orthanc's jobs REST API and /metrics (with
    /// --jobs-db, workers on several hosts share the queue).
    Serve(crate::jobs_serve::ServeArgs),
}

impl Args {
    /// Whether the command runs jobs (and so needs the connection options).
    pub fn runs_jobs(&self) -> bool {
        matches!(self.action, Action::Run | Action::Serve(_))
    }
}

/// Runs `dicomweb jobs`; `endpoints` reach the endpoints of the jobs `run` and `serve` run.
pub async fn run(args: &Args, endpoints: Option<Endpoints>, quiet: bool) -> Result<(), Failure> {
    let store = open_store(&args.state).await?;
    let handle = JobsHandle::new(store.store.clone());
    let id = |text: &str| {
        text.parse::<JobId>()
            .map_err(|e| Failure(format!("invalid job ID {text:?}: {e}")))
    };
    match &args.action {
        Action::List => print_json(&records_json(&handle.list().await?)),
        Action::Show { id: text } => {
            let record = handle.get(id(text)?).await?;
            print_json(&record.to_orthanc_json(SystemTime::now()))
        }
        Action::Pause { id: text } => act(&handle, id(text)?, JobAction::Pause).await,
        Action::Resume { id: text } => act(&handle, id(text)?, JobAction::Resume).await,
        Action::Cancel { id: text } => act(&handle, id(text)?, JobAction::Cancel).await,
        Action::Resubmit { id: text } => act(&handle, id(text)?, JobAction::Resubmit).await,
        Action::Run => {
            let endpoints = endpoints.ok_or_else(|| Failure("no connection options".to_owned()))?;
            let engine = start_engine(&store, &endpoints, args.concurrency).await?;
            let ids: Vec<JobId> = unfinished(&engine.handle().list().await?)
                .map(|r| r.id)
                .collect();
            let records = wait_all(engine.handle(), &ids, quiet).await?;
            engine.shutdown().await;
            finish(&records)
        }
        Action::Serve(serve) => {
            let endpoints = endpoints.ok_or_else(|| Failure("no connection options".to_owned()))?;
            crate::jobs_serve::run(serve, store, endpoints).await
        }
    }
}

async fn act(handle: &JobsHandle, id: JobId, action: JobAction) -> Result<(), Failure> {
    let report = handle.act(id, action).await?;
    print_json(&serde_json::json!({
        "ID": id.to_string(),
        "Action": action.as_str(),
        "Before": report.before.as_str(),
        "After": report.after.as_str(),
    }))
}

/// The one place the job store is chosen: `--jobs-db` with a `postgres://` or
/// `postgresql://` URL opens PostgreSQL (creating its tables if needed); without it, the state
/// folder's SQLite file. Errors show the URL with its password redacted.
pub async fn open_store(state: &StateArg) -> Result<JobStore, Failure> {
    match state.jobs_db.open().await? {
        Some(shared) => Ok(shared),
        None => Ok(JobStore {
            store: open_sqlite(state.dir.as_deref())?,
            shared: false,
        }),
    }
}

/// The state folder's SQLite store, the folder created if needed.
fn open_sqlite(dir: Option<&Path>) -> Result<Arc<SqliteStore>, Failure> {
    let dir = match dir {
        Some(dir) => dir.to_path_buf(),
        None => default_state_dir()?,
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        Failure(format!(
            "cannot create the state folder {}: {e}",
            dir.display()
        ))
    })?;
    let path = dir.join("jobs.sqlite");
    SqliteStore::open(&path)
        .map(Arc::new)
        .map_err(|e| Failure(format!("cannot open the job store {}: {e}", path.display())))
}

pub(crate) fn default_state_dir() -> Result<PathBuf, Failure> {
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(data).join("dicomweb"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/dicomweb")),
        None => Err(Failure(
            "no state folder: give --state DIR (neither XDG_DATA_HOME nor HOME is set)".to_owned(),
        )),
    }
}

/// An engine over the store that knows the transfer job types (DICOMweb, and to DICOM devices).
pub async fn start_engine(
    store: &JobStore,
    endpoints: &Endpoints,
    concurrency: usize,
) -> Result<Engine, Failure> {
    let mut config = EngineConfig::new();
    config.concurrent_jobs(concurrency).history_size(1000);
    start_engine_with(store, endpoints, config).await
}

/// An engine over the store with `config` (its recovery set from the store's kind).
pub async fn start_engine_with(
    store: &JobStore,
    endpoints: &Endpoints,
    mut config: EngineConfig,
) -> Result<Engine, Failure> {
    let mut registry = JobRegistry::new();
    jobs::register(&mut registry, endpoints.connect.clone());
    dicomweb_dimse::export::register(
        &mut registry,
        endpoints.connect.clone(),
        endpoints.resolve.clone(),
    );
    config.recovery(store.recovery());
    Ok(Engine::start(store.store.clone(), registry, config).await?)
}

/// Whether a job still has work an engine will do: pending, running or waiting to retry
/// (not finished, not paused).
fn is_unfinished(record: &JobRecord) -> bool {
    matches!(
        record.state,
        JobState::Pending | JobState::Running | JobState::Retry
    )
}

fn unfinished(records: &[JobRecord]) -> impl Iterator<Item = &JobRecord> {
    records.iter().filter(|r| is_unfinished(r))
}

/// Waits for the jobs to finish (success, failure, or paused by someone), drawing their
/// overall progress on standard error when it is a terminal.
pub async fn wait_all(
    handle: &JobsHandle,
    ids: &[JobId],
    quiet: bool,
) -> Result<Vec<JobRecord>, Failure> {
    let bar = if !quiet && std::io::stderr().is_terminal() && !ids.is_empty() {
        let bar = ProgressBar::with_draw_target(
            Some(ids.len() as u64 * 100),
            ProgressDrawTarget::stderr(),
        );
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} jobs [{bar:30}] {percent:>3}% {msg} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    loop {
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            records.push(handle.get(*id).await?);
        }
        let done = records.iter().filter(|r| !is_unfinished(r)).count();
        let progress: u64 = records
            .iter()
            .map(|r| {
                if r.state == JobState::Success {
                    100
                } else {
                    u64::from(r.progress)
                }
            })
            .sum();
        bar.set_position(progress);
        bar.set_message(format!("{done}/{} done", ids.len()));
        if done == ids.len() {
            bar.finish_and_clear();
            return Ok(records);
        }
        // Woken when a job here ends (the engine tells its waiters at once), else polled:
        // the progress bar, jobs paused by someone, jobs that finished on another engine.
        let pending = ids.iter().zip(&records).find(|(_, r)| is_unfinished(r));
        let tick = tokio::time::sleep(Duration::from_millis(200));
        match pending {
            Some((id, _)) => {
                tokio::select! {
                    () = tick => {}
                    _ = handle.wait(*id) => {}
                }
            }
            None => tick.await,
        }
    }
}

/// Prints the records; fails when one did not succeed.
pub fn finish(records: &[JobRecord]) -> Result<(), Failure> {
    print_json(&records_json(records))?;
    let failed: Vec<String> = records
        .iter()
        .filter(|r| r.state != JobState::Success)
        .map(|r| match &r.error {
            Some(error) => format!("{} {:?}: {}", r.id, r.state, error.description),
            None => format!("{} {:?}", r.id, r.state),
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure(format!(
            "{} of {} jobs did not succeed: {}",
            failed.len(),
            records.len(),
            failed.join("; ")
        )))
    }
}

fn records_json(records: &[JobRecord]) -> serde_json::Value {
    let now = SystemTime::now();
    serde_json::Value::Array(records.iter().map(|r| r.to_orthanc_json(now)).collect())
}
