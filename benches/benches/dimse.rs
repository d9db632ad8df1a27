//! A study (300 MiB by default) sent by dcmtk's `dcmsend` into `dicomweb adapter` (in front of
//! a real Orthanc, through its DICOMweb plugin) and into Orthanc's own DICOM port, in the same
//! run; then a study-level C-FIND through the adapter against Orthanc's own C-FIND.
//!
//! Two Orthancs start fresh: one behind the adapter (reached only by DICOMweb), one whose DICOM
//! port takes the direct C-STOREs (`DicomAlwaysAllowFind` on, so that any AE may query it).
//! The adapter runs as a child process (the release `dicomweb` program) with its `--state` in
//! a temporary folder, for the whole run.
//!
//! - C-STORE: per round, each side once, the first side alternating from round to round; before
//!   each send the study is deleted from that side's Orthanc and the machine settles. The
//!   adapter's time runs from the start of `dcmsend` until Orthanc's REST API counts every
//!   instance (polled every 20 ms): the adapter answers a C-STORE once the instance is spooled
//!   and uploads it by STOW-RS behind, so only the instances on the DICOMweb server count.
//!   Orthanc's time runs until `dcmsend` ends and Orthanc counts every instance.
//! - C-FIND: `findscu -S` at STUDY level by Study Instance UID with a few return keys, each
//!   side several times in turn (a process each, as a modality would run it); the medians.
//!
//! Settings (environment): `DICOMWEB_BENCH_MB` (study size, default 300),
//! `DICOMWEB_BENCH_ROUNDS` (default 3), `DICOMWEB_BENCH_FINDS` (C-FINDs per side, default 15),
//! `DICOMWEB_BENCH_ADAPTER_ARGS` (more options for `dicomweb adapter`, split at white space).
//! Prints `RATIO adapter_cstore vs orthanc_cstore: x` (throughput ratio: Orthanc's median time
//! ÷ the adapter's; goal ≥ 0.8), `PEAK adapter_cstore: N MiB` (the adapter's VmHWM after every
//! round) and `RATIO adapter_cfind vs orthanc_cfind: x` (Orthanc's median latency ÷ the
//! adapter's).

#![allow(clippy::unwrap_used)] // a benchmark: a failed unwrap is a failed run

#[allow(dead_code)] // the child-process measuring of `transfer` and `copy` is not used here
mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{bench_study, build_dicomweb, env_or, settle, target_dir};
use test_support::orthanc::Orthanc;

/// The adapter's AE title.
const ADAPTER_AET: &str = "ADAPTER";
/// Orthanc's AE title (test-support's configuration).
const ORTHANC_AET: &str = "DICOMWEBRS";
/// How long an upload may take before the run fails.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Where a study is sent or a query asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Adapter,
    Orthanc,
}

const SIDES: [Side; 2] = [Side::Adapter, Side::Orthanc];

fn main() {
    let mb: u64 = env_or("DICOMWEB_BENCH_MB", 300);
    let rounds: usize = env_or("DICOMWEB_BENCH_ROUNDS", 3);
    let finds: usize = env_or("DICOMWEB_BENCH_FINDS", 15);
    let extra: Vec<String> = std::env::var("DICOMWEB_BENCH_ADAPTER_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    check_dcmtk();
    let dicomweb = build_dicomweb(&target_dir());

    let work = tempfile::tempdir().unwrap();
    let spec = bench_study(mb);
    let files = spec.write_to(&work.path().join("study")).unwrap();
    let study = spec.study_uid();
    let instances = files.len() as u64;
    let mib = spec.total_bytes() as f64 / (1024.0 * 1024.0);
    println!(
        "study: {instances} instances of {} KiB (512×512, 16-bit, 2 frames), {mib:.0} MiB in all",
        spec.instance_bytes() / 1024,
    );

    let behind_adapter = Orthanc::start().unwrap();
    let direct_port = free_port();
    let direct = Orthanc::start_with_config(&serde_json::json!({
        "DicomPort": direct_port,
        "DicomAlwaysAllowFind": true,
        "DicomAlwaysAllowStore": true,
    }))
    .unwrap();
    let mut adapter = Adapter::start(
        &dicomweb,
        &behind_adapter.dicomweb_url(),
        work.path(),
        &extra,
    );

    let mut adapter_times: Vec<Duration> = Vec::new();
    let mut orthanc_times: Vec<Duration> = Vec::new();
    for round in 1..=rounds {
        for k in 0..SIDES.len() {
            let side = SIDES[(round - 1 + k) % SIDES.len()];
            let orthanc = match side {
                Side::Adapter => &behind_adapter,
                Side::Orthanc => &direct,
            };
            orthanc.delete_study(&study).unwrap();
            assert_eq!(orthanc.count_instances().unwrap(), 0);
            settle();
            let started = Instant::now();
            let output = match side {
                Side::Adapter => dcmsend(ADAPTER_AET, adapter.port, &files),
                Side::Orthanc => dcmsend(ORTHANC_AET, direct_port, &files),
            };
            assert!(
                output.status.success(),
                "dcmsend into {side:?} failed: {}\n{}",
                said(&output),
                adapter.log()
            );
            wait_for(orthanc, instances, started, &adapter);
            let elapsed = started.elapsed();
            match side {
                Side::Adapter => adapter_times.push(elapsed),
                Side::Orthanc => orthanc_times.push(elapsed),
            }
        }
        println!(
            "round {round}: adapter {:.2?} ({} MiB peak so far), Orthanc {:.2?}",
            adapter_times[round - 1],
            adapter.peak_kib() / 1024,
            orthanc_times[round - 1],
        );
    }
    let peak_mib = adapter.peak_kib() / 1024;

    // Both Orthancs hold the study now: the C-FINDs find it.
    let mut adapter_finds: Vec<Duration> = Vec::new();
    let mut orthanc_finds: Vec<Duration> = Vec::new();
    settle();
    for i in 0..finds {
        for k in 0..SIDES.len() {
            match SIDES[(i + k) % SIDES.len()] {
                Side::Adapter => adapter_finds.push(find(ADAPTER_AET, adapter.port, &study)),
                Side::Orthanc => orthanc_finds.push(find(ORTHANC_AET, direct_port, &study)),
            }
        }
    }
    adapter.stop();

    let adapter_median = median(adapter_times);
    let orthanc_median = median(orthanc_times);
    let rate = |d: Duration| mib / d.as_secs_f64();
    println!(
        "C-STORE: median adapter {adapter_median:.2?} ({:.0} MiB/s), Orthanc {orthanc_median:.2?} ({:.0} MiB/s)",
        rate(adapter_median),
        rate(orthanc_median),
    );
    let adapter_find = median(adapter_finds);
    let orthanc_find = median(orthanc_finds);
    println!(
        "C-FIND (study level, findscu): median adapter {adapter_find:.2?}, Orthanc {orthanc_find:.2?}"
    );
    println!(
        "RATIO adapter_cstore vs orthanc_cstore: {:.3}",
        orthanc_median.as_secs_f64() / adapter_median.as_secs_f64()
    );
    println!("PEAK adapter_cstore: {peak_mib} MiB");
    println!(
        "RATIO adapter_cfind vs orthanc_cfind: {:.3}",
        orthanc_find.as_secs_f64() / adapter_find.as_secs_f64()
    );
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Fails with the package to install when dcmtk's tools are missing.
fn check_dcmtk() {
    for tool in ["dcmsend", "findscu"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        assert!(
            found,
            "dcmtk's {tool} cannot run: install it with `apt-get install dcmtk`"
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn said(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `dcmsend` of every file to `called` on a loopback port, one association.
fn dcmsend(called: &str, port: u16, files: &[PathBuf]) -> Output {
    Command::new("dcmsend")
        .args(["-aet", "MODALITY", "-aec", called, "127.0.0.1"])
        .arg(port.to_string())
        .args(files)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// One `findscu` at STUDY level by Study Instance UID; its wall time (process included, as a
/// modality's query would run). Checks that it found the study.
fn find(called: &str, port: u16, study: &str) -> Duration {
    let started = Instant::now();
    let output = Command::new("findscu")
        .args(["-v", "-S", "-aet", "FINDER", "-aec", called])
        .args(["-k", "QueryRetrieveLevel=STUDY"])
        .args(["-k", &format!("StudyInstanceUID={study}")])
        .args(["-k", "PatientName", "-k", "PatientID", "-k", "StudyDate"])
        .args(["-k", "NumberOfStudyRelatedInstances"])
        .arg("127.0.0.1")
        .arg(port.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let text = said(&output);
    assert!(output.status.success(), "findscu at {called}: {text}");
    let matches = text
        .lines()
        .filter(|l| l.contains("Find Response:") && l.contains("(Pending)"))
        .count();
    assert_eq!(
        matches, 1,
        "findscu at {called} should find the study: {text}"
    );
    elapsed
}

/// Waits until `orthanc` counts `count` instances (polled every 20 ms).
fn wait_for(orthanc: &Orthanc, count: u64, started: Instant, adapter: &Adapter) {
    loop {
        let held = orthanc.count_instances().unwrap();
        if held >= count {
            assert_eq!(held, count, "more instances than sent");
            return;
        }
        assert!(
            started.elapsed() < UPLOAD_TIMEOUT,
            "Orthanc holds {held} of {count} instances after {UPLOAD_TIMEOUT:?}\n{}",
            adapter.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `dicomweb adapter` as a child process, its log in a file; killed on drop.
struct Adapter {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Adapter {
    fn start(dicomweb: &Path, url: &str, work: &Path, extra: &[String]) -> Adapter {
        let port = free_port();
        let log = work.join("adapter.log");
        let child = Command::new(dicomweb)
            .args(["--url", url, "--quiet", "adapter", "--aet", ADAPTER_AET])
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--state")
            .arg(work.join("state"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let adapter = Adapter { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the adapter did not listen: {}",
                adapter.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        adapter
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process's peak resident memory so far (VmHWM), KiB.
    fn peak_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// SIGTERM, and waits up to 30 s for the exit (the queue is empty by then); the drop
    /// kills it if it is still there.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("the adapter did not exit within 30 s of SIGTERM");
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
