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
//! - `retrieve_concurrent_compressed`: the same study from an Orthanc that compresses its
//!   storage (`StorageCompression`), where one stream goes at the pace of the server
//!   inflating its files, a core per request: the case several requests at once are for.
//! - `retrieve_one_series`: a study of the same size as one series of 24 MiB instances, which
//!   several requests at once split in ranges of its instances, an instance a request.
//!
//! Processor time is counted for each run, ours or curl's and Orthanc's (from
//! `/proc/PID/stat`), and each comparison prints `CEILING <name> vs <baseline>: x`: the best
//! ratio a client could reach on this machine if it used no more processor time than curl and
//! kept every core busy, curl's median time ÷ (the processor time curl and Orthanc used ÷ the
//! cores). Where curl and the server between them already use most of the cores, no number of
//! requests at once can go much faster than one stream.
//!
//! Each round runs subject and baseline once, in alternating order (the later writer would
//! otherwise meet the earlier one's write-back), each into an emptied folder under
//! `/dev/shm`; the medians of the rounds are compared. Our files are counted and a sample is
//! compared byte for byte with the files stored.
//!
//! Settings (environment): `DICOMWEB_BENCH_ROUNDS` (default 5), `DICOMWEB_BENCH_MB` (the
//! concurrent study's size, default 480), `DICOMWEB_BENCH_CONCURRENCY` (default: the
//! program's). Prints `RATIO retrieve_small_1000 vs curl: x` (curl's time ÷ ours; goal
//! ≥ 0.67), `RATIO retrieve_concurrent vs curl_single_stream: x` and `RATIO
//! retrieve_concurrent_compressed vs curl_single_stream: x` (goal ≥ 1.33), `RATIO
//! retrieve_one_series vs curl_single_stream: x`, the `CEILING` of each, and our peak memory
//! for each (`PEAK retrieve_<name> ours: N MiB`).

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

    let compressed =
        Orthanc::start_with_config(&serde_json::json!({ "StorageCompression": true })).unwrap();
    let ratio = compare(
        &dicomweb,
        &compressed,
        "concurrent_compressed",
        &big,
        rounds,
        Some(concurrency),
    );
    println!("RATIO retrieve_concurrent_compressed vs curl_single_stream: {ratio:.3}");
    drop(compressed);

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
    // Processor time of each run, the client's and Orthanc's.
    let mut ours_cpu: Vec<(Duration, Duration)> = Vec::new();
    let mut curl_cpu: Vec<(Duration, Duration)> = Vec::new();
    let mut peak_kib = 0;
    for round in 0..rounds {
        for subject_first in [round % 2 == 0, round % 2 != 0] {
            let _ = std::fs::remove_dir_all(&ours_dir);
            let _ = std::fs::remove_file(&curl_file);
            settle();
            let server_before = process_cpu(orthanc.pid());
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
                ours_cpu.push((run.cpu, process_cpu(orthanc.pid()) - server_before));
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
                curl_cpu.push((run.cpu, process_cpu(orthanc.pid()) - server_before));
                let written = std::fs::metadata(&curl_file).unwrap().len();
                assert!(written >= spec.total_bytes(), "curl wrote {written} bytes");
                curl.push(run.wall);
            }
        }
        let ((ours_client, ours_server), (curl_client, curl_server)) =
            (ours_cpu[round], curl_cpu[round]);
        println!(
            "{name} round {}: ours {:.3?} (processor: ours {ours_client:.2?}, Orthanc \
             {ours_server:.2?}), curl {:.3?} (curl {curl_client:.2?}, Orthanc {curl_server:.2?})",
            round + 1,
            ours[round],
            curl[round]
        );
    }
    orthanc.delete_study(&study).unwrap();
    let (ours, curl) = (median(ours), median(curl));
    println!("{name}: median ours {ours:.3?}, curl {curl:.3?}");
    println!("PEAK retrieve_{name} ours: {} MiB", peak_kib / 1024);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let busy = median(
        curl_cpu
            .iter()
            .map(|(client, server)| *client + *server)
            .collect(),
    );
    let ceiling = curl.as_secs_f64() / (busy.as_secs_f64() / cores as f64);
    let baseline = if name.starts_with("small") {
        "curl"
    } else {
        "curl_single_stream"
    };
    println!(
        "CEILING retrieve_{name} vs {baseline}: {ceiling:.3} (curl and Orthanc used {busy:.2?} \
         of processor time in {curl:.2?}, on {cores} cores)"
    );
    curl.as_secs_f64() / ours.as_secs_f64()
}

/// The processor time (user and system) a process has used so far, from `/proc/PID/stat`,
/// whose counts are in USER_HZ, 100 a second on Linux.
fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces: the
    // state is field 3, utime and stime fields 14 and 15.
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
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
