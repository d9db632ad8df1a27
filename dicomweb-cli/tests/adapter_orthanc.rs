//! `dicomweb adapter` between dcmtk's tools and a real Orthanc, storing: C-ECHO; C-STORE of a
//! varied set of real files (pydicom's test files: native little and big endian, JPEG 2000,
//! deflated, SR, RT, several character sets) plus a generated multi-frame study, each found on
//! Orthanc by WADO-RS with the very data set that was sent; the association policy (called
//! AE, allowed calling AEs, congestion); A700 when disk is short; the outage case (the
//! DICOMweb server down, C-STOREs acknowledged, the adapter SIGKILLed, then restarted with the
//! server up, and every instance arrives); synchronous mode and SIGTERM; a 200 MiB instance in
//! little memory. Queries and retrieves are in `adapter_query_orthanc.rs`.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::dimse::*;
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

#[test]
fn echo_and_store_of_real_files_arrive_identical() {
    let orthanc = Orthanc::start().unwrap();
    let state = tempfile::tempdir().unwrap();
    let adapter = AdapterProcess::start(
        &orthanc.dicomweb_url(),
        &state.path().join("state"),
        free_port(),
        &[],
    );

    let output = echo(&adapter, "TESTER", AET);
    assert!(output.status.success(), "{}", text(&output));
    let output = echo(&adapter, "TESTER", "SOMEONE");
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("Called AE Title Not Recognized"),
        "{}",
        text(&output)
    );

    let mut files = real_files();
    let generated = tempfile::tempdir().unwrap();
    let spec = StudySpec {
        frames: 3,
        series: 2,
        instances_per_series: 2,
        ..StudySpec::new(19)
    };
    files.extend(spec.write_to(generated.path()).unwrap());
    let output = dcmsend(&adapter, &files);
    assert!(output.status.success(), "{}", text(&output));
    wait_for_instances(&orthanc, files.len() as u64, || adapter.log());
    assert_on_server(&orthanc, &files);
    // Every spool file was deleted once the server's reply listed it as stored.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(state.path().join("state/spool"))
        .unwrap()
        .count()
        > 0
    {
        assert!(
            Instant::now() < deadline,
            "spool not emptied\n{}",
            adapter.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        std::fs::read_dir(state.path().join("state/failed"))
            .unwrap()
            .count(),
        0
    );
    let log = adapter.log();
    assert!(log.contains("C-ECHO"), "{log}");
    assert!(log.contains("C-STORE"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn acknowledged_instances_survive_an_outage_and_a_sigkill() {
    let state = tempfile::tempdir().unwrap();
    let state = state.path().join("state");
    let generated = tempfile::tempdir().unwrap();
    let spec = StudySpec {
        series: 2,
        instances_per_series: 4,
        ..StudySpec::new(20)
    };
    let files = spec.write_to(generated.path()).unwrap();

    // The DICOMweb server is down: nothing listens at its address.
    let down = format!("http://127.0.0.1:{}/dicom-web", free_port());
    let adapter = AdapterProcess::start(&down, &state, free_port(), &[]);
    let output = dcmsend(&adapter, &files);
    assert!(output.status.success(), "{}", text(&output));
    let spooled = std::fs::read_dir(state.join("spool")).unwrap().count();
    assert_eq!(spooled, files.len(), "{}", adapter.log());
    adapter.kill();

    let orthanc = Orthanc::start().unwrap();
    let adapter = AdapterProcess::start(&orthanc.dicomweb_url(), &state, free_port(), &[]);
    wait_for_instances(&orthanc, files.len() as u64, || adapter.log());
    assert_on_server(&orthanc, &files);
}

#[test]
fn only_allowed_callers_and_at_most_max_associations() {
    let state = tempfile::tempdir().unwrap();
    let down = format!("http://127.0.0.1:{}/dicom-web", free_port());
    let adapter = AdapterProcess::start(
        &down,
        &state.path().join("state"),
        free_port(),
        &["--allow", "CT01", "--max-associations", "1"],
    );
    let output = echo(&adapter, "CT01", AET);
    assert!(output.status.success(), "{}", text(&output));
    let output = echo(&adapter, "MR01", AET);
    assert!(
        text(&output).contains("Calling AE Title Not Recognized"),
        "{}",
        text(&output)
    );

    // A connection that has not asked for anything yet holds the only place.
    let _held = TcpStream::connect(("127.0.0.1", adapter.port)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let output = echo(&adapter, "CT01", AET);
    assert!(!output.status.success(), "{}", text(&output));
    let said = text(&output);
    assert!(
        said.contains("Transient") && said.contains("Temporary Congestion"),
        "{said}"
    );
}

#[test]
fn a_store_is_refused_with_a700_when_disk_is_short() {
    let state = tempfile::tempdir().unwrap();
    let down = format!("http://127.0.0.1:{}/dicom-web", free_port());
    let adapter = AdapterProcess::start(
        &down,
        &state.path().join("state"),
        free_port(),
        &["--min-free-mib", "1000000000"],
    );
    let generated = tempfile::tempdir().unwrap();
    let files = StudySpec {
        series: 1,
        instances_per_series: 1,
        ..StudySpec::new(21)
    }
    .write_to(generated.path())
    .unwrap();
    let output = run(dcmtk("dcmsend")
        .args([
            "-v",
            "-aet",
            "MODALITY",
            "-aec",
            AET,
            "127.0.0.1",
            &adapter.port(),
        ])
        .args(&files));
    let said = text(&output);
    assert!(
        said.contains("Response (Refused: OutOfResources)"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_dir(state.path().join("state/spool"))
            .unwrap()
            .count(),
        0
    );
    assert!(adapter.log().contains("A700"), "{}", adapter.log());
}

#[test]
fn sync_mode_answers_after_the_stow_and_sigterm_stops_cleanly() {
    let orthanc = Orthanc::start().unwrap();
    let generated = tempfile::tempdir().unwrap();
    let files = StudySpec {
        series: 1,
        instances_per_series: 3,
        ..StudySpec::new(51)
    }
    .write_to(generated.path())
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let adapter = AdapterProcess::start(
        &orthanc.dicomweb_url(),
        &state.path().join("a"),
        free_port(),
        &["--sync"],
    );
    let output = dcmsend(&adapter, &files);
    assert!(output.status.success(), "{}", text(&output));
    // Each success response went out after its STOW-RS: all are there already.
    assert_eq!(orthanc.count_instances().unwrap(), 3);
    assert_eq!(
        std::fs::read_dir(state.path().join("a/spool"))
            .unwrap()
            .count(),
        0
    );
    let status = adapter.terminate();
    assert!(status.success(), "{status:?}");

    // With the server down, a synchronous C-STORE is refused (A700) and nothing stays.
    let down = format!("http://127.0.0.1:{}/dicom-web", free_port());
    let adapter = AdapterProcess::start(&down, &state.path().join("b"), free_port(), &["--sync"]);
    let output = run(dcmtk("dcmsend")
        .args([
            "-v",
            "-aet",
            "MODALITY",
            "-aec",
            AET,
            "127.0.0.1",
            &adapter.port(),
        ])
        .arg(&files[0]));
    assert!(
        text(&output).contains("Response (Refused: OutOfResources)"),
        "{}",
        text(&output)
    );
    assert_eq!(
        std::fs::read_dir(state.path().join("b/spool"))
            .unwrap()
            .count(),
        0
    );
    let log = adapter.log();
    let status = adapter.terminate();
    assert!(status.success(), "{status:?}\n{log}");
}

#[test]
fn a_200_mb_instance_goes_through_in_little_memory() {
    let orthanc = Orthanc::start().unwrap();
    let generated = tempfile::tempdir().unwrap();
    // 1600 frames of 256 × 256 16-bit pixels: one instance of 200 MiB and a little more.
    let spec = StudySpec {
        series: 1,
        instances_per_series: 1,
        rows: 256,
        columns: 256,
        frames: 1600,
        ..StudySpec::new(61)
    };
    let files = spec.write_to(generated.path()).unwrap();
    assert!(std::fs::metadata(&files[0]).unwrap().len() > 200 * 1024 * 1024);
    let state = tempfile::tempdir().unwrap();
    let adapter = AdapterProcess::start(
        &orthanc.dicomweb_url(),
        &state.path().join("state"),
        free_port(),
        &[],
    );
    let output = dcmsend(&adapter, &files);
    assert!(output.status.success(), "{}", text(&output));
    wait_for_instances(&orthanc, 1, || adapter.log());
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(state.path().join("state/spool"))
        .unwrap()
        .count()
        > 0
    {
        assert!(
            Instant::now() < deadline,
            "spool not emptied\n{}",
            adapter.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let peak = peak_rss_kib(adapter.child.id());
    assert!(
        peak < 96 * 1024,
        "the adapter's peak resident memory was {peak} KiB"
    );
    let stored = orthanc
        .stored_file(&spec.sop_instance_uid(1, 1))
        .unwrap()
        .unwrap();
    let sent = std::fs::read(&files[0]).unwrap();
    assert!(
        identity(&stored).2 == identity(&sent).2,
        "the data set differs"
    );
    eprintln!("peak resident memory of the adapter: {} MiB", peak / 1024);
}
