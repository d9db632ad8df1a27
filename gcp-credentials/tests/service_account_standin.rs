//! Service account grants: the byte-exact google-auth vector, and a stand-in token endpoint
//! that verifies each assertion's signature and claims.
#![allow(clippy::unwrap_used)] // helpers in test files, outside #[test] functions
#![cfg(feature = "reqwest")]

mod common;

use common::{Reply, key_file, serve};
use gcp_credentials::grant::service_account_request;
use gcp_credentials::{
    CLOUD_HEALTHCARE_SCOPE, Credentials, Error, TokenProvider, TokenProviderOptions,
};
use std::sync::Arc;
use test_support::google::{Expect, verify_grant};

fn service_account() -> Arc<gcp_credentials::ServiceAccountKey> {
    match Credentials::from_file(key_file()).unwrap() {
        Credentials::ServiceAccount(key) => key,
        other => panic!("expected a service account, got {other:?}"),
    }
}

fn expect(scope: &str) -> Expect {
    let key = service_account();
    Expect {
        public_key_der: key.signer.public_key_der(),
        kid: key.private_key_id.clone().unwrap(),
        iss: key.client_email.clone(),
        scope: scope.to_owned(),
    }
}

#[test]
fn jwt_equals_google_auth_byte_for_byte() {
    let vector: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(key_file().with_file_name("jwt-vector.json")).unwrap(),
    )
    .unwrap();
    let scopes: Vec<String> = vector["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    let iat = vector["iat"].as_u64().unwrap();
    let request = service_account_request(&service_account(), &scopes, iat, None).unwrap();
    // The key file names a token_uri of its own: the request goes there...
    assert_eq!(request.uri(), "http://127.0.0.1:9/token");
    let form = test_support::standin::form(request.body());
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    // ...while the assertion (aud included) is exactly google-auth's.
    assert_eq!(form["assertion"], vector["jwt"].as_str().unwrap());
    assert!(request.body().starts_with(
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=ey"
    ));
}

#[tokio::test]
async fn stand_in_endpoint_verifies_and_issues_tokens() {
    let want = expect(CLOUD_HEALTHCARE_SCOPE);
    let server = serve(move |seen, n| {
        let want = want.clone();
        async move {
            match verify_grant(&seen, &want) {
                Ok(()) => Reply::token(&format!("ya29.token-{n}"), 3600),
                Err(reason) => Reply::oauth_error(400, "invalid_grant", &reason),
            }
        }
    })
    .await;
    let options = TokenProviderOptions::default()
        .with_scopes([CLOUD_HEALTHCARE_SCOPE])
        .with_token_uri(server.url_for("/token"));
    let provider =
        TokenProvider::with_reqwest(Credentials::from_file(key_file()).unwrap(), options).unwrap();
    let token = provider.access_token().await.unwrap();
    assert_eq!(token.secret(), "ya29.token-0");
    // Cached: no second request.
    let again = provider.authorization_header().await.unwrap();
    assert_eq!(again.to_str().unwrap(), "Bearer ya29.token-0");
    assert_eq!(server.hits(), 1);
    assert_eq!(server.last().target, "/token");
}

#[tokio::test]
async fn wrong_scope_is_refused_with_the_endpoint_error() {
    let want = expect("https://www.googleapis.com/auth/something-else");
    let server = serve(move |seen, _| {
        let want = want.clone();
        async move {
            match verify_grant(&seen, &want) {
                Ok(()) => Reply::token("ya29.never", 3600),
                Err(_) => Reply::oauth_error(400, "invalid_scope", "Invalid OAuth scope."),
            }
        }
    })
    .await;
    let options = TokenProviderOptions::default().with_token_uri(server.url_for("/token"));
    let provider =
        TokenProvider::with_reqwest(Credentials::from_file(key_file()).unwrap(), options).unwrap();
    let err = provider.access_token().await.unwrap_err();
    assert!(
        matches!(&err, Error::OAuth { status: 400, error, description: Some(d) } if error == "invalid_scope" && d == "Invalid OAuth scope."),
        "{err:?}"
    );
    common::assert_no_secret(&err);
}

#[tokio::test]
async fn a_wrong_public_key_fails_signature_verification() {
    // The stand-in holds a public key that does not match: the signature must not verify.
    let mut want = expect(gcp_credentials::CLOUD_PLATFORM_SCOPE);
    want.public_key_der[40] ^= 0x55;
    let server = serve(move |seen, _| {
        let want = want.clone();
        async move {
            match verify_grant(&seen, &want) {
                Ok(()) => Reply::token("ya29.never", 3600),
                Err(reason) => Reply::oauth_error(400, "invalid_grant", &reason),
            }
        }
    })
    .await;
    let options = TokenProviderOptions::default().with_token_uri(server.url_for("/token"));
    let provider =
        TokenProvider::with_reqwest(Credentials::from_file(key_file()).unwrap(), options).unwrap();
    let err = provider.access_token().await.unwrap_err().to_string();
    assert_eq!(
        err,
        "token endpoint refused the grant (HTTP 400): invalid_grant: Invalid JWT Signature."
    );
}
