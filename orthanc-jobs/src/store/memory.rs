//! [`MemoryStore`]: every job in a map behind one mutex, with ordered indexes.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use crate::error::Error;
use crate::id::{IdMap, IdSet, JobId, OwnerId};
use crate::job::JobOutput;
use crate::record::{JobError, JobRecord};
use crate::state::{self, Action, JobState, Recovery, Request, StepEnd, Transition};
use crate::store::{
    ActionReport, Claim, ClaimedJob, NewJob, StateCounts, StepReport, Store, StoreFuture, Wakeup,
};

/// A store in memory: fast, shared by the engines and handles of one process, and gone when
/// the process ends. Clone the `Arc` holding it to share it.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    jobs: IdMap<Entry>,
    pending: BTreeMap<(Reverse<i32>, u64), JobId>,
    retries: BTreeSet<(SystemTime, u64, JobId)>,
    running: IdSet,
    /// Finished jobs in completion order; entries whose job left the history are skipped.
    history: VecDeque<(u64, JobId)>,
    history_len: usize,
    next_sequence: u64,
    next_finished: u64,
    counts: StateCounts,
}

#[derive(Debug)]
struct Entry {
    record: JobRecord,
    reset: bool,
    finished: u64,
    outputs: Vec<JobOutput>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing the store, so poisoning is ignored.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn ready<'a, T: Send + 'a>(result: Result<T, Error>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(result))
}

impl Inner {
    /// Move a job to `to`, keeping every index and count right.
    fn move_to(&mut self, id: JobId, to: JobState, now: SystemTime) {
        let Some(entry) = self.jobs.get_mut(&id) else {
            return;
        };
        let record = &mut entry.record;
        let from = record.state;
        match from {
            JobState::Pending => {
                self.pending
                    .remove(&(Reverse(record.priority), record.sequence));
            }
            JobState::Retry => {
                if let Some(at) = record.retry_at {
                    self.retries.remove(&(at, record.sequence, id));
                }
            }
            JobState::Running => {
                self.running.remove(&id);
            }
            JobState::Success | JobState::Failure => {
                entry.finished = 0;
                self.history_len -= 1;
            }
            JobState::Paused => {}
        }
        if from != JobState::Running || to != JobState::Running {
            record.owner = None;
            record.lease_until = None;
            record.request = None;
        }
        if to != JobState::Retry {
            record.retry_at = None;
        }
        match to {
            JobState::Pending => {
                self.pending
                    .insert((Reverse(record.priority), record.sequence), id);
            }
            JobState::Retry => {
                let at = record.retry_at.unwrap_or(now);
                record.retry_at = Some(at);
                self.retries.insert((at, record.sequence, id));
            }
            JobState::Running => {
                self.running.insert(id);
            }
            JobState::Success | JobState::Failure => {
                self.next_finished += 1;
                entry.finished = self.next_finished;
                self.history.push_back((self.next_finished, id));
                self.history_len += 1;
                record.completion_time = Some(now);
            }
            JobState::Paused => {}
        }
        record.state = to;
        record.last_change = now;
        *self.counts.slot(from) -= 1;
        *self.counts.slot(to) += 1;
    }

    fn prune_history(&mut self, keep: usize) {
        while self.history_len > keep {
            let Some((finished, id)) = self.history.pop_front() else {
                break;
            };
            let live = self.jobs.get(&id).is_some_and(|e| e.finished == finished);
            if live {
                if let Some(entry) = self.jobs.remove(&id) {
                    *self.counts.slot(entry.record.state) -= 1;
                }
                self.history_len -= 1;
            }
        }
    }

    fn requests_of(&self, owner: &OwnerId) -> Vec<(JobId, Request)> {
        self.running
            .iter()
            .filter_map(|id| self.jobs.get(id))
            .filter(|e| e.record.owner.as_ref() == Some(owner))
            .filter_map(|e| e.record.request.map(|r| (e.record.id, r)))
            .collect()
    }

    fn report(&mut self, report: StepReport) -> Result<JobState, Error> {
        let id = report.id;
        let entry = self
            .jobs
            .get_mut(&id)
            .filter(|e| {
                e.record.state == JobState::Running
                    && e.record.owner.as_ref() == Some(&report.owner)
                    && e.record.generation == report.generation
            })
            .ok_or(Error::LeaseLost { id })?;
        let to = state::settle(report.end, entry.record.request);
        let record = &mut entry.record;
        record.data = report.data;
        record.progress = report.progress.min(100);
        record.content = report.content;
        record.effective_runtime = report.effective_runtime;
        record.steps += 1;
        record.last_change = report.now;
        entry.reset = false;
        match to {
            JobState::Success => {
                record.progress = 100;
                entry.outputs = report.outputs;
            }
            JobState::Failure => {
                record.error = Some(match (report.end, report.error) {
                    (StepEnd::Failure, Some(error)) => error,
                    _ => JobError::canceled(),
                });
            }
            JobState::Retry => record.retry_at = report.retry_at,
            _ => {}
        }
        if to != JobState::Running {
            self.move_to(id, to, report.now);
        }
        if to.is_finished() {
            self.prune_history(report.history_size);
        }
        Ok(to)
    }

    fn act(
        &mut self,
        id: JobId,
        action: Action,
        now: SystemTime,
        history_size: usize,
    ) -> Result<ActionReport, Error> {
        let entry = self.jobs.get_mut(&id).ok_or(Error::NotFound { id })?;
        let before = entry.record.state;
        let transition = state::apply(before, action)?;
        match transition {
            Transition::To(to) => {
                if action == Action::Cancel {
                    entry.record.error = Some(JobError::canceled());
                }
                if action == Action::Resubmit {
                    entry.reset = true;
                    entry.outputs.clear();
                    entry.record.error = None;
                    entry.record.completion_time = None;
                    entry.record.progress = 0;
                    entry.record.steps = 0;
                    entry.record.effective_runtime = std::time::Duration::ZERO;
                }
                self.move_to(id, to, now);
                if to.is_finished() {
                    self.prune_history(history_size);
                }
            }
            Transition::Request(request) => {
                entry.record.request = Some(Request::merge(entry.record.request, request));
                entry.record.last_change = now;
            }
            Transition::NoOp => {}
        }
        let after = self.jobs.get(&id).map_or(before, |e| e.record.state);
        Ok(ActionReport {
            before,
            after,
            transition,
        })
    }
}

impl Store for MemoryStore {
    fn insert(&self, jobs: Vec<NewJob>) -> StoreFuture<'_, ()> {
        let mut inner = self.lock();
        for job in jobs {
            inner.next_sequence += 1;
            let sequence = inner.next_sequence;
            let record = JobRecord {
                id: job.id,
                type_name: job.type_name,
                priority: job.priority,
                state: JobState::Pending,
                progress: job.progress.min(100),
                content: job.content,
                data: job.data,
                error: None,
                creation_time: job.creation_time,
                completion_time: None,
                last_change: job.creation_time,
                effective_runtime: std::time::Duration::ZERO,
                steps: 0,
                retry_at: None,
                request: None,
                owner: None,
                lease_until: None,
                generation: 0,
                sequence,
                affinity: job.affinity,
            };
            inner
                .pending
                .insert((Reverse(record.priority), sequence), record.id);
            inner.counts.pending += 1;
            let entry = Entry {
                record,
                reset: false,
                finished: 0,
                outputs: Vec::new(),
            };
            if let Some(old) = inner.jobs.insert(job.id, entry) {
                // Same id submitted twice: keep the first, undo the index entry just added.
                inner.pending.remove(&(Reverse(job.priority), sequence));
                inner.counts.pending -= 1;
                inner.jobs.insert(job.id, old);
            }
        }
        ready(Ok(()))
    }

    fn claim(&self, claim: Claim) -> StoreFuture<'_, Vec<ClaimedJob>> {
        let mut inner = self.lock();
        let mut claimed = Vec::with_capacity(claim.limit.min(16));
        // The best pending jobs this engine may run, in claim order (the index is walked
        // past jobs pinned to other engines).
        let picked: Vec<JobId> = inner
            .pending
            .values()
            .filter(|id| {
                inner
                    .jobs
                    .get(id)
                    .is_some_and(|e| match (&e.record.affinity, &claim.affinity) {
                        (None, mine) => !(claim.pinned_only && mine.is_some()),
                        (Some(job), Some(mine)) => job == mine,
                        (Some(_), None) => false,
                    })
            })
            .take(claim.limit)
            .copied()
            .collect();
        for id in picked {
            inner.move_to(id, JobState::Running, claim.now);
            if let Some(entry) = inner.jobs.get_mut(&id) {
                entry.record.owner = Some(claim.owner.clone());
                entry.record.lease_until = Some(claim.lease_until);
                entry.record.generation += 1;
                let record = &entry.record;
                claimed.push(ClaimedJob {
                    id,
                    type_name: record.type_name.clone(),
                    priority: record.priority,
                    data: record.data.clone(),
                    steps: record.steps,
                    reset: entry.reset,
                    effective_runtime: record.effective_runtime,
                    generation: record.generation,
                });
            }
        }
        ready(Ok(claimed))
    }

    fn report_step(&self, report: StepReport) -> StoreFuture<'_, JobState> {
        ready(self.lock().report(report))
    }

    fn release<'a>(
        &'a self,
        owner: &'a OwnerId,
        held: Vec<(JobId, u64)>,
        now: SystemTime,
    ) -> StoreFuture<'a, ()> {
        let mut inner = self.lock();
        for (id, generation) in held {
            let held = inner.jobs.get(&id).is_some_and(|e| {
                e.record.state == JobState::Running
                    && e.record.owner.as_ref() == Some(owner)
                    && e.record.generation == generation
            });
            if held {
                inner.move_to(id, JobState::Pending, now);
            }
        }
        ready(Ok(()))
    }

    fn act(
        &self,
        id: JobId,
        action: Action,
        now: SystemTime,
        history_size: usize,
    ) -> StoreFuture<'_, ActionReport> {
        ready(self.lock().act(id, action, now, history_size))
    }

    fn heartbeat<'a>(
        &'a self,
        owner: &'a OwnerId,
        held: Vec<(JobId, u64)>,
        _now: SystemTime,
        lease_until: SystemTime,
    ) -> StoreFuture<'a, Vec<(JobId, Request)>> {
        let mut inner = self.lock();
        for (id, generation) in held {
            if let Some(entry) = inner.jobs.get_mut(&id)
                && entry.record.state == JobState::Running
                && entry.record.owner.as_ref() == Some(owner)
                && entry.record.generation == generation
            {
                entry.record.lease_until = Some(lease_until);
            }
        }
        ready(Ok(inner.requests_of(owner)))
    }

    fn requests<'a>(&'a self, owner: &'a OwnerId) -> StoreFuture<'a, Vec<(JobId, Request)>> {
        ready(Ok(self.lock().requests_of(owner)))
    }

    fn recover(&self, recovery: Recovery, now: SystemTime) -> StoreFuture<'_, u64> {
        let mut inner = self.lock();
        let candidates: Vec<(JobId, JobState)> = inner
            .running
            .iter()
            .chain(inner.retries.iter().map(|(_, _, id)| id))
            .filter_map(|id| inner.jobs.get(id))
            .map(|e| {
                let expired = e.record.lease_until.is_none_or(|until| until <= now);
                let to = state::after_restart(e.record.state, recovery, expired, e.record.request);
                (e.record.id, to)
            })
            .collect();
        let mut moved = 0;
        for (id, to) in candidates {
            let Some(entry) = inner.jobs.get_mut(&id) else {
                continue;
            };
            if to == entry.record.state {
                continue;
            }
            if to == JobState::Failure {
                entry.record.error = Some(JobError::canceled());
            }
            inner.move_to(id, to, now);
            moved += u64::from(to == JobState::Pending);
        }
        ready(Ok(moved))
    }

    fn wake_retries(&self, now: SystemTime) -> StoreFuture<'_, Wakeup> {
        let mut inner = self.lock();
        let mut woken = 0;
        while let Some(&(at, _, id)) = inner.retries.first() {
            if at > now {
                break;
            }
            inner.move_to(id, JobState::Pending, now);
            woken += 1;
        }
        let next_retry = inner.retries.first().map(|(at, _, _)| *at);
        ready(Ok(Wakeup { woken, next_retry }))
    }

    fn get(&self, id: JobId) -> StoreFuture<'_, Option<JobRecord>> {
        ready(Ok(self.lock().jobs.get(&id).map(|e| e.record.clone())))
    }

    fn list(&self) -> StoreFuture<'_, Vec<JobRecord>> {
        let inner = self.lock();
        let mut records: Vec<JobRecord> = inner.jobs.values().map(|e| e.record.clone()).collect();
        records.sort_by_key(|r| r.sequence);
        ready(Ok(records))
    }

    fn counts(&self) -> StoreFuture<'_, StateCounts> {
        ready(Ok(self.lock().counts))
    }

    fn output<'a>(&'a self, id: JobId, name: &'a str) -> StoreFuture<'a, Option<JobOutput>> {
        let inner = self.lock();
        let output = inner
            .jobs
            .get(&id)
            .and_then(|e| e.outputs.iter().find(|o| o.name == name).cloned());
        ready(Ok(output))
    }
}
