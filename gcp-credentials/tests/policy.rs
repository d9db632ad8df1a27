//! The refresh policy on a simulated clock: refresh-ahead, expiry, failure and backoff.
#![allow(clippy::unwrap_used)] // helpers in test files, outside #[test] functions

use gcp_credentials::{AccessToken, Action, Error, RefreshPolicy, Token, TokenCache};
use std::time::{Duration, Instant};

const S: Duration = Duration::from_secs(1);

fn token(name: &str, secs: u64) -> Token {
    Token {
        access_token: AccessToken::new(name),
        expires_in: Some(Duration::from_secs(secs)),
        token_type: "Bearer".into(),
    }
}

fn failure() -> Error {
    Error::OAuth {
        status: 503,
        error: "temporarily_unavailable".into(),
        description: None,
    }
}

fn served(cache: &TokenCache, now: Instant) -> &str {
    cache.token(now).expect("a token").secret()
}

#[test]
fn no_token_means_one_refresh_and_everyone_waits() {
    let t0 = Instant::now();
    let mut cache = TokenCache::new(RefreshPolicy::default());
    assert_eq!(cache.poll(t0), Action::RefreshAndWait);
    assert!(cache.refresh_in_flight());
    for _ in 0..1000 {
        assert_eq!(cache.poll(t0), Action::Wait);
    }
    cache.refresh_succeeded(t0, token("a", 3600));
    assert!(!cache.refresh_in_flight());
    assert_eq!(cache.poll(t0 + S), Action::Serve);
    assert_eq!(served(&cache, t0 + S), "a");
}

#[test]
fn refreshes_ahead_in_the_background_then_waits_only_at_the_end() {
    let t0 = Instant::now();
    let mut cache = TokenCache::new(RefreshPolicy::default());
    cache.poll(t0);
    cache.refresh_succeeded(t0, token("a", 3600));
    // More than 4 minutes left: serve.
    assert_eq!(cache.poll(t0 + 3600 * S - 241 * S), Action::Serve);
    // Under 4 minutes: serve and refresh once in the background.
    let ahead = t0 + 3600 * S - 239 * S;
    assert_eq!(cache.poll(ahead), Action::ServeAndRefresh);
    for _ in 0..1000 {
        assert_eq!(cache.poll(ahead), Action::Serve);
    }
    assert_eq!(served(&cache, ahead), "a");
    // The refresh is slow: in the last 30 s callers wait for it instead of taking "a".
    assert_eq!(cache.poll(t0 + 3600 * S - 29 * S), Action::Wait);
    cache.refresh_succeeded(ahead, token("b", 3600));
    assert_eq!(cache.poll(t0 + 3600 * S - 29 * S), Action::Serve);
    assert_eq!(served(&cache, t0 + 3600 * S), "b");
}

#[test]
fn without_a_background_refresh_the_last_seconds_wait() {
    let t0 = Instant::now();
    let mut cache = TokenCache::new(RefreshPolicy::default());
    cache.poll(t0);
    cache.refresh_succeeded(t0, token("a", 3600));
    assert_eq!(cache.poll(t0 + 3575 * S), Action::RefreshAndWait);
    assert_eq!(cache.poll(t0 + 3575 * S), Action::Wait);
}

#[test]
fn expired_tokens_are_never_served() {
    let t0 = Instant::now();
    let mut cache = TokenCache::new(RefreshPolicy::default());
    cache.poll(t0);
    cache.refresh_succeeded(t0, token("a", 3600));
    assert!(cache.token(t0 + 3599 * S).is_some());
    assert!(cache.token(t0 + 3600 * S).is_none());
    assert_eq!(cache.poll(t0 + 4000 * S), Action::RefreshAndWait);
    assert_eq!(cache.expires_at(), Some(t0 + 3600 * S));
}

#[test]
fn expiry_counts_from_when_the_request_was_sent() {
    let t0 = Instant::now();
    let mut cache = TokenCache::new(RefreshPolicy::default());
    cache.poll(t0);
    // The reply took 10 s to come; the token's life started when the request left.
    cache.refresh_succeeded(t0, token("a", 100));
    assert_eq!(cache.expires_at(), Some(t0 + 100 * S));
}

#[test]
fn short_lived_tokens_scale_the_windows() {
    let t0 = Instant::now();
    let mut cache = TokenCache::new(RefreshPolicy::default());
    cache.poll(t0);
    cache.refresh_succeeded(t0, token("a", 60));
    // Refresh ahead at half the life (30 s), wait in the last quarter (15 s).
    assert_eq!(cache.poll(t0 + 29 * S), Action::Serve);
    assert_eq!(cache.poll(t0 + 31 * S), Action::ServeAndRefresh);
    assert_eq!(cache.poll(t0 + 46 * S), Action::Wait);
}

#[test]
fn failure_keeps_the_old_token_until_it_truly_expires() {
    let t0 = Instant::now();
    let mut cache = TokenCache::new(RefreshPolicy::default());
    cache.poll(t0);
    cache.refresh_succeeded(t0, token("a", 3600));
    let due = t0 + 3400 * S;
    assert_eq!(cache.poll(due), Action::ServeAndRefresh);
    cache.refresh_failed(due, failure(), 1.0);
    assert_eq!(cache.failures(), 1);
    assert!(cache.last_error().is_some());
    // Backing off (1 s): still served, no new attempt.
    assert_eq!(cache.poll(due + S / 2), Action::Serve);
    assert_eq!(served(&cache, due + S / 2), "a");
    // Backoff over: try again.
    assert_eq!(cache.poll(due + S), Action::ServeAndRefresh);
    cache.refresh_failed(due + S, failure(), 1.0);
    // Even in the last 30 s a backing-off cache serves the still-valid token.
    let late = t0 + 3590 * S;
    cache.refresh_failed(late, failure(), 1.0);
    assert_eq!(cache.poll(late + S), Action::Serve);
    assert_eq!(served(&cache, late + S), "a");
    // A fourth failure just before expiry backs off 8 s, past the expiry...
    cache.refresh_failed(t0 + 3599 * S, failure(), 1.0);
    assert_eq!(cache.retry_at(), Some(t0 + 3607 * S));
    // ...so once the token expires, callers get the error while backing off...
    let expired = t0 + 3600 * S;
    assert_eq!(cache.poll(expired), Action::Fail);
    assert!(matches!(
        cache.last_error(),
        Some(Error::OAuth { status: 503, .. })
    ));
    // ...and a new attempt as soon as the backoff ends: it never stops for good.
    let retry = cache.retry_at().unwrap();
    assert_eq!(cache.poll(retry), Action::RefreshAndWait);
    cache.refresh_succeeded(retry, token("b", 3600));
    assert_eq!(cache.failures(), 0);
    assert!(cache.last_error().is_none() && cache.retry_at().is_none());
    assert_eq!(served(&cache, retry), "b");
}

#[test]
fn backoff_doubles_caps_and_jitters() {
    let t0 = Instant::now();
    let policy = RefreshPolicy::default();
    let mut cache = TokenCache::new(policy.clone());
    let mut delays = Vec::new();
    for i in 0..10u32 {
        assert_eq!(cache.poll(t0 + i * 1000 * S), Action::RefreshAndWait);
        cache.refresh_failed(t0 + i * 1000 * S, failure(), 1.0);
        delays.push(cache.retry_at().unwrap() - (t0 + i * 1000 * S));
    }
    let secs: Vec<u64> = delays.iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
    // Jitter scales the delay into [50 %, 100 %].
    assert_eq!(cache.backoff(0.0), 30 * S);
    assert_eq!(cache.backoff(0.5), 45 * S);
    assert_eq!(cache.backoff(1.0), 60 * S);
    assert_eq!(cache.backoff(7.0), 60 * S);
    assert_eq!(cache.backoff(f64::NAN), 60 * S);
    // Thousands of failures never overflow and still retry.
    for _ in 0..5000 {
        cache.poll(t0 + 20_000_000 * S);
        cache.refresh_failed(t0, failure(), 0.25);
    }
    assert_eq!(cache.backoff(1.0), 60 * S);
    assert!(cache.failures() > 5000);
}

#[test]
fn static_tokens_never_expire() {
    let t0 = Instant::now();
    let mut cache = TokenCache::new(RefreshPolicy::default());
    cache.poll(t0);
    cache.refresh_succeeded(
        t0,
        Token {
            access_token: AccessToken::new("fixed"),
            expires_in: None,
            token_type: "Bearer".into(),
        },
    );
    let later = t0 + Duration::from_secs(10 * 365 * 24 * 3600);
    assert_eq!(cache.poll(later), Action::Serve);
    assert_eq!(served(&cache, later), "fixed");
    assert_eq!(cache.expires_at(), None);
}

#[test]
fn invalidation_forgets_only_the_refused_token() {
    let t0 = Instant::now();
    let mut cache = TokenCache::new(RefreshPolicy::default());
    cache.poll(t0);
    cache.refresh_succeeded(t0, token("a", 3600));
    cache.invalidate_token(&AccessToken::new("stale"));
    assert_eq!(cache.poll(t0 + S), Action::Serve);
    cache.invalidate_token(&AccessToken::new("a"));
    assert!(cache.token(t0 + S).is_none());
    assert_eq!(cache.poll(t0 + S), Action::RefreshAndWait);
    cache.refresh_succeeded(t0 + S, token("b", 3600));
    cache.invalidate();
    assert_eq!(cache.poll(t0 + 2 * S), Action::RefreshAndWait);
}
