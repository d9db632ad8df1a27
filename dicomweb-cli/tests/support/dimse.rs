//! Helpers of the adapter's tests: dcmtk's tools (a failure names `apt-get install dcmtk`
//! when one is missing), `dicomweb adapter` as a child process on a free loopback port, and the
//! data sets of Part 10 files compared as sent and as stored.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use dicomweb_core::file_meta::FileMeta;
use dicomweb_core::request::{RetrieveInstances, Target};
use dicomweb_core::{Tag, Uid, part10};
use serde_json::{Value, json};
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

pub const AET: &str = "ADAPTER";

/// A dcmtk tool, or a failure naming the package that brings it.
pub fn dcmtk(tool: &str) -> Command {
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `dicomweb adapter` as a child process, logging to a file; killed (SIGKILL) on drop.
pub struct AdapterProcess {
    pub child: Child,
    pub port: u16,
    log: PathBuf,
}

impl AdapterProcess {
    pub fn start(url: &str, state: &Path, port: u16, extra: &[&str]) -> AdapterProcess {
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

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (10 s at most) for a log line containing `text`: what the adapter logs after
    /// its peer has seen the effect (a report's response read, an association released).
    pub fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.log().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no log line with {text:?}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> String {
        self.port.to_string()
    }

    /// SIGTERM, as systemd or Kubernetes stop a service; returns how it exited.
    pub fn terminate(mut self) -> std::process::ExitStatus {
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
    pub fn kill(mut self) {
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

pub fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().unwrap()
}

pub fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn echo(adapter: &AdapterProcess, calling: &str, called: &str) -> Output {
    run(dcmtk("echoscu").args([
        "-aet",
        calling,
        "-aec",
        called,
        "127.0.0.1",
        &adapter.port(),
    ]))
}

pub fn dcmsend(adapter: &AdapterProcess, files: &[PathBuf]) -> Output {
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
pub fn real_files() -> Vec<PathBuf> {
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
pub fn identity(bytes: &[u8]) -> (String, String, Vec<u8>) {
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

pub fn transfer_syntax(bytes: &[u8]) -> String {
    let meta = FileMeta::read(bytes).unwrap().unwrap();
    meta.transfer_syntax_uid
        .unwrap()
        .trim_end_matches(['\0', ' '])
        .to_owned()
}

/// Waits until Orthanc holds `count` instances.
pub fn wait_for_instances(orthanc: &Orthanc, count: u64, adapter_log: impl Fn() -> String) {
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
pub type Sent = (String, Vec<u8>);

/// What dcmsend puts on the wire for each file, by SOP Instance UID: the data sets dcmtk's own
/// `storescp --bit-preserving` receives (dcmsend re-encodes, e.g. sequences of undefined
/// length get explicit ones, so the files' own bytes are not what an SCP receives).
pub fn data_sets_on_the_wire(files: &[PathBuf]) -> BTreeMap<String, Sent> {
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
pub fn assert_on_server(orthanc: &Orthanc, files: &[PathBuf]) {
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

/// Runs findscu against the adapter; returns each pending response's dump and the final
/// response's line.
pub fn find(
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
pub fn value_of(dump: &str, tag: &str) -> Option<String> {
    let line = dump.lines().find(|l| l.contains(&format!("({tag})")))?;
    let start = line.find('[')?;
    let end = line.rfind(']')?;
    Some(
        line[start + 1..end]
            .trim_end_matches(['\0', ' '])
            .to_owned(),
    )
}

/// The data set of every Part 10 file in `dir`, by SOP Instance UID.
pub fn data_sets_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let (_, sop, data_set) = identity(&std::fs::read(entry.unwrap().path()).unwrap());
            (sop, data_set)
        })
        .collect()
}

/// The peak resident memory of a process, in KiB (VmHWM).
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// dcmtk's `storescp` as AE title `DEST` on a free port, writing what it receives into `dir`
/// (bit-preserving); returns once it listens.
pub fn storescp(dir: &Path) -> (Child, u16) {
    storescp_with(dir, &[])
}

/// [`storescp`] with more options (e.g. [`tls_args`]).
pub fn storescp_with(dir: &Path, extra: &[String]) -> (Child, u16) {
    let port = free_port();
    let child = dcmtk("storescp")
        .args(["+xa", "-aet", "DEST", "-od"])
        .arg(dir)
        .args(extra)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "storescp did not start listening"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, port)
}

/// dcmtk's options for TLS with `pair`'s key and certificate, trusting `ca` (peers must
/// present a certificate it signed, dcmtk's default).
pub fn tls_args(pair: &test_support::tls::Pair, ca: &Path) -> Vec<String> {
    let path = |p: &Path| p.to_string_lossy().into_owned();
    vec![
        "+tls".into(),
        path(&pair.key),
        path(&pair.cert),
        "+cf".into(),
        path(ca),
    ]
}

/// echoscu over TLS with `extra` options (e.g. [`tls_args`]).
pub fn echo_with(adapter: &AdapterProcess, extra: &[String]) -> Output {
    run(dcmtk("echoscu")
        .args(["-aet", "MODALITY", "-aec", AET])
        .args(extra)
        .args(["127.0.0.1", &adapter.port()]))
}

/// Uploads `spec`'s instances to `orthanc`; their data sets by SOP Instance UID, as a device
/// that receives them must hold them.
pub fn upload_study(orthanc: &Orthanc, spec: &StudySpec) -> BTreeMap<String, Vec<u8>> {
    let mut data_sets = BTreeMap::new();
    for instance in spec.instances() {
        orthanc.upload(&instance.bytes).unwrap();
        let (_, sop, data_set) = identity(&instance.bytes);
        data_sets.insert(sop, data_set);
    }
    data_sets
}

/// Asks `peer` to request storage commitment of `instances` from the adapter and waits for
/// its report to leave the `Pending` state.
pub fn commitment(peer: &Orthanc, instances: &[Value], log: impl Fn() -> String) -> Value {
    let body = json!({ "DicomInstances": instances });
    let answer = rest_post(peer, "/modalities/adapter/storage-commitment", &body, &log);
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    let path = answer["Path"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = peer.request("GET", &path, &[], b"").unwrap();
        assert_eq!(
            report.status,
            200,
            "{}",
            String::from_utf8_lossy(&report.body)
        );
        let report: Value = serde_json::from_slice(&report.body).unwrap();
        if report["Status"] != "Pending" {
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "no storage commitment report: {report}\n{}\n{}",
            log(),
            peer.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The SOP Instance UIDs of a list of `{SOPClassUID, SOPInstanceUID}`, sorted.
pub fn uids(list: &Value) -> Vec<String> {
    let mut uids: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["SOPInstanceUID"].as_str().map(str::to_owned))
        .collect();
    uids.sort();
    uids
}

/// POSTs `body` to `peer`'s REST API at `path` and checks the answer is 200 (the body and
/// `log` in the message otherwise); the answer's body.
pub fn rest_post(peer: &Orthanc, path: &str, body: &Value, log: impl Fn() -> String) -> Vec<u8> {
    let answer = peer
        .request("POST", path, &[], body.to_string().as_bytes())
        .unwrap();
    assert_eq!(
        answer.status,
        200,
        "POST {path}: {}\n{}\n{}",
        String::from_utf8_lossy(&answer.body),
        log(),
        peer.log()
    );
    answer.body
}

/// Has `peer` C-STORE the study `study_uid` to its modality `adapter` (REST
/// `/modalities/adapter/store`, synchronous).
pub fn peer_stores_study(peer: &Orthanc, study_uid: &str, log: impl Fn() -> String) {
    let study_id = peer
        .lookup(study_uid)
        .unwrap()
        .into_iter()
        .find(|(kind, _)| kind == "Study")
        .map(|(_, id)| id)
        .unwrap();
    let body = json!({ "Resources": [study_id], "Synchronous": true });
    rest_post(peer, "/modalities/adapter/store", &body, log);
}

/// An Orthanc on `peer_port`, AE title `PEER`, that knows the adapter on `adapter_port` as
/// its modality `adapter`: the DIMSE peer of the adapter's Orthanc tests.
pub fn peer_knowing_adapter(peer_port: u16, adapter_port: u16) -> Orthanc {
    Orthanc::start_with_config(&serde_json::json!({
        "DicomPort": peer_port,
        "DicomAet": "PEER",
        "DicomModalities": { "adapter": [AET, "127.0.0.1", adapter_port] }
    }))
    .unwrap()
}
