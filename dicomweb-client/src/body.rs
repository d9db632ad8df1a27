//! Request and response bodies: what a [`Transport`](crate::Transport) sends and receives.
//!
//! A request body is empty, a list of [`Bytes`] segments (sent back to back without copying
//! them into one buffer), a replayable [`BodySource`] (a factory that opens the same stream
//! again, e.g. from files, so a retry re-sends the whole body), or a one-shot stream that
//! cannot be retried. A response body is a stream of [`Bytes`] chunks.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt, stream};

use crate::TransportError;

/// A stream of request body chunks.
pub type UploadStream = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send>>;

/// A stream of response body chunks.
pub type DownloadStream = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

type OpenFn = dyn Fn() -> UploadStream + Send + Sync;

/// A body that can be produced again from its source: each [`open`](Self::open) starts the
/// stream from the beginning.
///
/// A retried upload calls `open` again, so a retry never sends a half-consumed body.
#[derive(Clone)]
pub struct BodySource {
    open: Arc<OpenFn>,
    length: Option<u64>,
}

impl BodySource {
    /// A source whose `open` returns a fresh stream over the whole body each time.
    pub fn new<F, S>(open: F) -> Self
    where
        F: Fn() -> S + Send + Sync + 'static,
        S: Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    {
        Self {
            open: Arc::new(move || Box::pin(open()) as UploadStream),
            length: None,
        }
    }

    /// A source over byte segments already in memory (cloning them is cheap).
    pub fn from_segments(segments: Vec<Bytes>) -> Self {
        let length = segments.iter().map(|s| s.len() as u64).sum();
        let segments: Arc<[Bytes]> = segments.into();
        Self::new(move || {
            let segments = segments.clone();
            stream::iter((0..segments.len()).map(move |i| Ok(segments[i].clone())))
        })
        .with_length(length)
    }

    /// Declares the body's length in bytes: the request then carries `Content-Length`
    /// instead of chunked transfer encoding (Orthanc's `ChunkedTransfers: false`).
    pub fn with_length(mut self, length: u64) -> Self {
        self.length = Some(length);
        self
    }

    /// The declared length, if any.
    pub fn length(&self) -> Option<u64> {
        self.length
    }

    /// Opens the stream from the beginning.
    pub fn open(&self) -> UploadStream {
        (self.open)()
    }

    /// A source whose streams are this source's streams passed through `wrap`.
    pub fn map_stream<W>(self, wrap: W) -> Self
    where
        W: Fn(UploadStream) -> UploadStream + Send + Sync + 'static,
    {
        let inner = self.open;
        Self {
            open: Arc::new(move || wrap(inner())),
            length: self.length,
        }
    }
}

impl fmt::Debug for BodySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodySource")
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// The body of a request given to a [`Transport`](crate::Transport).
#[derive(Default)]
#[non_exhaustive]
pub enum RequestBody {
    /// No body.
    #[default]
    Empty,
    /// Byte segments sent back to back.
    Segments(Vec<Bytes>),
    /// A replayable stream.
    Source(BodySource),
    /// A stream that can be sent only once: a request with it is never retried.
    OneShot(UploadStream),
}

impl RequestBody {
    /// No body.
    pub fn empty() -> Self {
        RequestBody::Empty
    }

    /// A one-shot stream (never retried). Prefer [`BodySource`] where the body can be reopened.
    pub fn one_shot<S>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    {
        RequestBody::OneShot(Box::pin(stream))
    }

    /// The length in bytes when it is known without reading the body.
    pub fn length(&self) -> Option<u64> {
        match self {
            RequestBody::Empty => Some(0),
            RequestBody::Segments(s) => Some(s.iter().map(|b| b.len() as u64).sum()),
            RequestBody::Source(src) => src.length(),
            RequestBody::OneShot(_) => None,
        }
    }

    /// Whether the body can be sent again (everything but [`RequestBody::OneShot`]).
    pub fn is_replayable(&self) -> bool {
        !matches!(self, RequestBody::OneShot(_))
    }

    /// A copy to send again, or `None` for a one-shot stream.
    pub fn try_clone(&self) -> Option<Self> {
        match self {
            RequestBody::Empty => Some(RequestBody::Empty),
            RequestBody::Segments(s) => Some(RequestBody::Segments(s.clone())),
            RequestBody::Source(src) => Some(RequestBody::Source(src.clone())),
            RequestBody::OneShot(_) => None,
        }
    }

    /// The body as one stream of chunks (a source is opened).
    pub fn into_stream(self) -> UploadStream {
        match self {
            RequestBody::Empty => Box::pin(stream::empty()),
            RequestBody::Segments(s) => Box::pin(stream::iter(s.into_iter().map(Ok))),
            RequestBody::Source(src) => src.open(),
            RequestBody::OneShot(s) => s,
        }
    }

    /// Reads the whole body into memory (for tests and small bodies).
    pub async fn collect(self) -> Result<Bytes, io::Error> {
        let mut stream = self.into_stream();
        let mut out = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.freeze())
    }
}

impl From<Bytes> for RequestBody {
    fn from(bytes: Bytes) -> Self {
        RequestBody::Segments(vec![bytes])
    }
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> Self {
        RequestBody::Segments(vec![Bytes::from(bytes)])
    }
}

impl From<&'static str> for RequestBody {
    fn from(text: &'static str) -> Self {
        RequestBody::Segments(vec![Bytes::from_static(text.as_bytes())])
    }
}

impl From<dicomweb_core::request::Body> for RequestBody {
    /// The segments of a request built by dicomweb-core, shared, not copied.
    fn from(body: dicomweb_core::request::Body) -> Self {
        if body.is_empty() {
            RequestBody::Empty
        } else {
            RequestBody::Segments(body.into_segments())
        }
    }
}

impl From<BodySource> for RequestBody {
    fn from(source: BodySource) -> Self {
        RequestBody::Source(source)
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestBody::Empty => f.write_str("Empty"),
            RequestBody::Segments(s) => f.debug_tuple("Segments").field(&s.len()).finish(),
            RequestBody::Source(src) => src.fmt(f),
            RequestBody::OneShot(_) => f.write_str("OneShot(..)"),
        }
    }
}

/// The body of a response: a stream of [`Bytes`] chunks that ends with an error, never
/// silently early, when the transfer breaks.
pub struct ResponseBody {
    stream: DownloadStream,
}

impl ResponseBody {
    /// No body.
    pub fn empty() -> Self {
        Self::from_stream(stream::empty())
    }

    /// A body already in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self::from_stream(stream::iter((!bytes.is_empty()).then_some(Ok(bytes))))
    }

    /// A body read from a stream.
    pub fn from_stream<S>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
    {
        Self {
            stream: Box::pin(stream),
        }
    }

    /// Reads the whole body into memory.
    pub async fn bytes(self) -> Result<Bytes, TransportError> {
        self.bytes_limited(usize::MAX).await
    }

    /// Reads the whole body into memory, failing once it exceeds `max` bytes.
    pub async fn bytes_limited(mut self, max: usize) -> Result<Bytes, TransportError> {
        // One chunk is returned as it came; several are joined.
        let mut first: Option<Bytes> = None;
        let mut joined = BytesMut::new();
        let mut total = 0usize;
        while let Some(chunk) = self.stream.next().await {
            let chunk = chunk?;
            total = total.saturating_add(chunk.len());
            if total > max {
                return Err(TransportError::body(format!(
                    "response body exceeds the limit of {max} bytes"
                )));
            }
            match first.take() {
                None if joined.is_empty() => first = Some(chunk),
                None => joined.extend_from_slice(&chunk),
                Some(f) => {
                    joined.extend_from_slice(&f);
                    joined.extend_from_slice(&chunk);
                }
            }
        }
        Ok(first.unwrap_or_else(|| joined.freeze()))
    }
}

impl Stream for ResponseBody {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseBody(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn source_reopens_from_the_start() {
        let src =
            BodySource::from_segments(vec![Bytes::from_static(b"ab"), Bytes::from_static(b"c")]);
        assert_eq!(src.length(), Some(3));
        let body = RequestBody::from(src);
        let again = body.try_clone().unwrap();
        assert_eq!(body.collect().await.unwrap(), "abc");
        assert_eq!(again.collect().await.unwrap(), "abc");
    }

    #[tokio::test]
    async fn one_shot_is_not_replayable() {
        let body = RequestBody::one_shot(stream::iter([Ok(Bytes::from_static(b"x"))]));
        assert!(!body.is_replayable());
        assert!(body.try_clone().is_none());
        assert_eq!(body.length(), None);
    }

    #[tokio::test]
    async fn response_limit() {
        let body = ResponseBody::from_bytes("hello");
        assert!(body.bytes_limited(4).await.is_err());
        assert_eq!(
            ResponseBody::from_bytes("hello").bytes().await.unwrap(),
            "hello"
        );
    }
}
