//! Store and retrieve a whole study (400 MiB by default) against a real Orthanc: the `dicomweb`
//! program against Python's `dicomweb-client` (PyPI) doing the same, in the same run.
//!
//! Each side runs as its own process; its wall time and peak memory (maximum resident set,
//! from `getrusage` in a small wrapper, `python/measure.py`) are measured. Per round: Python stores the study, it is deleted, `dicomweb`
//! stores it; then each retrieves it into an empty folder. Our retrieved files are checked
//! byte for byte against the files stored; Python's are counted.
//!
//! Settings (environment): `DICOMWEB_BENCH_MB` (study size, default 400),
//! `DICOMWEB_BENCH_ROUNDS` (default 3). Needs Orthanc with its DICOMweb plugin
//! (`scripts/install-deps.sh`) and python3 with venv; the Python packages are installed into
//! a virtual environment under the target folder on first use (pinned versions).
//!
//! Prints `RATIO transfer_<op>_wall ours/python: x` (goal ≤ 0.7) and
//! `PEAK transfer_<op> ours: N MiB python: N MiB` (goal: ours ≤ 64 MiB whatever the size).

#![allow(clippy::unwrap_used)] // a benchmark: a failed unwrap is a failed run

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{
    Run, bench_study, build_dicomweb, env_or, measure, settle, stored_count, target_dir,
};

use test_support::orthanc::Orthanc;

const DICOMWEB_CLIENT: &str = "dicomweb-client==0.61.2";
const PYDICOM: &str = "pydicom==3.0.2";

fn main() {
    let mb: u64 = env_or("DICOMWEB_BENCH_MB", 400);
    let rounds: usize = env_or("DICOMWEB_BENCH_ROUNDS", 3);
    let target = target_dir();
    let dicomweb = build_dicomweb(&target);
    let python = python_venv(&target);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/bench_dicomweb_client.py");

    let work = tempfile::tempdir().unwrap();
    let spec = bench_study(mb);
    let study_dir = work.path().join("study");
    let generated = Instant::now();
    let files = spec.write_to(&study_dir).unwrap();
    let study = spec.study_uid();
    println!(
        "study: {} instances of {} KiB (512×512, 16-bit, 2 frames), {} MiB in all; generated in {:.1?}",
        files.len(),
        spec.instance_bytes() / 1024,
        spec.total_bytes() / (1024 * 1024),
        generated.elapsed()
    );

    let orthanc = Orthanc::start().unwrap();
    let url = orthanc.dicomweb_url();
    let mut ours_store = Vec::new();
    let mut python_store = Vec::new();
    let mut ours_retrieve = Vec::new();
    let mut python_retrieve = Vec::new();
    for round in 1..=rounds {
        orthanc.delete_study(&study).unwrap();
        settle();
        let (run, out) = measure(
            Command::new(&python)
                .arg(&script)
                .args(["store", &url])
                .arg(&study_dir),
        );
        assert_eq!(stored_count(&out), files.len(), "python store: {out}");
        python_store.push(run);
        orthanc.delete_study(&study).unwrap();
        settle();

        let (run, out) = measure(
            Command::new(&dicomweb)
                .args(["--url", &url, "--quiet", "store"])
                .arg(&study_dir),
        );
        assert_eq!(stored_count(&out), files.len(), "dicomweb store: {out}");
        ours_store.push(run);

        // Each retrieve goes first every other round: whoever runs right after the store
        // would meet Orthanc still settling (writing back, indexing).
        let mut retrieve_ours = || {
            settle();
            let ours_dir = work.path().join(format!("ours-{round}"));
            let (run, _) = measure(
                Command::new(&dicomweb)
                    .args(["--url", &url, "--quiet", "retrieve", "instances"])
                    .args(["--study", &study, "--out"])
                    .arg(&ours_dir),
            );
            for file in &files {
                let name = file.file_name().unwrap();
                assert!(
                    std::fs::read(ours_dir.join(name)).unwrap() == std::fs::read(file).unwrap(),
                    "{name:?} differs from the file stored"
                );
            }
            ours_retrieve.push(run);
            std::fs::remove_dir_all(&ours_dir).unwrap();
        };
        let mut retrieve_python = || {
            settle();
            let python_dir = work.path().join(format!("python-{round}"));
            let (run, out) = measure(
                Command::new(&python)
                    .arg(&script)
                    .args(["retrieve", &url, &study])
                    .arg(&python_dir),
            );
            assert!(
                out.contains(&format!("\"retrieved\": {}", files.len())),
                "python retrieve: {out}"
            );
            python_retrieve.push(run);
            std::fs::remove_dir_all(&python_dir).unwrap();
        };
        if round % 2 == 1 {
            retrieve_ours();
            retrieve_python();
        } else {
            retrieve_python();
            retrieve_ours();
        }
        println!(
            "round {round}: store ours {:.2?} ({} MiB) python {:.2?} ({} MiB); retrieve ours {:.2?} ({} MiB) python {:.2?} ({} MiB)",
            ours_store[round - 1].wall,
            ours_store[round - 1].peak_kib / 1024,
            python_store[round - 1].wall,
            python_store[round - 1].peak_kib / 1024,
            ours_retrieve[round - 1].wall,
            ours_retrieve[round - 1].peak_kib / 1024,
            python_retrieve[round - 1].wall,
            python_retrieve[round - 1].peak_kib / 1024,
        );
    }
    report("store", &ours_store, &python_store, spec.total_bytes());
    report(
        "retrieve",
        &ours_retrieve,
        &python_retrieve,
        spec.total_bytes(),
    );
}

fn report(op: &str, ours: &[Run], python: &[Run], bytes: u64) {
    let median = |runs: &[Run]| {
        let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
        walls.sort();
        walls[walls.len() / 2]
    };
    let peak = |runs: &[Run]| runs.iter().map(|r| r.peak_kib).max().unwrap_or(0) / 1024;
    let (o, p) = (median(ours), median(python));
    let rate = |d: Duration| bytes as f64 / (1024.0 * 1024.0) / d.as_secs_f64();
    println!(
        "{op}: median wall ours {o:.2?} ({:.0} MiB/s), python {p:.2?} ({:.0} MiB/s)",
        rate(o),
        rate(p)
    );
    println!(
        "RATIO transfer_{op}_wall ours/python: {:.3}",
        o.as_secs_f64() / p.as_secs_f64()
    );
    println!(
        "PEAK transfer_{op} ours: {} MiB python: {} MiB",
        peak(ours),
        peak(python)
    );
}

/// A virtual environment with Python's dicomweb-client, created on first use.
fn python_venv(target: &Path) -> PathBuf {
    let venv = target.join("bench-venv");
    let python = venv.join("bin/python");
    let ready = Command::new(&python)
        .args(["-c", "import dicomweb_client, pydicom"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "python3 -m venv failed (apt-get install python3-venv)"
        );
        let status = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", DICOMWEB_CLIENT, PYDICOM])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "pip install {DICOMWEB_CLIENT} {PYDICOM} failed"
        );
    }
    python
}
