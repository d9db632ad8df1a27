//! The request loop's policy: after each attempt, what [`Client::execute`](crate::Client::execute)
//! does next.
//!
//! [`next_step`] is a pure function of the attempt's outcome, what the request has been
//! through ([`AttemptState`]), the [`RetryPolicy`], `now` and a random number: no clock, no
//! runtime, no IO. The client's loop only carries its decisions out (forget the token, sleep,
//! send again, or hand over the result), so every rule is tested here without a runtime.
//!
//! The rules, in order:
//!
//! 1. A `401 Unauthorized` to an attempt that carried a token provider's token, when the body
//!    can be sent again and no refresh was tried yet: [`NextStep::RefreshToken`] (forget the
//!    token, send again at once; not counted as a retry). A second 401 is the answer.
//! 2. No retry when the body cannot be sent again ([`RequestBody::OneShot`](crate::RequestBody))
//!    or [`RetryPolicy::max_retries`] retries have been made.
//! 3. A response whose status is retryable ([`dicomweb_core::response::is_retryable_status`]):
//!    retry after its `Retry-After` (seconds or an HTTP-date, read against `now`), or after
//!    the backoff when it has none. A `Retry-After` beyond
//!    [`RetryPolicy::with_max_retry_after`] makes the response the answer.
//! 4. A transport failure that may succeed when repeated (the connection failed, or the request
//!    was not sent: [`TransportError::is_retryable`](crate::TransportError::is_retryable)):
//!    retry after the backoff.
//! 5. Anything else is the answer.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use dicomweb_client::RetryPolicy;
//! use dicomweb_client::policy::{AttemptOutcome, AttemptState, NextStep, next_step};
//! use http::{HeaderMap, StatusCode};
//!
//! let policy = RetryPolicy::default().with_backoff(Duration::from_secs(1), Duration::from_secs(8));
//! let state = AttemptState::new(true);
//! let headers = HeaderMap::new();
//! let busy = AttemptOutcome::Response { status: StatusCode::SERVICE_UNAVAILABLE, headers: &headers };
//! let step = next_step(&policy, &state, busy, SystemTime::UNIX_EPOCH, 0.5);
//! assert_eq!(step, NextStep::Retry { delay: Duration::from_millis(500) });
//! assert_eq!(state.after(step).retries, 1);
//! ```

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

use crate::RetryPolicy;

/// What one attempt came to.
#[derive(Clone, Copy, Debug)]
pub enum AttemptOutcome<'a> {
    /// A response head arrived.
    Response {
        /// Its status.
        status: StatusCode,
        /// Its headers (`Retry-After` is read from them).
        headers: &'a HeaderMap,
    },
    /// No response head: the transport failed or a timeout fired.
    TransportFailed {
        /// Whether sending again may succeed
        /// ([`TransportError::is_retryable`](crate::TransportError::is_retryable)).
        retryable: bool,
    },
}

/// What a request has been through before the attempt being judged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttemptState {
    /// Retries already made (0 while judging the first attempt). A token refresh is not a retry.
    pub retries: u32,
    /// Whether the request body can be sent again (empty, segments or a
    /// [`BodySource`](crate::BodySource); not a one-shot stream).
    pub replayable: bool,
    /// Whether the attempt carried a token from a [`TokenProvider`](crate::TokenProvider), which
    /// can be forgotten and fetched anew.
    pub provider_token: bool,
    /// Whether a token refresh was already tried for this request.
    pub token_refreshed: bool,
}

impl AttemptState {
    /// The state of a request before its first attempt.
    pub fn new(replayable: bool) -> Self {
        Self {
            replayable,
            ..Self::default()
        }
    }

    /// The state once `step` has been carried out: a retry counts, a refresh is remembered.
    #[must_use]
    pub fn after(self, step: NextStep) -> Self {
        match step {
            NextStep::Finish => self,
            NextStep::Retry { .. } => Self {
                retries: self.retries.saturating_add(1),
                ..self
            },
            NextStep::RefreshToken => Self {
                token_refreshed: true,
                ..self
            },
        }
    }
}

/// What the request loop does after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Hand the response (whatever its status) or the transport error to the caller.
    Finish,
    /// Wait `delay`, then send the request again.
    Retry {
        /// How long to wait first.
        delay: Duration,
    },
    /// Forget the token the server refused, fetch a fresh one and send the request again at
    /// once.
    RefreshToken,
}

/// Decides what follows an attempt that came to `outcome` (the rules are in the
/// [module documentation](self)). `now` is the wall-clock time `Retry-After` dates are read
/// against; `jitter` is a random number in `[0, 1]` that picks the backoff within its ceiling
/// ([`RetryPolicy::backoff_with_jitter`]).
pub fn next_step(
    policy: &RetryPolicy,
    state: &AttemptState,
    outcome: AttemptOutcome<'_>,
    now: SystemTime,
    jitter: f64,
) -> NextStep {
    if let AttemptOutcome::Response { status, .. } = outcome
        && status == StatusCode::UNAUTHORIZED
        && state.provider_token
        && state.replayable
        && !state.token_refreshed
    {
        return NextStep::RefreshToken;
    }
    if !state.replayable || state.retries >= policy.max_retries() {
        return NextStep::Finish;
    }
    let delay = match outcome {
        AttemptOutcome::Response { status, headers } => {
            policy.delay_for_response(state.retries, status, headers, now, jitter)
        }
        AttemptOutcome::TransportFailed { retryable } => {
            retryable.then(|| policy.backoff_with_jitter(state.retries, jitter))
        }
    };
    match delay {
        Some(delay) => NextStep::Retry { delay },
        None => NextStep::Finish,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicomweb_core::response::is_retryable_status;
    use http::HeaderValue;
    use http::header::RETRY_AFTER;

    const MS: Duration = Duration::from_millis(1);

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
            .with_max_retries(10)
            .with_backoff(100 * MS, 1000 * MS)
            .with_max_retry_after(Duration::from_secs(60))
    }

    fn response(status: u16, headers: &HeaderMap) -> AttemptOutcome<'_> {
        AttemptOutcome::Response {
            status: StatusCode::from_u16(status).expect("a valid status"),
            headers,
        }
    }

    fn retry_after(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
        headers
    }

    /// Wed, 21 Oct 2015 07:28:00 GMT.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480)
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let state = AttemptState::new(true);
        for (value, wait) in [
            ("7", Duration::from_secs(7)),
            ("0", Duration::ZERO),
            ("Wed, 21 Oct 2015 07:28:30 GMT", Duration::from_secs(30)),
            // A date already past: no wait.
            ("Wed, 21 Oct 2015 07:27:00 GMT", Duration::ZERO),
        ] {
            let headers = retry_after(value);
            // The jitter plays no part when the server says how long.
            for jitter in [0.0, 1.0] {
                assert_eq!(
                    next_step(&policy(), &state, response(503, &headers), now(), jitter),
                    NextStep::Retry { delay: wait },
                    "{value}"
                );
            }
        }
        // Unreadable: the backoff instead.
        let headers = retry_after("soon");
        assert_eq!(
            next_step(&policy(), &state, response(429, &headers), now(), 1.0),
            NextStep::Retry { delay: 100 * MS }
        );
    }

    #[test]
    fn a_retry_after_beyond_the_limit_is_the_answer() {
        let state = AttemptState::new(true);
        let headers = retry_after("61");
        assert_eq!(
            next_step(&policy(), &state, response(503, &headers), now(), 0.5),
            NextStep::Finish
        );
        let headers = retry_after("Wed, 21 Oct 2015 08:28:00 GMT");
        assert_eq!(
            next_step(&policy(), &state, response(503, &headers), now(), 0.5),
            NextStep::Finish
        );
        let headers = retry_after("60");
        assert_eq!(
            next_step(&policy(), &state, response(503, &headers), now(), 0.5),
            NextStep::Retry {
                delay: Duration::from_secs(60)
            }
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let headers = HeaderMap::new();
        let mut state = AttemptState::new(true);
        let mut delays = Vec::new();
        for _ in 0..6 {
            let step = next_step(&policy(), &state, response(500, &headers), now(), 1.0);
            let NextStep::Retry { delay } = step else {
                panic!("expected a retry, got {step:?}");
            };
            delays.push(delay.as_millis());
            state = state.after(step);
        }
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(state.retries, 6);
        // Transport failures back off the same way.
        let failed = AttemptOutcome::TransportFailed { retryable: true };
        let state = AttemptState {
            retries: 2,
            ..AttemptState::new(true)
        };
        assert_eq!(
            next_step(&policy(), &state, failed, now(), 1.0),
            NextStep::Retry { delay: 400 * MS }
        );
    }

    #[test]
    fn jitter_picks_the_delay_within_the_ceiling() {
        let headers = HeaderMap::new();
        let state = AttemptState {
            retries: 3,
            ..AttemptState::new(true)
        };
        let delay = |jitter: f64| match next_step(
            &policy(),
            &state,
            response(502, &headers),
            now(),
            jitter,
        ) {
            NextStep::Retry { delay } => delay,
            other => panic!("expected a retry, got {other:?}"),
        };
        assert_eq!(delay(0.0), Duration::ZERO);
        assert_eq!(delay(0.25), 200 * MS);
        assert_eq!(delay(1.0), 800 * MS);
        // Out of range: never below zero, never above the ceiling.
        assert_eq!(delay(-3.0), Duration::ZERO);
        assert_eq!(delay(2.0), 800 * MS);
        assert_eq!(delay(f64::NAN), Duration::ZERO);
        assert_eq!(delay(f64::INFINITY), 800 * MS);
    }

    #[test]
    fn a_401_refreshes_the_token_once_then_is_the_answer() {
        let headers = HeaderMap::new();
        let state = AttemptState {
            provider_token: true,
            ..AttemptState::new(true)
        };
        let step = next_step(&policy(), &state, response(401, &headers), now(), 0.5);
        assert_eq!(step, NextStep::RefreshToken);
        let state = state.after(step);
        assert!(state.token_refreshed);
        assert_eq!(state.retries, 0, "a refresh is not a retry");
        assert_eq!(
            next_step(&policy(), &state, response(401, &headers), now(), 0.5),
            NextStep::Finish
        );
        // A refresh is tried even when no retries are allowed.
        let no_retries = RetryPolicy::none();
        let fresh = AttemptState {
            provider_token: true,
            ..AttemptState::new(true)
        };
        assert_eq!(
            next_step(&no_retries, &fresh, response(401, &headers), now(), 0.5),
            NextStep::RefreshToken
        );
    }

    #[test]
    fn a_401_without_a_provider_token_or_with_a_one_shot_body_is_the_answer() {
        let headers = HeaderMap::new();
        // Basic auth, a fixed token, or the caller's own Authorization header.
        let state = AttemptState::new(true);
        assert_eq!(
            next_step(&policy(), &state, response(401, &headers), now(), 0.5),
            NextStep::Finish
        );
        let one_shot = AttemptState {
            provider_token: true,
            ..AttemptState::new(false)
        };
        assert_eq!(
            next_step(&policy(), &one_shot, response(401, &headers), now(), 0.5),
            NextStep::Finish
        );
    }

    #[test]
    fn only_the_cores_retryable_statuses_are_retried() {
        let headers = HeaderMap::new();
        let state = AttemptState::new(true);
        for code in [
            200, 201, 204, 206, 301, 304, 400, 401, 403, 404, 406, 409, 410, 413, 415, 501, 505,
        ] {
            assert_eq!(
                next_step(&policy(), &state, response(code, &headers), now(), 0.5),
                NextStep::Finish,
                "{code}"
            );
        }
        for code in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(code).expect("a valid status");
            assert!(is_retryable_status(status), "{code}");
            assert!(
                matches!(
                    next_step(&policy(), &state, response(code, &headers), now(), 0.5),
                    NextStep::Retry { .. }
                ),
                "{code}"
            );
        }
    }

    #[test]
    fn a_one_shot_body_is_sent_once() {
        let headers = HeaderMap::new();
        let state = AttemptState::new(false);
        assert_eq!(
            next_step(&policy(), &state, response(503, &headers), now(), 0.5),
            NextStep::Finish
        );
        let failed = AttemptOutcome::TransportFailed { retryable: true };
        assert_eq!(
            next_step(&policy(), &state, failed, now(), 0.5),
            NextStep::Finish
        );
    }

    #[test]
    fn retries_stop_at_the_limit() {
        let headers = HeaderMap::new();
        let policy = policy().with_max_retries(2);
        let mut state = AttemptState::new(true);
        let mut steps = Vec::new();
        loop {
            let step = next_step(&policy, &state, response(503, &headers), now(), 0.0);
            steps.push(step);
            if step == NextStep::Finish {
                break;
            }
            state = state.after(step);
        }
        assert_eq!(steps.len(), 3, "{steps:?}");
        assert_eq!(
            next_step(
                &RetryPolicy::none(),
                &AttemptState::new(true),
                response(503, &headers),
                now(),
                0.0
            ),
            NextStep::Finish
        );
    }

    #[test]
    fn transport_failures_retry_only_when_sending_again_may_help() {
        let state = AttemptState::new(true);
        // A timeout or a broken response body: the server may have acted on the request.
        let timed_out = AttemptOutcome::TransportFailed { retryable: false };
        assert_eq!(
            next_step(&policy(), &state, timed_out, now(), 0.5),
            NextStep::Finish
        );
        let refused = AttemptOutcome::TransportFailed { retryable: true };
        assert_eq!(
            next_step(&policy(), &state, refused, now(), 0.5),
            NextStep::Retry { delay: 50 * MS }
        );
    }
}
