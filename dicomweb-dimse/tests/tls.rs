//! The adapter in process over DICOM TLS, driven by dicom-ul's TLS requester with the
//! settings of a test PKI: an association with a certificate the CA signed is served, one
//! beyond `max_associations` gets A-ASSOCIATE-RJ (temporary congestion) after its handshake,
//! and a requester that does not trust the CA does not associate.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dicom_ul::ClientAssociationOptions;
use dicom_ul::association::AsyncClientAssociation;
use dicom_ul::association::client::AsyncTlsStream;
use dicomweb_dimse::{DicomTls, TlsFiles};
use test_support::tls::{Pair, TestPki};
use tokio::sync::oneshot;

const VERIFICATION: &str = "1.2.840.10008.1.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";

fn settings(pair: &Pair, ca: &Path) -> DicomTls {
    DicomTls::load(&TlsFiles::new(&pair.cert, &pair.key, Some(ca.to_owned()))).unwrap()
}

async fn adapter(
    state: &Path,
    tls: DicomTls,
    max_associations: usize,
) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let mut builder = common::builder(common::client_of_nobody(), state);
    builder
        .max_associations(max_associations)
        .idle_timeout(Duration::from_secs(5))
        .tls(tls);
    common::start(&builder).await
}

async fn associate(
    address: SocketAddr,
    tls: &DicomTls,
) -> Result<AsyncClientAssociation<AsyncTlsStream>, dicom_ul::association::Error> {
    let config: Arc<rustls::ClientConfig> = tls.client_config().unwrap();
    ClientAssociationOptions::new()
        .calling_ae_title("TESTER")
        .called_ae_title("ADAPTER")
        .with_presentation_context(VERIFICATION, vec![IMPLICIT_LE])
        .tls_config(config)
        .server_name("localhost")
        .establish_tls_async(address)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_associations_are_served_refused_when_congested_and_need_the_ca() {
    let pki = TestPki::generate().unwrap();
    let state = tempfile::tempdir().unwrap();
    let (address, stop, task) = adapter(state.path(), settings(&pki.server, &pki.ca), 1).await;
    let client = settings(&pki.client, &pki.ca);

    let first = associate(address, &client).await.unwrap();
    let refused = associate(address, &client).await.unwrap_err().to_string();
    assert!(refused.contains("association rejected"), "{refused}");
    first.release().await.unwrap();
    // The place is free again once the first association's task has ended.
    let mut again = associate(address, &client).await;
    for _ in 0..50 {
        if again.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        again = associate(address, &client).await;
    }
    again.unwrap().release().await.unwrap();

    // A requester whose only trusted CA is its own self-signed certificate: the adapter's
    // certificate is unknown to it.
    let stranger = DicomTls::load(&TlsFiles::new(
        &pki.stranger.cert,
        &pki.stranger.key,
        Some(pki.stranger.cert.clone()),
    ))
    .unwrap();
    let error = associate(address, &stranger).await.unwrap_err();
    // The crate's error says why, from the sources down.
    let error = dicomweb_dimse::Error::from(error).to_string();
    assert!(error.contains("UnknownIssuer"), "{error}");
    stop.send(()).unwrap();
    task.await.unwrap();
}
