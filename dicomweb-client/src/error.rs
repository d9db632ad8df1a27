//! The crate's one error type.

use std::path::PathBuf;

use crate::{BoxError, TransportError};

/// Everything that can go wrong in dicomweb-client.
///
/// Messages say what was expected and what came; the cause is chained as the error's source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The exchange with the server failed (connection, timeout, broken body).
    #[error("{request}: {source}")]
    Transport {
        /// The request, as `METHOD url`, and how many attempts were made.
        request: String,
        /// What failed.
        #[source]
        source: TransportError,
    },
    /// The server's reply broke the DICOMweb protocol, or a request could not be built.
    #[error(transparent)]
    Protocol(#[from] dicomweb_core::Error),
    /// The token provider could not supply a token.
    #[error("the token provider failed: {source}")]
    Token {
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The client's configuration is invalid.
    #[error("invalid client configuration: {message}")]
    Config {
        /// What was expected and what came.
        message: String,
    },
    /// A server registry (Orthanc's `DicomWeb.Servers`) could not be read.
    #[error("invalid server registry {origin}: {message}")]
    Registry {
        /// The file, or `(text)`.
        origin: String,
        /// What was expected and what came, and where.
        message: String,
    },
    /// A file or folder could not be read, written or created.
    #[error("cannot {doing} {path}: {source}", path = path.display())]
    Io {
        /// What was being done to it: `read`, `write`, `create`, …
        doing: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// TLS material (client certificate, key, CA) was refused.
    #[error("TLS setup failed: {message}")]
    Tls {
        /// What was expected and what came.
        message: String,
        /// The underlying cause.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// Whether the failure is worth waiting for and trying again: the network, the token
    /// provider, or a status the server uses for passing trouble (408, 429, 500, 502, 503,
    /// 504), not the request itself.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Token { .. } => true,
            Error::Protocol(dicomweb_core::Error::Status(status)) => status.is_retryable(),
            _ => false,
        }
    }

    /// The transport error, if this is one.
    pub fn transport(&self) -> Option<&TransportError> {
        match self {
            Error::Transport { source, .. } => Some(source),
            _ => None,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }
}
