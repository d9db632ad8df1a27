//! `gcp_credentials::TokenProvider` plugged into the client (feature `gcp`).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![cfg(feature = "gcp")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dicomweb_client::{
    Client, Error, FnTransport, RequestBody, ResponseBody, Transport, TransportError,
    TransportHttpClient,
};
use gcp_credentials::{AccessToken, Credentials, TokenProviderOptions};
use test_support::standin::{Action, reply, serve};

#[tokio::test]
async fn a_gcp_token_provider_authorizes_requests() {
    let server = serve(|_, _| vec![Action::Write(reply("200 OK", &[], b"[]"))]).await;
    let client = Client::builder(server.url())
        .gcp_credentials(
            Credentials::Static(AccessToken::new("ya29.static")),
            TokenProviderOptions::default(),
        )
        .build()
        .unwrap();
    let request = http::Request::get(format!("{}/studies", client.base_url()))
        .body(RequestBody::empty())
        .unwrap();
    assert_eq!(client.execute(request).await.unwrap().status(), 200);
    assert_eq!(
        server.recorded()[0].header("authorization"),
        Some("Bearer ya29.static")
    );
}

/// Orthanc's GCP plugin configuration (`GoogleCloudPlatform.Accounts`) read into the server
/// registry: the account's store is the URL, its service account file the token source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orthanc_gcp_account_is_a_registry_server_with_tokens() {
    let server = serve(|_, request| {
        if request.target == "/token" {
            return vec![Action::Write(reply(
                "200 OK",
                &[("content-type", "application/json")],
                br#"{"access_token":"ya29.account","expires_in":3599,"token_type":"Bearer"}"#,
            ))];
        }
        vec![Action::Write(reply(
            "200 OK",
            &[("content-type", "application/dicom+json")],
            b"[]",
        ))]
    })
    .await;
    // The test key with its token endpoint moved to the stand-in.
    let key = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../gcp-credentials/tests/data/service-account.json");
    let mut key: serde_json::Value = serde_json::from_slice(&std::fs::read(key).unwrap()).unwrap();
    key["token_uri"] = format!("http://{}/token", server.addr).into();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.json");
    std::fs::write(&key_path, key.to_string()).unwrap();
    let config = serde_json::json!({
        "GoogleCloudPlatform": {
            "BaseUrl": format!("http://{}/v1", server.addr),
            "Accounts": {
                "google": {
                    "Project": "p", "Location": "l", "Dataset": "d", "DicomStore": "s",
                    "ServiceAccountFile": key_path,
                }
            }
        },
        "DicomWeb": { "Servers": { "local": ["http://127.0.0.1:8042/dicom-web/"] } }
    });
    let registry =
        dicomweb_client::ServerRegistry::from_orthanc_config(&config.to_string()).unwrap();
    assert_eq!(registry.len(), 2);
    let google = registry.require("google").unwrap();
    assert_eq!(
        google.url,
        format!(
            "http://{}/v1/projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb",
            server.addr
        )
    );
    let client = dicomweb_client::ClientBuilder::from_server(google)
        .unwrap()
        .build()
        .unwrap();
    let found = client
        .search(&dicomweb_core::request::Search::studies())
        .await
        .unwrap();
    assert!(found.data_sets.is_empty());
    let recorded = server.recorded();
    assert_eq!(recorded[0].target, "/token");
    assert_eq!(
        recorded[1].target,
        "/v1/projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb/studies"
    );
    assert_eq!(
        recorded[1].header("authorization"),
        Some("Bearer ya29.account")
    );
}

/// The test service account key, its token endpoint at `token_uri`.
fn service_account(token_uri: &str) -> Credentials {
    let key = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../gcp-credentials/tests/data/service-account.json");
    let mut key: serde_json::Value = serde_json::from_slice(&std::fs::read(key).unwrap()).unwrap();
    key["token_uri"] = token_uri.into();
    Credentials::from_json(key.to_string().as_bytes(), Some("the test key")).unwrap()
}

/// What a counting transport saw: each request's method, path and headers.
type Seen = Arc<Mutex<Vec<(http::Method, String, http::HeaderMap)>>>;

/// A transport that hands out a new token at `/token` (`t1`, `t2`, ...) and answers DICOMweb
/// requests with 401 unless they carry the newest token (`t1` never passes).
fn counting_transport() -> (Arc<dyn Transport>, Seen) {
    let seen: Seen = Arc::default();
    let tokens = Arc::new(AtomicUsize::new(0));
    let record = seen.clone();
    let transport = FnTransport::new(move |request: http::Request<RequestBody>| {
        let path = request.uri().path().to_owned();
        record.lock().unwrap().push((
            request.method().clone(),
            path.clone(),
            request.headers().clone(),
        ));
        let response = if path == "/token" {
            let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
            http::Response::builder()
                .header("content-type", "application/json")
                .body(ResponseBody::from_bytes(format!(
                    r#"{{"access_token":"t{n}","expires_in":3599,"token_type":"Bearer"}}"#
                )))
                .unwrap()
        } else {
            let newest = format!("Bearer t{}", tokens.load(Ordering::SeqCst));
            let sent = request.headers().get("authorization");
            let status = if newest != "Bearer t1" && sent.is_some_and(|v| *v == *newest) {
                200
            } else {
                401
            };
            http::Response::builder()
                .status(status)
                .body(ResponseBody::from_bytes("[]"))
                .unwrap()
        };
        async move { Ok::<_, TransportError>(response) }
    });
    (Arc::new(transport), seen)
}

/// Token requests go over the client's own transport (here a custom one): the grant, and
/// the refresh after a 401. The client's extra headers stay with the DICOMweb requests.
#[tokio::test]
async fn token_requests_go_through_the_clients_transport() {
    let (transport, seen) = counting_transport();
    let client = Client::builder("http://dicom.invalid/dicom-web")
        .shared_transport(transport)
        .try_header("X-Dicom-Server", "only-for-dicom")
        .unwrap()
        .gcp_credentials(
            service_account("http://oauth.invalid/token"),
            TokenProviderOptions::default(),
        )
        .build()
        .unwrap();
    let request = http::Request::get(format!("{}/studies", client.base_url()))
        .body(RequestBody::empty())
        .unwrap();
    // t1 is refused; the client refreshes once (t2) and is let in.
    assert_eq!(client.execute(request).await.unwrap().status(), 200);
    let seen = seen.lock().unwrap().clone();
    let summary: Vec<_> = seen
        .iter()
        .map(|(method, path, headers)| {
            let auth = headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned());
            (method.as_str().to_owned(), path.clone(), auth)
        })
        .collect();
    let get = |auth: &str| {
        (
            "GET".to_owned(),
            "/dicom-web/studies".to_owned(),
            Some(auth.to_owned()),
        )
    };
    let token = ("POST".to_owned(), "/token".to_owned(), None);
    assert_eq!(
        summary,
        [token.clone(), get("Bearer t1"), token, get("Bearer t2")]
    );
    for (_, path, headers) in &seen {
        let extra = headers.get("x-dicom-server");
        if path == "/token" {
            assert_eq!(
                extra, None,
                "the client's headers reached the token endpoint"
            );
            assert!(
                headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/x-www-form-urlencoded")
            );
        } else {
            assert_eq!(extra.unwrap(), "only-for-dicom");
        }
    }
}

/// Clients built from one builder (or its clones) share one provider: one token request.
#[tokio::test]
async fn clones_of_a_builder_share_one_token() {
    let (transport, seen) = counting_transport();
    let builder = Client::builder("http://dicom.invalid/a")
        .shared_transport(transport)
        .gcp_credentials(
            service_account("http://oauth.invalid/token"),
            TokenProviderOptions::default(),
        );
    for root in ["http://dicom.invalid/a", "http://dicom.invalid/b"] {
        let client = builder.clone().base_url(root).build().unwrap();
        let request = http::Request::get(format!("{}/studies", client.base_url()))
            .body(RequestBody::empty())
            .unwrap();
        let _ = client.execute(request).await.unwrap();
    }
    let tokens = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, path, _)| path == "/token")
        .count();
    // The first 401 asks for t2; after that both clients use it.
    assert_eq!(tokens, 2);
}

/// A token endpoint that never answers fails after the provider's own timeout, not the
/// client's (which has none here).
#[tokio::test(start_paused = true)]
async fn a_token_request_keeps_its_own_timeout() {
    let transport = FnTransport::new(|request: http::Request<RequestBody>| async move {
        if request.uri().path() == "/token" {
            std::future::pending::<()>().await;
        }
        Ok::<_, TransportError>(http::Response::new(ResponseBody::from_bytes("[]")))
    });
    let client = Client::builder("http://dicom.invalid/dicom-web")
        .transport(transport)
        .timeouts(dicomweb_client::Timeouts::none())
        .gcp_credentials(
            service_account("http://oauth.invalid/token"),
            TokenProviderOptions::default().with_request_timeout(Duration::from_secs(5)),
        )
        .build()
        .unwrap();
    let request = http::Request::get(format!("{}/studies", client.base_url()))
        .body(RequestBody::empty())
        .unwrap();
    let err = client.execute(request).await.unwrap_err();
    assert!(matches!(err, Error::Token { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("timed out after 5s"), "{message}");
}

/// The adapter on its own: the request goes over the transport as it is, and a reply larger
/// than a token reply can be is refused.
#[tokio::test]
async fn the_adapter_sends_the_request_and_limits_the_reply() {
    use gcp_credentials::HttpClient as _;
    let transport = FnTransport::new(|request: http::Request<RequestBody>| async move {
        let body = match request.into_body() {
            RequestBody::Segments(segments) => segments.concat(),
            RequestBody::Empty => Vec::new(),
            _ => panic!("expected the body in memory"),
        };
        let reply = if body.is_empty() {
            vec![b'x'; 2 << 20]
        } else {
            body
        };
        Ok::<_, TransportError>(http::Response::new(ResponseBody::from_bytes(reply)))
    });
    let http = TransportHttpClient::new(Arc::new(transport));
    let request = http::Request::post("http://oauth.invalid/token")
        .body(bytes::Bytes::from_static(b"grant_type=x"))
        .unwrap();
    let echoed = http.send(request).await.unwrap();
    assert_eq!(echoed.body().as_ref(), b"grant_type=x");
    let request = http::Request::get("http://metadata.invalid/")
        .body(bytes::Bytes::new())
        .unwrap();
    let err = http.send(request).await.unwrap_err();
    assert!(err.to_string().contains("1048576"), "{err}");
}

/// A token endpoint answering with a redirect to another server: the grant (which carries the
/// signed assertion or refresh token) is not re-sent there, and no token comes of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_grant_is_never_redirected_to_another_origin() {
    let elsewhere = serve(|_, _| {
        vec![Action::Write(reply(
            "200 OK",
            &[("content-type", "application/json")],
            br#"{"access_token":"ya29.stolen","expires_in":3599,"token_type":"Bearer"}"#,
        ))]
    })
    .await;
    let target = format!("http://{}/token", elsewhere.addr);
    let server = serve(move |_, request| {
        if request.target == "/token" {
            return vec![Action::Write(reply(
                "307 Temporary Redirect",
                &[("location", target.as_str())],
                b"",
            ))];
        }
        vec![Action::Write(reply("200 OK", &[], b"[]"))]
    })
    .await;
    let credentials = service_account(&format!("http://{}/token", server.addr));
    let client = Client::builder(server.url())
        .gcp_credentials(credentials, TokenProviderOptions::default())
        .max_retries(0)
        .build()
        .unwrap();
    let request = http::Request::get(format!("{}/studies", client.base_url()))
        .body(RequestBody::empty())
        .unwrap();
    assert!(client.execute(request).await.is_err());
    assert_eq!(elsewhere.hits(), 0, "the grant followed the redirect");
    assert!(server.recorded().iter().any(|r| r.target == "/token"));
    assert!(!server.recorded().iter().any(|r| r.target == "/studies"));
}
