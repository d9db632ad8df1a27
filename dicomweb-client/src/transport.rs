//! The [`Transport`] trait: one HTTP exchange, request in, response head and body stream out.
//!
//! The client layers retries, timeouts, authentication and progress on top of any transport,
//! so an implementation only moves bytes. [`FnTransport`] turns a closure into a transport
//! (tests, custom stacks); `ReqwestTransport` (feature `reqwest`) is the default.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::{BoxError, RequestBody, ResponseBody};

/// The future returned by [`Transport::send`].
pub type TransportFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<ResponseBody>, TransportError>> + Send>>;

/// Sends one HTTP request and returns the response head with its body as a stream.
///
/// The future resolves when the response head has arrived; the body streams afterwards.
/// Implementations should reuse connections. They must not retry on their own with a body
/// they cannot replay, and must end the body stream with an error (never early) when the
/// transfer breaks. Object safe: a client holds an `Arc<dyn Transport>`.
pub trait Transport: Send + Sync {
    /// Sends `request`.
    fn send(&self, request: http::Request<RequestBody>) -> TransportFuture;
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn send(&self, request: http::Request<RequestBody>) -> TransportFuture {
        (**self).send(request)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&self, request: http::Request<RequestBody>) -> TransportFuture {
        (**self).send(request)
    }
}

/// A transport made of a closure `Fn(Request) -> impl Future<Output = Result<Response, _>>`.
///
/// ```
/// use dicomweb_client::{FnTransport, RequestBody, ResponseBody, TransportError};
///
/// let transport = FnTransport::new(|request: http::Request<RequestBody>| async move {
///     assert_eq!(request.method(), http::Method::GET);
///     Ok::<_, TransportError>(http::Response::new(ResponseBody::from_bytes("[]")))
/// });
/// # let _ = transport;
/// ```
pub struct FnTransport<F> {
    f: F,
}

impl<F> FnTransport<F> {
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

impl<F> fmt::Debug for FnTransport<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnTransport(..)")
    }
}

impl<F, Fut> Transport for FnTransport<F>
where
    F: Fn(http::Request<RequestBody>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<http::Response<ResponseBody>, TransportError>> + Send + 'static,
{
    fn send(&self, request: http::Request<RequestBody>) -> TransportFuture {
        Box::pin((self.f)(request))
    }
}

/// What kind of failure a [`TransportError`] is; decides whether a retry may help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (refused, DNS, TLS handshake, connect timeout).
    Connect,
    /// The request failed before a response head arrived (connection reset, closed early).
    Send,
    /// The response body broke off or was malformed (e.g. shorter than its `Content-Length`).
    Body,
    /// A timeout fired (idle read or total).
    Timeout,
    /// The request body's source failed (e.g. a file could not be read).
    Upload,
    /// Anything else.
    Other,
}

impl TransportErrorKind {
    fn describe(self) -> &'static str {
        match self {
            TransportErrorKind::Connect => "connection failed",
            TransportErrorKind::Send => "request failed before a response arrived",
            TransportErrorKind::Body => "response body failed",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Upload => "request body failed",
            TransportErrorKind::Other => "transport failed",
        }
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A failure of one HTTP exchange, with its [`kind`](Self::kind) and the underlying cause.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    #[source]
    source: Option<BoxError>,
}

impl TransportError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// A [`TransportErrorKind::Connect`] error.
    pub fn connect(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Connect, message)
    }

    /// A [`TransportErrorKind::Body`] error.
    pub fn body(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Body, message)
    }

    /// A [`TransportErrorKind::Timeout`] error.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Timeout, message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// What happened, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether sending the request again may succeed: connection failures and requests that
    /// broke before any response arrived.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect | TransportErrorKind::Send
        )
    }

    /// Whether a timeout fired.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_says_kind_and_message() {
        let e = TransportError::body(
            "expected 10 bytes (Content-Length), the connection ended after 4",
        );
        assert_eq!(
            e.to_string(),
            "response body failed: expected 10 bytes (Content-Length), the connection ended after 4"
        );
        assert!(!e.is_retryable());
        assert!(TransportError::connect("refused").is_retryable());
    }
}
