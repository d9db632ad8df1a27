//! The refresh policy: a pure state machine driven by `now`.
//!
//! [`TokenCache`] holds the current token, whether a refresh is in flight, and the backoff
//! after failures. Each caller asks [`TokenCache::poll`] what to do at `now`:
//!
//! - plenty of time left: [`Action::Serve`] the cached token;
//! - fewer than [`RefreshPolicy::refresh_ahead`] left: [`Action::ServeAndRefresh`], the
//!   caller starts a background refresh and still uses the cached token;
//! - no token, an expired one, or fewer than [`RefreshPolicy::wait_window`] left:
//!   [`Action::RefreshAndWait`] (or [`Action::Wait`] when a refresh is already in flight);
//! - no usable token while backing off after a failure: [`Action::Fail`] with the last error.
//!
//! `poll` marks a refresh in flight whenever it asks for one, so however many callers poll, at
//! most one refresh runs. A failure keeps the old token until it truly expires and schedules
//! the next attempt after an exponential backoff with jitter; attempts never stop for good.
//! Time enters only as arguments, so tests drive it with a simulated clock.

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::grant::Token;
use crate::secret::AccessToken;

/// When to refresh and how to back off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Refresh in the background when less than this remains (default 4 minutes). For short
    /// lived tokens it is at most half the token's lifetime.
    pub refresh_ahead: Duration,
    /// Make callers wait for a new token when less than this remains (default 30 s). For short
    /// lived tokens it is at most a quarter of the token's lifetime.
    pub wait_window: Duration,
    /// The first delay after a failed refresh (default 1 s); it doubles with each failure.
    pub initial_backoff: Duration,
    /// The longest delay between attempts (default 60 s).
    pub max_backoff: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            refresh_ahead: Duration::from_secs(240),
            wait_window: Duration::from_secs(30),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// What a caller should do, as decided by [`TokenCache::poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Use [`TokenCache::token`].
    Serve,
    /// Start a refresh in the background (it is now marked in flight) and use the cached token.
    ServeAndRefresh,
    /// Start a refresh (it is now marked in flight) and wait for its outcome.
    RefreshAndWait,
    /// A refresh is in flight and the cached token is not good enough: wait for its outcome.
    Wait,
    /// No usable token and the next attempt is not due yet: report [`TokenCache::last_error`].
    Fail,
}

#[derive(Debug, Clone)]
struct Cached {
    token: AccessToken,
    /// `None`: the token never expires.
    expires_at: Option<Instant>,
    refresh_at: Option<Instant>,
    urgent_at: Option<Instant>,
}

/// The token cache and refresh state. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct TokenCache {
    policy: RefreshPolicy,
    cached: Option<Cached>,
    in_flight: bool,
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<Error>,
}

impl TokenCache {
    /// An empty cache.
    pub fn new(policy: RefreshPolicy) -> Self {
        Self {
            policy,
            cached: None,
            in_flight: false,
            failures: 0,
            retry_at: None,
            last_error: None,
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &RefreshPolicy {
        &self.policy
    }

    /// Decides what a caller does at `now`; marks a refresh in flight when it asks for one.
    pub fn poll(&mut self, now: Instant) -> Action {
        let (valid, comfortable, fresh) = match &self.cached {
            None => (false, false, false),
            Some(c) => (
                c.expires_at.is_none_or(|t| now < t),
                c.urgent_at.is_none_or(|t| now < t),
                c.refresh_at.is_none_or(|t| now < t),
            ),
        };
        if self.in_flight {
            return if valid && comfortable {
                Action::Serve
            } else {
                Action::Wait
            };
        }
        if self.retry_at.is_some_and(|t| now < t) {
            return if valid { Action::Serve } else { Action::Fail };
        }
        if !valid || !comfortable {
            self.in_flight = true;
            Action::RefreshAndWait
        } else if !fresh {
            self.in_flight = true;
            Action::ServeAndRefresh
        } else {
            Action::Serve
        }
    }

    /// The cached token if it has not expired at `now`.
    pub fn token(&self, now: Instant) -> Option<&AccessToken> {
        self.cached
            .as_ref()
            .filter(|c| c.expires_at.is_none_or(|t| now < t))
            .map(|c| &c.token)
    }

    /// When the cached token expires (`None` if there is none or it never expires).
    pub fn expires_at(&self) -> Option<Instant> {
        self.cached.as_ref().and_then(|c| c.expires_at)
    }

    /// Whether a refresh is in flight.
    pub fn refresh_in_flight(&self) -> bool {
        self.in_flight
    }

    /// How many refreshes failed in a row.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// When the next attempt is allowed after a failure.
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// The error of the last failed refresh, until a refresh succeeds.
    pub fn last_error(&self) -> Option<&Error> {
        self.last_error.as_ref()
    }

    /// Forgets the cached token (a server refused it with 401): the next [`poll`](Self::poll)
    /// refreshes, unless a refresh is already in flight or the cache is backing off.
    pub fn invalidate(&mut self) {
        self.cached = None;
    }

    /// Forgets the cached token only if it is `token`, so that a 401 for a token that has
    /// already been replaced does not throw the new one away.
    pub fn invalidate_token(&mut self, token: &AccessToken) {
        if self.cached.as_ref().is_some_and(|c| &c.token == token) {
            self.cached = None;
        }
    }

    /// Records a new token. `requested_at` is when its request was sent: `expires_in` counts
    /// from there, so the latency of the request shortens the token's life, never lengthens it.
    pub fn refresh_succeeded(&mut self, requested_at: Instant, token: Token) {
        let (expires_at, refresh_at, urgent_at) = match token.expires_in {
            None => (None, None, None),
            Some(lifetime) => {
                let ahead = self.policy.refresh_ahead.min(lifetime / 2);
                let wait = self.policy.wait_window.min(lifetime / 4);
                let expires_at = requested_at + lifetime;
                (
                    Some(expires_at),
                    Some(expires_at - ahead),
                    Some(expires_at - wait),
                )
            }
        };
        self.cached = Some(Cached {
            token: token.access_token,
            expires_at,
            refresh_at,
            urgent_at,
        });
        self.in_flight = false;
        self.failures = 0;
        self.retry_at = None;
        self.last_error = None;
    }

    /// Records a failed refresh at `now`. The old token stays until it expires; the next
    /// attempt waits `min(initial * 2^(failures-1), max)` scaled into `[50 %, 100 %]` by
    /// `jitter` (a number in `[0, 1]`, from whatever random source the driver has).
    pub fn refresh_failed(&mut self, now: Instant, error: Error, jitter: f64) {
        self.in_flight = false;
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(now + self.backoff(jitter));
        self.last_error = Some(error);
    }

    /// The delay before the next attempt after the failures so far.
    pub fn backoff(&self, jitter: f64) -> Duration {
        let exponent = self.failures.saturating_sub(1).min(30);
        let base = self
            .policy
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.policy.max_backoff);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            1.0
        };
        base.mul_f64(0.5 + 0.5 * jitter)
    }
}
