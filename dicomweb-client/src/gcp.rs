//! Google Cloud access tokens over the client's own transport (feature `gcp`).
//!
//! [`TransportHttpClient`] adapts a [`Transport`] to `gcp_credentials::HttpClient`, so token
//! requests (and Application Default Credentials' probe of the metadata server) go over the
//! same HTTP stack as the DICOMweb requests: a custom transport, a client certificate, custom
//! root certificates or a proxy apply to the token endpoint too, and the `gcp` feature pulls
//! in no HTTP client of its own. Each token request keeps its own timeout
//! (`TokenProviderOptions::request_timeout`, applied by the provider); the client's retries,
//! extra headers and authentication are not applied to it, so headers meant for the DICOMweb
//! server never reach the token endpoint.
//!
//! [`ClientBuilder::gcp_credentials`](crate::ClientBuilder::gcp_credentials) wires it up: the
//! provider is made when the client is built, over that client's transport.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use gcp_credentials::{Credentials, HttpClient, HttpFuture, TokenProvider, TokenProviderOptions};

use crate::{RequestBody, Transport};

/// The largest token endpoint reply read (a token reply is a few hundred bytes).
const MAX_REPLY_BYTES: usize = 1 << 20;

/// A [`Transport`] as the HTTP hook of `gcp_credentials`: each token request is one exchange
/// over the transport, its reply read into memory (at most 1 MiB).
#[derive(Clone)]
pub struct TransportHttpClient {
    transport: Arc<dyn Transport>,
}

impl TransportHttpClient {
    /// Sends token requests over `transport`.
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self { transport }
    }
}

impl std::fmt::Debug for TransportHttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransportHttpClient(..)")
    }
}

impl HttpClient for TransportHttpClient {
    fn send(&self, request: http::Request<Bytes>) -> HttpFuture<'_> {
        let request = request.map(|body| {
            if body.is_empty() {
                RequestBody::Empty
            } else {
                RequestBody::Segments(vec![body])
            }
        });
        let sent = self.transport.send(request);
        Box::pin(async move {
            let transport_error =
                |e: crate::TransportError| Arc::new(e) as gcp_credentials::TransportError;
            let (parts, body) = sent.await.map_err(transport_error)?.into_parts();
            let body = body
                .bytes_limited(MAX_REPLY_BYTES)
                .await
                .map_err(transport_error)?;
            Ok(http::Response::from_parts(parts, body))
        })
    }
}

/// Google Cloud credentials waiting for a client's transport: the token provider is made at
/// the first build and shared by every client built from the same builder or its clones (one
/// token cache, one refresh in flight).
pub(crate) struct PendingProvider {
    credentials: Credentials,
    options: TokenProviderOptions,
    provider: OnceLock<Arc<TokenProvider>>,
}

impl PendingProvider {
    pub(crate) fn new(credentials: Credentials, options: TokenProviderOptions) -> Self {
        Self {
            credentials,
            options,
            provider: OnceLock::new(),
        }
    }

    /// The provider, made over `transport` if it does not exist yet.
    pub(crate) fn provider(&self, transport: &Arc<dyn Transport>) -> Arc<TokenProvider> {
        self.provider
            .get_or_init(|| {
                Arc::new(TokenProvider::new(
                    self.credentials.clone(),
                    Arc::new(TransportHttpClient::new(transport.clone())),
                    self.options.clone(),
                ))
            })
            .clone()
    }
}

impl std::fmt::Debug for PendingProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingProvider")
            .field("credentials", &self.credentials.kind())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
