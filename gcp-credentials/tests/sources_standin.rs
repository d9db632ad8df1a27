//! Authorized-user grants, the metadata server, Application Default Credentials discovery and
//! bad credentials files, against stand-ins on loopback.
#![allow(clippy::unwrap_used)] // helpers in test files, outside #[test] functions
#![cfg(feature = "reqwest")]

mod common;

use common::{Reply, key_file, serve};
use gcp_credentials::{
    AdcEnvironment, CLOUD_HEALTHCARE_SCOPE, Credentials, Error, ReqwestClient, TokenProvider,
    TokenProviderOptions, application_default_credentials,
};
use std::path::Path;
use std::time::Duration;

const USER_FILE: &str = r#"{
  "type": "authorized_user",
  "client_id": "1234.apps.googleusercontent.com",
  "client_secret": "client-SECRET",
  "refresh_token": "1//refresh-SECRET",
  "quota_project_id": "billing-project"
}"#;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn authorized_user_refresh_grant() {
    let server = serve(|seen, _| async move {
        let form = seen.form();
        let ok = seen.method == "POST"
            && form.get("grant_type").map(String::as_str) == Some("refresh_token")
            && form.get("client_id").map(String::as_str) == Some("1234.apps.googleusercontent.com")
            && form.get("client_secret").map(String::as_str) == Some("client-SECRET")
            && seen.header("x-goog-user-project") == Some("billing-project");
        match (ok, form.get("refresh_token").map(String::as_str)) {
            (true, Some("1//refresh-SECRET")) => Reply::token("ya29.user", 3599),
            _ => Reply::oauth_error(400, "invalid_grant", "Bad Request"),
        }
    })
    .await;
    let credentials = Credentials::from_json(USER_FILE.as_bytes(), Some("test")).unwrap();
    let shown = format!("{credentials:?}");
    assert!(!shown.contains("SECRET"), "{shown}");
    let options = TokenProviderOptions::default().with_token_uri(server.url_for("/token"));
    let provider = TokenProvider::with_reqwest(credentials, options).unwrap();
    assert_eq!(provider.access_token().await.unwrap().secret(), "ya29.user");

    // A revoked refresh token: the endpoint's error and description, no secret.
    let revoked = USER_FILE.replace("1//refresh-SECRET", "1//revoked-SECRET");
    let credentials = Credentials::from_json(revoked.as_bytes(), None).unwrap();
    let options = TokenProviderOptions::default().with_token_uri(server.url_for("/token"));
    let err = TokenProvider::with_reqwest(credentials, options)
        .unwrap()
        .access_token()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "token endpoint refused the grant (HTTP 400): invalid_grant: Bad Request"
    );
    common::assert_no_secret(&err);
    assert!(!format!("{err:?}").contains("revoked-SECRET"));
}

#[tokio::test]
async fn token_uri_in_the_file_is_honoured() {
    let server = serve(|_, _| async { Reply::token("from-file-uri", 3600) }).await;
    let text = USER_FILE.replace(
        "\"type\"",
        &format!("\"token_uri\": \"{}\", \"type\"", server.url_for("/custom")),
    );
    let provider = TokenProvider::with_reqwest(
        Credentials::from_json(text.as_bytes(), None).unwrap(),
        TokenProviderOptions::default(),
    )
    .unwrap();
    assert_eq!(
        provider.access_token().await.unwrap().secret(),
        "from-file-uri"
    );
    assert_eq!(server.last().target, "/custom");
}

async fn metadata_server() -> test_support::standin::StandIn {
    serve(|seen, _| async move {
        let flavor = seen.header("metadata-flavor") == Some("Google");
        let mut reply = match (flavor, seen.target.as_str()) {
            (false, _) => Reply::json(403, "Missing Metadata-Flavor header"),
            (true, "/") => Reply::json(200, "computeMetadata/"),
            (
                true,
                "/computeMetadata/v1/instance/service-accounts/default/token\
                 ?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-healthcare",
            ) => Reply::token("ya29.metadata", 3599),
            (true, _) => Reply::json(404, "Not Found"),
        };
        reply
            .headers
            .push(("Metadata-Flavor".into(), "Google".into()));
        reply
    })
    .await
}

#[tokio::test]
async fn metadata_server_is_detected_and_gives_tokens() {
    let server = metadata_server().await;
    let env = AdcEnvironment {
        metadata_host: Some(server.addr.to_string()),
        ..AdcEnvironment::default()
    };
    let http = ReqwestClient::new().unwrap();
    let credentials = application_default_credentials(&env, &http).await.unwrap();
    assert!(
        matches!(&credentials, Credentials::MetadataServer(m) if m.host == server.addr.to_string()),
        "{credentials:?}"
    );
    let options = TokenProviderOptions::default().with_scopes([CLOUD_HEALTHCARE_SCOPE]);
    let provider = TokenProvider::with_reqwest(credentials, options).unwrap();
    assert_eq!(
        provider.access_token().await.unwrap().secret(),
        "ya29.metadata"
    );
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn adc_prefers_the_environment_variable_then_gcloud_then_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let gcloud_file = write(
        &home,
        ".config/gcloud/application_default_credentials.json",
        USER_FILE,
    );
    let server = metadata_server().await;
    let http = ReqwestClient::new().unwrap();
    let mut env = AdcEnvironment {
        google_application_credentials: Some(key_file()),
        home: Some(home.clone()),
        metadata_host: Some(server.addr.to_string()),
        ..AdcEnvironment::default()
    };
    let found = application_default_credentials(&env, &http).await.unwrap();
    assert_eq!(found.kind(), "service_account");
    env.google_application_credentials = None;
    let found = application_default_credentials(&env, &http).await.unwrap();
    assert_eq!(found.kind(), "authorized_user");
    // CLOUDSDK_CONFIG moves gcloud's directory.
    env.cloudsdk_config = Some(dir.path().join("elsewhere"));
    assert_eq!(
        env.well_known_file().unwrap(),
        dir.path()
            .join("elsewhere/application_default_credentials.json")
    );
    let found = application_default_credentials(&env, &http).await.unwrap();
    assert_eq!(found.kind(), "metadata_server");
    assert_eq!(server.hits(), 1);
    env.cloudsdk_config = None;
    std::fs::remove_file(gcloud_file).unwrap();
    let found = application_default_credentials(&env, &http).await.unwrap();
    assert_eq!(found.kind(), "metadata_server");
}

#[tokio::test]
async fn adc_with_nothing_lists_what_it_tried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap().to_string();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let env = AdcEnvironment {
        home: Some(dir.path().to_owned()),
        metadata_ip: Some(closed.clone()),
        metadata_detect_timeout: Some(Duration::from_millis(500)),
        ..AdcEnvironment::default()
    };
    let err = application_default_credentials(&env, &ReqwestClient::new().unwrap())
        .await
        .unwrap_err();
    let Error::NoCredentials { tried } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(tried.len(), 3, "{tried:?}");
    assert!(tried[0].contains("GOOGLE_APPLICATION_CREDENTIALS"));
    assert!(tried[1].contains("application_default_credentials.json"));
    assert!(tried[2].contains(&closed), "{tried:?}");

    // Something answers, but it is not a metadata server.
    let impostor = serve(|_, _| async { Reply::json(200, "hello") }).await;
    let env = AdcEnvironment {
        metadata_ip: Some(impostor.addr.to_string()),
        ..env
    };
    let err = application_default_credentials(&env, &ReqwestClient::new().unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("without \"Metadata-Flavor: Google\""), "{err}");

    // A metadata server that never answers: detection gives up after the short timeout.
    let silent =
        serve(|_, _| async { Reply::json(200, "").delayed(Duration::from_secs(10)) }).await;
    let env = AdcEnvironment {
        metadata_ip: Some(silent.addr.to_string()),
        metadata_detect_timeout: Some(Duration::from_millis(100)),
        ..env
    };
    let started = std::time::Instant::now();
    let err = application_default_credentials(&env, &ReqwestClient::new().unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.contains("within 100ms"), "{err}");
}

#[tokio::test]
async fn a_named_file_that_is_bad_does_not_fall_through() {
    let dir = tempfile::tempdir().unwrap();
    let env = AdcEnvironment {
        google_application_credentials: Some(write(dir.path(), "bad.json", "{\"type\": 5}")),
        ..AdcEnvironment::default()
    };
    let err = application_default_credentials(&env, &ReqwestClient::new().unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad.json") && err.contains("\"type\""),
        "{err}"
    );
}

#[test]
fn bad_key_files_are_clear_errors_without_secrets() {
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(key_file()).unwrap()).unwrap();
    let pem = good["private_key"].as_str().unwrap().to_owned();
    let with = |field: &str, value: serde_json::Value| {
        let mut v = good.clone();
        v[field] = value;
        v.to_string()
    };
    let without = |field: &str| {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(field);
        v.to_string()
    };
    let truncated_pem = pem[..pem.len() / 2].to_owned() + "\n-----END PRIVATE KEY-----\n";
    let cases: Vec<(String, &str)> = vec![
        ("{ not json".into(), "malformed"),
        ("[1, 2]".into(), "found an array"),
        (
            with("type", "external_account".into()),
            "unsupported credentials type \"external_account\"",
        ),
        (without("type"), "\"type\", found none"),
        (without("client_email"), "\"client_email\", found none"),
        (
            with("client_email", 42.into()),
            "\"client_email\" to be a string, found a number",
        ),
        (without("private_key"), "\"private_key\", found none"),
        (
            with("private_key", "SECRET-but-not-pem".into()),
            "expected a PEM block",
        ),
        (
            with("private_key", truncated_pem.into()),
            "invalid private key: not an RSA key",
        ),
        (
            with(
                "private_key",
                pem.replace("\n-----END", "!\n-----END").into(),
            ),
            "not valid base64",
        ),
        (
            with("private_key", pem.replace("MII", "MIJ").into()),
            "not an RSA key",
        ),
        (
            with("private_key_id", serde_json::json!(["x"])),
            "found an array",
        ),
        (
            USER_FILE.replace("\"client_secret\": \"client-SECRET\",", ""),
            "\"client_secret\", found none",
        ),
    ];
    let body_line = pem.lines().nth(3).unwrap().to_owned();
    for (text, expect) in cases {
        let err = Credentials::from_json(text.as_bytes(), Some("key.json")).unwrap_err();
        assert!(
            err.to_string().contains(expect),
            "expected {expect:?} in {err}"
        );
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(
                !shown.contains("SECRET") && !shown.contains(&body_line),
                "{shown}"
            );
        }
        assert!(err.to_string().contains("key.json"), "{err}");
    }
    let err = Credentials::from_file("/nonexistent/key.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot read credentials file /nonexistent/key.json"),
        "{err}"
    );
}

#[test]
fn credentials_debug_never_shows_the_private_key() {
    let credentials = Credentials::from_file(key_file()).unwrap();
    let shown = format!("{credentials:?}");
    assert!(shown.contains("[redacted]"));
    assert!(!shown.contains("BEGIN PRIVATE KEY"), "{shown}");
}
