//! The CLI against stand-in servers, for what Orthanc will not do on demand: retries, DELETE,
//! thumbnails, authentication headers, and a download cut short.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;

use support::{Spec, dicomweb, instance, one_line_error, success_json};
use test_support::files::names;
use test_support::standin::{StandIn, cut_short, multipart, respond};

const JSON: (&str, &str) = ("content-type", "application/dicom+json");

#[test]
fn retries_are_noted_unless_quiet() {
    let server = StandIn::start(|n, _| {
        if n % 2 == 0 {
            respond("503 Service Unavailable", &[("retry-after", "1")], b"busy")
        } else {
            respond("200 OK", &[JSON], b"[]")
        }
    });
    let output = dicomweb(&["--url", &server.origin(), "search", "studies"]);
    assert_eq!(success_json(&output), serde_json::json!([]));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("dicomweb: retrying in 1s: status 503"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let output = dicomweb(&["--url", &server.origin(), "--quiet", "search", "studies"]);
    assert_eq!(success_json(&output), serde_json::json!([]));
    assert!(output.stderr.is_empty());

    // No retries: the 503 is the answer.
    let line = one_line_error(&dicomweb(&[
        "--url",
        &server.origin(),
        "--retries",
        "0",
        "search",
        "studies",
    ]));
    assert!(line.contains("503"), "{line}");
    assert_eq!(server.recorded().len(), 5);
}

#[test]
fn delete_thumbnail_and_authentication() {
    let server = StandIn::start(|_, seen| match seen.method.as_str() {
        "DELETE" => respond(
            "200 OK",
            &[("warning", "299 stand-in \"Deleted lazily\"")],
            b"",
        ),
        _ => respond(
            "200 OK",
            &[("content-type", "image/jpeg")],
            b"\xFF\xD8\xFFjpeg",
        ),
    });
    let url = server.url();
    let output = Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args([
            "--url",
            &url,
            "--user",
            "alice",
            "-H",
            "X-One: 1",
            "-H",
            "X-Two: two",
        ])
        .args(["delete", "--study", "1.2.3", "--series", "1.2.3.4"])
        .env("DICOMWEB_PASSWORD", "s3cret")
        .output()
        .unwrap();
    let summary = success_json(&output);
    assert_eq!(summary["deleted"], "series 1.2.3.4 of study 1.2.3");
    assert_eq!(summary["warnings"][0]["text"], "Deleted lazily");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "dicomweb: warning from the server: 299 stand-in \"Deleted lazily\"\n"
    );
    let seen = &server.recorded()[0];
    assert_eq!(
        (seen.method.as_str(), seen.target.as_str()),
        ("DELETE", "/dicom-web/studies/1.2.3/series/1.2.3.4")
    );
    // alice:s3cret
    assert_eq!(seen.header("authorization"), Some("Basic YWxpY2U6czNjcmV0"));
    assert_eq!(seen.header("x-one"), Some("1"));
    assert_eq!(seen.header("x-two"), Some("two"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("thumb.jpg");
    let output = dicomweb(&[
        "--url",
        &url,
        "--token",
        "tok-123",
        "retrieve",
        "thumbnail",
        "--study",
        "1.2.3",
        "--viewport",
        "64,64",
        "--out",
        file.to_str().unwrap(),
    ]);
    let summary = success_json(&output);
    assert_eq!(summary["bytes"], 7);
    assert_eq!(std::fs::read(&file).unwrap(), b"\xFF\xD8\xFFjpeg");
    let seen = &server.recorded()[1];
    assert_eq!(
        seen.target,
        "/dicom-web/studies/1.2.3/thumbnail?viewport=64,64"
    );
    assert_eq!(seen.header("authorization"), Some("Bearer tok-123"));
    assert_eq!(seen.header("accept"), Some("image/jpeg"));
}

#[test]
fn a_download_cut_short_leaves_no_dcm_file() {
    let first = instance(&Spec::new("P7", 7, 1, 1));
    let second = instance(&Spec::new("P7", 7, 1, 2));
    let (content_type, body) = multipart(&[&first, &second]);
    // Everything up to the middle of the second instance.
    let cut = body.len() - second.len() / 2;
    let server = StandIn::start(move |_, _| {
        cut_short("200 OK", &[("content-type", &content_type)], &body, cut)
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = dicomweb(&[
        "--url",
        &server.origin(),
        "--retries",
        "0",
        "retrieve",
        "instances",
        "--study",
        "1.2.826.0.1.3680043.10.543.7",
        "--out",
        out.to_str().unwrap(),
    ]);
    let line = one_line_error(&output);
    assert!(line.contains("GET"), "{line}");
    // The complete first instance stays; the second leaves nothing behind.
    let first_name = "1.2.826.0.1.3680043.10.543.7.1.1.dcm";
    assert_eq!(names(&out), [first_name]);
    assert_eq!(std::fs::read(out.join(first_name)).unwrap(), first);
}
