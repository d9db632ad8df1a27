//! Test jobs and helpers shared by the integration tests.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orthanc_jobs::{
    Job, JobId, JobOutput, JobRecord, JobRegistry, JobState, JobsHandle, StepContext, StepFuture,
    StepOutcome,
};
use serde::{Deserialize, Serialize};

/// What test jobs record: which steps ran, how many ran at once, resets.
#[derive(Default, Debug)]
pub struct Probe {
    pub log: Mutex<Vec<String>>,
    pub running: AtomicUsize,
    pub max_running: AtomicUsize,
    pub resets: AtomicUsize,
}

impl Probe {
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// A job of `total` steps, each taking `step_ms` (cancellable), with optional failure and retry.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Steps {
    pub tag: String,
    pub total: u32,
    pub next: u32,
    pub step_ms: u64,
    /// Fail at this step (until reset).
    pub fail_at: Option<u32>,
    /// Ask for a retry after this many ms, once.
    pub retry_ms: Option<u64>,
    #[serde(skip)]
    pub probe: Option<Arc<Probe>>,
}

impl Steps {
    pub fn new(tag: &str, total: u32, step_ms: u64, probe: &Arc<Probe>) -> Steps {
        Steps {
            tag: tag.to_owned(),
            total,
            step_ms,
            probe: Some(probe.clone()),
            ..Steps::default()
        }
    }
}

impl Job for Steps {
    fn type_name(&self) -> &str {
        "Steps"
    }

    fn step<'a>(&'a mut self, ctx: &'a StepContext) -> StepFuture<'a> {
        Box::pin(async move {
            let probe = self.probe.clone().unwrap_or_default();
            let now = probe.running.fetch_add(1, Ordering::SeqCst) + 1;
            probe.max_running.fetch_max(now, Ordering::SeqCst);
            let finished = if self.step_ms > 0 {
                ctx.sleep(Duration::from_millis(self.step_ms)).await
            } else {
                true
            };
            probe.running.fetch_sub(1, Ordering::SeqCst);
            if !finished {
                probe
                    .log
                    .lock()
                    .unwrap()
                    .push(format!("{}:canceled", self.tag));
                return StepOutcome::Continue;
            }
            if let Some(ms) = self.retry_ms.take() {
                probe
                    .log
                    .lock()
                    .unwrap()
                    .push(format!("{}:retry", self.tag));
                return StepOutcome::RetryAfter(Duration::from_millis(ms));
            }
            if self.fail_at == Some(self.next) {
                probe.log.lock().unwrap().push(format!("{}:fail", self.tag));
                return StepOutcome::Failure {
                    code: 1000,
                    description: format!("step {} failed", self.next),
                };
            }
            probe
                .log
                .lock()
                .unwrap()
                .push(format!("{}:{}", self.tag, self.next));
            self.next += 1;
            if self.next >= self.total {
                StepOutcome::Success
            } else {
                StepOutcome::Continue
            }
        })
    }

    fn progress(&self) -> u8 {
        (self.next * 100 / self.total.max(1)) as u8
    }

    fn content(&self) -> serde_json::Value {
        serde_json::json!({ "Tag": self.tag, "Next": self.next })
    }

    fn save(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(self)
    }

    fn reset(&mut self) {
        self.next = 0;
        self.fail_at = None;
        if let Some(probe) = &self.probe {
            probe.resets.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn take_outputs(&mut self) -> Vec<JobOutput> {
        vec![
            JobOutput::bytes(
                "report",
                "application/json",
                format!("{{\"steps\":{}}}", self.next).into(),
            )
            .with_filename("report.json"),
        ]
    }
}

pub fn registry(probe: &Arc<Probe>) -> JobRegistry {
    let probe = probe.clone();
    let mut registry = JobRegistry::new();
    registry.register("Steps", move |value| {
        let mut job: Steps = serde_json::from_value(value)?;
        job.probe = Some(probe.clone());
        Ok(Box::new(job) as Box<dyn Job>)
    });
    registry
}

/// Poll until the job is in `state` (or panic after `within`).
pub async fn wait_state(
    handle: &JobsHandle,
    id: JobId,
    state: JobState,
    within: Duration,
) -> JobRecord {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let record = handle.get(id).await.unwrap();
        if record.state == state {
            return record;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job {id} still {} (wanted {state}) after {within:?}",
            record.state
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
