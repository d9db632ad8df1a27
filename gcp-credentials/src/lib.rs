//! OAuth2 access tokens for Google Cloud, refreshed ahead of expiry, and the Cloud Healthcare
//! API as a DICOMweb server.
//!
//! Sources: service account keys (JWT bearer grant, RS256 with `ring`), gcloud's
//! `authorized_user` files (refresh-token grant), the GCE/GKE metadata server, Application
//! Default Credentials (which find one of those), and a static token.
//!
//! ```no_run
//! # async fn run() -> Result<(), gcp_credentials::Error> {
//! use gcp_credentials::{Credentials, TokenProvider, TokenProviderOptions, CLOUD_HEALTHCARE_SCOPE};
//!
//! let credentials = Credentials::from_file("key.json")?;
//! let options = TokenProviderOptions::default().with_scopes([CLOUD_HEALTHCARE_SCOPE]);
//! let provider = TokenProvider::with_reqwest(credentials, options)?;
//! let header = provider.authorization_header().await?; // "Bearer ya29...."
//! # let _ = header;
//! # Ok(()) }
//! ```
//!
//! # Layers
//!
//! - **Sans-IO** ([`grant`], [`jwt`], [`policy`]): building each token request and parsing each
//!   reply are public functions over `http` types; the refresh policy is a pure state machine
//!   that takes `now`. Drive them with any HTTP stack.
//! - **Async driver** ([`TokenProvider`]): tokio, exactly one refresh in flight however many
//!   callers, a timeout on every token request, HTTP through the [`HttpClient`] trait
//!   (reqwest over rustls by default, feature `reqwest`; the DICOMweb client adapts its own
//!   transport to it, so the token endpoint sees the same TLS settings and proxy).
//!
//! # Features
//!
//! - `tokens` (default): everything that finds credentials and fetches tokens (`ring` for
//!   RS256, tokio for the driver).
//! - `reqwest` (default): [`ReqwestClient`], and `TokenProvider::with_reqwest`.
//!
//! Without them the crate is its light part, which the DICOMweb client depends on whatever its
//! features: the secret newtypes ([`AccessToken`], [`Password`], ...), the [`HttpClient`] hook,
//! Healthcare API store names and the [`Error`] type. Nothing in the crate knows DICOM.
//!
//! # What it does not do
//!
//! It does not read Windows' registry, does not handle `external_account` (workload identity
//! federation) or impersonation files, and never writes credentials anywhere. Secrets
//! ([`AccessToken`], [`RefreshToken`], [`ClientSecret`], [`PrivateKeyPem`], [`Password`]) never
//! print, and no [`Error`] carries one.

#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's examples compile and run as doc tests.
#[cfg(all(doctest, feature = "reqwest"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "tokens")]
pub mod adc;
#[cfg(feature = "tokens")]
pub mod credentials;
mod error;
#[cfg(feature = "tokens")]
pub mod grant;
pub mod healthcare;
#[cfg(feature = "tokens")]
pub mod jwt;
#[cfg(feature = "tokens")]
pub mod orthanc;
#[cfg(feature = "tokens")]
pub mod policy;
#[cfg(feature = "tokens")]
mod provider;
mod secret;
pub mod transport;

#[cfg(feature = "tokens")]
pub use adc::{AdcEnvironment, application_default_credentials};
#[cfg(feature = "tokens")]
pub use credentials::{AuthorizedUser, Credentials, MetadataServer, ServiceAccountKey};
pub use error::{Error, Result, TransportError};
#[cfg(feature = "tokens")]
pub use grant::{CLOUD_HEALTHCARE_SCOPE, CLOUD_PLATFORM_SCOPE, Token, parse_token_response};
pub use healthcare::{DEFAULT_HEALTHCARE_BASE_URL, HealthcareStore, healthcare_base_url};
#[cfg(feature = "tokens")]
pub use orthanc::{AccountCredentials, OrthancGcpAccount, read_orthanc_gcp_accounts};
#[cfg(feature = "tokens")]
pub use policy::{Action, RefreshPolicy, TokenCache};
#[cfg(feature = "tokens")]
pub use provider::{TokenProvider, TokenProviderOptions};
pub use secret::{AccessToken, ClientSecret, Password, PrivateKeyPem, RefreshToken};
#[cfg(feature = "reqwest")]
pub use transport::ReqwestClient;
pub use transport::{HttpClient, HttpFuture};
