//! What the benchmarks that run programs share: a child process measured for wall time, peak
//! memory and processor time (through `python/measure.py`), the pause that lets the machine
//! settle between measurements, settings from the environment, and the release `dicomweb`
//! program.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use test_support::study::StudySpec;

/// One measured run of a child process.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    /// Wall time from start to exit.
    pub wall: Duration,
    /// The maximum resident set, KiB.
    pub peak_kib: u64,
    /// Processor time, user and system, of the process and its children.
    #[allow(dead_code)] // read by the retrieve bench; each bench compiles this module itself
    pub cpu: Duration,
}

/// Runs a command to its end under `python/measure.py`; its wall time, peak memory and
/// standard output.
pub fn measure(command: &mut Command) -> (Run, String) {
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let result_file = tempfile::NamedTempFile::new().unwrap();
    let measure = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/measure.py");
    let status = Command::new("python3")
        .arg(measure)
        .arg(result_file.path())
        .arg(command.get_program())
        .args(command.get_args())
        .stdout(Stdio::from(out_file.reopen().unwrap()))
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    assert!(status.success(), "{command:?} failed");
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(result_file.path()).unwrap()).unwrap();
    let run = Run {
        wall: Duration::from_secs_f64(result["wall"].as_f64().unwrap()),
        peak_kib: result["peak_kib"].as_u64().unwrap(),
        cpu: Duration::from_secs_f64(result["cpu"].as_f64().unwrap()),
    };
    (run, std::fs::read_to_string(out_file.path()).unwrap())
}

/// Lets the machine settle between measurements: dirty pages written back, Orthanc idle.
pub fn settle() {
    let _ = Command::new("sync").status();
    std::thread::sleep(Duration::from_secs(2));
}

/// The `stored` count in `dicomweb store`'s JSON summary.
pub fn stored_count(out: &str) -> usize {
    let value: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    value["stored"].as_u64().unwrap() as usize
}

/// A setting from the environment, or `default` when unset or unreadable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The target folder: this benchmark runs from `<target>/release/deps/`.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// Builds the release `dicomweb` program into the same target folder.
pub fn build_dicomweb(target: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "dicomweb-cli",
            "--bin",
            "dicomweb",
        ])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "building dicomweb failed");
    target.join("release/dicomweb")
}

/// The study both benchmarks move: 4 CT series of 512×512 16-bit images, 2 frames each
/// (1 MiB an instance), `mb` MiB in all.
pub fn bench_study(mb: u64) -> StudySpec {
    StudySpec {
        series: 4,
        rows: 512,
        columns: 512,
        frames: 2,
        modality: "CT".to_owned(),
        ..StudySpec::new(400)
    }
    .with_total_bytes(mb * 1024 * 1024)
}
