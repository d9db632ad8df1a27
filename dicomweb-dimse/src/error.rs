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

impl Error {
    /// Whether a TLS peer's certificate was refused, by us or by the peer (an unknown issuer,
    /// a wrong name, an expired or missing certificate): settings to fix, not a failure that
    /// passes by itself.
    pub fn is_certificate_refusal(&self) -> bool {
        let Error::Association(error) = self else {
            return false;
        };
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
        while let Some(cause) = next {
            // tokio-rustls hands rustls's error over inside an `io::Error`, whose `source`
            // skips it.
            let tls = cause.downcast_ref::<rustls::Error>().or_else(|| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .and_then(std::io::Error::get_ref)
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            });
            if let Some(tls) = tls {
                return refuses_certificate(tls);
            }
            next = cause.source();
        }
        false
    }
}

fn refuses_certificate(error: &rustls::Error) -> bool {
    use rustls::AlertDescription as Alert;
    match error {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => true,
        rustls::Error::AlertReceived(alert) => matches!(
            alert,
            Alert::BadCertificate
                | Alert::UnsupportedCertificate
                | Alert::CertificateRevoked
                | Alert::CertificateExpired
                | Alert::CertificateUnknown
                | Alert::UnknownCA
                | Alert::CertificateRequired
        ),
        _ => false,
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

#[cfg(test)]
mod tests {
    use std::backtrace::Backtrace;
    use std::io;

    use super::*;

    fn connect_failure(source: io::Error) -> Error {
        Error::from(dicom_ul::association::Error::Connect {
            source,
            backtrace: Backtrace::capture(),
        })
    }

    #[test]
    fn a_refused_certificate_is_told_apart_from_a_passing_failure() {
        let unknown_issuer =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let refused = connect_failure(io::Error::new(io::ErrorKind::InvalidData, unknown_issuer));
        assert!(refused.is_certificate_refusal(), "{refused}");
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA);
        let by_peer = connect_failure(io::Error::new(io::ErrorKind::InvalidData, alert));
        assert!(by_peer.is_certificate_refusal(), "{by_peer}");

        let down = connect_failure(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(!down.is_certificate_refusal(), "{down}");
        let cut = connect_failure(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::General("the peer left".into()),
        ));
        assert!(!cut.is_certificate_refusal(), "{cut}");
        assert!(!Error::Peer("gone".into()).is_certificate_refusal());
    }
}
