//! The default [`Transport`]: reqwest over rustls (ring), HTTP/1.1 and HTTP/2, with a
//! connection pool.

use std::time::Duration;

use futures_util::TryStreamExt;

use crate::{
    Error, RequestBody, ResponseBody, Transport, TransportError, TransportErrorKind,
    TransportFuture,
};

/// A [`Transport`] on a pooled [`reqwest::Client`].
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    connect_timeout: Option<Duration>,
}

impl ReqwestTransport {
    /// A transport with default settings (10 s connect timeout, system roots).
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// Settings for a transport.
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder {
            connect_timeout: Some(Duration::from_secs(10)),
            identity_pem: None,
            root_certificates_pem: Vec::new(),
            user_agent: concat!("dicomweb-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// A transport on a client configured elsewhere.
    pub fn from_client(client: reqwest::Client) -> Self {
        Self {
            client,
            connect_timeout: None,
        }
    }
}

/// Settings for a [`ReqwestTransport`].
#[derive(Clone)]
#[must_use]
pub struct ReqwestTransportBuilder {
    connect_timeout: Option<Duration>,
    identity_pem: Option<Vec<u8>>,
    root_certificates_pem: Vec<Vec<u8>>,
    user_agent: String,
}

impl std::fmt::Debug for ReqwestTransportBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReqwestTransportBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field(
                "identity_pem",
                &self.identity_pem.as_ref().map(|_| "[redacted]"),
            )
            .field("root_certificates", &self.root_certificates_pem.len())
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl ReqwestTransportBuilder {
    /// The connect timeout (TCP and TLS handshake); `None` waits as long as the OS does.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// A client certificate: PEM text holding the certificate chain and its private key
    /// (PKCS#8, RSA or SEC1; not encrypted).
    pub fn identity_pem(mut self, pem: Vec<u8>) -> Self {
        self.identity_pem = Some(pem);
        self
    }

    /// Adds trusted root certificates (PEM, one or several) to the system's.
    pub fn root_certificates_pem(mut self, pem: Vec<u8>) -> Self {
        self.root_certificates_pem.push(pem);
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Builds the transport.
    pub fn build(self) -> Result<ReqwestTransport, Error> {
        install_crypto_provider();
        let tls = |message: &str, e: reqwest::Error| Error::Tls {
            message: format!("{message}: {}", innermost(&e)),
            source: Some(Box::new(e)),
        };
        let mut builder = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .redirect(same_origin_redirects())
            .pool_idle_timeout(Duration::from_secs(60));
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if let Some(pem) = self.identity_pem {
            if contains(&pem, b"ENCRYPTED") {
                return Err(Error::Tls {
                    message: "the client certificate's private key is encrypted; expected an \
                              unencrypted PEM key (decrypt it with `openssl pkey`)"
                        .to_owned(),
                    source: None,
                });
            }
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|e| tls("expected PEM with a certificate and its private key", e))?;
            builder = builder.identity(identity);
        }
        let mut roots = Vec::new();
        for pem in &self.root_certificates_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| tls("expected PEM root certificates", e))?;
            if certs.is_empty() {
                return Err(Error::Tls {
                    message: "expected PEM root certificates, found no certificate".to_owned(),
                    source: None,
                });
            }
            roots.extend(certs);
        }
        if !roots.is_empty() {
            builder = builder.tls_certs_merge(roots);
        }
        let client = builder
            .build()
            .map_err(|e| tls("cannot build the HTTP client", e))?;
        Ok(ReqwestTransport {
            client,
            connect_timeout: self.connect_timeout,
        })
    }
}

/// Redirects are followed within the first request's origin (scheme, host and port), at most 10;
/// a redirect elsewhere is not followed and its 3xx response is the answer. A request body
/// (a token grant's client secret, refresh token or signed assertion, which a 307 or 308 would
/// re-send) and credentials never travel to another server.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() > 10 {
            attempt.error("expected at most 10 redirects, found more")
        } else if same_origin {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// reqwest is built without a default crypto provider: use ring unless the application
/// installed one already.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl Transport for ReqwestTransport {
    fn send(&self, request: http::Request<RequestBody>) -> TransportFuture {
        let client = self.client.clone();
        let connect_timeout = self.connect_timeout;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = reqwest::Url::parse(&parts.uri.to_string()).map_err(|e| {
                TransportError::new(
                    TransportErrorKind::Other,
                    format!("invalid URL {}: {e}", parts.uri),
                )
            })?;
            let mut req = reqwest::Request::new(parts.method, url);
            *req.headers_mut() = parts.headers;
            let length = body.length();
            let body = match body {
                RequestBody::Empty => None,
                RequestBody::Segments(mut segments) if segments.len() == 1 => {
                    segments.pop().map(reqwest::Body::from)
                }
                other => Some(reqwest::Body::wrap_stream(other.into_stream())),
            };
            if let Some(body) = body {
                if let Some(length) = length {
                    req.headers_mut()
                        .insert(http::header::CONTENT_LENGTH, length.into());
                }
                *req.body_mut() = Some(body);
            }
            let response = client
                .execute(req)
                .await
                .map_err(|e| map_error(e, None, connect_timeout))?;
            let mut builder = http::Response::builder()
                .status(response.status())
                .version(response.version());
            if let Some(headers) = builder.headers_mut() {
                *headers = response.headers().clone();
            }
            let stream = response
                .bytes_stream()
                .map_err(move |e| map_error(e, Some(TransportErrorKind::Body), connect_timeout));
            builder
                .body(ResponseBody::from_stream(stream))
                .map_err(|e| TransportError::new(TransportErrorKind::Other, e.to_string()))
        })
    }
}

/// Our kind for a reqwest error; the message is the deepest cause (the client adds the
/// request's method and URL).
fn map_error(
    e: reqwest::Error,
    default: Option<TransportErrorKind>,
    connect_timeout: Option<Duration>,
) -> TransportError {
    if e.is_connect() && e.is_timeout() {
        let message = match connect_timeout {
            Some(d) => format!("no connection within the connect timeout of {d:?}"),
            None => "no connection within the connect timeout".to_owned(),
        };
        return TransportError::connect(message).with_source(e);
    }
    let kind = if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_timeout() {
        TransportErrorKind::Timeout
    } else if let Some(kind) = default {
        kind
    } else if e.is_body() || e.is_decode() {
        TransportErrorKind::Body
    } else if e.is_request() {
        TransportErrorKind::Send
    } else {
        TransportErrorKind::Other
    };
    TransportError::new(kind, innermost(&e)).with_source(e)
}

/// The deepest cause's message: reqwest's own is generic ("error sending request").
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
