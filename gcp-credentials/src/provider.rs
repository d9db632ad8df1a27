//! The async driver: a [`TokenProvider`] that callers share.
//!
//! It runs the [`TokenCache`] state machine on tokio: each call to
//! [`TokenProvider::access_token`] polls the cache at the current time, and at most one refresh
//! runs at a time, in a task of its own (so a caller that gives up does not cancel it). Every
//! token request has a timeout.

use bytes::Bytes;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::grant::{CLOUD_PLATFORM_SCOPE, Token, parse_token_response, token_request};
use crate::policy::{Action, RefreshPolicy, TokenCache};
use crate::secret::AccessToken;
use crate::transport::HttpClient;

/// How a [`TokenProvider`] asks for tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenProviderOptions {
    /// Scopes to request (default: `cloud-platform`). Authorized-user grants ignore them: a
    /// refresh token carries its own scopes.
    pub scopes: Vec<String>,
    /// Overrides the token endpoint named in the credentials file.
    pub token_uri: Option<String>,
    /// The timeout of each token request (default 30 s).
    pub request_timeout: Duration,
    /// When to refresh and how to back off.
    pub policy: RefreshPolicy,
}

impl Default for TokenProviderOptions {
    fn default() -> Self {
        Self {
            scopes: vec![CLOUD_PLATFORM_SCOPE.to_owned()],
            token_uri: None,
            request_timeout: Duration::from_secs(30),
            policy: RefreshPolicy::default(),
        }
    }
}

impl TokenProviderOptions {
    /// Replaces the scopes.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the token endpoint, overriding the credentials file's `token_uri`.
    pub fn with_token_uri(mut self, token_uri: impl Into<String>) -> Self {
        self.token_uri = Some(token_uri.into());
        self
    }

    /// Sets the timeout of each token request.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

/// Hands out access tokens, refreshing them ahead of expiry. Cheap to clone; clones share
/// one cache.
#[derive(Clone)]
pub struct TokenProvider {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenProvider")
            .field("credentials", &self.inner.credentials.kind())
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

struct Inner {
    credentials: Credentials,
    http: Arc<dyn HttpClient>,
    options: TokenProviderOptions,
    cache: Mutex<TokenCache>,
    refreshed: Notify,
    random: ring::rand::SystemRandom,
}

impl TokenProvider {
    /// A provider for `credentials` that sends token requests through `http`.
    pub fn new(
        credentials: Credentials,
        http: Arc<dyn HttpClient>,
        options: TokenProviderOptions,
    ) -> Self {
        let mut cache = TokenCache::new(options.policy.clone());
        if let Credentials::Static(token) = &credentials {
            cache.refresh_succeeded(
                Instant::now(),
                Token {
                    access_token: token.clone(),
                    expires_in: None,
                    token_type: "Bearer".to_owned(),
                },
            );
        }
        Self {
            inner: Arc::new(Inner {
                credentials,
                http,
                options,
                cache: Mutex::new(cache),
                refreshed: Notify::new(),
                random: ring::rand::SystemRandom::new(),
            }),
        }
    }

    /// A provider over the default reqwest transport.
    #[cfg(feature = "reqwest")]
    pub fn with_reqwest(credentials: Credentials, options: TokenProviderOptions) -> Result<Self> {
        let client = crate::transport::ReqwestClient::new().map_err(|source| Error::Transport {
            url: "(building the HTTP client)".to_owned(),
            source,
        })?;
        Ok(Self::new(credentials, Arc::new(client), options))
    }

    /// The credentials tokens come from.
    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    /// The options in force.
    pub fn options(&self) -> &TokenProviderOptions {
        &self.inner.options
    }

    /// A valid access token: the cached one, or a new one when the cached one is missing,
    /// expired or about to expire. Must be called within a tokio runtime.
    pub async fn access_token(&self) -> Result<AccessToken> {
        loop {
            let notified = {
                let mut cache = self.inner.lock();
                let now = now();
                match cache.poll(now) {
                    Action::Serve => return served(&cache, now),
                    Action::ServeAndRefresh => {
                        let token = served(&cache, now);
                        drop(cache);
                        self.inner.spawn_refresh();
                        return token;
                    }
                    Action::RefreshAndWait => {
                        let notified = self.inner.refreshed.notified();
                        drop(cache);
                        self.inner.spawn_refresh();
                        notified
                    }
                    Action::Wait => self.inner.refreshed.notified(),
                    Action::Fail => return Err(last_error(&cache)),
                }
            };
            notified.await;
            let cache = self.inner.lock();
            if cache.refresh_in_flight() {
                // Another refresh started since (the one awaited ended): wait for it too.
                continue;
            }
            if let Some(token) = cache.token(now()) {
                return Ok(token.clone());
            }
            if cache.last_error().is_some() {
                return Err(last_error(&cache));
            }
            // The refresh succeeded, yet the token is already expired: looping would ask
            // again at once, forever.
            return Err(Error::UnexpectedResponse {
                status: 200,
                reason: "expected a token with a lifetime, found one that had already expired \
                         on arrival (\"expires_in\" too small)"
                    .to_owned(),
            });
        }
    }

    /// Forgets the cached token (a server answered 401): the next call fetches a new one.
    pub fn invalidate(&self) {
        self.inner.lock().invalidate();
    }

    /// Forgets the cached token only if it is still `token`: several requests refused with
    /// the same stale token cause one refresh, not one each.
    pub fn invalidate_token(&self, token: &AccessToken) {
        self.inner.lock().invalidate_token(token);
    }

    /// `Authorization: Bearer <token>` for the current token, marked sensitive.
    pub async fn authorization_header(&self) -> Result<http::HeaderValue> {
        let token = self.access_token().await?;
        token
            .authorization_header()
            .ok_or_else(|| Error::UnexpectedResponse {
                status: 200,
                reason: "the access token contains characters not allowed in a header".to_owned(),
            })
    }
}

/// The token `poll` said to serve (it is valid whenever `poll` says so).
fn served(cache: &TokenCache, now: Instant) -> Result<AccessToken> {
    cache
        .token(now)
        .cloned()
        .ok_or_else(|| Error::InvalidRequest {
            reason: "the refresh policy served a token that is missing".to_owned(),
        })
}

fn last_error(cache: &TokenCache) -> Error {
    cache
        .last_error()
        .cloned()
        .unwrap_or_else(|| Error::InvalidRequest {
            reason: "no token and no refresh has run yet".to_owned(),
        })
}

/// The current instant, from tokio's clock so that tests can pause and advance it.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, TokenCache> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn jitter(&self) -> f64 {
        let mut bytes = [0u8; 8];
        match ring::rand::SecureRandom::fill(&self.random, &mut bytes) {
            Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
            Err(_) => 1.0,
        }
    }

    fn spawn_refresh(self: &Arc<Self>) {
        let inner = Arc::clone(self);
        tokio::spawn(async move {
            let mut guard = RefreshGuard {
                inner: &inner,
                done: false,
            };
            let requested_at = now();
            let result = inner.fetch().await;
            {
                let mut cache = inner.lock();
                match result {
                    Ok(token) => {
                        tracing::debug!(source = inner.credentials.kind(), expires_in = ?token.expires_in, "access token refreshed");
                        cache.refresh_succeeded(requested_at, token);
                    }
                    Err(error) => {
                        tracing::warn!(source = inner.credentials.kind(), %error, "access token refresh failed");
                        cache.refresh_failed(now(), error, inner.jitter());
                    }
                }
            }
            guard.done = true;
            inner.refreshed.notify_waiters();
        });
    }

    async fn fetch(&self) -> Result<Token> {
        let issued_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let request = token_request(
            &self.credentials,
            &self.options.scopes,
            issued_at,
            self.options.token_uri.as_deref(),
        )?
        .ok_or_else(|| Error::InvalidRequest {
            reason: "a static token cannot be refreshed".to_owned(),
        })?;
        let url = endpoint_for_errors(request.uri());
        let timeout = self.options.request_timeout;
        let response = match tokio::time::timeout(timeout, self.http.send(request)).await {
            Err(_) => {
                return Err(Error::Timeout {
                    url,
                    after: timeout,
                });
            }
            Ok(Err(source)) => return Err(Error::Transport { url, source }),
            Ok(Ok(response)) => response,
        };
        let (parts, body): (_, Bytes) = response.into_parts();
        parse_token_response(http::Response::from_parts(parts, &body[..]))
    }
}

/// Marks the refresh failed if its task ends without recording an outcome (a panic, or the
/// runtime shutting down), so that waiters are never stranded.
struct RefreshGuard<'a> {
    inner: &'a Arc<Inner>,
    done: bool,
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.inner.lock().refresh_failed(
                now(),
                Error::InvalidRequest {
                    reason: "the token refresh task stopped before it finished".to_owned(),
                },
                1.0,
            );
            self.inner.refreshed.notify_waiters();
        }
    }
}

/// The endpoint without its query (scopes), for error messages.
fn endpoint_for_errors(uri: &http::Uri) -> String {
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}{}", uri.path()),
        _ => uri.path().to_owned(),
    }
}
