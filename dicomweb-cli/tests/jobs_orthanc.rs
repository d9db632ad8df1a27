//! `dicomweb transfer` killed with SIGKILL in the middle, then `dicomweb jobs run` with the same
//! state: the destination ends with every instance byte-identical to the source, and no
//! instance was sent twice (STOW-RS requests counted on the wire by a relay in front of the
//! destination, and the job's own counters). Also `--async`, `jobs list`, `show`, `pause`,
//! `resume`, `cancel`.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// A loopback TCP relay to `target` that counts the STOW-RS requests going through it (request
/// lines `POST <path>/studies`), so a test sees on the wire how many batches were sent.
/// Returns the relay's DICOMweb root and the counter.
fn counting_relay(target: &Orthanc) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = format!("127.0.0.1:{}", target.port());
    let pattern = b"POST /dicom-web/studies".to_vec();
    let posts = Arc::new(AtomicUsize::new(0));
    let counter = posts.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(&upstream) else {
                return;
            };
            let (client_in, server_in) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (counter, pattern) = (counter.clone(), pattern.clone());
            std::thread::spawn(move || relay(client_in, server, Some((&pattern, &counter))));
            std::thread::spawn(move || relay(server_in, client, None));
        }
    });
    (format!("http://127.0.0.1:{port}/dicom-web"), posts)
}

/// Copies `from` to `to` until either closes, counting occurrences of a pattern (also across
/// reads) when asked.
fn relay(mut from: TcpStream, mut to: TcpStream, count: Option<(&[u8], &AtomicUsize)>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some((pattern, counter)) = count {
            tail.extend_from_slice(&buf[..n]);
            let found = tail
                .windows(pattern.len())
                .filter(|w| *w == pattern)
                .count();
            counter.fetch_add(found, Ordering::SeqCst);
            let keep = tail.len().min(pattern.len() - 1);
            tail.drain(..tail.len() - keep);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
    let _ = from.shutdown(std::net::Shutdown::Both);
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
    // The destination is reached through a relay that counts STOW-RS requests on the wire.
    let (to_url, stows) = counting_relay(&destination);
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap();
    let study = spec.study_uid();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args(["--quiet", "transfer", "--batch", "2", "--concurrency", "1"])
        .args(["--from", &source.dicomweb_url(), "--to", &to_url])
        .args(["--study", &study, "--state", state_dir])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let at_kill = 'wait: loop {
        let n = destination.count_instances().unwrap();
        if n >= 8 {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            // Let Orthanc finish a request it had received whole, then take the count.
            let mut last = destination.count_instances().unwrap();
            loop {
                std::thread::sleep(Duration::from_millis(300));
                let now = destination.count_instances().unwrap();
                if now == last {
                    break 'wait now;
                }
                last = now;
            }
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
    let stows_at_kill = stows.load(Ordering::SeqCst);

    // The killed process left its job running; `jobs run` takes it back.
    let jobs = json(&dicomweb(&["jobs", "list", "--state", state_dir]));
    assert_eq!(jobs.as_array().unwrap().len(), 1);
    assert_eq!(jobs[0]["State"], "Running", "{jobs}");
    let records = json(&dicomweb(&["--quiet", "jobs", "run", "--state", state_dir]));
    assert_eq!(records[0]["State"], "Success", "{records}");

    assert_eq!(destination.count_instances().unwrap(), 40);
    for instance in spec.instances() {
        assert_eq!(
            destination
                .stored_file(&instance.sop_instance_uid)
                .unwrap()
                .unwrap(),
            instance.bytes
        );
    }
    // Each instance was sent once: those of the batches in flight at the kill (the one being
    // stored and the next, whose request starts once the first body is out) that had arrived
    // were found at the destination (AlreadyThere), not sent again.
    let content = &records[0]["Content"];
    let sent = content["Sent"].as_u64().unwrap();
    let already = content["AlreadyThere"].as_u64().unwrap();
    assert_eq!(sent + already, 40, "{content}");
    assert!(
        already <= 4,
        "at most two batches were in flight: {content}"
    );
    assert_eq!(content["Moved"], 40);
    // On the wire: after the kill, `jobs run` sent exactly the missing instances, two per
    // STOW-RS request (a batch half there at the kill needs one request for its other half;
    // of the two batches in flight, both may be), so no batch, and no instance, that had
    // arrived was sent again.
    let missing = 40 - at_kill as usize;
    let stows_after = stows.load(Ordering::SeqCst) - stows_at_kill;
    eprintln!(
        "{at_kill} of 40 there at the kill, {stows_at_kill} STOW-RS before, {stows_after} after; {content}"
    );
    assert!(
        (missing.div_ceil(2)..=missing.div_ceil(2) + 1).contains(&stows_after),
        "{stows_after} STOW-RS requests after the kill, for {missing} missing instances \
         ({stows_at_kill} before it)"
    );
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
        destination.count_instances().unwrap(),
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
    assert_eq!(destination.count_instances().unwrap(), 6);

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
