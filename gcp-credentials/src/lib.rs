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
//!   (reqwest over rustls by default, feature `reqwest`).
//!
//! # What it does not do
//!
//! It does not read Windows' registry, does not handle `external_account` (workload identity
//! federation) or impersonation files, and never writes credentials anywhere. Secrets
//! ([`AccessToken`], [`RefreshToken`], [`ClientSecret`], [`PrivateKeyPem`]) never print, and
//! no [`Error`] carries one.

#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's examples compile and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod adc;
pub mod credentials;
mod error;
pub mod grant;
pub mod healthcare;
pub mod jwt;
pub mod orthanc;
pub mod policy;
mod provider;
mod secret;
pub mod transport;

pub use adc::{AdcEnvironment, application_default_credentials};
pub use credentials::{AuthorizedUser, Credentials, MetadataServer, ServiceAccountKey};
pub use error::{Error, Result, TransportError};
pub use grant::{CLOUD_HEALTHCARE_SCOPE, CLOUD_PLATFORM_SCOPE, Token, parse_token_response};
pub use healthcare::{DEFAULT_HEALTHCARE_BASE_URL, HealthcareStore, healthcare_base_url};
pub use orthanc::{AccountCredentials, OrthancGcpAccount, read_orthanc_gcp_accounts};
pub use policy::{Action, RefreshPolicy, TokenCache};
pub use provider::{TokenProvider, TokenProviderOptions};
pub use secret::{AccessToken, ClientSecret, PrivateKeyPem, RefreshToken};
#[cfg(feature = "reqwest")]
pub use transport::ReqwestClient;
pub use transport::{HttpClient, HttpFuture};
