//! `dicomweb convert`, run as a program on the golden files and on bad input.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dicomweb-core/tests/golden")
        .join(name)
}

fn dicomweb(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The program may exit before reading everything (detection failed): ignore EPIPE.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn convert(input: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["convert", input.to_str().unwrap()];
    args.extend_from_slice(extra);
    dicomweb(&args, b"")
}

/// A failure: non-zero status, nothing on stdout, exactly one line on stderr.
fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure");
    assert!(
        output.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("dicomweb: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn success(output: Output) -> Vec<u8> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn part10_to_json_is_the_default() {
    let out = success(convert(&golden("rtplan.dcm"), &[]));
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with('{') && text.ends_with("}\n"), "{text}");
    assert!(
        text.contains(r#""300A00B0":{"vr":"SQ","Value":[{"#),
        "{text}"
    );
}

#[test]
fn deflated_part10_converts() {
    // Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99), pydicom's image_dfl.dcm.
    let out = success(convert(&golden("image_dfl.dcm"), &["--to", "json"]));
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        json["00080018"]["Value"][0],
        "1.3.6.1.4.1.5962.1.1.0.0.0.977067309.6001.0"
    );
    assert_eq!(json["00080060"]["Value"][0], "OT");
    assert_eq!(json["00280010"]["Value"][0], 512);
    assert_eq!(json["00280011"]["Value"][0], 512);
    assert_eq!(json["7FE00010"]["vr"], "OB");
    let xml =
        String::from_utf8(success(convert(&golden("image_dfl.dcm"), &["--to", "xml"]))).unwrap();
    assert!(
        xml.contains(r#"<DicomAttribute tag="00280010" vr="US" keyword="Rows">"#),
        "{}",
        &xml[..xml.len().min(2000)]
    );
}

#[test]
fn part10_without_preamble_converts_the_same() {
    let with = std::fs::read(golden("MR_small.dcm")).unwrap();
    let from_stdin = success(dicomweb(&["convert", "-"], &with[128..]));
    assert_eq!(from_stdin, success(convert(&golden("MR_small.dcm"), &[])));
}

#[test]
fn json_to_xml_and_back_keeps_the_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("out.xml");
    let output = convert(
        &golden("chrX1.dcmtk.json"),
        &["--to", "xml", "-o", xml.to_str().unwrap()],
    );
    assert!(success(output).is_empty());
    let xml_text = std::fs::read_to_string(&xml).unwrap();
    assert!(
        xml_text.contains("<NativeDicomModel") && xml_text.contains("Wang"),
        "{xml_text}"
    );
    let back = success(convert(&xml, &[]));
    let direct = success(convert(&golden("chrX1.dcmtk.json"), &["--to", "json"]));
    assert_eq!(
        String::from_utf8(back).unwrap(),
        String::from_utf8(direct).unwrap()
    );
}

#[test]
fn xml_in_a_declared_legacy_encoding_converts() {
    let out = String::from_utf8(success(convert(&golden("chrRuss.dcmtk.xml"), &[]))).unwrap();
    assert!(out.contains("Люкceмбypг"), "{out}");
}

#[test]
fn json_arrays_stay_arrays() {
    let out = success(convert(&golden("rtplan.orthanc.json"), &[]));
    assert!(out.starts_with(b"[{"), "{}", String::from_utf8_lossy(&out));
    let two = br#"[{"00100020": {"vr": "LO", "Value": ["A"]}}, {"00100020": {"vr": "LO", "Value": ["B"]}}]"#;
    let out = String::from_utf8(success(dicomweb(&["convert", "-"], two))).unwrap();
    assert_eq!(
        out,
        "[{\"00100020\":{\"vr\":\"LO\",\"Value\":[\"A\"]}},{\"00100020\":{\"vr\":\"LO\",\"Value\":[\"B\"]}}]\n"
    );
    // One data set in an array can become XML; more cannot.
    let one = br#"[{"00100020": {"vr": "LO", "Value": ["A"]}}]"#;
    assert!(success(dicomweb(&["convert", "-", "--to", "xml"], one)).starts_with(b"<?xml"));
    let error = one_line_error(&dicomweb(&["convert", "-", "--to", "xml"], two));
    assert!(error.contains("array of 2 data sets"), "{error}");
}

#[test]
fn bulk_data_uris_are_kept() {
    let out = String::from_utf8(success(convert(
        &golden("MR_small.orthanc.json"),
        &["--to", "xml"],
    )))
    .unwrap();
    assert!(out.contains("<BulkData uri=\"http://127.0.0.1:"), "{out}");
}

#[test]
fn bad_json_names_the_path() {
    let bad = br#"{"00400275": {"vr": "SQ", "Value": [{"00401001": {"vr": "SH", "Value": [{"x": 1}]}}]}}"#;
    let error = one_line_error(&dicomweb(&["convert", "-"], bad));
    assert!(error.contains("(0040,0275)[0].(0040,1001)"), "{error}");
}

#[test]
fn unrecognised_and_missing_input_fail_in_one_line() {
    let error = one_line_error(&dicomweb(&["convert", "-"], b"hello world"));
    assert!(
        error.contains("unrecognised input") && error.contains("hello world"),
        "{error}"
    );
    let error = one_line_error(&dicomweb(&["convert", "-"], b""));
    assert!(error.contains("empty input"), "{error}");
    let error = one_line_error(&convert(Path::new("/no/such/file.json"), &[]));
    assert!(error.contains("/no/such/file.json"), "{error}");
}

#[test]
fn damaged_part10_fails_in_one_line_at_every_cut() {
    let file = std::fs::read(golden("rtplan.dcm")).unwrap();
    // Cuts inside the meta group, inside element headers and inside values (a cut exactly
    // between two top-level elements would leave a well-formed, shorter file).
    for end in [140, 250, 301, 700, 1500, file.len() - 3] {
        let error = one_line_error(&dicomweb(&["convert", "-"], &file[..end]));
        assert!(error.contains("Part 10"), "{end}: {error}");
    }
}

#[test]
fn garbage_never_panics() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seeds: Vec<Vec<u8>> = ["rtplan.dcm", "chrX1.dcmtk.json", "chrX1.dcmtk.xml"]
        .iter()
        .map(|n| std::fs::read(golden(n)).unwrap())
        .collect();
    for round in 0..40 {
        let mut input = seeds[round % seeds.len()].clone();
        for _ in 0..(next() % 6 + 1) {
            let at = (next() as usize) % input.len();
            input[at] = next() as u8;
        }
        let output = dicomweb(
            &[
                "convert",
                "-",
                "--to",
                if round % 2 == 0 { "json" } else { "xml" },
            ],
            &input,
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        if !output.status.success() {
            one_line_error(&output);
        }
    }
}

#[test]
fn bad_arguments_are_refused() {
    let output = dicomweb(&["convert", "x.json", "--to", "yaml"], b"");
    assert!(!output.status.success());
    let output = dicomweb(&["frobnicate"], b"");
    assert!(!output.status.success());
}
