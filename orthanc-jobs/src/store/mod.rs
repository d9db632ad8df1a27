//! Persistence: the [`Store`] trait, and its in-memory, SQLite and PostgreSQL implementations.
//!
//! See [`Store`] for the contract every store keeps, and how a PostgreSQL store fits it.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::error::Error;
use crate::id::{JobId, OwnerId};
use crate::job::JobOutput;
use crate::record::{JobError, JobRecord};
use crate::state::{Action, JobState, Recovery, Request, StepEnd, Transition};

mod columns;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_ops;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore, SavedStep, is_postgres_url, redact_url};
#[cfg(feature = "postgres")]
pub(crate) use postgres::{describe_pg, describe_pool};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};

/// The future returned by every [`Store`] method.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// A job to add to a store (state `Pending`).
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Its id.
    pub id: JobId,
    /// Its type name.
    pub type_name: String,
    /// Its priority (higher runs first).
    pub priority: i32,
    /// Its saved state ([`crate::Job::save`]).
    pub data: Value,
    /// What to show about it.
    pub content: Value,
    /// Its progress, 0 to 100.
    pub progress: u8,
    /// When it was submitted.
    pub creation_time: SystemTime,
    /// The only engines that may run it: those configured with this affinity name
    /// ([`crate::EngineConfig::affinity`]); `None` lets any engine run it.
    pub affinity: Option<String>,
}

/// A request to take `Pending` jobs for an engine.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The engine taking the jobs.
    pub owner: OwnerId,
    /// At most this many jobs.
    pub limit: usize,
    /// The current time.
    pub now: SystemTime,
    /// The lease deadline given to the taken jobs.
    pub lease_until: SystemTime,
    /// The claiming engine's affinity name: it takes jobs without affinity and jobs with
    /// this one; with `None`, only jobs without affinity.
    pub affinity: Option<String>,
    /// With an affinity name: take only jobs pinned to it, none without affinity.
    pub pinned_only: bool,
}

/// A job taken by [`Store::claim`], now `Running` under the claiming owner.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    /// Its id.
    pub id: JobId,
    /// Its type name.
    pub type_name: String,
    /// Its priority.
    pub priority: i32,
    /// Its last saved state.
    pub data: Value,
    /// Steps saved so far.
    pub steps: u64,
    /// Whether it was resubmitted and must be reset before its next step.
    pub reset: bool,
    /// Time spent in its steps so far.
    pub effective_runtime: Duration,
    /// The claim's fencing token: it grows with every claim of the job, and every later write
    /// for this run ([`StepReport::generation`], [`Store::release`]) names it.
    pub generation: u64,
}

/// What a worker reports after a step: the store saves it and settles the job's state.
#[derive(Debug, Clone)]
pub struct StepReport {
    /// The job.
    pub id: JobId,
    /// The engine running it (checked: see [`Error::LeaseLost`]).
    pub owner: OwnerId,
    /// The fencing token of the claim it runs under ([`ClaimedJob::generation`]; checked).
    pub generation: u64,
    /// How the step ended.
    pub end: StepEnd,
    /// The job's error, when the step ended with failure.
    pub error: Option<JobError>,
    /// When to run it again, when the step asked for a retry.
    pub retry_at: Option<SystemTime>,
    /// The job's state after the step.
    pub data: Value,
    /// Its progress after the step.
    pub progress: u8,
    /// What to show about it after the step.
    pub content: Value,
    /// Total time spent in its steps.
    pub effective_runtime: Duration,
    /// Its outputs, when it succeeded.
    pub outputs: Vec<JobOutput>,
    /// The current time.
    pub now: SystemTime,
    /// How many finished jobs to keep in the history.
    pub history_size: usize,
}

/// What [`Store::act`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionReport {
    /// The job's state before the action.
    pub before: JobState,
    /// Its state after (still `Running` when a request was left for its worker).
    pub after: JobState,
    /// The transition applied.
    pub transition: Transition,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// `Pending` jobs.
    pub pending: u64,
    /// `Running` jobs.
    pub running: u64,
    /// `Success` jobs in the history.
    pub success: u64,
    /// `Failure` jobs in the history.
    pub failure: u64,
    /// `Paused` jobs.
    pub paused: u64,
    /// `Retry` jobs.
    pub retry: u64,
}

impl StateCounts {
    /// The count for one state.
    pub fn of(&self, state: JobState) -> u64 {
        match state {
            JobState::Pending => self.pending,
            JobState::Running => self.running,
            JobState::Success => self.success,
            JobState::Failure => self.failure,
            JobState::Paused => self.paused,
            JobState::Retry => self.retry,
        }
    }

    pub(crate) fn slot(&mut self, state: JobState) -> &mut u64 {
        match state {
            JobState::Pending => &mut self.pending,
            JobState::Running => &mut self.running,
            JobState::Success => &mut self.success,
            JobState::Failure => &mut self.failure,
            JobState::Paused => &mut self.paused,
            JobState::Retry => &mut self.retry,
        }
    }
}

/// What [`Store::wake_retries`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wakeup {
    /// Jobs moved from `Retry` to `Pending`.
    pub woken: u64,
    /// The earliest retry deadline still ahead, if any.
    pub next_retry: Option<SystemTime>,
}

/// Where jobs live.
///
/// # The contract
///
/// The store, not the engine, is the source of truth. Every state change and every finished
/// step goes through it, and every action is applied by the store itself through the pure
/// table in [`crate::state`], atomically (check the state and change it in one transaction).
/// So any number of engines and handles, in any number of processes, can share one store.
///
/// - **Claims.** [`Store::claim`] moves the best `Pending` jobs (higher priority first, then
///   submission order) to `Running`, owned by the claiming engine until a lease deadline. In
///   PostgreSQL this is one statement:
///   `UPDATE jobs SET state = 'Running', owner = $1, lease_until = $2,
///   generation = generation + 1 WHERE id IN
///   (SELECT id FROM jobs WHERE state = 'Pending' ORDER BY priority DESC, seq LIMIT $3
///   FOR UPDATE SKIP LOCKED) RETURNING ...`: engines on several machines never claim the same
///   job and never wait on each other.
/// - **Affinity.** A job may carry an affinity name ([`NewJob::affinity`]): only an engine
///   claiming with that name ([`Claim::affinity`]) takes it. An engine with a name also takes
///   jobs without affinity, unless it claims [`Claim::pinned_only`] (it knows only its own
///   job types); an engine without one takes only jobs without affinity. Nothing else changes a
///   job's affinity: a job given back by [`Store::release`] or [`Store::recover`] (its engine
///   crashed) keeps it, and waits for an engine with that name. This is for jobs that need
///   something only one host has (files on its own disk): other engines sharing the store,
///   even those that do not know the job's type, never take them. A store keeps claims on
///   indexes: the PostgreSQL claim adds `AND affinity IS NULL` (an engine without a name),
///   `AND (affinity IS NULL OR affinity = $5)` or `AND affinity = $5` (pinned only) to its
///   `WHERE`, over partial indexes of pending jobs without and with an affinity.
/// - **Leases and heartbeats.** A running engine calls [`Store::heartbeat`] regularly to extend
///   the leases of the jobs it holds. [`Store::recover`] with
///   [`Recovery::ExpiredLeases`] gives back to `Pending` the jobs of an engine that stopped
///   sending heartbeats (it crashed); any engine may call it.
/// - **Fencing.** Every claim of a job increments its generation, a fencing token
///   ([`ClaimedJob::generation`]). [`Store::report_step`] and [`Store::release`] carry the
///   owner and the generation. If the job is no longer held under them (its lease expired and
///   someone else took it, even the same engine again), the report is refused with
///   [`Error::LeaseLost`] and the engine drops its copy: a job's saved state only ever moves
///   forward under one owner at a time.
/// - **Control from anywhere.** [`Store::act`] applies pause, resume, cancel and resubmit.
///   On a running job, pause and cancel are left as a request; the owner sees it in the reply to
///   its next [`Store::report_step`] (between steps, applied in the same transaction by
///   [`crate::state::settle`]) and, for a cancel, sooner through [`Store::requests`], which
///   it polls to fire the step's cancellation token.
/// - **Batching.** [`Store::insert`] takes many jobs at once, and a store may group concurrent
///   calls into one transaction (the SQLite store commits all calls that arrive while a
///   transaction is being written in the next one). Replies are sent only after the commit.
///
/// - **Time** is always passed in (`now`, lease and retry deadlines) from the engine's clock;
///   a store never reads a clock, so simulated time drives it too.
///   A store that several machines share may judge lease expiry by its own clock instead
///   (the PostgreSQL store uses the database's `now()` and takes from the engine only the
///   lease's length), so hosts whose clocks disagree still agree on leases.
/// - **Wake-ups.** Engines poll the store (claims, requests, due retries) every
///   `poll_interval`; work submitted through the same engine wakes it at once. A store may
///   also wake engines when other processes submit or act ([`Store::watch`]; PostgreSQL's
///   `LISTEN`/`NOTIFY`); polling stays the fallback, so nothing depends on it.
pub trait Store: Send + Sync + 'static {
    /// Add jobs in state `Pending`, in the given order (their submission order).
    fn insert(&self, jobs: Vec<NewJob>) -> StoreFuture<'_, ()>;

    /// Take up to `claim.limit` `Pending` jobs, higher priority first, then submission order.
    fn claim(&self, claim: Claim) -> StoreFuture<'_, Vec<ClaimedJob>>;

    /// Save a finished step and settle the job's state ([`crate::state::settle`] with the
    /// request left on it), returning the new state. Refused with [`Error::LeaseLost`] if the
    /// job is not `Running` under `report.owner` and `report.generation`.
    fn report_step(&self, report: StepReport) -> StoreFuture<'_, JobState>;

    /// Give back `Running` jobs held by `owner` (an engine stopping cleanly): they become
    /// `Pending`, keeping their last saved step. Each job is named with the generation it was
    /// claimed under; a job claimed again since then is left alone.
    fn release<'a>(
        &'a self,
        owner: &'a OwnerId,
        held: Vec<(JobId, u64)>,
        now: SystemTime,
    ) -> StoreFuture<'a, ()>;

    /// Apply a user action through the state table ([`crate::state::apply`]).
    fn act(
        &self,
        id: JobId,
        action: Action,
        now: SystemTime,
        history_size: usize,
    ) -> StoreFuture<'_, ActionReport>;

    /// Extend to `lease_until` the leases of the jobs `owner` is running, named with the
    /// generation each was claimed under (a job claimed again since is left alone), and
    /// return the requests left on every job held by `owner`. A job the owner holds but does
    /// not name (a claim whose reply was lost) is not extended, so it expires and is taken
    /// back. A store that judges leases by its own clock (PostgreSQL) uses only the length
    /// of the lease, `lease_until - now`.
    fn heartbeat<'a>(
        &'a self,
        owner: &'a OwnerId,
        held: Vec<(JobId, u64)>,
        now: SystemTime,
        lease_until: SystemTime,
    ) -> StoreFuture<'a, Vec<(JobId, Request)>>;

    /// The requests left on jobs held by `owner` (read only).
    fn requests<'a>(&'a self, owner: &'a OwnerId) -> StoreFuture<'a, Vec<(JobId, Request)>>;

    /// Give jobs back after a restart or a crashed engine ([`crate::state::after_restart`]),
    /// returning how many became `Pending`.
    fn recover(&self, recovery: Recovery, now: SystemTime) -> StoreFuture<'_, u64>;

    /// Move `Retry` jobs whose deadline passed to `Pending`.
    fn wake_retries(&self, now: SystemTime) -> StoreFuture<'_, Wakeup>;

    /// One job.
    fn get(&self, id: JobId) -> StoreFuture<'_, Option<JobRecord>>;

    /// Every job (unfinished and history), in submission order.
    fn list(&self) -> StoreFuture<'_, Vec<JobRecord>>;

    /// How many jobs are in each state.
    fn counts(&self) -> StoreFuture<'_, StateCounts>;

    /// A finished job's output by name.
    fn output<'a>(&'a self, id: JobId, name: &'a str) -> StoreFuture<'a, Option<JobOutput>>;

    /// Call `hook` whenever another process submits work or acts on a job, so an idle engine
    /// wakes at once instead of at its next poll. The default does nothing (engines poll);
    /// the PostgreSQL store drives it from `LISTEN`/`NOTIFY`. A hook may be called spuriously.
    fn watch(&self, hook: WakeHook) {
        let _ = hook;
    }
}

/// What a store tells a [`WakeHook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// Jobs became `Pending` (submitted, resumed, resubmitted, released or taken back).
    Submitted,
    /// An action was applied to a job (a pause or cancel may be waiting for its engine).
    Action,
    /// The store may have missed notices (it reconnected): look at everything.
    Resync,
}

/// A callback a store calls with a [`Notice`] ([`Store::watch`]). It must return quickly.
pub type WakeHook = std::sync::Arc<dyn Fn(Notice) + Send + Sync>;
