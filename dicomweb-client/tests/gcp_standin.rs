//! `gcp_credentials::TokenProvider` plugged into the client (feature `gcp`).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![cfg(feature = "gcp")]

use std::sync::Arc;

use dicomweb_client::{Client, RequestBody};
use gcp_credentials::{AccessToken, Credentials, TokenProvider, TokenProviderOptions};
use test_support::standin::{Action, reply, serve};

#[tokio::test]
async fn a_gcp_token_provider_authorizes_requests() {
    let server = serve(|_, _| vec![Action::Write(reply("200 OK", &[], b"[]"))]).await;
    let provider = TokenProvider::with_reqwest(
        Credentials::Static(AccessToken::new("ya29.static")),
        TokenProviderOptions::default(),
    )
    .unwrap();
    let client = Client::builder(server.url())
        .token_provider(Arc::new(provider))
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
