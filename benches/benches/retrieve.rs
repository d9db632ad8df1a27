//! Retrieve a study from a real Orthanc into a folder on a tmpfs, against curl writing the
//! same WADO-RS multipart body to one file (curl is the server's own pace: it parses nothing
//! and writes one file).
//!
//! - `retrieve_small_1000`: 1,000 instances of about 36 KiB (4 series of 250 CT-like slices,
//!   128×128): what each file costs us (temporary file, meta group, rename) against one
//!   stream into one file.
//! - `retrieve_concurrent`: a 4-series study (480 MiB by default) retrieved by `dicomweb
//!   retrieve instances --concurrency N` (its series over several requests at once) against
//!   one curl stream of the whole study.
//! - `retrieve_one_series`: a study of the same size as one series of 24 MiB instances, which
//!   several requests at once split in ranges of its instances, an instance a request.
//!
//! Each round runs subject and baseline once, in alternating order (the later writer would
//! otherwise meet the earlier one's write-back), each into an emptied folder under
//! `/dev/shm`; the medians of the rounds are compared. Our files are counted and a sample is
//! compared byte for byte with the files stored.
//!
//! Settings (environment): `DICOMWEB_BENCH_ROUNDS` (default 5), `DICOMWEB_BENCH_MB` (the
//! concurrent study's size, default 480), `DICOMWEB_BENCH_CONCURRENCY` (default: the
//! program's). Prints `RATIO retrieve_small_1000 vs curl: x` (curl's time ÷ ours; goal
//! ≥ 0.67), `RATIO retrieve_concurrent vs curl_single_stream: x` (goal ≥ 1.33) and `RATIO
//! retrieve_one_series vs curl_single_stream: x`, and our peak memory for each (`PEAK
//! retrieve_<name> ours: N MiB`).

#![allow(clippy::unwrap_used)] // a benchmark: a failed unwrap is a failed run

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{build_dicomweb, env_or, measure, settle, stored_count, target_dir};
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

fn main() {
    let rounds: usize = env_or("DICOMWEB_BENCH_ROUNDS", 5);
    let mb: u64 = env_or("DICOMWEB_BENCH_MB", 480);
    let concurrency: Option<u32> = std::env::var("DICOMWEB_BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok());
    let dicomweb = build_dicomweb(&target_dir());
    let orthanc = Orthanc::start().unwrap();

    let small = StudySpec {
        series: 4,
        instances_per_series: 250,
        rows: 128,
        columns: 128,
        modality: "CT".to_owned(),
        ..StudySpec::new(1000)
    };
    let ratio = compare(&dicomweb, &orthanc, "small", &small, rounds, None);
    println!("RATIO retrieve_small_1000 vs curl: {ratio:.3}");

    let big = support::bench_study(mb);
    let ratio = compare(
        &dicomweb,
        &orthanc,
        "concurrent",
        &big,
        rounds,
        Some(concurrency),
    );
    println!("RATIO retrieve_concurrent vs curl_single_stream: {ratio:.3}");

    let one_series = StudySpec {
        series: 1,
        seed: 401,
        rows: 2048,
        columns: 2048,
        frames: 3,
        ..support::bench_study(mb)
    }
    .with_total_bytes(mb * 1024 * 1024);
    let ratio = compare(
        &dicomweb,
        &orthanc,
        "one_series",
        &one_series,
        rounds,
        Some(concurrency),
    );
    println!("RATIO retrieve_one_series vs curl_single_stream: {ratio:.3}");
}

/// Stores `spec` in `orthanc`, retrieves it `rounds` times each way (`name` labels the
/// lines printed), deletes it; curl's
/// median time ÷ ours. `concurrency`: `None` to retrieve in one stream, `Some(n)` to pass
/// `--concurrency n` (`Some(None)`: the program's default).
fn compare(
    dicomweb: &Path,
    orthanc: &Orthanc,
    name: &str,
    spec: &StudySpec,
    rounds: usize,
    concurrency: Option<Option<u32>>,
) -> f64 {
    let work = tempfile::tempdir().unwrap();
    let files = spec.write_to(&work.path().join("study")).unwrap();
    let (_, out) = measure(
        Command::new(dicomweb)
            .args(["--url", &orthanc.dicomweb_url(), "--quiet", "store"])
            .arg(work.path().join("study")),
    );
    assert_eq!(stored_count(&out), files.len(), "loading Orthanc: {out}");
    let study = spec.study_uid();
    println!(
        "{name}: {} instances of {} KiB, {} MiB in all",
        files.len(),
        spec.instance_bytes() / 1024,
        spec.total_bytes() / (1024 * 1024)
    );
    let shm = tempfile::Builder::new()
        .prefix("dicomweb-bench-")
        .tempdir_in("/dev/shm")
        .unwrap();
    let (ours_dir, curl_file) = (shm.path().join("ours"), shm.path().join("curl.multipart"));
    let url = format!("{}/studies/{study}", orthanc.dicomweb_url());
    let mut ours: Vec<Duration> = Vec::new();
    let mut curl: Vec<Duration> = Vec::new();
    let mut peak_kib = 0;
    for round in 0..rounds {
        for subject_first in [round % 2 == 0, round % 2 != 0] {
            let _ = std::fs::remove_dir_all(&ours_dir);
            let _ = std::fs::remove_file(&curl_file);
            settle();
            if subject_first {
                let mut command = Command::new(dicomweb);
                command
                    .args(["--url", &orthanc.dicomweb_url(), "--quiet", "retrieve"])
                    .args(["instances", "--study", &study, "--out"])
                    .arg(&ours_dir);
                match concurrency {
                    Some(Some(n)) => {
                        command.args(["--concurrency", &n.to_string()]);
                    }
                    Some(None) => {}
                    None => {
                        command.args(["--concurrency", "1"]);
                    }
                }
                let (run, _) = measure(&mut command);
                check(&ours_dir, spec, files.len());
                ours.push(run.wall);
                peak_kib = peak_kib.max(run.peak_kib);
            } else {
                let (run, _) = measure(
                    Command::new("curl")
                        .args(["--silent", "--show-error", "--fail", "--output"])
                        .arg(&curl_file)
                        .args([
                            "--header",
                            "Accept: multipart/related; type=\"application/dicom\"",
                            &url,
                        ]),
                );
                let written = std::fs::metadata(&curl_file).unwrap().len();
                assert!(written >= spec.total_bytes(), "curl wrote {written} bytes");
                curl.push(run.wall);
            }
        }
        println!(
            "{name} round {}: ours {:.3?}, curl {:.3?}",
            round + 1,
            ours[round],
            curl[round]
        );
    }
    orthanc.delete_study(&study).unwrap();
    let (ours, curl) = (median(ours), median(curl));
    println!("{name}: median ours {ours:.3?}, curl {curl:.3?}");
    println!("PEAK retrieve_{name} ours: {} MiB", peak_kib / 1024);
    curl.as_secs_f64() / ours.as_secs_f64()
}

/// Every instance is in `dir`; the first and a middle one byte for byte.
fn check(dir: &Path, spec: &StudySpec, count: usize) {
    let found = std::fs::read_dir(dir).unwrap().count();
    assert_eq!(found, count, "files retrieved into {}", dir.display());
    for instance in spec.instances().step_by(count / 2).take(2) {
        let path = dir.join(format!("{}.dcm", instance.sop_instance_uid));
        let ours = std::fs::read(&path).unwrap();
        assert!(
            ours == instance.bytes,
            "{} not retrieved intact",
            path.display()
        );
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
