//! When and how long to wait before sending a request again.
//!
//! [`RetryPolicy`] holds the settings and the arithmetic: retries happen on connection
//! failures and on the statuses the core calls retryable
//! ([`dicomweb_core::response::is_retryable_status`]: 408, 429, 500, 502, 503, 504), after an
//! exponential backoff with full jitter (a uniformly random delay between zero and
//! `initial × 2^attempt`, capped), or after the server's `Retry-After` when it sends one.
//! Whether and when a request is sent again is decided by [`crate::policy::next_step`].

use std::time::{Duration, SystemTime};

use dicomweb_core::response::is_retryable_status;
use http::{HeaderMap, StatusCode};

/// How often and how patiently a request is retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, backoff from 250 ms up to 10 s, `Retry-After` honoured up to 60 s.
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets the number of retries after the first attempt.
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Sets the backoff: the first retry waits up to `initial`, each next one up to twice as
    /// long, never more than `max`.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets the longest `Retry-After` that is waited for; a server asking for longer gets
    /// its response returned instead of a retry.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// The number of retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The upper bound of the backoff before retry number `retry` (0 for the first retry).
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// The delay before retry number `retry` for a random `jitter` in `[0, 1]`:
    /// `jitter × backoff_ceiling(retry)` (full jitter). A `jitter` outside `[0, 1]` is clamped
    /// and NaN counts as 0, so the delay never exceeds the ceiling.
    pub fn backoff_with_jitter(&self, retry: u32, jitter: f64) -> Duration {
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        self.backoff_ceiling(retry).mul_f64(jitter)
    }

    /// A random delay in `[0, backoff_ceiling(retry)]` (full jitter).
    pub fn backoff(&self, retry: u32) -> Duration {
        self.backoff_with_jitter(retry, random_jitter())
    }

    /// The delay before retrying a response with `status` and `headers`, or `None` when the
    /// response must be returned as it is: the status is not retryable
    /// ([`dicomweb_core::response::is_retryable_status`]), or the server's `Retry-After` asks
    /// for more than [`with_max_retry_after`](Self::with_max_retry_after). Without
    /// `Retry-After`, the backoff for `jitter` ([`backoff_with_jitter`](Self::backoff_with_jitter)).
    pub fn delay_for_response(
        &self,
        retry: u32,
        status: StatusCode,
        headers: &HeaderMap,
        now: SystemTime,
        jitter: f64,
    ) -> Option<Duration> {
        if !is_retryable_status(status) {
            return None;
        }
        match retry_after(headers, now) {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff_with_jitter(retry, jitter)),
        }
    }
}

/// A uniformly random number in `[0, 1)`, the jitter of a backoff.
pub(crate) fn random_jitter() -> f64 {
    rand::random::<f64>()
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP-date (a date in the
/// past means no wait), read by [`dicomweb_core::response::parse_retry_after`]. `None` when
/// the header is absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    dicomweb_core::response::parse_retry_after(text).map(|r| r.delay(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480.
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:27:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_is_capped_full_jitter() {
        let p =
            RetryPolicy::default().with_backoff(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(p.backoff_ceiling(0), Duration::from_millis(100));
        assert_eq!(p.backoff_ceiling(2), Duration::from_millis(400));
        assert_eq!(p.backoff_ceiling(10), Duration::from_secs(1));
        assert_eq!(p.backoff_ceiling(200), Duration::from_secs(1));
        assert_eq!(p.backoff_with_jitter(2, 0.0), Duration::ZERO);
        assert_eq!(p.backoff_with_jitter(2, 0.5), Duration::from_millis(200));
        assert_eq!(p.backoff_with_jitter(2, 1.0), Duration::from_millis(400));
        assert_eq!(p.backoff_with_jitter(2, 7.0), Duration::from_millis(400));
        assert_eq!(p.backoff_with_jitter(2, -1.0), Duration::ZERO);
        assert_eq!(p.backoff_with_jitter(2, f64::NAN), Duration::ZERO);
        let samples: Vec<_> = (0..200).map(|_| p.backoff(3)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_millis(800)));
        // Full jitter spreads over the whole range, not just near the ceiling.
        assert!(samples.iter().any(|d| *d < Duration::from_millis(200)));
        assert!(samples.iter().any(|d| *d > Duration::from_millis(600)));
    }

    #[test]
    fn which_responses_retry() {
        let p = RetryPolicy::default().with_max_retry_after(Duration::from_secs(5));
        let now = SystemTime::now();
        for code in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(
                p.delay_for_response(0, status, &HeaderMap::new(), now, 0.5)
                    .is_some()
            );
        }
        for code in [200, 400, 401, 404, 409, 501] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(
                p.delay_for_response(0, status, &HeaderMap::new(), now, 0.5)
                    .is_none()
            );
        }
        let unavailable = StatusCode::SERVICE_UNAVAILABLE;
        assert_eq!(
            p.delay_for_response(0, unavailable, &headers("2"), now, 0.5),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            p.delay_for_response(0, unavailable, &headers("3600"), now, 0.5),
            None
        );
    }
}
