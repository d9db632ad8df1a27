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
