//! DICOM over TLS: [`DicomTls`], the settings of both directions built from PEM files — our
//! certificate chain and private key, and the CA certificates we trust — and [`TlsFiles`],
//! where those files are (the program's `--tls-cert`, `--tls-key`, `--tls-ca`, or Orthanc's
//! `DicomTlsCertificate`, `DicomTlsPrivateKey`, `DicomTlsTrustedCertificates`).
//!
//! Listening, the adapter presents the certificate; with trusted CAs it requires a client
//! certificate that one of them signed (mutual TLS, as DICOM's TLS profiles expect), without
//! them it takes any client. Sending (C-MOVE sub-operations, transfers to a device) to a
//! device marked `UseDicomTls`, it verifies the device's certificate against the trusted CAs
//! (chain and host name: the certificate must name the host the device is reached at) and
//! offers its own certificate for mutual TLS. TLS 1.2 and 1.3 with rustls's safe defaults,
//! and the `ring` crypto provider the rest of the family uses.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use serde_json::Value;

use crate::Error;

/// Where the PEM files of DICOM TLS are.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsFiles {
    /// Our certificate, then the intermediate certificates that lead to a CA.
    pub certificate: PathBuf,
    /// The private key of our certificate (PKCS#8, PKCS#1 or SEC1).
    pub private_key: PathBuf,
    /// The CA certificates we trust: peers' certificates must chain to one of them.
    pub trusted: Option<PathBuf>,
}

impl TlsFiles {
    /// The files of a certificate, its key and, optionally, the trusted CAs.
    pub fn new(
        certificate: impl Into<PathBuf>,
        private_key: impl Into<PathBuf>,
        trusted: Option<PathBuf>,
    ) -> TlsFiles {
        TlsFiles {
            certificate: certificate.into(),
            private_key: private_key.into(),
            trusted,
        }
    }

    /// Reads the DICOM TLS files an Orthanc configuration names at its top level:
    /// `DicomTlsCertificate`, `DicomTlsPrivateKey` and `DicomTlsTrustedCertificates`, relative
    /// paths taken from `folder` (the configuration file's, as Orthanc does). `None` when it
    /// names none of them; an error when it names some but not the certificate and its key.
    pub fn from_orthanc_config(text: &str, folder: &Path) -> Result<Option<TlsFiles>, String> {
        let config = dicomweb_client::parse_orthanc_config(text)?;
        let path = |key: &str| -> Result<Option<PathBuf>, String> {
            match config.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) if !text.trim().is_empty() => {
                    Ok(Some(folder.join(text.trim())))
                }
                Some(other) => Err(format!("expected {key} to be a file name, found {other}")),
            }
        };
        let certificate = path("DicomTlsCertificate")?;
        let private_key = path("DicomTlsPrivateKey")?;
        let trusted = path("DicomTlsTrustedCertificates")?;
        match (certificate, private_key) {
            (Some(certificate), Some(private_key)) => Ok(Some(TlsFiles {
                certificate,
                private_key,
                trusted,
            })),
            (None, None) if trusted.is_none() => Ok(None),
            _ => Err(
                "expected DicomTlsCertificate and DicomTlsPrivateKey together (DICOM TLS \
                 presents a certificate), found only some of the DicomTls keys"
                    .into(),
            ),
        }
    }

    /// [`TlsFiles::from_orthanc_config`] of a configuration file, or of every `*.json` file
    /// of a folder as Orthanc does ([`dicomweb_client::orthanc_config_files`]; the last file
    /// that names them gives the files).
    pub fn load_orthanc_config(path: &Path) -> Result<Option<TlsFiles>, Error> {
        let files = dicomweb_client::orthanc_config_files(path).map_err(|e| Error::Tls {
            file: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut named = None;
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Error::io("cannot read the configuration file", &file, e))?;
            let folder = file.parent().unwrap_or(Path::new("."));
            let found =
                TlsFiles::from_orthanc_config(&text, folder).map_err(|reason| Error::Tls {
                    file: file.clone(),
                    reason,
                })?;
            named = found.or(named);
        }
        Ok(named)
    }
}

/// The TLS settings of DICOM associations, both directions (see [the module](self)).
/// Cloning is cheap; `Debug` names the files, never the key.
#[derive(Clone)]
pub struct DicomTls {
    server: Arc<ServerConfig>,
    client: Option<Arc<ClientConfig>>,
    files: TlsFiles,
}

impl fmt::Debug for DicomTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DicomTls")
            .field("certificate", &self.files.certificate)
            .field("private_key", &"[redacted]")
            .field("trusted", &self.files.trusted)
            .finish_non_exhaustive()
    }
}

impl DicomTls {
    /// Reads the PEM files: the certificate chain, its private key and, when given, the
    /// trusted CAs. A file that cannot be read or holds no usable item is an error naming it
    /// and what was expected; so is a key that does not belong to the certificate.
    pub fn load(files: &TlsFiles) -> Result<DicomTls, Error> {
        let chain = certificates(&files.certificate, "our certificate (chain)")?;
        let key = private_key(&files.private_key)?;
        let roots = match &files.trusted {
            Some(path) => Some(Arc::new(trusted_roots(path)?)),
            None => None,
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server_builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error(&files.certificate, e))?;
        let server_builder = match &roots {
            Some(roots) => {
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                        .build()
                        .map_err(|e| Error::Tls {
                            file: files.trusted.clone().unwrap_or_default(),
                            reason: format!("expected CA certificates to verify clients: {e}"),
                        })?;
                server_builder.with_client_cert_verifier(verifier)
            }
            None => server_builder.with_no_client_auth(),
        };
        let server = server_builder
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(|e| key_error(files, e))?;
        let client = match &roots {
            Some(roots) => {
                let verifier =
                    WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                        .build()
                        .map_err(|e| Error::Tls {
                            file: files.trusted.clone().unwrap_or_default(),
                            reason: format!("expected CA certificates to verify devices: {e}"),
                        })?;
                let config = ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| tls_error(&files.certificate, e))?
                    .with_webpki_verifier(verifier)
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| key_error(files, e))?;
                Some(Arc::new(config))
            }
            None => None,
        };
        Ok(DicomTls {
            server: Arc::new(server),
            client,
            files: files.clone(),
        })
    }

    /// The listening side's settings.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.server.clone()
    }

    /// The sending side's settings; `None` without trusted CAs (a device's certificate could
    /// not be verified).
    pub fn client_config(&self) -> Option<Arc<ClientConfig>> {
        self.client.clone()
    }

    /// Whether the listening side requires client certificates (mutual TLS): when CAs are
    /// trusted.
    pub fn verifies_clients(&self) -> bool {
        self.files.trusted.is_some()
    }

    /// The files these settings came from.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }
}

/// The certificates of a PEM file, at least one.
fn certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bad = |reason: String| Error::Tls {
        file: path.to_owned(),
        reason,
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(pem_reason(e, what)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(pem_reason(e, what)))?;
    if certificates.is_empty() {
        return Err(bad(format!(
            "expected {what} as PEM CERTIFICATE blocks, found none"
        )));
    }
    Ok(certificates)
}

/// The private key of a PEM file.
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| Error::Tls {
        file: path.to_owned(),
        reason: match e {
            pem::Error::NoItemsFound => "expected a private key as a PEM block (PRIVATE KEY, \
                 RSA PRIVATE KEY or EC PRIVATE KEY; not encrypted), found none"
                .into(),
            pem::Error::Io(e) => format!("cannot read it: {e}"),
            // The other errors would quote the file; a key's file is not quoted.
            _ => "expected a private key as a PEM block, found text that is not valid PEM".into(),
        },
    })
}

/// The trusted CA certificates of a PEM file.
fn trusted_roots(path: &Path) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(path, "trusted CA certificates")? {
        roots.add(certificate).map_err(|e| Error::Tls {
            file: path.to_owned(),
            reason: format!("expected CA certificates, found one that is not usable: {e}"),
        })?;
    }
    Ok(roots)
}

fn pem_reason(error: pem::Error, what: &str) -> String {
    match error {
        pem::Error::Io(e) => format!("cannot read it: {e}"),
        other => format!("expected {what} as PEM CERTIFICATE blocks: {other}"),
    }
}

fn tls_error(path: &Path, error: rustls::Error) -> Error {
    Error::Tls {
        file: path.to_owned(),
        reason: error.to_string(),
    }
}

/// A certificate and key that rustls refused together.
fn key_error(files: &TlsFiles, error: rustls::Error) -> Error {
    let reason = match error {
        rustls::Error::InconsistentKeys(_) => format!(
            "expected the private key of the certificate in {}, found another key",
            files.certificate.display()
        ),
        other => format!(
            "expected a private key that rustls can sign with for the certificate in {}: {other}",
            files.certificate.display()
        ),
    };
    Error::Tls {
        file: files.private_key.clone(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use test_support::tls::TestPki;

    fn reason(error: Error) -> (PathBuf, String) {
        match error {
            Error::Tls { file, reason } => (file, reason),
            other => panic!("expected a TLS error, found {other}"),
        }
    }

    #[test]
    fn a_certificate_its_key_and_a_ca_give_both_sides() {
        let pki = TestPki::generate().unwrap();
        let files = TlsFiles::new(&pki.server.cert, &pki.server.key, Some(pki.ca.clone()));
        let tls = DicomTls::load(&files).unwrap();
        assert!(tls.verifies_clients());
        assert!(tls.client_config().is_some());
        assert_eq!(tls.files(), &files);
        let shown = format!("{tls:?}");
        assert!(
            shown.contains("[redacted]") && shown.contains("server.crt"),
            "{shown}"
        );
        assert!(!shown.contains("PRIVATE"), "{shown}");

        let without_ca = TlsFiles::new(&pki.server.cert, &pki.server.key, None);
        let tls = DicomTls::load(&without_ca).unwrap();
        assert!(!tls.verifies_clients());
        assert!(tls.client_config().is_none());
    }

    #[test]
    fn bad_files_are_named_with_what_was_expected() {
        let pki = TestPki::generate().unwrap();
        let missing = pki.dir().join("nowhere.pem");
        let (file, why) =
            reason(DicomTls::load(&TlsFiles::new(&missing, &pki.server.key, None)).unwrap_err());
        assert_eq!(file, missing);
        assert!(why.contains("cannot read"), "{why}");

        // A key where the certificate should be, and the other way round.
        let (file, why) = reason(
            DicomTls::load(&TlsFiles::new(&pki.server.key, &pki.server.key, None)).unwrap_err(),
        );
        assert_eq!(file, pki.server.key);
        assert!(
            why.contains("CERTIFICATE") && why.contains("found none"),
            "{why}"
        );
        let (file, why) = reason(
            DicomTls::load(&TlsFiles::new(&pki.server.cert, &pki.server.cert, None)).unwrap_err(),
        );
        assert_eq!(file, pki.server.cert);
        assert!(
            why.contains("private key") && why.contains("found none"),
            "{why}"
        );

        // Another certificate's key.
        let (file, why) = reason(
            DicomTls::load(&TlsFiles::new(&pki.server.cert, &pki.client.key, None)).unwrap_err(),
        );
        assert_eq!(file, pki.client.key);
        assert!(why.contains("found another key"), "{why}");

        // Text that is no PEM at all as the CA.
        let garbage = pki.dir().join("garbage.pem");
        std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\n%%%%\n").unwrap();
        let files = TlsFiles::new(&pki.server.cert, &pki.server.key, Some(garbage.clone()));
        let (file, why) = reason(DicomTls::load(&files).unwrap_err());
        assert_eq!(file, garbage);
        assert!(why.starts_with("expected trusted CA certificates"), "{why}");
    }

    #[test]
    fn a_configuration_folder_gives_the_files_its_last_naming_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("1-main.json", r#"{"DicomAet": "X"}"#);
        write(
            "2-tls.json",
            r#"{"DicomTlsCertificate": "a.crt", "DicomTlsPrivateKey": "a.key"}"#,
        );
        write("3-other.json", r#"{"DicomModalities": {}}"#);
        let files = TlsFiles::load_orthanc_config(dir.path()).unwrap().unwrap();
        assert_eq!(files.certificate, dir.path().join("a.crt"));
        assert_eq!(files.private_key, dir.path().join("a.key"));
        assert_eq!(files.trusted, None);

        write("4-bad.json", r#"{"DicomTlsCertificate": 7}"#);
        let error = TlsFiles::load_orthanc_config(dir.path())
            .unwrap_err()
            .to_string();
        assert!(error.contains("4-bad.json"), "{error}");
    }

    #[test]
    fn orthanc_names_the_files_at_the_top_level() {
        let folder = Path::new("/etc/orthanc");
        let files = TlsFiles::from_orthanc_config(
            r#"{ // Orthanc allows comments
                "DicomTlsCertificate": "tls/orthanc.crt",
                "DicomTlsPrivateKey": "/secrets/orthanc.key",
                "DicomTlsTrustedCertificates": "tls/ca.pem" }"#,
            folder,
        )
        .unwrap()
        .unwrap();
        assert_eq!(files.certificate, Path::new("/etc/orthanc/tls/orthanc.crt"));
        assert_eq!(files.private_key, Path::new("/secrets/orthanc.key"));
        assert_eq!(
            files.trusted.as_deref(),
            Some(Path::new("/etc/orthanc/tls/ca.pem"))
        );
        assert_eq!(
            TlsFiles::from_orthanc_config(r#"{"DicomAet": "X"}"#, folder).unwrap(),
            None
        );
        let error =
            TlsFiles::from_orthanc_config(r#"{"DicomTlsTrustedCertificates": "ca.pem"}"#, folder)
                .unwrap_err();
        assert!(
            error.contains("DicomTlsCertificate and DicomTlsPrivateKey"),
            "{error}"
        );
        let error =
            TlsFiles::from_orthanc_config(r#"{"DicomTlsCertificate": 7}"#, folder).unwrap_err();
        assert!(
            error.contains("expected DicomTlsCertificate to be a file name, found 7"),
            "{error}"
        );
    }
}
