//! The [`Client`]: one DICOMweb server, a transport, and the policies around every request
//! (authentication, extra headers, retries, timeouts, progress, tracing).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dicomweb_core::ReadOptions;
use dicomweb_core::request::BaseUrl;
use http::header::{AUTHORIZATION, CONTENT_LENGTH};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tracing::Instrument;

use crate::auth::{basic_header, bearer_header};
use crate::policy::{AttemptOutcome, AttemptState, NextStep, next_step};
use crate::progress::{ProgressEvent, ProgressObserver};
use crate::retry::random_jitter;
use crate::timeout::{Activity, GuardedBody, wait_for_head, watch_upload};
use crate::{
    AccessToken, Auth, BodySource, ClientBuilder, Error, RequestBody, ResponseBody, RetryPolicy,
    Timeouts, Transport,
};

/// The default of [`ClientBuilder::max_response_bytes`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// A DICOMweb client for one server. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) base_url: BaseUrl,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) auth: Auth,
    pub(crate) headers: HeaderMap,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeouts: Timeouts,
    pub(crate) progress: Option<Arc<dyn ProgressObserver>>,
    pub(crate) chunked_transfers: bool,
    pub(crate) has_delete: Option<bool>,
    pub(crate) read_options: ReadOptions,
    pub(crate) max_response_bytes: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .field("timeouts", &self.inner.timeouts)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Settings for a client of the DICOMweb root `base_url`
    /// (e.g. `http://127.0.0.1:8042/dicom-web`).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url.into())
    }

    /// The DICOMweb root.
    pub fn base_url(&self) -> &BaseUrl {
        &self.inner.base_url
    }

    /// How DICOM JSON and XML responses are read (limits on depth and size).
    pub fn read_options(&self) -> &ReadOptions {
        &self.inner.read_options
    }

    /// The largest response body read into memory (search results, metadata).
    pub fn max_response_bytes(&self) -> usize {
        self.inner.max_response_bytes
    }

    /// Whether uploads may use chunked transfer encoding (else they carry `Content-Length`).
    pub fn chunked_transfers(&self) -> bool {
        self.inner.chunked_transfers
    }

    /// Whether the server is known to support DELETE (Orthanc's `HasDelete`), if said.
    pub fn has_delete(&self) -> Option<bool> {
        self.inner.has_delete
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.inner.timeouts
    }

    /// Reports a progress event to the observer, if there is one (used when instances are
    /// counted by code above this layer).
    pub fn report(&self, event: ProgressEvent) {
        if let Some(p) = &self.inner.progress {
            p.on_progress(&event);
        }
    }

    /// Sends `request` with the client's authentication and headers, retrying as the policy
    /// says, and returns the response whatever its status. Its body is watched by the idle
    /// and total timeouts and ends with an error, never early, if it is cut short.
    ///
    /// Headers already in `request` win over the client's. A request whose body is
    /// [`RequestBody::OneShot`] is sent once.
    pub async fn execute(
        &self,
        request: http::Request<RequestBody>,
    ) -> Result<http::Response<ResponseBody>, Error> {
        let span = tracing::debug_span!(
            "dicomweb_request",
            method = %request.method(),
            uri = %request.uri(),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        self.execute_in_span(request).instrument(span).await
    }

    /// The IO loop: sends attempts and carries out what [`next_step`] decides.
    async fn execute_in_span(
        &self,
        request: http::Request<RequestBody>,
    ) -> Result<http::Response<ResponseBody>, Error> {
        let inner = &*self.inner;
        let (parts, body) = request.into_parts();
        let mut state = AttemptState::new(body.is_replayable());
        let mut template = Some(body);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            // A replayable body stays as the template of every attempt; a one-shot body
            // goes out with the first (and only) attempt.
            let body = if state.replayable {
                template.as_ref().and_then(RequestBody::try_clone)
            } else {
                template.take()
            }
            .unwrap_or_default();
            let activity = Activity::new();
            let body = watch_body(body, &activity, inner.progress.clone());
            let mut request = http::Request::new(body);
            *request.method_mut() = parts.method.clone();
            *request.uri_mut() = parts.uri.clone();
            *request.version_mut() = parts.version;
            *request.headers_mut() = parts.headers.clone();
            for name in inner.headers.keys() {
                if !request.headers().contains_key(name) {
                    for value in inner.headers.get_all(name) {
                        request.headers_mut().append(name.clone(), value.clone());
                    }
                }
            }
            let mut sent_token = None;
            if !request.headers().contains_key(AUTHORIZATION)
                && let Some((value, token)) = self.authorization().await?
            {
                request.headers_mut().insert(AUTHORIZATION, value);
                sent_token = token;
            }
            state.provider_token = sent_token.is_some();
            let deadline = inner
                .timeouts
                .total
                .map(|t| (tokio::time::Instant::now() + t, t));
            let sent = inner.transport.send(request);
            let outcome = wait_for_head(sent, &activity, inner.timeouts.idle, deadline).await;
            let judged = match &outcome {
                Ok(response) => AttemptOutcome::Response {
                    status: response.status(),
                    headers: response.headers(),
                },
                Err(error) => AttemptOutcome::TransportFailed {
                    retryable: error.is_retryable(),
                },
            };
            let step = next_step(
                &inner.retry,
                &state,
                judged,
                SystemTime::now(),
                random_jitter(),
            );
            match (step, outcome) {
                (NextStep::Finish, Ok(response)) => {
                    let span = tracing::Span::current();
                    span.record("status", response.status().as_u16());
                    span.record("attempts", attempts);
                    return Ok(self.guard(&parts.method, response, deadline));
                }
                (NextStep::Finish, Err(source)) => {
                    tracing::Span::current().record("attempts", attempts);
                    let tries = if attempts > 1 {
                        format!(" (after {attempts} attempts)")
                    } else {
                        String::new()
                    };
                    return Err(Error::Transport {
                        request: format!("{} {}{tries}", parts.method, parts.uri),
                        source,
                    });
                }
                (NextStep::RefreshToken, outcome) => {
                    tracing::debug!("401 Unauthorized: refreshing the token and retrying once");
                    if let (Some(provider), Some(token)) =
                        (inner.auth.token_provider(), &sent_token)
                    {
                        provider.invalidate(token);
                    }
                    if let Ok(response) = outcome {
                        drain(response).await;
                    }
                }
                (NextStep::Retry { delay }, outcome) => {
                    let reason = match outcome {
                        Ok(response) => {
                            let reason = format!("status {}", response.status());
                            drain(response).await;
                            reason
                        }
                        Err(error) => error.to_string(),
                    };
                    let retry = state.retries + 1;
                    tracing::info!(retry, ?delay, %reason, "retrying");
                    self.report(ProgressEvent::Retrying {
                        retry,
                        delay,
                        reason,
                    });
                    tokio::time::sleep(delay).await;
                }
            }
            state = state.after(step);
        }
    }

    /// The `Authorization` header for the client's auth, and the provider's token it holds.
    async fn authorization(&self) -> Result<Option<(HeaderValue, Option<AccessToken>)>, Error> {
        let invalid =
            || Error::config("the credentials cannot go into an HTTP header (control characters)");
        match &self.inner.auth {
            Auth::Basic { username, password } => basic_header(username, password)
                .map(|v| Some((v, None)))
                .ok_or_else(invalid),
            Auth::Bearer(token) => bearer_header(token)
                .map(|v| Some((v, None)))
                .ok_or_else(invalid),
            Auth::Provider(p) => {
                let token = p.token().await.map_err(|source| Error::Token { source })?;
                let value = bearer_header(&token).ok_or_else(invalid)?;
                Ok(Some((value, Some(token))))
            }
            _ => Ok(None),
        }
    }

    fn guard(
        &self,
        method: &Method,
        response: http::Response<ResponseBody>,
        deadline: Option<(tokio::time::Instant, Duration)>,
    ) -> http::Response<ResponseBody> {
        let status = response.status();
        let bodiless = *method == Method::HEAD
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED;
        let expected = if bodiless {
            None
        } else {
            response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let progress = self.inner.progress.clone();
        let idle = self.inner.timeouts.idle;
        response.map(|body| {
            ResponseBody::from_stream(GuardedBody::new(body, idle, deadline, expected, progress))
        })
    }
}

/// Reads a small unwanted body to its end so the connection can serve the next attempt;
/// a large or slow one is dropped with its connection.
async fn drain(response: http::Response<ResponseBody>) {
    const SMALL: usize = 64 * 1024;
    let small = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n <= SMALL);
    if small {
        let read = response.into_body().bytes_limited(SMALL);
        let _ = tokio::time::timeout(Duration::from_millis(500), read).await;
    }
}

fn watch_body(
    body: RequestBody,
    activity: &Arc<Activity>,
    progress: Option<Arc<dyn ProgressObserver>>,
) -> RequestBody {
    let activity = activity.clone();
    match body {
        RequestBody::Segments(segments) => RequestBody::Source(
            BodySource::from_segments(segments)
                .map_stream(move |s| watch_upload(s, activity.clone(), progress.clone())),
        ),
        RequestBody::Source(src) => RequestBody::Source(
            src.map_stream(move |s| watch_upload(s, activity.clone(), progress.clone())),
        ),
        RequestBody::OneShot(s) => RequestBody::OneShot(watch_upload(s, activity, progress)),
        other => other,
    }
}
