//! Status codes to typed errors, keeping the body text, `Retry-After` and warnings.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use dicomweb_core::Error;
//! use dicomweb_core::response::{RetryAfter, StatusKind, check_status};
//! use http::{HeaderMap, HeaderValue, StatusCode};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("retry-after", HeaderValue::from_static("120"));
//! let err = check_status(StatusCode::SERVICE_UNAVAILABLE, &headers, b"busy").unwrap_err();
//! let Error::Status(status) = err else { panic!() };
//! assert_eq!(status.kind, StatusKind::ServiceUnavailable);
//! assert!(status.is_retryable());
//! assert_eq!(status.body, "busy");
//! let now = SystemTime::UNIX_EPOCH;
//! assert_eq!(status.retry_after.map(|r| r.delay(now)), Some(Duration::from_secs(120)));
//! ```

use std::fmt;
use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;
use http::{HeaderMap, StatusCode};

use crate::Error;
use crate::response::warning::{Warning, warnings};

/// The most bytes of an error body kept in a [`StatusError`]; a caller streaming a body needs
/// to read no more than this before calling [`check_status`].
pub const MAX_ERROR_BODY: usize = 8 * 1024;

/// What kind of failure a status code reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusKind {
    /// 400: the request was malformed (a bad query parameter, an unknown attribute).
    BadRequest,
    /// 401: no or expired credentials.
    Unauthorized,
    /// 403: credentials without the right.
    Forbidden,
    /// 404: no such study, series, instance or frame.
    NotFound,
    /// 406: the server cannot produce what `Accept` asks for.
    NotAcceptable,
    /// 408: the server gave up waiting for the request.
    RequestTimeout,
    /// 409: the request conflicts with the server's state (e.g. no instance stored).
    Conflict,
    /// 410: the resource is gone.
    Gone,
    /// 413: the request body (or the result) is too large.
    PayloadTooLarge,
    /// 415: the server does not take the request's `Content-Type`.
    UnsupportedMediaType,
    /// 429: too many requests; see `retry_after`.
    TooManyRequests,
    /// 503: the service is unavailable for now; see `retry_after`.
    ServiceUnavailable,
    /// Another 5xx.
    ServerError,
    /// Another status the request does not expect (other 4xx, 1xx, 3xx).
    Unexpected,
}

impl StatusKind {
    /// The kind of `status`; `None` for a success (2xx).
    pub fn of(status: StatusCode) -> Option<StatusKind> {
        if status.is_success() {
            return None;
        }
        Some(match status.as_u16() {
            400 => StatusKind::BadRequest,
            401 => StatusKind::Unauthorized,
            403 => StatusKind::Forbidden,
            404 => StatusKind::NotFound,
            406 => StatusKind::NotAcceptable,
            408 => StatusKind::RequestTimeout,
            409 => StatusKind::Conflict,
            410 => StatusKind::Gone,
            413 => StatusKind::PayloadTooLarge,
            415 => StatusKind::UnsupportedMediaType,
            429 => StatusKind::TooManyRequests,
            503 => StatusKind::ServiceUnavailable,
            500..=599 => StatusKind::ServerError,
            _ => StatusKind::Unexpected,
        })
    }
}

/// A server's error answer: the status, its kind, the start of the body as text, and the
/// `Retry-After` and `Warning` headers.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StatusError {
    /// The status code.
    pub status: StatusCode,
    /// Its kind.
    pub kind: StatusKind,
    /// The body as text (invalid UTF-8 replaced), at most [`MAX_ERROR_BODY`] bytes of it.
    pub body: String,
    /// Whether the body was longer than what is kept.
    pub body_truncated: bool,
    /// `Retry-After`, when the server sent a valid one.
    pub retry_after: Option<RetryAfter>,
    /// `Warning` headers.
    pub warnings: Vec<Warning>,
}

impl StatusError {
    /// The error for a response; the body may be the whole body or only its start.
    pub fn new(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> StatusError {
        let kept = &body[..body.len().min(MAX_ERROR_BODY)];
        let mut text = String::from_utf8_lossy(kept).into_owned();
        if body.len() > MAX_ERROR_BODY && text.ends_with('\u{FFFD}') {
            text.pop(); // a character cut in two
        }
        StatusError {
            status,
            kind: StatusKind::of(status).unwrap_or(StatusKind::Unexpected),
            body: text,
            body_truncated: body.len() > MAX_ERROR_BODY,
            retry_after: headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after),
            warnings: warnings(headers),
        }
    }

    /// Whether retrying the same request later may succeed ([`is_retryable_status`]).
    pub fn is_retryable(&self) -> bool {
        is_retryable_status(self.status)
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server answered {}", self.status)?;
        let excerpt: String = self.body.trim().chars().take(300).collect();
        let excerpt = excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
        if !excerpt.is_empty() {
            write!(f, ": {excerpt}")?;
            if self.body_truncated || self.body.trim().chars().count() > 300 {
                f.write_str("…")?;
            }
        }
        for warning in &self.warnings {
            write!(f, " (warning {}: {})", warning.code, warning.text)?;
        }
        if let Some(retry_after) = &self.retry_after {
            write!(f, " (retry after {retry_after})")?;
        }
        Ok(())
    }
}

impl std::error::Error for StatusError {}

/// Whether a response with `status` is worth sending again later: 408 Request Timeout,
/// 429 Too Many Requests, 500 Internal Server Error, 502 Bad Gateway, 503 Service Unavailable
/// and 504 Gateway Timeout. The family's one list: the client's retries and
/// [`StatusError::is_retryable`] both ask it.
///
/// ```
/// use dicomweb_core::response::is_retryable_status;
/// use http::StatusCode;
///
/// assert!(is_retryable_status(StatusCode::SERVICE_UNAVAILABLE));
/// assert!(!is_retryable_status(StatusCode::NOT_IMPLEMENTED));
/// ```
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// `Ok(())` for a 2xx status, the typed [`Error::Status`] otherwise.
pub fn check_status(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Result<(), Error> {
    if status.is_success() {
        Ok(())
    } else {
        Err(Error::Status(Box::new(StatusError::new(
            status, headers, body,
        ))))
    }
}

/// A `Retry-After` value: a delay, or a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Delay(Duration),
    /// `Retry-After: <HTTP-date>`.
    At(SystemTime),
}

impl RetryAfter {
    /// How long to wait from `now` (zero if the moment has passed).
    pub fn delay(&self, now: SystemTime) -> Duration {
        match self {
            RetryAfter::Delay(delay) => *delay,
            RetryAfter::At(at) => at.duration_since(now).unwrap_or(Duration::ZERO),
        }
    }
}

impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryAfter::Delay(delay) => write!(f, "{} s", delay.as_secs()),
            RetryAfter::At(at) => match at.duration_since(SystemTime::UNIX_EPOCH) {
                Ok(since) => write!(f, "{} s since the Unix epoch", since.as_secs()),
                Err(_) => f.write_str("a moment before the Unix epoch"),
            },
        }
    }
}

/// Parses a `Retry-After` value: delay seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(text: &str) -> Option<RetryAfter> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long numbers saturate rather than fail.
        let seconds = text.parse::<u64>().unwrap_or(u64::MAX);
        return Some(RetryAfter::Delay(Duration::from_secs(seconds)));
    }
    crate::response::http_date::parse_http_date(text).map(RetryAfter::At)
}
