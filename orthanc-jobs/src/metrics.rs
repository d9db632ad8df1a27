//! Metrics in Prometheus text: Orthanc's job gauges plus the engine's counters.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::StateCounts;

/// Counters of one engine (or handle) since it started.
#[derive(Debug, Default)]
pub struct Counters {
    pub(crate) submitted: AtomicU64,
    pub(crate) claimed: AtomicU64,
    pub(crate) steps: AtomicU64,
    pub(crate) succeeded: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) canceled: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) paused: AtomicU64,
    pub(crate) leases_lost: AtomicU64,
}

/// A copy of [`Counters`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterValues {
    /// Jobs submitted through this engine or handle.
    pub submitted: u64,
    /// Jobs claimed by this engine's workers (a job claimed again after a pause counts again).
    pub claimed: u64,
    /// Steps run by this engine's workers.
    pub steps: u64,
    /// Jobs this engine finished with success.
    pub succeeded: u64,
    /// Jobs this engine finished with failure (cancels included).
    pub failed: u64,
    /// Jobs canceled (by this handle, or while running on this engine).
    pub canceled: u64,
    /// Steps that asked for a retry.
    pub retried: u64,
    /// Jobs paused between steps on this engine.
    pub paused: u64,
    /// Jobs dropped because another engine took them over.
    pub leases_lost: u64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The current values.
    pub fn values(&self) -> CounterValues {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterValues {
            submitted: get(&self.submitted),
            claimed: get(&self.claimed),
            steps: get(&self.steps),
            succeeded: get(&self.succeeded),
            failed: get(&self.failed),
            canceled: get(&self.canceled),
            retried: get(&self.retried),
            paused: get(&self.paused),
            leases_lost: get(&self.leases_lost),
        }
    }
}

/// Render the store's state counts (Orthanc's gauges: `orthanc_jobs_pending`, `_running`,
/// `_success`, `_failed`, `_completed`, plus `_paused` and `_retry`) and the counters, in
/// Prometheus text exposition format.
pub fn render_prometheus(counts: &StateCounts, counters: &CounterValues) -> String {
    let gauges = [
        ("pending", "Jobs waiting for a worker", counts.pending),
        ("running", "Jobs being run", counts.running),
        ("success", "Successful jobs in the history", counts.success),
        ("failed", "Failed jobs in the history", counts.failure),
        (
            "completed",
            "Finished jobs in the history (success and failed)",
            counts.success + counts.failure,
        ),
        ("paused", "Paused jobs", counts.paused),
        ("retry", "Jobs waiting to be retried", counts.retry),
    ];
    let totals = [
        ("submitted", "Jobs submitted", counters.submitted),
        ("claimed", "Jobs taken by a worker", counters.claimed),
        ("steps", "Job steps run", counters.steps),
        (
            "succeeded",
            "Jobs finished with success",
            counters.succeeded,
        ),
        ("failures", "Jobs finished with failure", counters.failed),
        ("canceled", "Jobs canceled", counters.canceled),
        ("retries", "Steps that asked for a retry", counters.retried),
        ("pauses", "Jobs paused between steps", counters.paused),
        (
            "leases_lost",
            "Jobs taken over by another engine",
            counters.leases_lost,
        ),
    ];
    let mut text = String::with_capacity(2048);
    for (name, help, value) in gauges {
        let _ = writeln!(text, "# HELP orthanc_jobs_{name} {help}");
        let _ = writeln!(text, "# TYPE orthanc_jobs_{name} gauge");
        let _ = writeln!(text, "orthanc_jobs_{name} {value}");
    }
    for (name, help, value) in totals {
        let _ = writeln!(text, "# HELP orthanc_jobs_{name}_total {help}");
        let _ = writeln!(text, "# TYPE orthanc_jobs_{name}_total counter");
        let _ = writeln!(text, "orthanc_jobs_{name}_total {value}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_orthanc_names() {
        let counts = StateCounts {
            pending: 3,
            running: 1,
            success: 5,
            failure: 2,
            paused: 0,
            retry: 0,
        };
        let counters = CounterValues {
            submitted: 11,
            ..CounterValues::default()
        };
        let text = render_prometheus(&counts, &counters);
        for line in [
            "orthanc_jobs_pending 3",
            "orthanc_jobs_running 1",
            "orthanc_jobs_success 5",
            "orthanc_jobs_failed 2",
            "orthanc_jobs_completed 7",
            "orthanc_jobs_submitted_total 11",
            "# TYPE orthanc_jobs_steps_total counter",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
