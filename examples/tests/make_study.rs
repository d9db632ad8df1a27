//! The `make-study` program: files on disk, a JSON line that describes them, clear errors.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::process::Command;

#[test]
fn writes_the_study_and_describes_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_make-study"))
        .args([
            "--seed",
            "9",
            "--series",
            "2",
            "--instances",
            "2",
            "--frames",
            "2",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["instances"], 4);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 4);
    let total: u64 = files
        .iter()
        .map(|f| f.as_ref().unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(line["bytes"], total);
    let study = line["study"].as_str().unwrap();
    assert!(study.starts_with("2.25."), "{study}");
}

#[test]
fn total_mb_grows_the_study_and_bad_options_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_make-study"))
        .args(["--total-mb", "1", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(line["bytes"].as_u64().unwrap() >= 1024 * 1024);

    let out = Command::new(env!("CARGO_BIN_EXE_make-study"))
        .args(["--frames", "0", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--frames"));
}
