//! `gcp-list-studies` against stand-ins on loopback: a token endpoint that issues a token for
//! the service account grant, and a Healthcare API that answers the study search only with it.
//! (The assertion's signature and claims are checked by gcp-credentials' and the CLI's tests.)

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use test_support::standin::{Action, reply, serve};

const STORE: &str = "projects/p-1/locations/us-central1/datasets/d-1/dicomStores/s-1";

fn studies() -> String {
    let study = |uid: &str, date: &str, patient: &str| {
        format!(
            r#"{{"0020000D":{{"vr":"UI","Value":["{uid}"]}},"00080020":{{"vr":"DA","Value":["{date}"]}},"00100020":{{"vr":"LO","Value":["{patient}"]}}}}"#
        )
    };
    format!(
        "[{},{}]",
        study("1.2.3.1", "20250101", "P-1"),
        study("1.2.3.2", "20250202", "P-2")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_the_studies_of_a_store_with_a_service_account() {
    let body = studies();
    let server = serve(move |_, request| {
        if request.target == "/token" {
            assert_eq!(request.method, "POST");
            let form = String::from_utf8_lossy(&request.body).into_owned();
            assert!(
                form.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"),
                "{form}"
            );
            return vec![Action::Write(reply(
                "200 OK",
                &[("content-type", "application/json")],
                br#"{"access_token":"ya29.example","expires_in":3599,"token_type":"Bearer"}"#,
            ))];
        }
        let expected =
            format!("/v1/{STORE}/dicomWeb/studies?includefield=StudyDescription&limit=100");
        if request.target != expected
            || request.header("authorization") != Some("Bearer ya29.example")
        {
            return vec![Action::Write(reply("401 Unauthorized", &[], b"no"))];
        }
        vec![Action::Write(reply(
            "200 OK",
            &[("content-type", "application/dicom+json")],
            body.as_bytes(),
        ))]
    })
    .await;
    let key = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../gcp-credentials/tests/data/service-account.json");
    let base = format!("http://{}", server.addr);
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_gcp-list-studies"))
            .arg(key)
            .arg(STORE)
            .args(["--base-url", &format!("{base}/v1")])
            .args(["--token-uri", &format!("{base}/token")])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1.2.3.1\t20250101\tP-1\t-\n1.2.3.2\t20250202\tP-2\t-\n"
    );
    let targets: Vec<String> = server.recorded().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets.len(),
        2,
        "one token request, one search: {targets:?}"
    );
}

#[test]
fn a_bad_store_name_is_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_gcp-list-studies"))
        .args(["key.json", "projects/p/locations/l"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("8 segments"), "{stderr}");
}
