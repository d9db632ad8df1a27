//! The HTTP hook: a tiny async trait, and its reqwest implementation (feature `reqwest`).
//!
//! The token provider sends every request through an [`HttpClient`], so the DICOMweb client
//! (or a test, or another HTTP stack) can plug its own transport in. The trait returns a boxed
//! future so that it can be used as `Arc<dyn HttpClient>`.

use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;

use crate::error::TransportError;

/// The future an [`HttpClient`] returns.
pub type HttpFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send + 'a>>;

/// Sends one HTTP request and collects the whole reply (token replies are small).
pub trait HttpClient: Send + Sync + 'static {
    /// Sends `request`; resolves to the reply or a transport error. Timeouts are applied by the
    /// caller.
    fn send(&self, request: http::Request<Bytes>) -> HttpFuture<'_>;
}

impl<T: HttpClient + ?Sized> HttpClient for std::sync::Arc<T> {
    fn send(&self, request: http::Request<Bytes>) -> HttpFuture<'_> {
        (**self).send(request)
    }
}

#[cfg(feature = "reqwest")]
pub use self::reqwest_client::ReqwestClient;

#[cfg(feature = "reqwest")]
mod reqwest_client {
    use super::{HttpClient, HttpFuture};
    use crate::error::TransportError;
    use bytes::Bytes;
    use std::sync::Arc;

    /// The largest reply body read (token replies are a few hundred bytes).
    const MAX_BODY: usize = 1 << 20;

    /// [`HttpClient`] over reqwest with rustls (the `ring` crypto provider) and the platform's
    /// certificate verifier. Redirects are not followed (token endpoints do not redirect) and
    /// replies over 1 MiB are refused.
    #[derive(Debug, Clone)]
    pub struct ReqwestClient {
        client: reqwest::Client,
    }

    impl ReqwestClient {
        /// A client with rustls over `ring`.
        ///
        /// Installs `ring` as the process's default rustls crypto provider if none is
        /// installed yet.
        pub fn new() -> Result<Self, TransportError> {
            // Err only means another provider is already installed, which is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Arc::new(e) as TransportError)?;
            Ok(Self { client })
        }

        /// Wraps an existing reqwest client.
        pub fn from_client(client: reqwest::Client) -> Self {
            Self { client }
        }
    }

    impl HttpClient for ReqwestClient {
        fn send(&self, request: http::Request<Bytes>) -> HttpFuture<'_> {
            Box::pin(async move {
                let request = reqwest::Request::try_from(request.map(reqwest::Body::from))
                    .map_err(|e| Arc::new(e) as TransportError)?;
                let response = self
                    .client
                    .execute(request)
                    .await
                    .map_err(|e| Arc::new(e.without_url()) as TransportError)?;
                let mut builder = http::Response::builder()
                    .status(response.status())
                    .version(response.version());
                if let Some(headers) = builder.headers_mut() {
                    headers.extend(response.headers().clone());
                }
                let mut response = response;
                let mut body = Vec::new();
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| Arc::new(e.without_url()) as TransportError)?
                {
                    if body.len() + chunk.len() > MAX_BODY {
                        let message =
                            format!("expected a reply of at most {MAX_BODY} bytes, found more");
                        return Err(TransportError::from(Box::<
                            dyn std::error::Error + Send + Sync,
                        >::from(
                            message
                        )));
                    }
                    body.extend_from_slice(&chunk);
                }
                builder
                    .body(Bytes::from(body))
                    .map_err(|e| Arc::new(e) as TransportError)
            })
        }
    }
}
