//! Certificates for DICOM TLS tests, as PEM files in a temporary folder: a self-signed test
//! CA, a server and a client certificate it signed (both naming `localhost` and `127.0.0.1`,
//! both usable for either side), and a stranger: a self-signed certificate no CA vouches for.
//! Keys are ECDSA P-256 (rcgen on ring).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key (PKCS#8).
    pub key: PathBuf,
}

impl Pair {
    /// The certificate's path as text.
    pub fn cert_str(&self) -> &str {
        self.cert.to_str().unwrap_or_default()
    }

    /// The key's path as text.
    pub fn key_str(&self) -> &str {
        self.key.to_str().unwrap_or_default()
    }
}

/// The test PKI; the folder goes away on drop.
#[derive(Debug)]
pub struct TestPki {
    /// The CA's certificate (the file to trust).
    pub ca: PathBuf,
    /// Signed by the CA, for a listening side.
    pub server: Pair,
    /// Signed by the CA, for a connecting side.
    pub client: Pair,
    /// Self-signed: no CA of this PKI vouches for it.
    pub stranger: Pair,
    dir: tempfile::TempDir,
}

impl TestPki {
    /// Generates the CA and the certificates, and writes them.
    pub fn generate() -> Result<TestPki, rcgen::Error> {
        let dir = tempfile::tempdir().map_err(|_| rcgen::Error::CouldNotParseCertificate)?;
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "dicomweb test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);
        let ca = write(dir.path(), "ca.pem", &ca_cert.pem());
        let leaf = |name: &str, signed: bool| -> Result<Pair, rcgen::Error> {
            let key = KeyPair::generate()?;
            let mut params =
                CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
            params.distinguished_name.push(DnType::CommonName, name);
            params.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ];
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            let cert = if signed {
                params.signed_by(&key, &issuer)?
            } else {
                params.self_signed(&key)?
            };
            Ok(Pair {
                cert: write(dir.path(), &format!("{name}.crt"), &cert.pem()),
                key: write(dir.path(), &format!("{name}.key"), &key.serialize_pem()),
            })
        };
        let server = leaf("server", true)?;
        let client = leaf("client", true)?;
        let stranger = leaf("stranger", false)?;
        Ok(TestPki {
            ca,
            server,
            client,
            stranger,
            dir,
        })
    }

    /// The CA certificate's path as text.
    pub fn ca_str(&self) -> &str {
        self.ca.to_str().unwrap_or_default()
    }

    /// The folder holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, text) {
        panic!("cannot write {}: {e}", path.display());
    }
    path
}
