//! Copy a whole study (400 MiB by default) from one real Orthanc to another: `dicomweb
//! transfer` against Orthanc's own two ways, its DICOMweb plugin's STOW-RS job
//! (`POST /dicom-web/servers/{name}/stow`) and Orthanc peering (`POST /peers/{name}/store`),
//! in the same run.
//!
//! One source Orthanc holds the study (stored once with `dicomweb store`, not measured); its
//! configuration names a destination for each of Orthanc's ways (`DicomWeb.Servers`,
//! `OrthancPeers`). Each method copies into a destination Orthanc of its own, which starts
//! fresh and is emptied before every copy and after its check (so that the disk holds at most
//! two copies: the source's and one destination's; the generated files are deleted once the
//! source holds them, but for the sample below). Per round, each method once; the order rotates from
//! round to round, and the machine settles before each copy.
//!
//! - ours: the `dicomweb transfer` process, `--state` in a temporary folder, measured by
//!   `python/measure.py` (wall time and peak memory);
//! - Orthanc's two jobs: submitted with `"Synchronous": false`, timed from the `POST` until
//!   `GET /jobs/{id}` says `Success` (polled every 20 ms).
//!
//! Every copy is checked: the destination holds every instance; ours also byte for byte on a
//! sample of files (first, middle, last).
//!
//! Settings (environment): `DICOMWEB_BENCH_MB` (study size, default 400),
//! `DICOMWEB_BENCH_ROUNDS` (default 3), `DICOMWEB_BENCH_TRANSFER_ARGS` (more options for
//! `dicomweb transfer`, split at white space: `--batch 32`). Prints
//! `RATIO transfer_throughput vs orthanc_dicomweb_stow: x` (goal ≥ 1.0),
//! `RATIO transfer_throughput vs orthanc_peering: x` (goal ≥ 0.8), throughput ratios of the
//! median times (theirs ÷ ours), and `PEAK transfer_copy ours: N MiB` (goal ≤ 64 MiB whatever
//! the size).

#![allow(clippy::unwrap_used)] // a benchmark: a failed unwrap is a failed run

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{
    Run, bench_study, build_dicomweb, env_or, measure, settle, stored_count, target_dir,
};
use test_support::orthanc::Orthanc;

/// The destination's name in the source's `DicomWeb.Servers` and `OrthancPeers`.
const DESTINATION: &str = "destination";

/// How a copy is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Ours,
    Stow,
    Peering,
}

const METHODS: [Method; 3] = [Method::Ours, Method::Stow, Method::Peering];

fn main() {
    let mb: u64 = env_or("DICOMWEB_BENCH_MB", 400);
    let rounds: usize = env_or("DICOMWEB_BENCH_ROUNDS", 3);
    let extra: Vec<String> = std::env::var("DICOMWEB_BENCH_TRANSFER_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let dicomweb = build_dicomweb(&target_dir());

    let work = tempfile::tempdir().unwrap();
    let spec = bench_study(mb);
    let study_dir = work.path().join("study");
    let files = spec.write_to(&study_dir).unwrap();
    let study = spec.study_uid();
    let mib = spec.total_bytes() as f64 / (1024.0 * 1024.0);
    println!(
        "study: {} instances of {} KiB (512×512, 16-bit, 2 frames), {mib:.0} MiB in all",
        files.len(),
        spec.instance_bytes() / 1024,
    );

    let to_ours = Orthanc::start().unwrap();
    let to_stow = Orthanc::start().unwrap();
    let to_peer = Orthanc::start().unwrap();
    let source = Orthanc::start_with_config(&serde_json::json!({
        "DicomWeb": {"Servers": {DESTINATION: [format!("{}/", to_stow.dicomweb_url())]}},
        "OrthancPeers": {DESTINATION: [format!("{}/", to_peer.http_url())]},
    }))
    .unwrap();
    let (_, out) = measure(
        Command::new(&dicomweb)
            .args(["--url", &source.dicomweb_url(), "--quiet", "store"])
            .arg(&study_dir),
    );
    assert_eq!(stored_count(&out), files.len(), "loading the source: {out}");
    // The disk then holds the source's copy and at most one destination's: the files are
    // gone but for the sample ours is compared with, and each copy is deleted once checked.
    let sample = sample(&files);
    let instances = files.len() as u64;
    std::fs::remove_dir_all(&study_dir).unwrap();
    let study_id = orthanc_study_id(&source, &study);

    let mut ours: Vec<Run> = Vec::new();
    let mut stow: Vec<Duration> = Vec::new();
    let mut peering: Vec<Duration> = Vec::new();
    for round in 1..=rounds {
        for k in 0..METHODS.len() {
            let method = METHODS[(round - 1 + k) % METHODS.len()];
            let destination = match method {
                Method::Ours => &to_ours,
                Method::Stow => &to_stow,
                Method::Peering => &to_peer,
            };
            destination.delete_study(&study).unwrap();
            assert_eq!(destination.count_instances().unwrap(), 0);
            settle();
            match method {
                Method::Ours => {
                    let state = tempfile::tempdir().unwrap();
                    let (run, _) = measure(
                        Command::new(&dicomweb)
                            .arg("--quiet")
                            .arg("transfer")
                            .args(["--from", &source.dicomweb_url()])
                            .args(["--to", &to_ours.dicomweb_url()])
                            .args(["--study", &study, "--state"])
                            .arg(state.path())
                            .args(&extra),
                    );
                    check_sample(&to_ours, &sample);
                    ours.push(run);
                }
                Method::Stow => stow.push(orthanc_job(
                    &source,
                    &format!("/dicom-web/servers/{DESTINATION}/stow"),
                    &study_id,
                )),
                Method::Peering => peering.push(orthanc_job(
                    &source,
                    &format!("/peers/{DESTINATION}/store"),
                    &study_id,
                )),
            }
            assert_eq!(
                destination.count_instances().unwrap(),
                instances,
                "{method:?}: the destination does not hold the whole study"
            );
            destination.delete_study(&study).unwrap();
        }
        let last = ours[round - 1];
        println!(
            "round {round}: ours {:.2?} ({} MiB peak), Orthanc STOW job {:.2?}, Orthanc peering {:.2?}",
            last.wall,
            last.peak_kib / 1024,
            stow[round - 1],
            peering[round - 1],
        );
    }

    let ours_median = median(ours.iter().map(|r| r.wall).collect());
    let stow_median = median(stow);
    let peering_median = median(peering);
    let rate = |d: Duration| mib / d.as_secs_f64();
    println!(
        "copy: median ours {ours_median:.2?} ({:.0} MiB/s), Orthanc STOW job {stow_median:.2?} ({:.0} MiB/s), Orthanc peering {peering_median:.2?} ({:.0} MiB/s)",
        rate(ours_median),
        rate(stow_median),
        rate(peering_median)
    );
    let ratio = |theirs: Duration| theirs.as_secs_f64() / ours_median.as_secs_f64();
    println!(
        "RATIO transfer_throughput vs orthanc_dicomweb_stow: {:.3}",
        ratio(stow_median)
    );
    println!(
        "RATIO transfer_throughput vs orthanc_peering: {:.3}",
        ratio(peering_median)
    );
    let peak = ours.iter().map(|r| r.peak_kib).max().unwrap_or(0) / 1024;
    println!("PEAK transfer_copy ours: {peak} MiB");
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Orthanc's own ID of the study with this Study Instance UID.
fn orthanc_study_id(orthanc: &Orthanc, study: &str) -> String {
    orthanc
        .lookup(study)
        .unwrap()
        .into_iter()
        .find(|(kind, _)| kind == "Study")
        .map(|(_, id)| id)
        .unwrap()
}

/// Submits one of Orthanc's copy jobs (`path`, for the study `study_id`) and waits for its
/// success; the time from the submission to the success.
fn orthanc_job(orthanc: &Orthanc, path: &str, study_id: &str) -> Duration {
    let body = serde_json::json!({"Resources": [study_id], "Synchronous": false}).to_string();
    let started = Instant::now();
    let answer = orthanc
        .request(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .unwrap();
    let submitted: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    let Some(id) = submitted["ID"].as_str() else {
        panic!(
            "POST {path} answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
    };
    loop {
        let answer = orthanc
            .request("GET", &format!("/jobs/{id}"), &[], b"")
            .unwrap();
        let job: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        match job["State"].as_str() {
            Some("Success") => return started.elapsed(),
            Some("Pending" | "Running") => std::thread::sleep(Duration::from_millis(20)),
            _ => panic!(
                "the job of POST {path} did not succeed: {job}\nthe source's log ends with:\n{}",
                tail(&orthanc.log())
            ),
        }
    }
}

/// The last lines of a log.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The first, the middle and the last file: (SOP Instance UID, bytes).
fn sample(files: &[PathBuf]) -> Vec<(String, Vec<u8>)> {
    [&files[0], &files[files.len() / 2], &files[files.len() - 1]]
        .into_iter()
        .map(|file| {
            let sop = file.file_stem().unwrap().to_str().unwrap().to_owned();
            (sop, std::fs::read(file).unwrap())
        })
        .collect()
}

/// Checks that the destination holds the sample's files byte for byte.
fn check_sample(destination: &Orthanc, sample: &[(String, Vec<u8>)]) {
    for (sop, bytes) in sample {
        let stored = destination.stored_file(sop).unwrap();
        assert!(
            stored.as_deref() == Some(bytes.as_slice()),
            "{sop}: the destination's file differs from the one stored at the source"
        );
    }
}
