//! The crate's one error type.

use std::path::PathBuf;

/// What can go wrong in the adapter: its configuration, its state folder, the upper layer, the
/// job engine or the DICOMweb client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The adapter was configured wrongly.
    #[error("invalid adapter configuration: {0}")]
    Config(String),
    /// A modalities file could not be read or parsed.
    #[error("cannot read the DICOM modalities in {path}: {reason}")]
    Modalities {
        /// The file.
        path: PathBuf,
        /// Expected and found.
        reason: String,
    },
    /// A file of the DICOM TLS settings could not be used.
    #[error("DICOM TLS: {file}: {reason}")]
    Tls {
        /// The file.
        file: PathBuf,
        /// Expected and found.
        reason: String,
    },
    /// A DIMSE command set was not what the standard says it must be.
    #[error("invalid DIMSE command set: expected {expected}, found {found}")]
    Command {
        /// What the command set should have had.
        expected: String,
        /// What it had.
        found: String,
    },
    /// A file or folder of the state folder could not be used.
    #[error("{what} ({path}): {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// The upper layer (association, PDUs, TLS) failed; the message carries the causes (a
    /// TLS handshake's reason is two levels down), so it is not chained as a source.
    #[error("DICOM upper layer: {}", causes(.0.as_ref()))]
    Association(Box<dicom_ul::association::Error>),
    /// A DICOM peer broke the protocol or left mid-message.
    #[error("DICOM peer: {0}")]
    Peer(String),
    /// The job engine failed.
    #[error("upload queue: {0}")]
    Jobs(#[from] orthanc_jobs::Error),
    /// The DICOMweb client failed.
    #[error("DICOMweb: {0}")]
    Client(#[from] dicomweb_client::Error),
}

impl Error {
    /// An [`Error::Io`] about `path`.
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            what,
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Command`].
    pub(crate) fn command(expected: impl Into<String>, found: impl Into<String>) -> Self {
        Error::Command {
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl From<dicom_ul::association::Error> for Error {
    fn from(error: dicom_ul::association::Error) -> Self {
        Error::Association(Box::new(error))
    }
}

impl From<Box<dicom_ul::association::Error>> for Error {
    fn from(error: Box<dicom_ul::association::Error>) -> Self {
        Error::Association(error)
    }
}

/// An error's message followed by those of its sources, `: `-separated.
pub(crate) fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}
