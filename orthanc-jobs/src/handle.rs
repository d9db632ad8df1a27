//! [`JobsHandle`]: submit jobs, act on them and read them, with or without local workers.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, TokioClock};
use crate::engine::{CachedJob, Shared, lock};
use crate::error::Error;
use crate::id::JobId;
use crate::job::{Job, JobOutput};
use crate::metrics::{Counters, render_prometheus};
use crate::record::JobRecord;
use crate::state::{Action, JobState, Transition};
use crate::store::{ActionReport, NewJob, Store};

/// A handle on a store of jobs: submit, pause, resume, cancel, resubmit, read.
///
/// An [`Engine`](crate::Engine) derefs to one whose actions also reach its workers at once. A
/// handle made with [`JobsHandle::new`] has no workers: it controls jobs run by engines in
/// other processes through the store (they see its requests between steps).
#[derive(Clone)]
pub struct JobsHandle {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    history_size: usize,
    poll_interval: Duration,
    counters: Arc<Counters>,
    local: Option<Arc<Shared>>,
    affinity: Option<String>,
}

impl JobsHandle {
    /// A handle without workers over `store` (history size 10, polling every 100 ms while
    /// waiting for a job).
    pub fn new(store: Arc<dyn Store>) -> JobsHandle {
        JobsHandle {
            store,
            clock: Arc::new(TokioClock::new()),
            history_size: 10,
            poll_interval: Duration::from_millis(100),
            counters: Arc::new(Counters::default()),
            local: None,
            affinity: None,
        }
    }

    pub(crate) fn local(shared: Arc<Shared>) -> JobsHandle {
        JobsHandle {
            store: shared.store.clone(),
            clock: shared.clock.clone(),
            history_size: shared.config.history_size,
            poll_interval: shared.config.poll_interval,
            counters: shared.counters.clone(),
            local: Some(shared),
            affinity: None,
        }
    }

    /// Use this clock (for timestamps).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> JobsHandle {
        self.clock = clock;
        self
    }

    /// Keep this many finished jobs when an action here finishes one (a cancel).
    pub fn with_history_size(mut self, size: usize) -> JobsHandle {
        self.history_size = size;
        self
    }

    /// Pin every job submitted through this handle to engines with this affinity name
    /// ([`crate::EngineConfig::affinity`]): no other engine takes them, and they wait for
    /// such an engine even when theirs crashed. Without it, jobs have no affinity and any
    /// engine may run them.
    pub fn with_affinity(mut self, name: impl Into<String>) -> JobsHandle {
        self.affinity = Some(name.into());
        self
    }

    /// The affinity name given to jobs submitted through this handle, if any.
    pub fn affinity(&self) -> Option<&str> {
        self.affinity.as_deref()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Submit a job (asynchronous submission): it is saved as `Pending` and its id returned.
    pub async fn submit(&self, job: impl Job, priority: i32) -> Result<JobId, Error> {
        self.submit_boxed(Box::new(job), priority).await
    }

    /// Submit a boxed job.
    pub async fn submit_boxed(&self, job: Box<dyn Job>, priority: i32) -> Result<JobId, Error> {
        let mut ids = self.submit_many(vec![(job, priority)]).await?;
        ids.pop().ok_or(Error::ShutDown)
    }

    /// Submit several jobs in one store call (one transaction where the store has them), in
    /// order.
    pub async fn submit_many(&self, jobs: Vec<(Box<dyn Job>, i32)>) -> Result<Vec<JobId>, Error> {
        let now = self.clock.now();
        let mut new_jobs = Vec::with_capacity(jobs.len());
        let mut ids = Vec::with_capacity(jobs.len());
        for (job, priority) in &jobs {
            let type_name = job.type_name().to_owned();
            let data = job.save().map_err(|source| Error::JobState {
                operation: "serialize",
                type_name: type_name.clone(),
                source,
            })?;
            let id = JobId::new();
            ids.push(id);
            new_jobs.push(NewJob {
                id,
                type_name,
                priority: *priority,
                data,
                content: job.content(),
                progress: job.progress().min(100),
                creation_time: now,
                affinity: self.affinity.clone(),
            });
        }
        if let Some(local) = &self.local {
            let mut cache = lock(&local.cache);
            for (id, (job, _)) in ids.iter().zip(jobs) {
                cache.insert(*id, CachedJob { steps: 0, job });
            }
        }
        let inserted = self.store.insert(new_jobs).await;
        if let Some(local) = &self.local {
            if inserted.is_err() {
                let mut cache = lock(&local.cache);
                for id in &ids {
                    cache.remove(id);
                }
            } else {
                for _ in &ids {
                    local.wake_workers.notify_one();
                }
            }
        }
        inserted?;
        for _ in &ids {
            Counters::add(&self.counters.submitted);
        }
        Ok(ids)
    }

    /// Submit a job and wait until it is finished (synchronous submission); returns its
    /// final record (`Success` or `Failure`).
    pub async fn submit_and_wait(&self, job: impl Job, priority: i32) -> Result<JobRecord, Error> {
        let id = self.submit(job, priority).await?;
        self.wait(id).await
    }

    /// Wait until job `id` is finished and return its record. Woken at once by local workers;
    /// for jobs run elsewhere, the store is polled.
    pub async fn wait(&self, id: JobId) -> Result<JobRecord, Error> {
        loop {
            let finished = self.local.as_ref().map(|local| {
                let (sender, receiver) = tokio::sync::oneshot::channel();
                let mut waiters = lock(&local.waiters);
                let list = waiters.entry(id).or_default();
                list.retain(|waiter| !waiter.is_closed());
                list.push(sender);
                receiver
            });
            let record = self.get(id).await?;
            if record.state.is_finished() {
                return Ok(record);
            }
            let deadline = self.clock.now() + self.poll_interval;
            let poll = self.clock.sleep_until(deadline);
            match finished {
                Some(receiver) => {
                    tokio::select! {
                        _ = receiver => {}
                        () = poll => {}
                    }
                }
                None => poll.await,
            }
        }
    }

    /// Pause a job (see the state table; a running job pauses before its next step).
    pub async fn pause(&self, id: JobId) -> Result<ActionReport, Error> {
        self.act(id, Action::Pause).await
    }

    /// Resume a paused job.
    pub async fn resume(&self, id: JobId) -> Result<ActionReport, Error> {
        self.act(id, Action::Resume).await
    }

    /// Cancel a job; a running step sees its cancellation token fire.
    pub async fn cancel(&self, id: JobId) -> Result<ActionReport, Error> {
        self.act(id, Action::Cancel).await
    }

    /// Run a failed job again from its beginning.
    pub async fn resubmit(&self, id: JobId) -> Result<ActionReport, Error> {
        self.act(id, Action::Resubmit).await
    }

    /// Apply an action through the store, then let the local workers know.
    pub async fn act(&self, id: JobId, action: Action) -> Result<ActionReport, Error> {
        let now = self.clock.now();
        let report = self.store.act(id, action, now, self.history_size).await?;
        if action == Action::Cancel && report.transition != Transition::NoOp {
            Counters::add(&self.counters.canceled);
        }
        if let Some(local) = &self.local {
            match report.transition {
                Transition::To(JobState::Pending) => local.wake_workers(),
                Transition::To(JobState::Failure) => {
                    lock(&local.cache).remove(&id);
                    local.finished(id);
                }
                Transition::Request(crate::state::Request::Cancel) => {
                    if let Some(run) = lock(&local.running).get(&id) {
                        run.token.cancel();
                    }
                }
                _ => {}
            }
        }
        Ok(report)
    }

    /// One job, or [`Error::NotFound`].
    pub async fn get(&self, id: JobId) -> Result<JobRecord, Error> {
        self.store.get(id).await?.ok_or(Error::NotFound { id })
    }

    /// Every job in the store (unfinished and history), in submission order.
    pub async fn list(&self) -> Result<Vec<JobRecord>, Error> {
        self.store.list().await
    }

    /// A job's output by name: [`Error::NotFound`] if there is no such job, `None` if it has
    /// no such output.
    pub async fn output(&self, id: JobId, name: &str) -> Result<Option<JobOutput>, Error> {
        match self.store.output(id, name).await? {
            Some(output) => Ok(Some(output)),
            None => self.get(id).await.map(|_| None),
        }
    }

    /// Orthanc's job gauges and this engine's counters, in Prometheus text.
    pub async fn metrics(&self) -> Result<String, Error> {
        let counts = self.store.counts().await?;
        Ok(render_prometheus(&counts, &self.counters.values()))
    }

    /// This handle's (or engine's) counters.
    pub fn counters(&self) -> crate::metrics::CounterValues {
        self.counters.values()
    }
}

impl std::fmt::Debug for JobsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobsHandle")
            .field("history_size", &self.history_size)
            .field("local_engine", &self.local.is_some())
            .field("affinity", &self.affinity)
            .finish()
    }
}
