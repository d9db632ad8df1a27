//! Authentication: HTTP basic, a fixed bearer token, or a [`TokenProvider`] that fetches and
//! refreshes tokens (e.g. Google Cloud credentials).
//!
//! With a token provider, a `401 Unauthorized` makes the client [`invalidate`](TokenProvider::invalidate)
//! the token, fetch a fresh one and send the request once more (decided by
//! [`crate::policy::next_step`]). With the `gcp` feature, `gcp_credentials::TokenProvider` is a
//! [`TokenProvider`]; [`AccessToken`] is gcp-credentials' own, so its tokens pass as they are.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine as _;
use http::HeaderValue;

use crate::{AccessToken, BoxError, Password};

/// The future returned by [`TokenProvider::token`].
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, BoxError>> + Send + 'a>>;

/// A source of bearer tokens, asked before every request.
///
/// Implementations cache the token and refresh it when it nears expiry; `token` should be
/// cheap when a valid token is cached.
pub trait TokenProvider: Send + Sync {
    /// A currently valid access token.
    fn token(&self) -> TokenFuture<'_>;

    /// The server refused `rejected` (401): forget it, so the next [`token`](Self::token)
    /// fetches a new one. When the cache already holds a newer token (another request saw the
    /// 401 first), keep that one: many requests refused at once cause one refresh.
    fn invalidate(&self, rejected: &AccessToken);
}

/// How requests authenticate.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No `Authorization` header.
    #[default]
    None,
    /// HTTP basic authentication.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Password,
    },
    /// A fixed bearer token.
    Bearer(AccessToken),
    /// Bearer tokens from a provider, refreshed once on 401.
    Provider(Arc<dyn TokenProvider>),
}

impl Auth {
    /// HTTP basic authentication.
    pub fn basic(username: impl Into<String>, password: impl Into<Password>) -> Self {
        Auth::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// A fixed bearer token.
    pub fn bearer(token: impl Into<AccessToken>) -> Self {
        Auth::Bearer(token.into())
    }

    /// Tokens from `provider`.
    pub fn provider(provider: impl TokenProvider + 'static) -> Self {
        Auth::Provider(Arc::new(provider))
    }

    /// The token provider, if this is [`Auth::Provider`].
    pub fn token_provider(&self) -> Option<&Arc<dyn TokenProvider>> {
        match self {
            Auth::Provider(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"[redacted]")
                .finish(),
            Auth::Bearer(_) => f.write_str("Bearer([redacted])"),
            Auth::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

#[cfg(feature = "gcp")]
impl TokenProvider for gcp_credentials::TokenProvider {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async move { Ok(self.access_token().await?) })
    }

    fn invalidate(&self, rejected: &AccessToken) {
        self.invalidate_token(rejected);
    }
}

/// The `Authorization` value for basic authentication, marked sensitive.
pub(crate) fn basic_header(username: &str, password: &Password) -> Option<HeaderValue> {
    let raw = format!("{username}:{}", password.secret());
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    sensitive(format!("Basic {encoded}"))
}

/// The `Authorization` value for a bearer token, marked sensitive.
pub(crate) fn bearer_header(token: &AccessToken) -> Option<HeaderValue> {
    token.authorization_header()
}

fn sensitive(text: String) -> Option<HeaderValue> {
    let mut value = HeaderValue::try_from(text).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_rfc7617() {
        // RFC 7617's example.
        let v = basic_header("Aladdin", &Password::new("open sesame")).unwrap();
        assert_eq!(v, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("QWxh"));
    }

    #[test]
    fn debug_redacts() {
        let a = Auth::basic("alice", "s3cret");
        assert!(!format!("{a:?}").contains("s3cret"));
        assert!(!format!("{:?}", Auth::bearer("tok123")).contains("tok123"));
    }

    #[test]
    fn header_injection_is_refused() {
        assert!(bearer_header(&AccessToken::new("a\r\nX-Evil: 1")).is_none());
    }
}
