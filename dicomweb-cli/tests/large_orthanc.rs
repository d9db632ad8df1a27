//! Peak memory of `dicomweb store` and `dicomweb retrieve instances` on a large study
//! (a measurement, not a timed test; run with `cargo test -p dicomweb-cli --release --test
//! large_orthanc -- --ignored --nocapture`, size in MiB from `DICOMWEB_LARGE_STUDY_MIB`, 256 by
//! default).

#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::Instant;

use support::{Spec, orthanc_with, write_instance};
use test_support::files::names;

/// The peak memory the program may use, whatever the study's size.
const PEAK_LIMIT_KIB: u64 = 64 * 1024;

/// Runs `dicomweb` under GNU time; returns (wall seconds, peak RSS in KiB, stdout).
fn measured(args: &[&str]) -> (f64, u64, String) {
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "peak-kib=%M"])
        .arg(env!("CARGO_BIN_EXE_dicomweb"))
        .args(args)
        .output()
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-kib="))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (
        seconds,
        peak,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
#[ignore = "a measurement: run it by hand"]
fn peak_memory_of_a_large_store_and_retrieve() {
    let mib: u32 = std::env::var("DICOMWEB_LARGE_STUDY_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    // 4 MiB instances: one frame of 2048 × 2048 bytes.
    let count = mib.div_ceil(4);
    let orthanc = orthanc_with(&[]);
    let url = orthanc.dicomweb_url();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    for n in 1..=count {
        let mut spec = Spec::new("BIG", 77, 1, n);
        spec.frames = 1;
        spec.side = 2048;
        write_instance(&input, &format!("{n}.dcm"), &spec);
    }
    let (store_s, store_kib, summary) =
        measured(&["--url", &url, "store", input.to_str().unwrap()]);
    assert!(
        summary.contains(&format!("\"stored\":{count}")),
        "{summary}"
    );
    let out = dir.path().join("out");
    let (get_s, get_kib, summary) = measured(&[
        "--url",
        &url,
        "retrieve",
        "instances",
        "--study",
        "1.2.826.0.1.3680043.10.543.77",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        summary.contains(&format!("\"retrieved\":{count}")),
        "{summary}"
    );
    assert_eq!(names(&out).len(), count as usize);
    println!(
        "{count} instances, {mib} MiB: store {store_s:.2} s, peak {store_kib} KiB; \
         retrieve {get_s:.2} s, peak {get_kib} KiB"
    );
    assert!(store_kib < PEAK_LIMIT_KIB, "store peak {store_kib} KiB");
    assert!(get_kib < PEAK_LIMIT_KIB, "retrieve peak {get_kib} KiB");
}
