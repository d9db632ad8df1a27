//! `dicomweb search` and `dicomweb retrieve metadata` against a real Orthanc, and the
//! command-line errors every command shares.

#![allow(clippy::unwrap_used)]

mod support;

use support::{Spec, dicomweb, one_line_error, orthanc_with, string, strings, success_json};

/// Three studies of three patients; the first has two series of two instances.
fn specs() -> Vec<Spec> {
    let mut all = vec![
        Spec::new("P1", 1, 1, 1),
        Spec::new("P1", 1, 1, 2),
        Spec::new("P1", 1, 2, 3),
        Spec::new("P1", 1, 2, 4),
        Spec::new("P2", 2, 1, 1),
        Spec::new("P3", 3, 1, 1),
    ];
    all[4].study_date = "20200601".to_owned();
    all[5].study_date = "20210301".to_owned();
    all[5].patient_name = "SMITH^ANN".to_owned();
    all
}

#[test]
fn search_and_metadata_against_orthanc() {
    let specs = specs();
    let orthanc = orthanc_with(&specs);
    let url = orthanc.dicomweb_url();
    let run = |args: &[&str]| {
        let mut all = vec!["--url", url.as_str()];
        all.extend_from_slice(args);
        let output = dicomweb(&all);
        assert!(
            output.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        success_json(&output)
    };
    let study_uids = |found: &serde_json::Value| strings(found, "0020000D");
    let study = |n: usize| specs[n].study.clone();

    // Matching by keyword, by tag in both spellings, wildcards and ranges.
    assert_eq!(
        study_uids(&run(&["search", "studies", "-m", "PatientID=P1"])),
        [study(0)]
    );
    assert_eq!(
        study_uids(&run(&["search", "studies", "-m", "0010,0010=DOE*"])),
        [study(0), study(4)]
    );
    assert_eq!(
        study_uids(&run(&["search", "studies", "-m", "00100010=SMITH*"])),
        [study(5)]
    );
    assert_eq!(
        study_uids(&run(&[
            "search",
            "studies",
            "-m",
            "StudyDate=20200101-20201231"
        ])),
        [study(0), study(4)]
    );
    assert_eq!(
        study_uids(&run(&["search", "studies", "--study", &study(4)])),
        [study(4)]
    );
    assert!(
        run(&["search", "studies", "-m", "PatientID=NOBODY"])
            .as_array()
            .unwrap()
            .is_empty()
    );

    // includefield: an attribute Orthanc leaves out unless asked.
    let plain = run(&["search", "studies", "-m", "PatientID=P2"]);
    assert_eq!(string(&plain[0], "00080080"), None);
    let included = run(&[
        "search",
        "studies",
        "-m",
        "PatientID=P2",
        "-i",
        "InstitutionName",
    ]);
    assert_eq!(
        string(&included[0], "00080080").as_deref(),
        Some("Test Hospital")
    );

    // limit and offset, and every page.
    let all = study_uids(&run(&["search", "studies"]));
    assert_eq!(all.len(), 3);
    assert_eq!(
        run(&["search", "studies", "--limit", "2"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let first = study_uids(&run(&["search", "studies", "--limit", "2"]));
    let rest = study_uids(&run(&[
        "search", "studies", "--limit", "2", "--offset", "2",
    ]));
    assert_eq!(rest.len(), 1);
    let mut paged = [first, rest].concat();
    paged.sort();
    assert_eq!(paged, all);
    assert_eq!(
        study_uids(&run(&["search", "studies", "--limit", "1", "--all-pages"])),
        all
    );
    assert_eq!(study_uids(&run(&["search", "studies", "--all-pages"])), all);

    // XML from the server, DICOM JSON on the way out: the same results.
    assert_eq!(
        run(&["search", "studies", "--xml", "-i", "InstitutionName"]),
        run(&["search", "studies", "-i", "InstitutionName"])
    );

    // Series and instances.
    let series = run(&["search", "series", "--study", &study(0)]);
    assert_eq!(
        strings(&series, "0020000E"),
        [specs[0].series.clone(), specs[2].series.clone()]
    );
    let instances = run(&[
        "search",
        "instances",
        "--study",
        &study(0),
        "--series",
        &specs[2].series,
    ]);
    assert_eq!(
        strings(&instances, "00080018"),
        [specs[2].sop.clone(), specs[3].sop.clone()]
    );
    let instances = run(&["search", "instances", "--series", &specs[2].series]);
    assert_eq!(
        strings(&instances, "00080018"),
        [specs[2].sop.clone(), specs[3].sop.clone()]
    );
    assert_eq!(
        run(&["search", "instances"]).as_array().unwrap().len(),
        specs.len()
    );

    // Metadata at each level, in JSON and XML.
    let metadata = run(&["retrieve", "metadata", "--study", &study(0)]);
    let sops: Vec<String> = specs[..4].iter().map(|s| s.sop.clone()).collect();
    assert_eq!(strings(&metadata, "00080018"), sops);
    assert_eq!(strings(&metadata, "00080080"), ["Test Hospital"; 4]);
    let metadata = run(&[
        "retrieve",
        "metadata",
        "--study",
        &study(0),
        "--series",
        &specs[0].series,
    ]);
    assert_eq!(strings(&metadata, "00080018"), sops[..2]);
    let one = [
        "retrieve",
        "metadata",
        "--study",
        &specs[3].study,
        "--series",
        &specs[3].series,
        "--instance",
        &specs[3].sop,
    ];
    let metadata = run(&one);
    assert_eq!(strings(&metadata, "00080018"), [specs[3].sop.clone()]);
    assert_eq!(string(&metadata[0], "00100010").as_deref(), Some("DOE^P1"));
    let mut xml = one.to_vec();
    xml.push("--xml");
    assert_eq!(run(&xml), metadata);

    // A study that is not there: one line.
    let output = dicomweb(&["--url", &url, "retrieve", "metadata", "--study", "1.2.3.4"]);
    let line = one_line_error(&output);
    assert!(line.contains("404"), "{line}");
}

#[test]
fn option_errors_are_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "--server",
                "a",
                "--config",
                "c.json",
                "search",
                "studies",
            ],
            "cannot be used with",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "--token",
                "t",
                "--user",
                "u",
                "search",
                "studies",
            ],
            "cannot be used with",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "--token",
                "t",
                "--gcp-credentials",
                "k.json",
                "search",
                "studies",
            ],
            "cannot be used with",
        ),
        (&["--server", "a", "search", "studies"], "--config"),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "--gcp-base-url",
                "http://x",
                "search",
                "studies",
            ],
            "--gcp-store",
        ),
        (
            &["--gcp-store", "projects/p/datasets/d", "search", "studies"],
            "expected 8 segments",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "-H",
                "X-No-Colon",
                "search",
                "studies",
            ],
            "'Name: value'",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "-H",
                "Bad Name: v",
                "search",
                "studies",
            ],
            "header name",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "search",
                "studies",
                "-m",
                "PatientID",
            ],
            "KEY=VALUE",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "search",
                "studies",
                "-m",
                "NoSuchKeyword=1",
            ],
            "NoSuchKeyword",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "search",
                "studies",
                "--study",
                "1.2.abc",
            ],
            "1.2.abc",
        ),
        (
            &["--url", "http://127.0.0.1:9/dw", "search", "planets"],
            "planets",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "--timeout",
                "0",
                "search",
                "studies",
            ],
            "positive number of seconds",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "retrieve",
                "metadata",
                "--study",
                "1.2",
                "--instance",
                "1.3",
            ],
            "--series",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "store",
                "--batch-bytes",
                "12 parsecs",
                "x.dcm",
            ],
            "unknown unit",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "--gcp-token-uri",
                "http://x",
                "search",
                "studies",
            ],
            "--gcp-token-uri needs",
        ),
        (&["--url", "not a url", "search", "studies"], "not a url"),
        (&["search", "studies"], "no server: give --url"),
        (
            &[
                "--config",
                "/nonexistent/orthanc.json",
                "--server",
                "a",
                "search",
                "studies",
            ],
            "/nonexistent/orthanc.json",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/dw",
                "--retries",
                "0",
                "search",
                "studies",
            ],
            "127.0.0.1:9",
        ),
    ];
    for (args, expected) in cases {
        let line = one_line_error(&dicomweb(args));
        assert!(
            line.contains(expected),
            "{args:?}: expected {expected:?} in {line}"
        );
    }
}

#[test]
fn the_url_comes_from_the_environment() {
    let orthanc = orthanc_with(&[Spec::new("P9", 9, 1, 1)]);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args(["search", "studies"])
        .env("DICOMWEB_URL", orthanc.dicomweb_url())
        .output()
        .unwrap();
    assert_eq!(strings(&success_json(&output), "00100020"), ["P9"]);
}

#[test]
fn a_server_comes_from_an_orthanc_configuration() {
    let orthanc = orthanc_with(&[Spec::new("P8", 8, 1, 1)]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("orthanc.json");
    let text = format!(
        r#"{{ "DicomWeb": {{ "Servers": {{ "local": {{ "Url": "{}", "HttpHeaders": {{ "X-Test": "1" }} }}, "other": ["http://127.0.0.1:9/"] }} }} }}"#,
        orthanc.dicomweb_url()
    );
    std::fs::write(&config, text).unwrap();
    let config = config.to_str().unwrap();
    let output = dicomweb(&["--config", config, "--server", "local", "search", "studies"]);
    assert_eq!(strings(&success_json(&output), "00100020"), ["P8"]);
    let line = one_line_error(&dicomweb(&[
        "--config", config, "--server", "missing", "search", "studies",
    ]));
    assert!(line.contains("missing"), "{line}");
    assert!(
        line.contains(config) && line.contains("known: local"),
        "{line}"
    );
}
