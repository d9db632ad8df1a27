//! The [`Engine`]: `ConcurrentJobs` workers and a maintenance task over a [`Store`].

use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, TokioClock};
use crate::error::Error;
use crate::handle::JobsHandle;
use crate::id::{IdMap, JobId, OwnerId};
use crate::job::Job;
use crate::metrics::Counters;
use crate::registry::JobRegistry;
use crate::state::Recovery;
use crate::store::{Notice, Store};

mod maintenance;
mod worker;

/// An engine's settings (long-lived configuration: `&mut self` setters).
#[derive(Clone)]
pub struct EngineConfig {
    pub(crate) concurrent_jobs: usize,
    pub(crate) history_size: usize,
    pub(crate) poll_interval: Duration,
    pub(crate) lease: Duration,
    pub(crate) recovery: Recovery,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) affinity: Option<String>,
    pub(crate) pinned_only: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            concurrent_jobs: 2,
            history_size: 10,
            poll_interval: Duration::from_millis(100),
            lease: Duration::from_secs(30),
            recovery: Recovery::AllRunning,
            clock: None,
            affinity: None,
            pinned_only: false,
        }
    }
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("concurrent_jobs", &self.concurrent_jobs)
            .field("history_size", &self.history_size)
            .field("poll_interval", &self.poll_interval)
            .field("lease", &self.lease)
            .field("recovery", &self.recovery)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .field("affinity", &self.affinity)
            .field("pinned_only", &self.pinned_only)
            .finish()
    }
}

impl EngineConfig {
    /// The defaults: 2 workers and a history of 10 (Orthanc's `ConcurrentJobs` and
    /// `JobsHistorySize`), polling every 100 ms, 30 s leases, [`Recovery::AllRunning`].
    pub fn new() -> EngineConfig {
        EngineConfig::default()
    }

    /// How many jobs run at once (Orthanc's `ConcurrentJobs`; at least 1).
    pub fn concurrent_jobs(&mut self, workers: usize) -> &mut Self {
        self.concurrent_jobs = workers.max(1);
        self
    }

    /// How many finished jobs to keep (Orthanc's `JobsHistorySize`).
    pub fn history_size(&mut self, size: usize) -> &mut Self {
        self.history_size = size;
        self
    }

    /// How often to look in the store for work and requests made by other processes
    /// (new jobs, pause and cancel). Local submissions and actions wake the engine at once.
    pub fn poll_interval(&mut self, interval: Duration) -> &mut Self {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How long a claim holds without a heartbeat (heartbeats go every third of it).
    pub fn lease(&mut self, lease: Duration) -> &mut Self {
        self.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// Which jobs to take back at start.
    pub fn recovery(&mut self, recovery: Recovery) -> &mut Self {
        self.recovery = recovery;
        self
    }

    /// This engine's affinity name (default: none). An engine with a name runs jobs without
    /// affinity and jobs pinned to this name; an engine without one runs only jobs without
    /// affinity. Jobs are pinned when submitted through a handle made by
    /// [`JobsHandle::with_affinity`] (see [`Store`] for the contract).
    pub fn affinity(&mut self, name: impl Into<String>) -> &mut Self {
        self.affinity = Some(name.into());
        self
    }

    /// With an affinity name, take only jobs pinned to it, never jobs without affinity
    /// (default: false). For an engine that knows only its own job types but shares a store
    /// with engines running others: a job it cannot restore would fail in its hands.
    pub fn pinned_only(&mut self, only: bool) -> &mut Self {
        self.pinned_only = only;
        self
    }

    /// The clock (default: [`TokioClock`], which follows tokio's paused time in tests).
    pub fn clock(&mut self, clock: Arc<dyn Clock>) -> &mut Self {
        self.clock = Some(clock);
        self
    }
}

/// A job object kept between runs, so a job submitted or paused here is not restored from
/// its saved state when it runs again here.
pub(crate) struct CachedJob {
    pub(crate) steps: u64,
    pub(crate) job: Box<dyn Job>,
}

/// A job running here: its step's cancellation token and the generation it was claimed under.
pub(crate) struct Running {
    pub(crate) token: CancellationToken,
    pub(crate) generation: u64,
}

/// State shared by an engine's tasks and its handles.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) registry: JobRegistry,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: EngineConfig,
    pub(crate) owner: OwnerId,
    pub(crate) wake_workers: Notify,
    pub(crate) wake_maintenance: Notify,
    pub(crate) cache: Mutex<IdMap<CachedJob>>,
    pub(crate) running: Mutex<IdMap<Running>>,
    pub(crate) waiters: Mutex<IdMap<Vec<oneshot::Sender<()>>>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) shutdown: CancellationToken,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn wake_workers(&self) {
        self.wake_workers.notify_waiters();
        self.wake_workers.notify_one();
    }

    /// Tell whoever waits for `id` that it finished.
    pub(crate) fn finished(&self, id: JobId) {
        let waiters = lock(&self.waiters).remove(&id);
        for waiter in waiters.into_iter().flatten() {
            let _ = waiter.send(());
        }
    }
}

/// A running job engine: a [`JobsHandle`] (submit, act, query) plus `concurrent_jobs`
/// workers and a maintenance task (retry timers, heartbeats, requests from other processes).
///
/// Dropping the engine asks its tasks to stop; [`Engine::shutdown`] also waits for them,
/// letting running steps end and giving their jobs back to the store as `Pending`.
pub struct Engine {
    handle: JobsHandle,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Engine {
    /// Start an engine over `store`: take back jobs per `config`'s [`Recovery`], then start
    /// the workers. Must be called inside a tokio runtime.
    pub async fn start(
        store: Arc<dyn Store>,
        registry: JobRegistry,
        config: EngineConfig,
    ) -> Result<Engine, Error> {
        let clock = config
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(TokioClock::new()));
        store.recover(config.recovery, clock.now()).await?;
        let shared = Arc::new(Shared {
            store,
            registry,
            clock,
            owner: OwnerId::new(),
            wake_workers: Notify::new(),
            wake_maintenance: Notify::new(),
            cache: Mutex::new(IdMap::default()),
            running: Mutex::new(IdMap::default()),
            waiters: Mutex::new(IdMap::default()),
            counters: Arc::new(Counters::default()),
            shutdown: CancellationToken::new(),
            config,
        });
        let watcher = Arc::downgrade(&shared);
        shared.store.watch(Arc::new(move |notice| {
            if let Some(shared) = watcher.upgrade() {
                shared.wake_workers();
                if notice != Notice::Submitted {
                    shared.wake_maintenance.notify_one();
                }
            }
        }));
        let mut tasks = Vec::with_capacity(shared.config.concurrent_jobs + 1);
        tasks.push(tokio::spawn(maintenance::run(shared.clone())));
        for _ in 0..shared.config.concurrent_jobs {
            tasks.push(tokio::spawn(worker::run(shared.clone())));
        }
        Ok(Engine {
            handle: JobsHandle::local(shared.clone()),
            shared,
            tasks,
        })
    }

    /// A handle on this engine (cheap to clone, usable from any task).
    pub fn handle(&self) -> &JobsHandle {
        &self.handle
    }

    /// This engine's owner id in the store.
    pub fn owner(&self) -> &OwnerId {
        &self.shared.owner
    }

    /// This engine's affinity name ([`EngineConfig::affinity`]).
    pub fn affinity(&self) -> Option<&str> {
        self.shared.config.affinity.as_deref()
    }

    /// A handle on this engine whose submissions are pinned to its affinity name, so only
    /// engines of this name run them (without a name, the same as [`Engine::handle`]).
    pub fn local_handle(&self) -> JobsHandle {
        match &self.shared.config.affinity {
            Some(name) => self.handle.clone().with_affinity(name.clone()),
            None => self.handle.clone(),
        }
    }

    /// Stop: no new jobs are taken, running steps end, and their jobs go back to `Pending`
    /// with their last step saved. Waits for every task.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Deref for Engine {
    type Target = JobsHandle;

    fn deref(&self) -> &JobsHandle {
        &self.handle
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("owner", &self.shared.owner)
            .field("config", &self.shared.config)
            .field("registry", &self.shared.registry)
            .finish()
    }
}
