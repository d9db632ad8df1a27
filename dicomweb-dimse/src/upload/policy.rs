//! The upload queue's decisions as pure functions: when to cut a batch, how long to wait
//! before trying a failed batch again, and what to do with each instance after a reply.

use std::time::{Duration, Instant};

/// How spooled instances are grouped into STOW-RS requests and retried.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadOptions {
    /// At most this many instances per batch.
    pub batch_instances: usize,
    /// At most this many bytes per batch (a larger instance goes alone).
    pub batch_bytes: u64,
    /// How long the first instance of a batch waits for others before the batch is sent.
    pub batch_wait: Duration,
    /// The first retry's delay; each further retry doubles it, up to `retry_max_delay`.
    pub retry_delay: Duration,
    /// The longest delay between retries.
    pub retry_max_delay: Duration,
    /// After this many failed attempts an instance goes to `failed/`; `None` (the default):
    /// retry for ever.
    pub max_attempts: Option<u32>,
}

impl Default for UploadOptions {
    /// 32 instances or 64 MiB per batch, 200 ms to fill one; retries from 1 s doubling to 60 s,
    /// for ever.
    fn default() -> Self {
        UploadOptions {
            batch_instances: 32,
            batch_bytes: 64 * 1024 * 1024,
            batch_wait: Duration::from_millis(200),
            retry_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(60),
            max_attempts: None,
        }
    }
}

impl UploadOptions {
    /// At most `n` instances per batch (at least one).
    pub fn batch_instances(mut self, n: usize) -> Self {
        self.batch_instances = n.max(1);
        self
    }

    /// At most `bytes` per batch.
    pub fn batch_bytes(mut self, bytes: u64) -> Self {
        self.batch_bytes = bytes.max(1);
        self
    }

    /// How long a batch waits to fill.
    pub fn batch_wait(mut self, wait: Duration) -> Self {
        self.batch_wait = wait;
        self
    }

    /// The first and the longest retry delay.
    pub fn retry_delays(mut self, first: Duration, max: Duration) -> Self {
        self.retry_delay = first;
        self.retry_max_delay = max.max(first);
        self
    }

    /// Give up after `attempts` (`None`: never).
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }
}

/// What the batcher does next with the instances waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchDecision {
    /// Nothing waits: sleep until an instance arrives.
    Idle,
    /// Send the waiting instances now.
    Cut,
    /// Wait for more until this moment, then send what there is.
    WaitUntil(Instant),
}

/// Whether to send the `waiting` instances (`bytes` in all, the first arrived at `first`) now.
pub fn batch_decision(
    waiting: usize,
    bytes: u64,
    first: Option<Instant>,
    now: Instant,
    options: &UploadOptions,
) -> BatchDecision {
    let Some(first) = first.filter(|_| waiting > 0) else {
        return BatchDecision::Idle;
    };
    if waiting >= options.batch_instances || bytes >= options.batch_bytes {
        return BatchDecision::Cut;
    }
    let deadline = first + options.batch_wait;
    if now >= deadline {
        BatchDecision::Cut
    } else {
        BatchDecision::WaitUntil(deadline)
    }
}

/// The delay before attempt `attempt + 1` after `attempt` failed ones (`attempt` ≥ 1):
/// doubling from the first delay, capped, scaled by `jitter` in [0.5, 1] so that many
/// batches failing together do not retry together.
pub fn retry_delay(attempt: u32, jitter: f64, options: &UploadOptions) -> Duration {
    let doublings = attempt.saturating_sub(1).min(20);
    let delay = options
        .retry_delay
        .saturating_mul(1u32 << doublings)
        .min(options.retry_max_delay);
    delay.mul_f64(jitter.clamp(0.5, 1.0))
}

/// What becomes of an instance after a STOW-RS reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceFate {
    /// The reply lists it as stored: delete the spool file.
    Stored,
    /// Refused for good: move it to `failed/`.
    Refused,
    /// Not stored for a passing reason: keep it and try again.
    Retry,
}

/// The fate of an instance that was not stored: refused for good when the server gave a
/// FailureReason or the failure is not transient, or when `attempts` reached the limit;
/// otherwise tried again.
pub fn failure_fate(
    failure_reason: Option<u16>,
    transient: bool,
    attempts: u32,
    options: &UploadOptions,
) -> InstanceFate {
    if failure_reason.is_some() || !transient {
        return InstanceFate::Refused;
    }
    match options.max_attempts {
        Some(max) if attempts >= max => InstanceFate::Refused,
        _ => InstanceFate::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_cut_when_full_or_when_its_wait_is_over() {
        let options = UploadOptions::default().batch_instances(3).batch_bytes(100);
        let t0 = Instant::now();
        assert_eq!(
            batch_decision(0, 0, None, t0, &options),
            BatchDecision::Idle
        );
        assert_eq!(
            batch_decision(0, 0, Some(t0), t0, &options),
            BatchDecision::Idle
        );
        assert_eq!(
            batch_decision(1, 10, Some(t0), t0, &options),
            BatchDecision::WaitUntil(t0 + options.batch_wait)
        );
        assert_eq!(
            batch_decision(3, 10, Some(t0), t0, &options),
            BatchDecision::Cut
        );
        assert_eq!(
            batch_decision(1, 100, Some(t0), t0, &options),
            BatchDecision::Cut
        );
        assert_eq!(
            batch_decision(1, 10, Some(t0), t0 + options.batch_wait, &options),
            BatchDecision::Cut
        );
    }

    #[test]
    fn retries_double_up_to_the_cap() {
        let options =
            UploadOptions::default().retry_delays(Duration::from_secs(1), Duration::from_secs(10));
        let delays: Vec<u64> = (1..=6)
            .map(|a| retry_delay(a, 1.0, &options).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(retry_delay(1, 0.0, &options), Duration::from_millis(500));
        assert_eq!(
            retry_delay(u32::MAX, 1.0, &options),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn refused_for_good_or_retried() {
        let forever = UploadOptions::default();
        assert_eq!(
            failure_fate(Some(0xA700), false, 1, &forever),
            InstanceFate::Refused
        );
        assert_eq!(
            failure_fate(Some(0xC000), true, 1, &forever),
            InstanceFate::Refused
        );
        assert_eq!(
            failure_fate(None, false, 1, &forever),
            InstanceFate::Refused
        );
        assert_eq!(
            failure_fate(None, true, 1_000_000, &forever),
            InstanceFate::Retry
        );
        let three = UploadOptions::default().max_attempts(Some(3));
        assert_eq!(failure_fate(None, true, 2, &three), InstanceFate::Retry);
        assert_eq!(failure_fate(None, true, 3, &three), InstanceFate::Refused);
    }
}
