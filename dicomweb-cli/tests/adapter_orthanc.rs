//! `dicomweb adapter` between dcmtk's tools and a real Orthanc: C-ECHO, C-STORE of a varied set
//! of real files (pydicom's test files: native little and big endian, JPEG 2000, deflated, SR,
//! RT, several character sets) plus a generated multi-frame study, each found on Orthanc by
//! WADO-RS with the very data set that was sent; the association policy (called AE, allowed
//! calling AEs, congestion); A700 when disk is short; and the outage case: the DICOMweb server
//! down, C-STOREs acknowledged, the adapter SIGKILLed, then restarted with the server up, and
//! every instance arrives.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use dicomweb_core::file_meta::FileMeta;
use dicomweb_core::request::{RetrieveInstances, Target};
use dicomweb_core::{Tag, Uid, part10};
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

const AET: &str = "ADAPTER";

/// A dcmtk tool, or a failure naming the package that brings it.
fn dcmtk(tool: &str) -> Command {
    match Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => Command::new(tool),
        Err(e) => {
            panic!("dcmtk's {tool} cannot run ({e}): install it with `apt-get install dcmtk`")
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `dicomweb adapter` as a child process, logging to a file; killed (SIGKILL) on drop.
struct AdapterProcess {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl AdapterProcess {
    fn start(url: &str, state: &Path, port: u16, extra: &[&str]) -> AdapterProcess {
        let log = state.with_extension(format!("{port}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_dicomweb"))
            .args([
                "--url", url, "adapter", "--listen", &listen, "--aet", AET, "--state",
            ])
            .arg(state)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        let adapter = AdapterProcess { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
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

    fn port(&self) -> String {
        self.port.to_string()
    }

    /// SIGTERM, as systemd or Kubernetes stop a service; returns how it exited.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "no exit after SIGTERM: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, as a crash or an OOM kill would.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for AdapterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn echo(adapter: &AdapterProcess, calling: &str, called: &str) -> Output {
    run(dcmtk("echoscu").args([
        "-aet",
        calling,
        "-aec",
        called,
        "127.0.0.1",
        &adapter.port(),
    ]))
}

fn dcmsend(adapter: &AdapterProcess, files: &[PathBuf]) -> Output {
    run(dcmtk("dcmsend")
        .args([
            "-aet",
            "MODALITY",
            "-aec",
            AET,
            "127.0.0.1",
            &adapter.port(),
        ])
        .args(files))
}

/// pydicom's test files kept in the core's golden folder, except those without a SOP Class
/// and those that repeat another's SOP Instance UID (the server keeps one of them).
fn real_files() -> Vec<PathBuf> {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dicomweb-core/tests/golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&golden)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().contains("priv_SQ"))
        .collect();
    files.sort();
    let mut seen = std::collections::HashSet::new();
    files.retain(|path| seen.insert(identity(&std::fs::read(path).unwrap()).1));
    assert!(
        files.len() >= 10,
        "expected pydicom's test files in {}",
        golden.display()
    );
    files
}

/// A file's Study and SOP Instance UIDs (from its data set) and its data set's bytes.
fn identity(bytes: &[u8]) -> (String, String, Vec<u8>) {
    let (_, data_set) = part10::read(bytes).unwrap();
    let uid = |tag: u32| {
        data_set
            .string(Tag(tag))
            .unwrap()
            .trim_end_matches(['\0', ' '])
            .to_owned()
    };
    let meta = FileMeta::read(bytes).unwrap().unwrap();
    (
        uid(0x0020_000D),
        uid(0x0008_0018),
        bytes[meta.data_set_offset..].to_vec(),
    )
}

fn transfer_syntax(bytes: &[u8]) -> String {
    let meta = FileMeta::read(bytes).unwrap().unwrap();
    meta.transfer_syntax_uid
        .unwrap()
        .trim_end_matches(['\0', ' '])
        .to_owned()
}

/// Waits until Orthanc holds `count` instances.
fn wait_for_instances(orthanc: &Orthanc, count: u64, adapter_log: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held = orthanc.count_instances().unwrap();
        if held >= count {
            assert_eq!(held, count);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Orthanc holds {held} of {count} instances\n{}",
            adapter_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// An instance as sent: its transfer syntax and its data set's bytes.
type Sent = (String, Vec<u8>);

/// What dcmsend puts on the wire for each file, by SOP Instance UID: the data sets dcmtk's own
/// `storescp --bit-preserving` receives (dcmsend re-encodes, e.g. sequences of undefined
/// length get explicit ones, so the files' own bytes are not what an SCP receives).
fn data_sets_on_the_wire(files: &[PathBuf]) -> BTreeMap<String, Sent> {
    let out = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut scp = dcmtk("storescp")
        .args(["--bit-preserving", "+xa", "-od"])
        .arg(out.path())
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "storescp did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = run(dcmtk("dcmsend")
        .args([
            "-aet",
            "MODALITY",
            "-aec",
            "STORESCP",
            "127.0.0.1",
            &port.to_string(),
        ])
        .args(files));
    let _ = scp.kill();
    let _ = scp.wait();
    assert!(output.status.success(), "{}", text(&output));
    std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let (_, sop, data_set) = identity(&bytes);
            (sop, (transfer_syntax(&bytes), data_set))
        })
        .collect()
}

/// Every file, retrieved from Orthanc by WADO-RS (as stored), has the transfer syntax it was
/// sent in and the very data set dcmsend sent (dcmsend proposes Explicit VR Little Endian
/// first for uncompressed files, and the adapter takes the first proposal it supports).
fn assert_on_server(orthanc: &Orthanc, files: &[PathBuf]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = dicomweb_client::Client::builder(orthanc.dicomweb_url())
        .build()
        .unwrap();
    let wire = data_sets_on_the_wire(files);
    assert_eq!(wire.len(), files.len());
    let mut by_study: BTreeMap<String, Vec<(String, Sent, PathBuf)>> = BTreeMap::new();
    for path in files {
        let (study, sop, _) = identity(&std::fs::read(path).unwrap());
        let sent = wire[&sop].clone();
        by_study
            .entry(study)
            .or_default()
            .push((sop, sent, path.clone()));
    }
    for (study, expected) in by_study {
        let dir = tempfile::tempdir().unwrap();
        let request = RetrieveInstances::new(Target::study(study.parse::<Uid>().unwrap()));
        let summary = runtime
            .block_on(client.retrieve_instances_to_dir(&request, dir.path()))
            .unwrap();
        assert_eq!(summary.files.len(), expected.len(), "study {study}");
        for (sop, (sent_syntax, sent), path) in expected {
            let (stored, syntax) = summary
                .files
                .iter()
                .find_map(|f| {
                    let bytes = std::fs::read(&f.path).unwrap();
                    let (_, uid, data_set) = identity(&bytes);
                    (uid == sop).then(|| (data_set, transfer_syntax(&bytes)))
                })
                .unwrap_or_else(|| panic!("{} ({sop}) is not on the server", path.display()));
            assert_eq!(syntax, sent_syntax, "{}", path.display());
            assert!(
                stored == sent,
                "{}: the data set on the server differs from the one sent",
                path.display()
            );
        }
    }
}

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

/// Runs findscu against the adapter; returns each pending response's dump and the final
/// response's line.
fn find(
    adapter: &AdapterProcess,
    root: &str,
    keys: &[&str],
    extra: &[&str],
) -> (Vec<String>, String) {
    let mut command = dcmtk("findscu");
    command
        .args(["-v", root, "-aet", "FINDER", "-aec", AET])
        .args(extra);
    for key in keys {
        command.args(["-k", key]);
    }
    let output = run(command.args(["127.0.0.1", &adapter.port()]));
    let said = text(&output);
    let mut responses = Vec::new();
    let mut last = String::new();
    for line in said.lines() {
        if line.contains("Find Response:") && line.contains("(Pending)") {
            responses.push(String::new());
        } else if line.contains("Final Find Response") {
            last = line.to_owned();
        } else if let Some(current) = responses.last_mut()
            && line.starts_with("I: (")
        {
            current.push_str(line);
            current.push('\n');
        }
    }
    assert!(!last.is_empty(), "no final response: {said}");
    (responses, last)
}

/// The value findscu shows for `tag` (like `0020,000d`) in a response's dump.
fn value_of(dump: &str, tag: &str) -> Option<String> {
    let line = dump.lines().find(|l| l.contains(&format!("({tag})")))?;
    let start = line.find('[')?;
    let end = line.rfind(']')?;
    Some(
        line[start + 1..end]
            .trim_end_matches(['\0', ' '])
            .to_owned(),
    )
}

#[test]
fn find_at_each_level_with_wildcards_ranges_and_cancel() {
    let orthanc = Orthanc::start().unwrap();
    let first = StudySpec {
        series: 2,
        instances_per_series: 3,
        ..StudySpec::new(31)
    };
    let second = StudySpec {
        series: 1,
        instances_per_series: 1,
        study_date: "20190615".into(),
        ..StudySpec::new(32)
    };
    for spec in [&first, &second] {
        for instance in spec.instances() {
            orthanc.upload(&instance.bytes).unwrap();
        }
    }
    let state = tempfile::tempdir().unwrap();
    let adapter = AdapterProcess::start(
        &orthanc.dicomweb_url(),
        &state.path().join("state"),
        free_port(),
        &[],
    );

    // STUDY: a wildcard; a return key Orthanc does not give comes back empty. (Not on a
    // person name: the core percent-encodes `^`, which Orthanc does not decode.)
    let (found, last) = find(
        &adapter,
        "-S",
        &[
            "QueryRetrieveLevel=STUDY",
            "PatientID=PAT-3*",
            "PatientName",
            "StudyInstanceUID",
            "InstitutionName",
            "RetrieveAETitle",
        ],
        &[],
    );
    assert!(last.contains("Success"), "{last}");
    assert_eq!(found.len(), 2, "{found:?}");
    for dump in &found {
        assert!(
            dump.contains("(0008,0080) LO (no value available)"),
            "{dump}"
        );
        assert_eq!(value_of(dump, "0008,0054").as_deref(), Some(AET), "{dump}");
    }
    // A date range, and a UID list.
    let (found, _) = find(
        &adapter,
        "-S",
        &[
            "QueryRetrieveLevel=STUDY",
            "StudyDate=20190101-20191231",
            "StudyInstanceUID",
        ],
        &[],
    );
    assert_eq!(found.len(), 1);
    assert_eq!(value_of(&found[0], "0020,000d"), Some(second.study_uid()));
    let list = format!(
        "StudyInstanceUID={}\\{}",
        first.study_uid(),
        second.study_uid()
    );
    let (found, _) = find(&adapter, "-S", &["QueryRetrieveLevel=STUDY", &list], &[]);
    assert_eq!(found.len(), 2);

    // SERIES and IMAGE, hierarchical below the study.
    let study = format!("StudyInstanceUID={}", first.study_uid());
    let (found, _) = find(
        &adapter,
        "-S",
        &[
            "QueryRetrieveLevel=SERIES",
            &study,
            "SeriesInstanceUID",
            "Modality=O*",
        ],
        &[],
    );
    let mut series: Vec<String> = found
        .iter()
        .filter_map(|d| value_of(d, "0020,000e"))
        .collect();
    series.sort();
    let mut expected = vec![first.series_uid(1), first.series_uid(2)];
    expected.sort();
    assert_eq!(series, expected);
    let one_series = format!("SeriesInstanceUID={}", first.series_uid(2));
    let (found, _) = find(
        &adapter,
        "-S",
        &[
            "QueryRetrieveLevel=IMAGE",
            &study,
            &one_series,
            "SOPInstanceUID",
        ],
        &[],
    );
    let mut instances: Vec<String> = found
        .iter()
        .filter_map(|d| value_of(d, "0008,0018"))
        .collect();
    instances.sort();
    let mut expected: Vec<String> = (1..=3).map(|n| first.sop_instance_uid(2, n)).collect();
    expected.sort();
    assert_eq!(instances, expected);

    // PATIENT level of the Patient Root model: one response per patient.
    let (found, _) = find(
        &adapter,
        "-P",
        &["QueryRetrieveLevel=PATIENT", "PatientID", "PatientName"],
        &[],
    );
    let mut patients: Vec<String> = found
        .iter()
        .filter_map(|d| value_of(d, "0010,0020"))
        .collect();
    patients.sort();
    assert_eq!(patients, ["PAT-31", "PAT-32"]);

    // A level that does not exist: A900. A cancel after the first match: FE00.
    let (found, last) = find(&adapter, "-S", &["QueryRetrieveLevel=FRAME"], &[]);
    assert!(found.is_empty(), "{found:?}");
    assert!(last.contains("DataSetDoesNotMatchSOPClass"), "{last}");
    let (found, last) = find(
        &adapter,
        "-S",
        &["QueryRetrieveLevel=IMAGE", "SOPInstanceUID"],
        &["--cancel", "1"],
    );
    assert!(found.len() < 7, "{}", found.len());
    assert!(last.contains("Cancel"), "{last}");
}

/// The data set of every Part 10 file in `dir`, by SOP Instance UID.
fn data_sets_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let (_, sop, data_set) = identity(&std::fs::read(entry.unwrap().path()).unwrap());
            (sop, data_set)
        })
        .collect()
}

#[test]
fn move_to_a_known_modality_and_get_back_over_the_association() {
    let orthanc = Orthanc::start().unwrap();
    let spec = StudySpec {
        series: 2,
        instances_per_series: 3,
        ..StudySpec::new(41)
    };
    let mut expected = BTreeMap::new();
    for instance in spec.instances() {
        orthanc.upload(&instance.bytes).unwrap();
        let (_, sop, data_set) = identity(&instance.bytes);
        expected.insert(sop, data_set);
    }
    // dcmtk's storescp is the move destination, named in a modalities file.
    let received = tempfile::tempdir().unwrap();
    let scp_port = free_port();
    let mut scp = dcmtk("storescp")
        .args(["+xa", "-aet", "DEST", "-od"])
        .arg(received.path())
        .arg(scp_port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let config = tempfile::tempdir().unwrap();
    let modalities = config.path().join("orthanc.json");
    std::fs::write(
        &modalities,
        format!(r#"{{ "DicomModalities": {{ "dest": ["DEST", "127.0.0.1", {scp_port}] }} }}"#),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let adapter = AdapterProcess::start(
        &orthanc.dicomweb_url(),
        &state.path().join("state"),
        free_port(),
        &["--modalities", modalities.to_str().unwrap()],
    );
    let study = format!("StudyInstanceUID={}", spec.study_uid());
    let mv = |destination: &str, keys: &[&str]| {
        let mut command = dcmtk("movescu");
        command.args([
            "-v",
            "-S",
            "-aet",
            "MOVER",
            "-aec",
            AET,
            "-aem",
            destination,
        ]);
        for key in keys {
            command.args(["-k", key]);
        }
        text(&run(command.args(["127.0.0.1", &adapter.port()])))
    };

    let said = mv("DEST", &["QueryRetrieveLevel=STUDY", &study]);
    assert!(
        said.contains("Received Final Move Response (Success)"),
        "{said}\n{}",
        adapter.log()
    );
    assert!(
        said.contains("Received Move Response 6 (Pending)") || said.contains("Pending"),
        "{said}"
    );
    assert_eq!(data_sets_in(received.path()), expected);

    // One series; then a destination nobody knows.
    for entry in std::fs::read_dir(received.path()).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let series = format!("SeriesInstanceUID={}", spec.series_uid(1));
    let said = mv("DEST", &["QueryRetrieveLevel=SERIES", &study, &series]);
    assert!(said.contains("(Success)"), "{said}");
    assert_eq!(data_sets_in(received.path()).len(), 3);
    let said = mv("NOBODY", &["QueryRetrieveLevel=STUDY", &study]);
    assert!(said.contains("MoveDestinationUnknown"), "{said}");
    let _ = scp.kill();
    let _ = scp.wait();

    // C-GET: the same study back over the requesting association.
    let got = tempfile::tempdir().unwrap();
    let said = text(&run(dcmtk("getscu")
        .args(["-v", "-S", "-aet", "GETTER", "-aec", AET, "-od"])
        .arg(got.path())
        .args([
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            &study,
            "127.0.0.1",
            &adapter.port(),
        ])));
    assert!(
        said.contains("Number of Completed Suboperations : 6"),
        "{said}\n{}",
        adapter.log()
    );
    assert!(
        said.contains("Number of Failed Suboperations    : 0"),
        "{said}"
    );
    assert_eq!(data_sets_in(got.path()), expected);
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

/// The peak resident memory of a process, in KiB (VmHWM).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
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
