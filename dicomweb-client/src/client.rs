//! The [`Client`]: one DICOMweb server, a transport, and the policies around every request
//! (authentication, extra headers, retries, timeouts, progress, tracing).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dicomweb_core::ReadOptions;
use dicomweb_core::request::BaseUrl;
use http::header::{AUTHORIZATION, CONTENT_LENGTH};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tracing::Instrument;

use crate::auth::{basic_header, bearer_header};
use crate::progress::{ProgressEvent, ProgressObserver};
use crate::timeout::{Activity, GuardedBody, wait_for_head, watch_upload};
use crate::{
    AccessToken, Auth, BodySource, Error, Password, RequestBody, ResponseBody, RetryPolicy,
    ServerConfig, Timeouts, TokenProvider, Transport,
};

/// The default of [`ClientBuilder::max_response_bytes`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// A DICOMweb client for one server. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    base_url: BaseUrl,
    transport: Arc<dyn Transport>,
    auth: Auth,
    headers: HeaderMap,
    retry: RetryPolicy,
    timeouts: Timeouts,
    progress: Option<Arc<dyn ProgressObserver>>,
    chunked_transfers: bool,
    has_delete: Option<bool>,
    read_options: ReadOptions,
    max_response_bytes: usize,
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

    async fn execute_in_span(
        &self,
        request: http::Request<RequestBody>,
    ) -> Result<http::Response<ResponseBody>, Error> {
        let inner = &*self.inner;
        let (parts, body) = request.into_parts();
        let replayable = body.is_replayable();
        let mut template = Some(body);
        let provider = inner.auth.token_provider().cloned();
        let mut retries = 0u32;
        let mut refreshed = false;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            // A replayable body stays as the template of every attempt; a one-shot body
            // goes out with the first (and only) attempt.
            let body = if replayable {
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
            for (name, value) in &inner.headers {
                if !request.headers().contains_key(name) {
                    request.headers_mut().insert(name.clone(), value.clone());
                }
            }
            let mut sent_token = None;
            if !request.headers().contains_key(AUTHORIZATION) {
                if let Some((value, token)) = self.authorization().await? {
                    request.headers_mut().insert(AUTHORIZATION, value);
                    sent_token = token;
                }
            }
            let deadline = inner
                .timeouts
                .total
                .map(|t| (tokio::time::Instant::now() + t, t));
            let sent = inner.transport.send(request);
            let outcome = wait_for_head(sent, &activity, inner.timeouts.idle, deadline).await;
            let can_retry = replayable && retries < inner.retry.max_retries();
            let (delay, reason) = match outcome {
                Ok(response) => {
                    let status = response.status();
                    if status == StatusCode::UNAUTHORIZED && replayable && !refreshed {
                        if let (Some(p), Some(token)) = (&provider, &sent_token) {
                            tracing::debug!(
                                "401 Unauthorized: refreshing the token and retrying once"
                            );
                            p.invalidate(token);
                            refreshed = true;
                            drain(response).await;
                            continue;
                        }
                    }
                    let delay = can_retry
                        .then(|| {
                            inner.retry.delay_for_response(
                                retries,
                                status,
                                response.headers(),
                                SystemTime::now(),
                            )
                        })
                        .flatten();
                    match delay {
                        Some(delay) => {
                            drain(response).await;
                            (delay, format!("status {status}"))
                        }
                        None => {
                            let span = tracing::Span::current();
                            span.record("status", status.as_u16());
                            span.record("attempts", attempts);
                            return Ok(self.guard(&parts.method, response, deadline));
                        }
                    }
                }
                Err(e) if can_retry && e.is_retryable() => {
                    (inner.retry.backoff(retries), e.to_string())
                }
                Err(source) => {
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
            };
            retries += 1;
            tracing::info!(retry = retries, ?delay, %reason, "retrying");
            self.report(ProgressEvent::Retrying {
                retry: retries,
                delay,
                reason,
            });
            tokio::time::sleep(delay).await;
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

/// Settings for a [`Client`].
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    transport: Option<Arc<dyn Transport>>,
    auth: Auth,
    headers: HeaderMap,
    retry: RetryPolicy,
    timeouts: Timeouts,
    progress: Option<Arc<dyn ProgressObserver>>,
    identity_pem: Option<Vec<u8>>,
    root_certificates_pem: Vec<Vec<u8>>,
    chunked_transfers: bool,
    has_delete: Option<bool>,
    read_options: ReadOptions,
    max_response_bytes: usize,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    fn new(base_url: String) -> Self {
        Self {
            base_url,
            transport: None,
            auth: Auth::None,
            headers: HeaderMap::new(),
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            progress: None,
            identity_pem: None,
            root_certificates_pem: Vec::new(),
            chunked_transfers: true,
            has_delete: None,
            read_options: ReadOptions::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Settings from a registry entry (Orthanc's `DicomWeb.Servers`): URL, basic auth,
    /// headers, timeout, chunked transfers, client certificate (files are read now).
    pub fn from_server(server: &ServerConfig) -> Result<Self, Error> {
        let mut builder = Self::new(server.url.clone());
        if let Some(username) = &server.username {
            let password = server.password.clone().unwrap_or_else(|| Password::new(""));
            builder = builder.auth(Auth::Basic {
                username: username.clone(),
                password,
            });
        }
        for (name, value) in &server.http_headers {
            builder = builder.try_header(name, value)?;
        }
        if let Some(timeout) = server.timeout {
            builder.timeouts.total = Some(timeout);
        }
        if let Some(chunked) = server.chunked_transfers {
            builder.chunked_transfers = chunked;
        }
        builder.has_delete = server.has_delete;
        if let (Some(cert), Some(key)) = (&server.certificate_file, &server.certificate_key_file) {
            let read = |path: &std::path::Path| {
                std::fs::read(path).map_err(|source| Error::Io {
                    path: path.to_owned(),
                    source,
                })
            };
            let mut pem = read(cert)?;
            pem.push(b'\n');
            pem.extend(read(key)?);
            builder.identity_pem = Some(pem);
        }
        Ok(builder)
    }

    /// Uses `transport` instead of the default reqwest one. TLS settings then belong to it.
    pub fn transport(mut self, transport: impl Transport + 'static) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Uses a shared transport (e.g. one pool for several clients).
    pub fn shared_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// How requests authenticate.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// HTTP basic authentication.
    pub fn basic_auth(self, username: impl Into<String>, password: impl Into<Password>) -> Self {
        self.auth(Auth::basic(username, password))
    }

    /// A fixed bearer token.
    pub fn bearer_token(self, token: impl Into<AccessToken>) -> Self {
        self.auth(Auth::bearer(token))
    }

    /// Bearer tokens from `provider`, refreshed once on 401.
    pub fn token_provider(self, provider: Arc<dyn TokenProvider>) -> Self {
        self.auth(Auth::Provider(provider))
    }

    /// Adds a header sent with every request (appended to any of the same name).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Adds a header given as text (e.g. from a command line's `-H 'Name: value'`), checking
    /// that it can be sent.
    pub fn try_header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let header = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Error::config(format!("expected an HTTP header name, got {name:?}")))?;
        let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
            Error::config(format!(
                "the value of header {name:?} has characters a header cannot carry"
            ))
        })?;
        value.set_sensitive(true);
        self.headers.append(header, value);
        Ok(self)
    }

    /// The retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The number of retries, keeping the rest of the policy.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.retry = self.retry.with_max_retries(max_retries);
        self
    }

    /// All three timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The connect timeout (applies to the default transport).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// The idle timeout: the longest pause with no bytes moving.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.idle = timeout;
        self
    }

    /// The total timeout of one attempt, body included.
    pub fn total_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.total = timeout;
        self
    }

    /// Receives progress events.
    pub fn progress(mut self, observer: Arc<dyn ProgressObserver>) -> Self {
        self.progress = Some(observer);
        self
    }

    /// A client certificate: PEM with the certificate chain and an unencrypted private key.
    pub fn identity_pem(mut self, pem: Vec<u8>) -> Self {
        self.identity_pem = Some(pem);
        self
    }

    /// Adds trusted root certificates (PEM) to the system's.
    pub fn root_certificates_pem(mut self, pem: Vec<u8>) -> Self {
        self.root_certificates_pem.push(pem);
        self
    }

    /// Whether uploads may use chunked transfer encoding (default true).
    pub fn chunked_transfers(mut self, chunked: bool) -> Self {
        self.chunked_transfers = chunked;
        self
    }

    /// How DICOM JSON and XML responses are read.
    pub fn read_options(mut self, options: ReadOptions) -> Self {
        self.read_options = options;
        self
    }

    /// The largest response body read into memory (default 256 MiB); streamed retrieves are
    /// not limited by it.
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = max;
        self
    }

    /// Builds the client (and the default transport, unless one was given).
    pub fn build(self) -> Result<Client, Error> {
        let base_url = BaseUrl::parse(&self.base_url)?;
        let transport = match self.transport {
            Some(t) => {
                if self.identity_pem.is_some() || !self.root_certificates_pem.is_empty() {
                    return Err(Error::config(
                        "a client certificate or root certificate was given together with a custom \
                         transport; configure TLS on that transport instead",
                    ));
                }
                t
            }
            None => default_transport(
                &self.timeouts,
                self.identity_pem,
                self.root_certificates_pem,
            )?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                base_url,
                transport,
                auth: self.auth,
                headers: self.headers,
                retry: self.retry,
                timeouts: self.timeouts,
                progress: self.progress,
                chunked_transfers: self.chunked_transfers,
                has_delete: self.has_delete,
                read_options: self.read_options,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

#[cfg(feature = "reqwest")]
fn default_transport(
    timeouts: &Timeouts,
    identity_pem: Option<Vec<u8>>,
    roots: Vec<Vec<u8>>,
) -> Result<Arc<dyn Transport>, Error> {
    let mut builder = crate::ReqwestTransport::builder().connect_timeout(timeouts.connect);
    if let Some(pem) = identity_pem {
        builder = builder.identity_pem(pem);
    }
    for pem in roots {
        builder = builder.root_certificates_pem(pem);
    }
    Ok(Arc::new(builder.build()?))
}

#[cfg(not(feature = "reqwest"))]
fn default_transport(
    _: &Timeouts,
    _: Option<Vec<u8>>,
    _: Vec<Vec<u8>>,
) -> Result<Arc<dyn Transport>, Error> {
    Err(Error::config(
        "no transport: enable the `reqwest` feature or give one with ClientBuilder::transport",
    ))
}
