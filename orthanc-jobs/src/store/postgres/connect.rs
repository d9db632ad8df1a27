//! Connections: TLS through rustls (with the `ring` provider) when the URL asks for it, and
//! the deadpool pool the store's calls share.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres::NoTls;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::Error;
use crate::store::postgres::target::{Target, TlsMode};

/// The TLS connector for a target.
#[derive(Clone)]
pub(crate) enum Tls {
    /// Plain TCP.
    Off,
    /// rustls, verifying the server.
    Rustls(MakeRustlsConnect),
}

impl Tls {
    /// The connector `target` asks for: its `sslrootcert`, else the system's roots.
    pub(crate) fn for_target(target: &Target) -> Result<Tls, Error> {
        let TlsMode::Verified { root_cert } = &target.tls else {
            return Ok(Tls::Off);
        };
        let tls_error = |found: String| Error::DatabaseUrl {
            url: target.redacted.clone(),
            expected: "TLS settings rustls can use (sslrootcert naming a PEM file, or system roots)",
            found,
        };
        let mut roots = rustls::RootCertStore::empty();
        match root_cert {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|error| tls_error(format!("{}: {error}", path.display())))?;
                roots.add_parsable_certificates(certs);
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
            }
        }
        if roots.is_empty() {
            return Err(tls_error("no usable root certificate".into()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| tls_error(error.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls::Rustls(MakeRustlsConnect::new(config)))
    }
}

/// A pool of at most `size` connections to `target`. Connections are made on demand; a
/// connection the database closed (a restart) is replaced when next taken.
pub(crate) fn pool(
    target: &Target,
    tls: &Tls,
    size: usize,
    timeout: Duration,
) -> Result<Pool, Error> {
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let config = target.config.clone();
    let manager = match tls {
        Tls::Off => Manager::from_config(config, NoTls, manager_config),
        Tls::Rustls(make) => Manager::from_config(config, make.clone(), manager_config),
    };
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .build()
        .map_err(|error| Error::DatabaseUrl {
            url: target.redacted.clone(),
            expected: "a connection pool",
            found: error.to_string(),
        })
}
