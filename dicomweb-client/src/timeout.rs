//! Timeouts: connect (given to the transport), idle (no bytes moving in either direction)
//! and total (one attempt, from sending the request to the end of the response body).
//!
//! Idle and total timeouts are enforced here, around any transport, together with the check
//! that a body with `Content-Length` is not cut short.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::progress::{ProgressEvent, ProgressObserver};
use crate::{ResponseBody, TransportError, UploadStream};

/// The three timeouts of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a connection (TCP and TLS). Enforced by the transport.
    pub connect: Option<Duration>,
    /// The longest pause with no bytes moving: waiting for the response head while the request
    /// body is not advancing, or between two chunks of the response body.
    pub idle: Option<Duration>,
    /// One attempt from start to the last byte of the response body.
    pub total: Option<Duration>,
}

impl Default for Timeouts {
    /// Connect 10 s, idle 60 s, no total limit (a large retrieve may take long).
    fn default() -> Self {
        Self {
            connect: Some(Duration::from_secs(10)),
            idle: Some(Duration::from_secs(60)),
            total: None,
        }
    }
}

impl Timeouts {
    /// No timeouts at all.
    pub fn none() -> Self {
        Self {
            connect: None,
            idle: None,
            total: None,
        }
    }
}

/// When bytes last moved, shared between the upload stream and the wait for the head.
#[derive(Debug)]
pub(crate) struct Activity {
    start: Instant,
    last_nanos: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            last_nanos: AtomicU64::new(0),
        })
    }

    fn touch(&self) {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_nanos.fetch_max(nanos, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_nanos(self.last_nanos.load(Ordering::Relaxed))
    }
}

/// Waits for `head`, failing when nothing moves for `idle` or when `deadline` passes.
pub(crate) async fn wait_for_head<F, T>(
    head: F,
    activity: &Activity,
    idle: Option<Duration>,
    deadline: Option<(Instant, Duration)>,
) -> Result<T, TransportError>
where
    F: Future<Output = Result<T, TransportError>>,
{
    tokio::pin!(head);
    activity.touch();
    loop {
        let idle_at = idle.map(|d| activity.last() + d);
        let wake = match (idle_at, deadline.map(|(at, _)| at)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return head.await,
        };
        tokio::select! {
            biased;
            result = &mut head => return result,
            () = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                if let Some((at, total)) = deadline
                    && now >= at {
                        return Err(total_timeout(total));
                    }
                if idle.is_some_and(|idle| now >= activity.last() + idle) {
                    let idle = idle.unwrap_or_default();
                    return Err(TransportError::timeout(format!(
                        "no response within the idle timeout of {idle:?}"
                    )));
                }
            }
        }
    }
}

fn total_timeout(total: Duration) -> TransportError {
    TransportError::timeout(format!(
        "the request did not finish within its total timeout of {total:?}"
    ))
}

/// Passes an upload through, recording activity and reporting bytes sent.
pub(crate) fn watch_upload(
    stream: UploadStream,
    activity: Arc<Activity>,
    progress: Option<Arc<dyn ProgressObserver>>,
) -> UploadStream {
    use futures_util::StreamExt;
    Box::pin(stream.inspect(move |item| {
        activity.touch();
        if let (Ok(chunk), Some(p)) = (item, &progress) {
            p.on_progress(&ProgressEvent::BytesSent {
                bytes: chunk.len() as u64,
            });
        }
    }))
}

/// A response body under watch: idle and total timeouts, `Content-Length` check, progress.
pub(crate) struct GuardedBody {
    inner: ResponseBody,
    idle: Option<Duration>,
    idle_timer: Option<Pin<Box<Sleep>>>,
    deadline: Option<(Pin<Box<Sleep>>, Duration)>,
    expected: Option<u64>,
    received: u64,
    progress: Option<Arc<dyn ProgressObserver>>,
    done: bool,
}

impl GuardedBody {
    pub(crate) fn new(
        inner: ResponseBody,
        idle: Option<Duration>,
        deadline: Option<(Instant, Duration)>,
        expected: Option<u64>,
        progress: Option<Arc<dyn ProgressObserver>>,
    ) -> Self {
        Self {
            inner,
            idle,
            idle_timer: idle.map(|d| Box::pin(tokio::time::sleep(d))),
            deadline: deadline.map(|(at, total)| (Box::pin(tokio::time::sleep_until(at)), total)),
            expected,
            received: 0,
            progress,
            done: false,
        }
    }

    fn fail(&mut self, error: TransportError) -> Poll<Option<Result<Bytes, TransportError>>> {
        self.done = true;
        Poll::Ready(Some(Err(error)))
    }
}

impl Stream for GuardedBody {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                if let Some(expected) = this.expected.filter(|e| this.received > *e) {
                    return this.fail(TransportError::body(format!(
                        "expected {expected} bytes (Content-Length), received more"
                    )));
                }
                let now = Instant::now();
                // A body that never pauses never lets the timer be polled: check the clock.
                if let Some((timer, total)) = &this.deadline
                    && now >= timer.deadline()
                {
                    let total = *total;
                    return this.fail(total_timeout(total));
                }
                if let (Some(timer), Some(idle)) = (this.idle_timer.as_mut(), this.idle) {
                    timer.as_mut().reset(now + idle);
                }
                if let Some(p) = &this.progress {
                    p.on_progress(&ProgressEvent::BytesReceived {
                        bytes: chunk.len() as u64,
                    });
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => this.fail(e),
            Poll::Ready(None) => {
                if let Some(expected) = this.expected.filter(|e| this.received < *e) {
                    let received = this.received;
                    return this.fail(TransportError::body(format!(
                        "expected {expected} bytes (Content-Length), the body ended after {received}"
                    )));
                }
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if let Some((timer, total)) = this.deadline.as_mut()
                    && timer.as_mut().poll(cx).is_ready()
                {
                    let total = *total;
                    return this.fail(total_timeout(total));
                }
                let idle_fired = match this.idle_timer.as_mut() {
                    Some(timer) => timer.as_mut().poll(cx).is_ready(),
                    None => false,
                };
                if idle_fired {
                    let idle = this.idle.unwrap_or_default();
                    let received = this.received;
                    return this.fail(TransportError::timeout(format!(
                        "no data for the idle timeout of {idle:?} after {received} bytes of the response body"
                    )));
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{StreamExt, stream};

    #[tokio::test]
    async fn short_body_is_an_error() {
        let body = ResponseBody::from_bytes("abc");
        let mut g = GuardedBody::new(body, None, None, Some(5), None);
        assert_eq!(g.next().await.unwrap().unwrap(), "abc");
        let e = g.next().await.unwrap().unwrap_err();
        assert!(e.to_string().contains("expected 5 bytes"), "{e}");
        assert!(g.next().await.is_none());
    }

    #[tokio::test]
    async fn total_timeout_on_a_body_that_never_pauses() {
        let endless = stream::repeat_with(|| Ok(Bytes::from_static(b"x")));
        let total = Duration::from_millis(50);
        let deadline = Some((Instant::now() + total, total));
        let mut g = GuardedBody::new(
            ResponseBody::from_stream(endless),
            None,
            deadline,
            None,
            None,
        );
        let start = std::time::Instant::now();
        let e = loop {
            match g.next().await {
                Some(Ok(_)) => continue,
                Some(Err(e)) => break e,
                None => panic!("an endless body ended"),
            }
        };
        assert!(e.to_string().contains("total timeout"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_timeout_between_chunks() {
        let slow = stream::iter([Ok(Bytes::from_static(b"a"))]).chain(stream::pending());
        let mut g = GuardedBody::new(
            ResponseBody::from_stream(slow),
            Some(Duration::from_secs(2)),
            None,
            None,
            None,
        );
        assert!(g.next().await.unwrap().is_ok());
        let e = g.next().await.unwrap().unwrap_err();
        assert!(e.is_timeout(), "{e}");
    }
}
