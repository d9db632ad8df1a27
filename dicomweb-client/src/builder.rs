//! [`ClientBuilder`]: the settings of a [`Client`], by hand or from a registry entry.

use std::sync::Arc;
use std::time::Duration;

use dicomweb_core::ReadOptions;
use dicomweb_core::request::BaseUrl;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::client::{DEFAULT_MAX_RESPONSE_BYTES, Inner};
use crate::progress::ProgressObserver;
use crate::{
    AccessToken, Auth, Client, Error, Password, RetryPolicy, ServerConfig, Timeouts, TokenProvider,
    Transport,
};

/// Settings for a [`Client`]. Cloning it gives the same settings, e.g. for another server
/// ([`ClientBuilder::base_url`]).
#[must_use]
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: String,
    transport: Option<Arc<dyn Transport>>,
    auth: Auth,
    /// Google Cloud credentials whose provider is made over the transport at build time;
    /// when set, it is the auth (`auth` is then `None`).
    #[cfg(feature = "gcp")]
    gcp: Option<Arc<crate::gcp::PendingProvider>>,
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
        let mut debug = f.debug_struct("ClientBuilder");
        debug
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts);
        #[cfg(feature = "gcp")]
        debug.field("gcp_credentials", &self.gcp.is_some());
        debug.finish_non_exhaustive()
    }
}

impl ClientBuilder {
    pub(crate) fn new(base_url: String) -> Self {
        Self {
            base_url,
            transport: None,
            auth: Auth::None,
            #[cfg(feature = "gcp")]
            gcp: None,
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

    /// The same settings for another DICOMweb root.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Settings from a registry entry (Orthanc's `DicomWeb.Servers`): URL, basic auth,
    /// headers, timeout, chunked transfers, client certificate (files are read now); with the
    /// `gcp` feature, a `GoogleCloudPlatform.Accounts` entry's credentials, whose tokens are
    /// then fetched over the client's transport (`ClientBuilder::gcp_credentials`).
    pub fn from_server(server: &ServerConfig) -> Result<Self, Error> {
        let mut builder = Self::new(server.url.clone());
        #[cfg(feature = "gcp")]
        if let Some(account) = &server.gcp_account {
            let credentials = account.load_credentials().map_err(|e| Error::Token {
                source: Box::new(e),
            })?;
            builder = builder.gcp_credentials(
                credentials,
                gcp_credentials::TokenProviderOptions::default(),
            );
        }
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
                    doing: "read",
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

    /// How requests authenticate (replacing any earlier choice, Google Cloud credentials
    /// included).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        #[cfg(feature = "gcp")]
        {
            self.gcp = None;
        }
        self
    }

    /// Bearer tokens for Google Cloud `credentials`, fetched and refreshed by a
    /// `gcp_credentials::TokenProvider` whose token requests go over this client's transport
    /// ([`TransportHttpClient`](crate::TransportHttpClient)): the custom transport, client
    /// certificate, root certificates and connect timeout set here apply to the token endpoint
    /// too, and each token request keeps `options.request_timeout`. The provider is made at
    /// the first [`build`](Self::build), over that client's transport, and shared by every
    /// client later built from this builder or its clones (one token cache); a transport or TLS
    /// setting changed after that first build does not move it (call this again to start a
    /// new provider). Feature `gcp`.
    #[cfg(feature = "gcp")]
    pub fn gcp_credentials(
        mut self,
        credentials: gcp_credentials::Credentials,
        options: gcp_credentials::TokenProviderOptions,
    ) -> Self {
        self = self.auth(Auth::None);
        self.gcp = Some(Arc::new(crate::gcp::PendingProvider::new(
            credentials,
            options,
        )));
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

    /// The transport a [`build`](Self::build) would use: the one given, or a new default
    /// transport with these TLS settings and connect timeout. For requests made on the side
    /// with the same HTTP settings, e.g. finding Google Cloud Application Default Credentials
    /// (`gcp_credentials::application_default_credentials` over a `TransportHttpClient`,
    /// feature `gcp`).
    pub fn build_transport(&self) -> Result<Arc<dyn Transport>, Error> {
        match &self.transport {
            Some(t) => {
                if self.identity_pem.is_some() || !self.root_certificates_pem.is_empty() {
                    return Err(Error::config(
                        "a client certificate or root certificate was given together with a custom \
                         transport; configure TLS on that transport instead",
                    ));
                }
                Ok(t.clone())
            }
            None => default_transport(
                &self.timeouts,
                self.identity_pem.clone(),
                self.root_certificates_pem.clone(),
            ),
        }
    }

    /// Builds the client (and the default transport, unless one was given).
    pub fn build(self) -> Result<Client, Error> {
        let base_url = BaseUrl::parse(&self.base_url)?;
        let transport = self.build_transport()?;
        #[cfg(feature = "gcp")]
        let auth = match &self.gcp {
            Some(pending) => Auth::Provider(pending.provider(&transport)),
            None => self.auth,
        };
        #[cfg(not(feature = "gcp"))]
        let auth = self.auth;
        Ok(Client {
            inner: Arc::new(Inner {
                base_url,
                transport,
                auth,
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
