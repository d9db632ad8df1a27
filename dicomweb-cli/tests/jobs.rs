//! `dicomweb transfer` killed with SIGKILL in the middle, then `dicomweb jobs run` with the same
//! state: the destination ends with every instance byte-identical to the source, and no
//! instance was sent twice. Also `--async`, `jobs list`, `show`, `pause`, `resume`, `cancel`.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

fn dicomweb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args(args)
        .output()
        .unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn count_instances(orthanc: &Orthanc) -> u64 {
    let stats = orthanc.request("GET", "/statistics", &[], b"").unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&stats.body).unwrap();
    stats["CountInstances"].as_u64().unwrap()
}

fn stored_file(orthanc: &Orthanc, sop: &str) -> Vec<u8> {
    let found = orthanc
        .request("POST", "/tools/lookup", &[], sop.as_bytes())
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&found.body).unwrap();
    let id = list[0]["ID"].as_str().unwrap().to_owned();
    orthanc
        .request("GET", &format!("/instances/{id}/file"), &[], b"")
        .unwrap()
        .body
}

fn source_with(spec: &StudySpec) -> Orthanc {
    let source = Orthanc::start().unwrap();
    for instance in spec.instances() {
        source.upload(&instance.bytes).unwrap();
    }
    source
}

#[test]
fn a_transfer_killed_midway_is_finished_by_jobs_run() {
    // 40 instances of 1 MiB, moved 2 per batch: 21 steps, slow enough to be caught midway.
    let spec = StudySpec {
        series: 4,
        instances_per_series: 10,
        rows: 512,
        columns: 512,
        frames: 2,
        ..StudySpec::new(77)
    };
    let source = source_with(&spec);
    let destination = Orthanc::start().unwrap();
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap();
    let study = spec.study_uid();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args(["--quiet", "transfer", "--batch", "2", "--concurrency", "1"])
        .args([
            "--from",
            &source.dicomweb_url(),
            "--to",
            &destination.dicomweb_url(),
        ])
        .args(["--study", &study, "--state", state_dir])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let at_kill = loop {
        let n = count_instances(&destination);
        if n >= 8 {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            break count_instances(&destination);
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the transfer ended before it was killed"
        );
        assert!(Instant::now() < deadline, "no progress within a minute");
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(
        at_kill < 40,
        "killed too late to test anything: {at_kill} of 40 there"
    );

    // The killed process left its job running; `jobs run` takes it back.
    let jobs = json(&dicomweb(&["jobs", "list", "--state", state_dir]));
    assert_eq!(jobs.as_array().unwrap().len(), 1);
    assert_eq!(jobs[0]["State"], "Running", "{jobs}");
    let records = json(&dicomweb(&["--quiet", "jobs", "run", "--state", state_dir]));
    assert_eq!(records[0]["State"], "Success", "{records}");

    assert_eq!(count_instances(&destination), 40);
    for instance in spec.instances() {
        assert_eq!(
            stored_file(&destination, &instance.sop_instance_uid),
            instance.bytes
        );
    }
    // Each instance was sent once: those of the batch in flight at the kill that had arrived
    // were found at the destination (AlreadyThere), not sent again.
    let content = &records[0]["Content"];
    let sent = content["Sent"].as_u64().unwrap();
    let already = content["AlreadyThere"].as_u64().unwrap();
    assert_eq!(sent + already, 40, "{content}");
    assert!(already <= 2, "at most one batch was in flight: {content}");
    assert_eq!(content["Moved"], 40);
}

#[test]
fn async_submission_then_control_from_other_processes() {
    let spec = StudySpec::new(78);
    let source = source_with(&spec);
    let destination = Orthanc::start().unwrap();
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap();
    let submitted = json(&dicomweb(&[
        "transfer",
        "--async",
        "--from",
        &source.dicomweb_url(),
        "--to",
        &destination.dicomweb_url(),
        "--all",
        "--state",
        state_dir,
    ]));
    // --all: one job per study of the source (here one).
    assert_eq!(submitted.as_array().unwrap().len(), 1, "{submitted}");
    assert_eq!(submitted[0]["StudyInstanceUID"], spec.study_uid().as_str());
    let id = submitted[0]["ID"].as_str().unwrap().to_owned();
    assert_eq!(
        count_instances(&destination),
        0,
        "nothing runs before `jobs run`"
    );
    let shown = json(&dicomweb(&["jobs", "show", &id, "--state", state_dir]));
    assert_eq!(shown["State"], "Pending");
    assert_eq!(shown["Type"], "DicomWebTransfer");

    let paused = json(&dicomweb(&["jobs", "pause", &id, "--state", state_dir]));
    assert_eq!(paused["After"], "Paused", "{paused}");
    // A paused job is not run.
    let ran = json(&dicomweb(&["--quiet", "jobs", "run", "--state", state_dir]));
    assert_eq!(ran.as_array().unwrap().len(), 0, "{ran}");
    json(&dicomweb(&["jobs", "resume", &id, "--state", state_dir]));
    let ran = json(&dicomweb(&["--quiet", "jobs", "run", "--state", state_dir]));
    assert_eq!(ran[0]["State"], "Success", "{ran}");
    assert_eq!(count_instances(&destination), 6);

    // Canceling a finished job changes nothing; resubmitting a successful one is refused.
    let canceled = json(&dicomweb(&["jobs", "cancel", &id, "--state", state_dir]));
    assert_eq!(canceled["After"], "Success", "{canceled}");
    let error = dicomweb(&["jobs", "resubmit", &id, "--state", state_dir]);
    assert!(
        !error.status.success(),
        "a successful job cannot be resubmitted"
    );
    let line = String::from_utf8_lossy(&error.stderr);
    assert_eq!(line.lines().count(), 1, "{line}");
    let error = dicomweb(&["jobs", "show", "not-an-id", "--state", state_dir]);
    assert!(String::from_utf8_lossy(&error.stderr).contains("invalid job ID"));
}

#[test]
fn a_transfer_of_a_missing_study_fails_with_the_reason() {
    let source = Orthanc::start().unwrap();
    let destination = Orthanc::start().unwrap();
    let state = tempfile::tempdir().unwrap();
    let out = dicomweb(&[
        "--quiet",
        "transfer",
        "--from",
        &source.dicomweb_url(),
        "--to",
        &destination.dicomweb_url(),
        "--study",
        "1.2.3.4",
        "--state",
        Path::new(state.path()).to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("did not succeed"), "{stderr}");
}
