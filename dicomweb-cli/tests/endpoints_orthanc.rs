//! `dicomweb transfer` between endpoints named in one Orthanc configuration file, each side
//! with its own credentials: an Orthanc with basic authentication as the source, a stand-in
//! Cloud Healthcare API (token endpoint, and forwarding to a second Orthanc) as the
//! destination. No secret reaches the job state; the global `--user` stays off named
//! endpoints; a name missing at `jobs run` fails the job naming it; `--series`,
//! `--instance` and `--all -m` copy exactly their selection; a destination entry without
//! chunked transfers gets requests of known length.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::sync::Arc;

use support::healthcare::{Google, forward, key_file};
use support::{Spec, dicomweb, instance, one_line_error, orthanc_with, stored_file, success_json};
use test_support::orthanc::Orthanc;
use test_support::standin::{StandIn, respond};

const SOURCE_PASSWORD: &str = "source-secret-3141";

/// Every byte of every file under `dir` (the SQLite store, its journal and WAL files).
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            bytes.extend(std::fs::read(&path).unwrap());
        } else if path.is_dir() {
            bytes.extend(all_bytes(&path));
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A run whose jobs did not all succeed: status 1, the records (JSON) on stdout, one line
/// on stderr; returns that line.
fn failed_jobs(output: &std::process::Output) -> String {
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let records: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(records.is_array(), "{records}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

fn source_with(specs: &[Spec]) -> Orthanc {
    let orthanc = Orthanc::start_with_users(&[("alice", SOURCE_PASSWORD)]).unwrap();
    for spec in specs {
        orthanc.upload(&instance(spec)).unwrap();
    }
    orthanc
}

#[test]
fn a_basic_auth_orthanc_to_a_healthcare_store_by_name() {
    let specs: Vec<Spec> = (1..=3)
        .map(|n| Spec::new("E1", 31, 1 + n % 2, n))
        .chain([Spec::new("E2", 32, 1, 1)])
        .collect();
    let source = source_with(&specs);
    let destination = Arc::new(Orthanc::start().unwrap());
    let google = Google::start(destination.clone());
    let dir = tempfile::tempdir().unwrap();
    let mut key: serde_json::Value =
        serde_json::from_slice(&std::fs::read(key_file()).unwrap()).unwrap();
    key["token_uri"] = google.token_uri().into();
    let key_path = dir.path().join("key.json");
    std::fs::write(&key_path, key.to_string()).unwrap();
    let config = serde_json::json!({
        "DicomWeb": {"Servers": {"src": {
            "Url": source.dicomweb_url(), "Username": "alice", "Password": SOURCE_PASSWORD
        }}},
        "GoogleCloudPlatform": {"Accounts": {"cloud": {
            "Project": "test-project", "Location": "europe-west4",
            "Dataset": "ds-1", "DicomStore": "store.1",
            "ServiceAccountFile": key_path, "BaseUrl": google.base_url()
        }}}
    });
    let config_path = dir.path().join("orthanc.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let state = dir.path().join("state");

    // The global --user/--password would fail at the source (and mean nothing to Google):
    // named endpoints use their own entries only.
    let records = success_json(&dicomweb(&[
        "--quiet",
        "--config",
        config_path.to_str().unwrap(),
        "--user",
        "mallory",
        "--password",
        "global-secret-2718",
        "transfer",
        "--from",
        "src",
        "--to",
        "cloud",
        "--all",
        "--batch",
        "2",
        "--state",
        state.to_str().unwrap(),
    ]));
    assert_eq!(records.as_array().unwrap().len(), 2, "{records}");
    for record in records.as_array().unwrap() {
        assert_eq!(record["State"], "Success", "{record}");
        assert_eq!(record["Content"]["Source"], "src", "{record}");
        assert_eq!(record["Content"]["Destination"], "cloud", "{record}");
    }
    for spec in &specs {
        let copied = stored_file(&destination, &spec.sop);
        assert_eq!(copied, stored_file(&source, &spec.sop), "{}", spec.sop);
        assert_eq!(copied, Some(instance(spec)));
    }
    let recorded = google.server.recorded();
    assert!(google.token_requests() >= 1);
    assert!(
        recorded.iter().all(|r| r
            .header("authorization")
            .is_none_or(|v| v.starts_with("Bearer "))),
        "a Basic credential went to the Healthcare API"
    );

    // Nothing secret in the state folder: no password, no key, no token.
    let bytes = all_bytes(&state);
    assert!(!bytes.is_empty());
    assert!(contains(&bytes, "cloud") && contains(&bytes, "src"));
    let pem = key["private_key"].as_str().unwrap();
    let mut secrets = vec![
        SOURCE_PASSWORD.to_owned(),
        "global-secret-2718".to_owned(),
        key["private_key_id"].as_str().unwrap().to_owned(),
    ];
    secrets.extend(pem.lines().skip(1).take(3).map(str::to_owned));
    secrets.extend(google.issued.lock().unwrap().iter().cloned());
    for secret in &secrets {
        assert!(!contains(&bytes, secret), "{secret} is in the job state");
    }

    // `jobs list` shows the names.
    let listed = success_json(&dicomweb(&[
        "jobs",
        "list",
        "--state",
        state.to_str().unwrap(),
    ]));
    assert_eq!(listed[0]["Content"]["Source"], "src", "{listed}");
}

#[test]
fn global_credentials_apply_to_urls_only_and_missing_names_fail_the_job() {
    let spec = Spec::new("E3", 33, 1, 1);
    let source = source_with(std::slice::from_ref(&spec));
    let destination = Orthanc::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, servers: serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            serde_json::json!({"DicomWeb": {"Servers": servers}}).to_string(),
        )
        .unwrap();
        path
    };
    // "src" without credentials: the global --user does not reach it.
    let bare = write(
        "bare.json",
        serde_json::json!({"src": [source.dicomweb_url()], "dst": [destination.dicomweb_url()]}),
    );
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    let global = ["--user", "alice", "--password", SOURCE_PASSWORD, "--quiet"];
    let line = failed_jobs(&dicomweb(
        &[
            &global[..],
            &[
                "--config",
                bare.to_str().unwrap(),
                "transfer",
                "--from",
                "src",
                "--to",
                "dst",
            ],
            &["--study", &spec.study, "--state", state],
        ]
        .concat(),
    ));
    assert!(line.contains("401"), "{line}");
    // A URL does get them; the job saves the URL and the name.
    let queued = success_json(&dicomweb(
        &[
            &global[..],
            &["--config", bare.to_str().unwrap(), "transfer", "--from"],
            &[
                source.dicomweb_url().as_str(),
                "--to",
                "dst",
                "--study",
                &spec.study,
            ],
            &["--state", state, "--async"],
        ]
        .concat(),
    ));
    let id = queued[0]["ID"].as_str().unwrap().to_owned();

    // Resumed with a configuration that lacks "dst": the job fails naming the entry and file.
    let other = write(
        "other.json",
        serde_json::json!({"elsewhere": ["http://127.0.0.1:1/"]}),
    );
    let line = failed_jobs(&dicomweb(
        &[
            &global[..],
            &[
                "--config",
                other.to_str().unwrap(),
                "jobs",
                "run",
                "--state",
                state,
            ],
        ]
        .concat(),
    ));
    assert!(line.contains("\"dst\""), "{line}");
    let shown = success_json(&dicomweb(&["jobs", "show", &id, "--state", state]));
    assert_eq!(shown["State"], "Failure", "{shown}");
    assert_eq!(shown["Content"]["Destination"], "dst", "{shown}");
    assert_eq!(shown["Content"]["Source"], source.dicomweb_url(), "{shown}");
    let why = shown["ErrorDescription"].as_str().unwrap();
    assert!(why.contains("\"dst\""), "{why}");
    assert!(why.contains(other.to_str().unwrap()), "{why}");
    assert_eq!(destination.count_instances().unwrap(), 0);

    // Resubmitted and run with the right file, it copies the study.
    success_json(&dicomweb(&["jobs", "resubmit", &id, "--state", state]));
    success_json(&dicomweb(
        &[
            &global[..],
            &[
                "--config",
                bare.to_str().unwrap(),
                "jobs",
                "run",
                "--state",
                state,
            ],
        ]
        .concat(),
    ));
    assert_eq!(stored_file(&destination, &spec.sop), Some(instance(&spec)));
    assert!(!contains(&all_bytes(Path::new(state)), SOURCE_PASSWORD));
}

#[test]
fn series_instance_and_match_selections_copy_exactly_the_selection() {
    let mut specs: Vec<Spec> = vec![
        Spec::new("E4", 34, 1, 1),
        Spec::new("E4", 34, 1, 2),
        Spec::new("E4", 34, 2, 1),
        Spec::new("E5", 35, 1, 1),
        Spec::new("E5", 35, 2, 1),
    ];
    for spec in &mut specs[..2] {
        spec.modality = "CT".to_owned();
    }
    specs[3].modality = "CT".to_owned();
    for spec in &mut specs[3..] {
        spec.study_date = "20250301".to_owned();
    }
    let source = source_with(&specs);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("orthanc.json");
    let copy = |selection: &[&str], expected: &[usize]| {
        let destination = Orthanc::start().unwrap();
        let servers = serde_json::json!({"DicomWeb": {"Servers": {
            "src": [source.dicomweb_url(), "alice", SOURCE_PASSWORD],
            "dst": [destination.dicomweb_url()],
        }}});
        std::fs::write(&config, servers.to_string()).unwrap();
        let state = dir.path().join(format!("state-{}", selection.join("-")));
        let args = [
            &["--quiet", "--config", config.to_str().unwrap(), "transfer"][..],
            &[
                "--from",
                "src",
                "--to",
                "dst",
                "--state",
                state.to_str().unwrap(),
            ],
            selection,
        ]
        .concat();
        let records = success_json(&dicomweb(&args));
        assert!(
            records
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["State"] == "Success"),
            "{records}"
        );
        let copied: Vec<usize> = (0..specs.len())
            .filter(|&i| stored_file(&destination, &specs[i].sop).is_some())
            .collect();
        assert_eq!(copied, expected, "{selection:?}");
        for &i in expected {
            assert_eq!(
                stored_file(&destination, &specs[i].sop),
                Some(instance(&specs[i]))
            );
        }
    };
    copy(&["--series", &specs[2].series], &[2]);
    copy(
        &["--study", &specs[0].study, "--series", &specs[0].series],
        &[0, 1],
    );
    copy(
        &["--series", &specs[0].series, "--series", &specs[4].series],
        &[0, 1, 4],
    );
    copy(&["--instance", &specs[1].sop], &[1]);
    copy(
        &["--study", &specs[3].study, "--instance", &specs[4].sop],
        &[4],
    );
    copy(&["--all", "-m", "Modality=CT"], &[0, 1, 3]);
    copy(&["--all", "-m", "StudyDate=20250101-"], &[3, 4]);
    copy(
        &["--all", "-m", "Modality=CT", "-m", "StudyDate=20250101-"],
        &[3],
    );

    let line = one_line_error(&dicomweb(&[
        "--config",
        config.to_str().unwrap(),
        "transfer",
        "--from",
        "src",
        "--to",
        "dst",
        "--instance",
        "1.2.3.999",
        "--state",
        dir.path().join("state-x").to_str().unwrap(),
    ]));
    assert!(line.contains("no instance 1.2.3.999"), "{line}");
}

/// A destination entry with `"ChunkedTransfers": false` (a server or proxy that wants every
/// request's length first) gets its batches with `Content-Length`, never chunked; the same
/// server named without that setting fails the job with its 411.
#[test]
fn a_destination_without_chunked_transfers_gets_sized_requests() {
    let specs: Vec<Spec> = (1..=5).map(|n| Spec::new("L1", 41, 1 + n % 2, n)).collect();
    let source = orthanc_with(&specs);
    let destination = Arc::new(Orthanc::start().unwrap());
    let behind = destination.clone();
    let proxy = StandIn::start(move |_, seen| {
        if seen.chunked {
            return respond("411 Length Required", &[], b"a length is required");
        }
        let rest = seen
            .target
            .strip_prefix("/dicom-web")
            .unwrap_or(&seen.target);
        forward(&behind, seen, rest)
    });
    let dir = tempfile::tempdir().unwrap();
    let config = serde_json::json!({"DicomWeb": {"Servers": {
        "sized": {"Url": proxy.url_for("/dicom-web"), "ChunkedTransfers": false},
        "chunked": {"Url": proxy.url_for("/dicom-web")},
    }}});
    let config_path = dir.path().join("orthanc.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let transfer = |to: &str, state: &str| {
        dicomweb(&[
            "--quiet",
            "--config",
            config_path.to_str().unwrap(),
            "transfer",
            "--from",
            &source.dicomweb_url(),
            "--to",
            to,
            "--all",
            "--batch",
            "2",
            "--state",
            dir.path().join(state).to_str().unwrap(),
        ])
    };

    let records = success_json(&transfer("sized", "sized-state"));
    assert_eq!(records[0]["State"], "Success", "{records}");
    for spec in &specs {
        assert_eq!(
            stored_file(&destination, &spec.sop),
            Some(instance(spec)),
            "{}",
            spec.sop
        );
    }
    let stores: Vec<_> = proxy
        .recorded()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(stores.len(), 3, "5 instances in batches of 2");
    for store in &stores {
        assert!(!store.chunked);
        assert_eq!(
            store.header("content-length"),
            Some(store.body.len().to_string().as_str())
        );
    }

    let failed = transfer("chunked", "chunked-state");
    assert!(!failed.status.success());
    let why = failed_jobs(&failed);
    assert!(why.contains("411"), "{why}");
}
