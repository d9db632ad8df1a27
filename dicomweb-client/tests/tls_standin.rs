//! TLS: a custom root CA and a client certificate, against a loopback server that requires
//! client certificates (rustls). The PEM files in `tests/tls/` were made with openssl for
//! these tests only (valid until 2125).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![cfg(feature = "reqwest")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dicomweb_client::{
    Client, ClientBuilder, Error, RequestBody, RetryPolicy, ServerRegistry, TransportErrorKind,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tls")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

/// An HTTPS server on 127.0.0.1 that requires a client certificate signed by the test CA and
/// answers every request with 200 "[]" (a `POST /token` with an OAuth2 token). Counts
/// completed handshakes.
async fn mtls_server() -> (SocketAddr, Arc<AtomicUsize>) {
    tls_server(false).await
}

/// As [`mtls_server`]; with `h2`, the server offers only HTTP/2 (ALPN) and speaks it.
async fn tls_server(h2: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(fixture("ca.pem")).unwrap())
        .unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let chain = vec![CertificateDer::from_pem_file(fixture("server.pem")).unwrap()];
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let mut config = config;
    if h2 {
        config.alpn_protocols = vec![b"h2".to_vec()];
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counter = handshakes.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, counter) = (acceptor.clone(), counter.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                if h2 {
                    serve_h2(tls).await;
                    return;
                }
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let reply: &[u8] = if head.starts_with(b"POST /token ") {
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 44\r\nconnection: close\r\n\r\n{\"access_token\":\"tls-token\",\"expires_in\":60}"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/dicom+json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]"
                };
                let _ = tls.write_all(reply).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, handshakes)
}

/// Answers every HTTP/2 request on the connection with 200 "[]".
async fn serve_h2(tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>) {
    let Ok(mut connection) = h2::server::handshake(tls).await else {
        return;
    };
    while let Some(Ok((_request, mut respond))) = connection.accept().await {
        let response = http::Response::builder()
            .status(200)
            .header("content-type", "application/dicom+json")
            .body(())
            .unwrap();
        if let Ok(mut body) = respond.send_response(response, false) {
            let _ = body.send_data(bytes::Bytes::from_static(b"[]"), true);
        }
    }
}

fn url(addr: SocketAddr) -> String {
    format!("https://127.0.0.1:{}/dicom-web", addr.port())
}

async fn get_studies(client: &Client) -> Result<u16, Error> {
    let request = http::Request::get(format!("{}/studies", client.base_url()))
        .body(RequestBody::empty())
        .unwrap();
    Ok(client.execute(request).await?.status().as_u16())
}

fn identity() -> Vec<u8> {
    let mut pem = read("client.pem");
    pem.extend(read("client.key"));
    pem
}

#[tokio::test]
async fn client_certificate_and_custom_root() {
    let (addr, handshakes) = mtls_server().await;
    let client = Client::builder(url(addr))
        .root_certificates_pem(read("ca.pem"))
        .identity_pem(identity())
        .build()
        .unwrap();
    assert_eq!(get_studies(&client).await.unwrap(), 200);
    assert_eq!(handshakes.load(Ordering::SeqCst), 1);
}

/// Google Cloud tokens come over the client's transport: the token endpoint is reached with the
/// client's root certificate and client certificate, as the DICOMweb server is.
#[cfg(feature = "gcp")]
#[tokio::test]
async fn the_token_endpoint_gets_the_clients_tls_settings() {
    let (addr, handshakes) = mtls_server().await;
    let key = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../gcp-credentials/tests/data/service-account.json");
    let mut key: serde_json::Value = serde_json::from_slice(&std::fs::read(key).unwrap()).unwrap();
    key["token_uri"] = format!("https://127.0.0.1:{}/token", addr.port()).into();
    let credentials =
        gcp_credentials::Credentials::from_json(key.to_string().as_bytes(), None).unwrap();
    let client = Client::builder(url(addr))
        .root_certificates_pem(read("ca.pem"))
        .identity_pem(identity())
        .retry(RetryPolicy::none())
        .gcp_credentials(
            credentials,
            gcp_credentials::TokenProviderOptions::default(),
        )
        .build()
        .unwrap();
    assert_eq!(get_studies(&client).await.unwrap(), 200);
    // One connection for the token, one for the search.
    assert_eq!(handshakes.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn unknown_root_is_refused() {
    let (addr, handshakes) = mtls_server().await;
    let client = Client::builder(url(addr))
        .identity_pem(identity())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let e = get_studies(&client).await.unwrap_err();
    assert_eq!(
        e.transport().map(|t| t.kind()),
        Some(TransportErrorKind::Connect),
        "{e}"
    );
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn missing_client_certificate_is_refused() {
    let (addr, handshakes) = mtls_server().await;
    let client = Client::builder(url(addr))
        .root_certificates_pem(read("ca.pem"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let e = get_studies(&client).await.unwrap_err();
    assert!(e.transport().is_some(), "{e}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn certificate_files_from_an_orthanc_registry() {
    let (addr, _) = mtls_server().await;
    let config = format!(
        r#"{{ "DicomWeb" : {{ "Servers" : {{ "secure" : {{
            "Url" : "{}",
            "CertificateFile" : "client.pem",   // relative to the configuration's folder
            "CertificateKeyFile" : "client.key"
        }} }} }} }}"#,
        url(addr)
    );
    let dir = tempfile::tempdir().unwrap();
    for name in ["client.pem", "client.key"] {
        std::fs::copy(fixture(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("orthanc.json"), config).unwrap();
    let registry = ServerRegistry::load(dir.path().join("orthanc.json")).unwrap();
    let client = ClientBuilder::from_server(registry.server("secure").unwrap())
        .unwrap()
        .root_certificates_pem(read("ca.pem"))
        .build()
        .unwrap();
    assert_eq!(get_studies(&client).await.unwrap(), 200);
}

#[test]
fn an_encrypted_key_is_explained() {
    let mut pem = read("client.pem");
    pem.extend(read("client-encrypted.key"));
    let e = Client::builder("https://127.0.0.1/dicom-web")
        .identity_pem(pem)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Tls { .. }));
    assert!(e.to_string().contains("private key is encrypted"), "{e}");
}

#[test]
fn garbage_pem_is_refused() {
    let e = Client::builder("https://127.0.0.1/dicom-web")
        .identity_pem(b"not pem".to_vec())
        .build()
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("TLS setup failed: expected PEM with a certificate and its private key"),
        "{e}"
    );
    let e = Client::builder("https://127.0.0.1/dicom-web")
        .root_certificates_pem(b"nothing".to_vec())
        .build()
        .unwrap_err();
    assert!(
        e.to_string().contains("expected PEM root certificates"),
        "{e}"
    );
}

#[tokio::test]
async fn http2_when_the_server_offers_it_multiplexed_on_one_connection() {
    let (addr, handshakes) = tls_server(true).await;
    let client = Client::builder(url(addr))
        .root_certificates_pem(read("ca.pem"))
        .identity_pem(identity())
        .build()
        .unwrap();
    // The first request opens the connection (before ALPN, the pool cannot know that it
    // will be HTTP/2 and shareable); the next ones share it.
    assert_eq!(get_studies(&client).await.unwrap(), 200);
    let requests = (0..8).map(|_| {
        let client = client.clone();
        async move {
            let request = http::Request::get(format!("{}/studies", client.base_url()))
                .body(RequestBody::empty())
                .unwrap();
            let response = client.execute(request).await.unwrap();
            let version = response.version();
            (version, response.into_body().bytes().await.unwrap())
        }
    });
    for (version, body) in futures_util::future::join_all(requests).await {
        assert_eq!(version, http::Version::HTTP_2);
        assert_eq!(body, "[]");
    }
    assert_eq!(
        handshakes.load(Ordering::SeqCst),
        1,
        "one connection for all requests"
    );
}
