//! The crate's one error type.
//!
//! Every message says what was expected and what came, and none carries a secret: private keys,
//! refresh tokens, client secrets and access tokens never reach an [`Error`]. Errors are `Clone`
//! so that one failed refresh can be reported to every caller that waited for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A boxed error from an HTTP transport.
pub type TransportError = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while finding credentials or fetching a token.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A credentials file could not be read.
    #[error("cannot read credentials file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: Arc<std::io::Error>,
    },

    /// A credentials file (or JSON value) does not have the expected shape.
    #[error("invalid credentials{}: {reason}", origin_suffix(origin))]
    InvalidCredentials {
        /// Where the credentials came from (a path or a description), if known.
        origin: Option<String>,
        /// What was expected and what came.
        reason: String,
    },

    /// The credentials file's `type` is one this crate does not handle.
    #[error(
        "unsupported credentials type {found:?}{}: expected \"service_account\" or \"authorized_user\"",
        origin_suffix(origin)
    )]
    UnsupportedCredentialsType {
        /// The `type` found in the file.
        found: String,
        /// Where the credentials came from, if known.
        origin: Option<String>,
    },

    /// The private key could not be decoded or is not an RSA key usable for RS256.
    #[error("invalid private key: {reason}")]
    InvalidPrivateKey {
        /// What was wrong (never the key itself).
        reason: String,
    },

    /// A URL or header value could not be used to build a request.
    #[error("cannot build token request: {reason}")]
    InvalidRequest {
        /// What was wrong.
        reason: String,
    },

    /// The HTTP transport failed (connection refused, TLS, reset...). The message includes the
    /// transport error's whole chain of causes.
    #[error("token request to {url} failed: {}", display_chain(source.as_ref()))]
    Transport {
        /// The token endpoint (never carries a secret).
        url: String,
        /// The transport's error.
        #[source]
        source: TransportError,
    },

    /// The token endpoint did not answer within the timeout.
    #[error("token request to {url} timed out after {after:?}")]
    Timeout {
        /// The token endpoint.
        url: String,
        /// The timeout that expired.
        after: Duration,
    },

    /// The token endpoint answered with an OAuth2 error (`{"error": ..., "error_description": ...}`).
    #[error(
        "token endpoint refused the grant (HTTP {status}): {error}{}",
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    OAuth {
        /// The HTTP status code.
        status: u16,
        /// The OAuth2 `error` code, e.g. `invalid_grant`.
        error: String,
        /// The OAuth2 `error_description`, if any.
        description: Option<String>,
    },

    /// The token endpoint's reply was not what the protocol says.
    #[error("unexpected reply from token endpoint (HTTP {status}): {reason}")]
    UnexpectedResponse {
        /// The HTTP status code.
        status: u16,
        /// What was expected and what came.
        reason: String,
    },

    /// Application Default Credentials found no credentials anywhere.
    #[error("no Google Cloud credentials found; tried: {}", tried.join("; "))]
    NoCredentials {
        /// Each place looked at, and why it did not give credentials.
        tried: Vec<String>,
    },

    /// A Healthcare API DICOM store name is malformed.
    #[error("invalid DICOM store name {input:?}: {reason}")]
    InvalidStoreName {
        /// The text given.
        input: String,
        /// What was expected and what came.
        reason: String,
    },

    /// Orthanc's `GoogleCloudPlatform` configuration is malformed.
    #[error("invalid GoogleCloudPlatform configuration: {reason}")]
    InvalidOrthancConfig {
        /// What was expected and what came, and where.
        reason: String,
    },
}

/// An error and its causes, joined with `: ` (reqwest's own message alone says little).
pub(crate) fn display_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let more = next.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = next.source();
    }
    text
}

fn origin_suffix(origin: &Option<String>) -> String {
    origin
        .as_deref()
        .map(|o| format!(" in {o}"))
        .unwrap_or_default()
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
