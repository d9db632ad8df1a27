//! The CLI on a Cloud Healthcare API DICOM store, played on loopback: a stand-in token
//! endpoint that checks each service account assertion (RS256 signature with the key's public
//! half, header and claims) and issues tokens, and a stand-in Healthcare API that serves
//! `/v1/projects/…/dicomWeb/*` from a real Orthanc, only with a token it issued.

#![allow(clippy::unwrap_used)]

mod support;

use support::healthcare::{Google, STORE, key_file};
use support::{Spec, dicomweb, one_line_error, strings, success_json, write_instance};
use test_support::orthanc::Orthanc;

#[test]
fn store_search_and_retrieve_through_the_healthcare_api() {
    let google = Google::start(Orthanc::start().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let specs = [Spec::new("G1", 11, 1, 1), Spec::new("G1", 11, 1, 2)];
    for (n, spec) in specs.iter().enumerate() {
        write_instance(&dir.path().join("in"), &format!("{n}.dcm"), spec);
    }
    // The key file names the stand-in as its token endpoint.
    let mut key: serde_json::Value =
        serde_json::from_slice(&std::fs::read(key_file()).unwrap()).unwrap();
    key["token_uri"] = google.token_uri().into();
    let key_path = dir.path().join("key.json");
    std::fs::write(&key_path, key.to_string()).unwrap();
    let base = google.base_url();
    let gcp = [
        "--gcp-credentials",
        key_path.to_str().unwrap(),
        "--gcp-store",
        STORE,
        "--gcp-base-url",
        &base,
    ];
    let run = |args: &[&str]| dicomweb(&[&gcp[..], args].concat());

    let summary = success_json(&run(&["store", dir.path().join("in").to_str().unwrap()]));
    assert_eq!(summary["stored"], 2, "{summary}");
    let found = success_json(&run(&["search", "instances", "--study", &specs[0].study]));
    assert_eq!(
        strings(&found, "00080018"),
        [specs[0].sop.clone(), specs[1].sop.clone()]
    );
    let metadata = success_json(&run(&["retrieve", "metadata", "--study", &specs[0].study]));
    assert_eq!(metadata.as_array().unwrap().len(), 2);
    let out = dir.path().join("out");
    let summary = success_json(&run(&[
        "retrieve",
        "instances",
        "--study",
        &specs[0].study,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(summary["retrieved"], 2, "{summary}");
    // One token per run of the program, each from a checked assertion.
    assert_eq!(google.token_requests(), 4);
    assert_eq!(google.issued.lock().unwrap().len(), 4);

    // --gcp-token-uri overrides the key file's token_uri (here, the original Google one).
    let output = dicomweb(&[
        "--gcp-credentials",
        key_file().to_str().unwrap(),
        "--gcp-store",
        STORE,
        "--gcp-base-url",
        &base,
        "--gcp-token-uri",
        &google.token_uri(),
        "search",
        "studies",
    ]);
    assert_eq!(
        strings(&success_json(&output), "0020000D"),
        [specs[0].study.clone()]
    );
    assert_eq!(google.token_requests(), 5);

    // --gcp-store alone: Application Default Credentials, here GOOGLE_APPLICATION_CREDENTIALS.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args([
            "--gcp-store",
            STORE,
            "--gcp-base-url",
            &base,
            "search",
            "studies",
        ])
        .env("GOOGLE_APPLICATION_CREDENTIALS", &key_path)
        .output()
        .unwrap();
    assert_eq!(
        strings(&success_json(&output), "0020000D"),
        [specs[0].study.clone()]
    );
    assert_eq!(google.token_requests(), 6);

    // Without a valid token the stand-in refuses: a static token it never issued.
    let line = one_line_error(&dicomweb(&[
        "--gcp-store",
        STORE,
        "--gcp-base-url",
        &base,
        "--token",
        "ya29.forged",
        "search",
        "studies",
    ]));
    assert!(line.contains("401"), "{line}");
}

#[test]
fn a_refused_assertion_is_one_line_without_secrets() {
    let google = Google::start(Orthanc::start().unwrap());
    let dir = tempfile::tempdir().unwrap();
    // The right key under another identity: the stand-in refuses the claims.
    let mut key: serde_json::Value =
        serde_json::from_slice(&std::fs::read(key_file()).unwrap()).unwrap();
    key["client_email"] = "intruder@example.iam.gserviceaccount.com".into();
    key["token_uri"] = google.token_uri().into();
    let key_path = dir.path().join("key.json");
    std::fs::write(&key_path, key.to_string()).unwrap();
    let base = google.base_url();
    let output = dicomweb(&[
        "--gcp-credentials",
        key_path.to_str().unwrap(),
        "--gcp-store",
        STORE,
        "--gcp-base-url",
        &base,
        "--retries",
        "0",
        "search",
        "studies",
    ]);
    let line = one_line_error(&output);
    assert!(line.contains("invalid_grant"), "{line}");
    let pem = key["private_key"].as_str().unwrap();
    assert!(!line.contains(pem.lines().nth(3).unwrap()), "{line}");
    assert!(google.issued.lock().unwrap().is_empty());

    let line = one_line_error(&dicomweb(&[
        "--gcp-credentials",
        "/nonexistent/key.json",
        "--gcp-store",
        STORE,
        "search",
        "studies",
    ]));
    assert!(line.contains("/nonexistent/key.json"), "{line}");
}
