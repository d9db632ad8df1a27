//! One worker: claim the best pending job, run its steps, report each one, repeat.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::engine::{CachedJob, Running, Shared, lock};
use crate::error::Error;
use crate::id::JobId;
use crate::job::{Job, StepContext, StepOutcome};
use crate::metrics::Counters;
use crate::record::JobError;
use crate::state::{JobState, StepEnd};
use crate::store::{Claim, ClaimedJob, StepReport};

/// The worker loop, until the engine shuts down.
pub(crate) async fn run(shared: Arc<Shared>) {
    loop {
        let notified = shared.wake_workers.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if shared.shutdown.is_cancelled() {
            return;
        }
        let now = shared.clock.now();
        let claim = Claim {
            owner: shared.owner.clone(),
            limit: 1,
            now,
            lease_until: now + shared.config.lease,
            affinity: shared.config.affinity.clone(),
            pinned_only: shared.config.pinned_only,
        };
        match shared.store.claim(claim).await {
            Ok(jobs) if !jobs.is_empty() => {
                for job in jobs {
                    run_job(&shared, job).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "claiming jobs failed; trying again later"),
        }
        let poll = shared
            .clock
            .sleep_until(shared.clock.now() + shared.config.poll_interval);
        tokio::select! {
            () = &mut notified => {}
            () = poll => {}
            () = shared.shutdown.cancelled() => return,
        }
    }
}

/// Take the job object: the one kept here if it is current, else restore it.
fn job_object(shared: &Shared, claimed: &ClaimedJob) -> Result<Box<dyn Job>, Error> {
    let cached = lock(&shared.cache).remove(&claimed.id);
    let mut job = match cached {
        Some(cached) if cached.steps == claimed.steps && !claimed.reset => cached.job,
        _ => shared
            .registry
            .restore(&claimed.type_name, claimed.data.clone())?,
    };
    if claimed.reset {
        job.reset();
    }
    Ok(job)
}

async fn run_job(shared: &Arc<Shared>, claimed: ClaimedJob) {
    Counters::add(&shared.counters.claimed);
    let id = claimed.id;
    let token = CancellationToken::new();
    let run = Running {
        token: token.clone(),
        generation: claimed.generation,
    };
    lock(&shared.running).insert(id, run);
    let kept = match job_object(shared, &claimed) {
        Ok(job) => drive(shared, &claimed, job, token).await,
        Err(error) => {
            let report = failed_report(shared, &claimed, error.to_string());
            finish(shared, id, shared.store.report_step(report).await);
            None
        }
    };
    lock(&shared.running).remove(&id);
    if let Some(cached) = kept {
        lock(&shared.cache).insert(id, cached);
    }
}

/// Run steps until the job leaves `Running` here. Returns the job object when it should be
/// kept for a later run here (paused, waiting for a retry, or released at shutdown).
async fn drive(
    shared: &Arc<Shared>,
    claimed: &ClaimedJob,
    mut job: Box<dyn Job>,
    token: CancellationToken,
) -> Option<CachedJob> {
    let id = claimed.id;
    let mut runtime = claimed.effective_runtime;
    let mut steps = claimed.steps;
    loop {
        let ctx = StepContext::new(id, token.clone(), shared.clock.clone());
        let started = shared.clock.now();
        let outcome = job.step(&ctx).await;
        let now = shared.clock.now();
        runtime += now.duration_since(started).unwrap_or(Duration::ZERO);
        Counters::add(&shared.counters.steps);
        let (mut end, mut error, retry_at) = match outcome {
            StepOutcome::Continue => (StepEnd::Continue, None, None),
            StepOutcome::Success => (StepEnd::Success, None, None),
            StepOutcome::Failure { code, description } => {
                (StepEnd::Failure, Some(JobError { code, description }), None)
            }
            StepOutcome::RetryAfter(delay) => (StepEnd::Retry, None, Some(now + delay)),
        };
        let data = match job.save() {
            Ok(data) => data,
            Err(source) => {
                end = StepEnd::Failure;
                let error_text = Error::JobState {
                    operation: "serialize",
                    type_name: claimed.type_name.clone(),
                    source,
                };
                error = Some(JobError {
                    code: JobError::INTERNAL,
                    description: error_text.to_string(),
                });
                serde_json::Value::Null
            }
        };
        let outputs = if end == StepEnd::Success {
            job.take_outputs()
        } else {
            Vec::new()
        };
        let report = StepReport {
            id,
            owner: shared.owner.clone(),
            generation: claimed.generation,
            end,
            error,
            retry_at,
            data,
            progress: job.progress().min(100),
            content: job.content(),
            effective_runtime: runtime,
            outputs,
            now,
            history_size: shared.config.history_size,
        };
        let result = shared.store.report_step(report).await;
        steps += 1;
        match result {
            Ok(JobState::Running) if shared.shutdown.is_cancelled() => {
                let held = vec![(id, claimed.generation)];
                if let Err(error) = shared.store.release(&shared.owner, held, now).await {
                    tracing::warn!(%id, %error, "giving a job back at shutdown failed");
                }
                return Some(CachedJob { steps, job });
            }
            Ok(JobState::Running) => {}
            Ok(state @ (JobState::Paused | JobState::Retry | JobState::Pending)) => {
                if state == JobState::Retry {
                    Counters::add(&shared.counters.retried);
                    shared.wake_maintenance.notify_one();
                } else {
                    Counters::add(&shared.counters.paused);
                }
                return Some(CachedJob { steps, job });
            }
            Err(error @ Error::LeaseLost { .. }) => {
                finish(shared, id, Err(error));
                return None;
            }
            Err(error) => {
                // The step could not be saved: give the job back so it runs again from its
                // last saved step (here or elsewhere) instead of staying Running under a lease
                // this engine keeps extending.
                tracing::warn!(%id, %error, "saving a step failed; giving the job back");
                give_back(shared, id, claimed.generation).await;
                shared.wake_workers();
                return None;
            }
            Ok(state) => {
                finish(shared, id, Ok(state));
                return None;
            }
        }
    }
}

/// Give a job back after its step could not be saved, trying again until the store answers
/// (a database restarting) or the engine shuts down (then its lease expires and another
/// engine takes it back).
async fn give_back(shared: &Shared, id: JobId, generation: u64) {
    loop {
        let now = shared.clock.now();
        let held = vec![(id, generation)];
        match shared.store.release(&shared.owner, held, now).await {
            Ok(()) => return,
            Err(error) => tracing::warn!(%id, %error, "giving the job back failed; trying again"),
        }
        let pause = shared
            .clock
            .sleep_until(shared.clock.now() + shared.config.poll_interval);
        tokio::select! {
            () = pause => {}
            () = shared.shutdown.cancelled() => return,
        }
    }
}

/// Count and announce the end of a job's run here.
fn finish(shared: &Shared, id: JobId, result: Result<JobState, Error>) {
    match result {
        Ok(JobState::Success) => Counters::add(&shared.counters.succeeded),
        Ok(JobState::Failure) => Counters::add(&shared.counters.failed),
        Ok(_) => {}
        Err(Error::LeaseLost { .. }) => {
            Counters::add(&shared.counters.leases_lost);
            tracing::warn!(%id, "job taken over by another engine; dropping it here");
        }
        Err(error) => {
            tracing::warn!(%id, %error, "saving a step failed; the job stays Running until recovered")
        }
    }
    shared.finished(id);
}

fn failed_report(shared: &Shared, claimed: &ClaimedJob, description: String) -> StepReport {
    StepReport {
        id: claimed.id,
        owner: shared.owner.clone(),
        generation: claimed.generation,
        end: StepEnd::Failure,
        error: Some(JobError {
            code: JobError::INTERNAL,
            description,
        }),
        retry_at: None,
        data: claimed.data.clone(),
        progress: 0,
        content: serde_json::Value::Object(serde_json::Map::new()),
        effective_runtime: claimed.effective_runtime,
        outputs: Vec::new(),
        now: shared.clock.now(),
        history_size: shared.config.history_size,
    }
}
