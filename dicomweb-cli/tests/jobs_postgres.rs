//! Several `dicomweb jobs serve` workers on one PostgreSQL database (`--jobs-db`) moving
//! studies between two real Orthancs: workers SIGKILLed mid-run, a worker stopped (SIGSTOP)
//! past its lease, the database restarted mid-run. Every job ends in Success, every instance
//! is byte-identical at the destination, and the step log (owner and fencing token of every
//! saved step) shows that no job ever had two owners at once.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use orthanc_jobs::PostgresStore;
use orthanc_jobs::store::SavedStep;
use test_support::orthanc::Orthanc;
use test_support::postgres::Postgres;
use test_support::study::StudySpec;

fn dicomweb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args(args)
        .output()
        .unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// One `dicomweb jobs serve` process, killed on drop.
struct Worker {
    child: Child,
    owner: String,
    listening: String,
}

impl Worker {
    fn start(db: &str, lease_ms: u64) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dicomweb"))
            .args(["--quiet", "jobs", "serve", "--jobs-db", db])
            .args([
                "--listen",
                "127.0.0.1:0",
                "--workers",
                "2",
                "--poll-ms",
                "100",
            ])
            .args(["--lease-ms", &lease_ms.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let hello: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("serve printed {line:?}: {e}"));
        Worker {
            child,
            owner: hello["Owner"].as_str().unwrap().to_owned(),
            listening: hello["Listening"].as_str().unwrap().to_owned(),
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// A GET on the worker's HTTP API: (status, body).
    fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.listening).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.listening
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        (status, body.to_owned())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn studies(first_seed: u64, count: u64, spec: impl Fn(u64) -> StudySpec) -> Vec<StudySpec> {
    (first_seed..first_seed + count).map(spec).collect()
}

fn source_with(specs: &[StudySpec]) -> Orthanc {
    let source = Orthanc::start().unwrap();
    for spec in specs {
        for instance in spec.instances() {
            source.upload(&instance.bytes).unwrap();
        }
    }
    source
}

/// `transfer --async` of every study: returns the job IDs.
fn submit(db: &str, source: &Orthanc, destination: &Orthanc, specs: &[StudySpec]) -> Vec<String> {
    let (from, to) = (source.dicomweb_url(), destination.dicomweb_url());
    let mut args = vec![
        "--quiet",
        "transfer",
        "--async",
        "--batch",
        "1",
        "--jobs-db",
        db,
    ];
    args.extend(["--from", &from, "--to", &to]);
    let uids: Vec<String> = specs.iter().map(StudySpec::study_uid).collect();
    for uid in &uids {
        args.extend(["--study", uid]);
    }
    let submitted = json(&dicomweb(&args));
    submitted
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["ID"].as_str().unwrap().to_owned())
        .collect()
}

/// The jobs as `dicomweb jobs list --jobs-db` prints them, by ID.
fn jobs(db: &str) -> HashMap<String, serde_json::Value> {
    let list = json(&dicomweb(&["jobs", "list", "--jobs-db", db]));
    list.as_array()
        .unwrap()
        .iter()
        .map(|job| (job["ID"].as_str().unwrap().to_owned(), job.clone()))
        .collect()
}

fn wait_all_succeed(db: &str, ids: &[String], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let jobs = jobs(db);
        let states: Vec<&str> = ids
            .iter()
            .map(|id| jobs[id]["State"].as_str().unwrap_or("?"))
            .collect();
        if states.iter().all(|s| *s == "Success") {
            return;
        }
        assert!(
            !states.contains(&"Failure"),
            "a job failed: {:?}",
            jobs.values().collect::<Vec<_>>()
        );
        assert!(
            Instant::now() < deadline,
            "not all done in {within:?}: {:?}",
            jobs.values().collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_identical(destination: &Orthanc, specs: &[StudySpec]) {
    for spec in specs {
        for instance in spec.instances() {
            let stored = destination
                .stored_file(&instance.sop_instance_uid)
                .unwrap()
                .unwrap_or_else(|| panic!("{} missing", instance.sop_instance_uid));
            assert!(
                stored == instance.bytes,
                "{} differs",
                instance.sop_instance_uid
            );
        }
    }
}

/// The step log, read through the store's own API.
struct StepLog {
    runtime: tokio::runtime::Runtime,
    store: PostgresStore,
}

impl StepLog {
    fn open(db: &str) -> StepLog {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = runtime.block_on(PostgresStore::connect(db)).unwrap();
        StepLog { runtime, store }
    }

    fn read(&self) -> Vec<SavedStep> {
        self.runtime.block_on(self.store.saved_steps()).unwrap()
    }
}

fn step_log(db: &str) -> Vec<SavedStep> {
    StepLog::open(db).read()
}

/// Per job: every step saved exactly once, in order; the fencing token never goes back; one
/// owner per token. So no two owners ever saved steps of a job at the same time. Returns the
/// owners that saved steps, per job.
fn check_single_owner(log: &[SavedStep], ids: &[String]) -> Vec<Vec<String>> {
    let mut owners_per_job = Vec::new();
    for id in ids {
        let saved: Vec<&SavedStep> = log.iter().filter(|s| s.id.to_string() == *id).collect();
        let numbers: Vec<u64> = saved.iter().map(|s| s.step).collect();
        let want: Vec<u64> = (1..=saved.len() as u64).collect();
        assert!(saved.len() > 1, "job {id}: {saved:?}");
        assert_eq!(numbers, want, "job {id}: steps saved in order, each once");
        let mut token_owner: BTreeMap<u64, String> = BTreeMap::new();
        let mut last_token = 0;
        let mut owners = Vec::new();
        for step in &saved {
            assert!(
                step.generation >= last_token,
                "job {id}: token went back: {saved:?}"
            );
            last_token = step.generation;
            let owner = token_owner
                .entry(step.generation)
                .or_insert_with(|| step.owner.to_string());
            assert_eq!(
                *owner,
                step.owner.to_string(),
                "job {id}: two owners, one token"
            );
            if owners.last() != Some(owner) {
                owners.push(owner.clone());
            }
        }
        owners_per_job.push(owners);
    }
    owners_per_job
}

#[test]
fn three_workers_share_the_queue_two_are_killed_and_the_third_finishes() {
    let cluster = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let db = cluster.url();
    // Ten small studies of 6 instances of 128 KiB, one instance per step.
    let specs = studies(300, 10, |seed| StudySpec {
        series: 2,
        instances_per_series: 3,
        rows: 256,
        columns: 256,
        ..StudySpec::new(seed)
    });
    let source = source_with(&specs);
    let destination = Orthanc::start().unwrap();
    let workers: Vec<Worker> = (0..3).map(|_| Worker::start(&db, 1500)).collect();
    let ids = submit(&db, &source, &destination, &specs);
    assert_eq!(ids.len(), 10);

    // Kill two workers in the middle of their jobs: once each saved a step.
    let mut workers = workers.into_iter();
    let (mut killed_a, mut killed_b) = (workers.next().unwrap(), workers.next().unwrap());
    let survivor = workers.next().unwrap();
    let watch = StepLog::open(&db);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = watch.read();
        let saved_by = |w: &Worker| log.iter().any(|s| s.owner.as_str() == w.owner);
        if saved_by(&killed_a) && saved_by(&killed_b) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "two workers did not both save a step within a minute: {log:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    killed_a.child.kill().unwrap(); // SIGKILL
    killed_b.child.kill().unwrap();
    let _ = (killed_a.child.wait(), killed_b.child.wait());
    let at_kill = destination.count_instances().unwrap();
    assert!(
        at_kill < 60,
        "killed too late to test anything: {at_kill} of 60"
    );

    wait_all_succeed(&db, &ids, Duration::from_secs(90));
    assert_eq!(destination.count_instances().unwrap(), 60);
    assert_identical(&destination, &specs);

    let log = step_log(&db);
    let owners = check_single_owner(&log, &ids);
    let finished_by_survivor = owners
        .iter()
        .filter(|o| o.last() == Some(&survivor.owner))
        .count();
    assert!(finished_by_survivor > 0, "{owners:?}");
    let killed = [&killed_a.owner, &killed_b.owner];
    let taken_over = owners
        .iter()
        .filter(|o| o.len() > 1 && killed.contains(&&o[0]))
        .count();
    eprintln!("{at_kill} of 60 at the kill; owners per job: {owners:?}");
    assert!(taken_over > 0, "no job was taken over mid-run: {owners:?}");

    // The survivor serves Orthanc's jobs API and Prometheus metrics.
    let (status, body) = survivor.get("/jobs");
    assert_eq!(status, 200, "{body}");
    let listed: Vec<String> = serde_json::from_str(&body).unwrap();
    assert!(ids.iter().all(|id| listed.contains(id)), "{body}");
    let (status, body) = survivor.get(&format!("/jobs/{}", ids[0]));
    assert_eq!(status, 200);
    assert!(body.contains("\"State\":\"Success\""), "{body}");
    let (status, metrics) = survivor.get("/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("orthanc_jobs_success 10"), "{metrics}");

    // SIGTERM: the survivor stops cleanly.
    let mut survivor = survivor;
    survivor.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = survivor.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn a_worker_stopped_past_its_lease_cannot_write() {
    let cluster = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let db = cluster.url();
    // One study of 16 instances of 1 MiB, one per step: long enough to stop its worker midway.
    let specs = studies(400, 1, |seed| StudySpec {
        series: 2,
        instances_per_series: 8,
        rows: 512,
        columns: 512,
        frames: 2,
        ..StudySpec::new(seed)
    });
    let source = source_with(&specs);
    let destination = Orthanc::start().unwrap();
    let stopped = Worker::start(&db, 800);
    let ids = submit(&db, &source, &destination, &specs);
    let deadline = Instant::now() + Duration::from_secs(60);
    while destination.count_instances().unwrap() < 3 {
        assert!(Instant::now() < deadline, "no progress within a minute");
        std::thread::sleep(Duration::from_millis(2));
    }
    stopped.signal("STOP");
    let other = Worker::start(&db, 800);
    wait_all_succeed(&db, &ids, Duration::from_secs(60));
    // Continued after another worker took its job and finished it: it cannot write.
    stopped.signal("CONT");
    std::thread::sleep(Duration::from_millis(1500));
    let log = step_log(&db);
    let owners = check_single_owner(&log, &ids);
    assert_eq!(owners[0], [stopped.owner.clone(), other.owner.clone()]);
    let record = &jobs(&db)[&ids[0]];
    assert_eq!(record["State"], "Success", "{record}");
    assert_eq!(destination.count_instances().unwrap(), 16);
    assert_identical(&destination, &specs);
}

#[test]
fn workers_reconnect_after_a_database_restart_and_finish() {
    let mut cluster = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let db = cluster.url();
    let specs = studies(500, 4, |seed| StudySpec {
        series: 2,
        instances_per_series: 4,
        rows: 256,
        columns: 256,
        ..StudySpec::new(seed)
    });
    let source = source_with(&specs);
    let destination = Orthanc::start().unwrap();
    let _workers: Vec<Worker> = (0..2).map(|_| Worker::start(&db, 1500)).collect();
    let ids = submit(&db, &source, &destination, &specs);
    let deadline = Instant::now() + Duration::from_secs(60);
    while destination.count_instances().unwrap() < 4 {
        assert!(Instant::now() < deadline, "no progress within a minute");
        std::thread::sleep(Duration::from_millis(5));
    }
    cluster.stop().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    cluster.start_again().unwrap();
    wait_all_succeed(&db, &ids, Duration::from_secs(90));
    assert_identical(&destination, &specs);
    let log = step_log(&db);
    check_single_owner(&log, &ids);
}

#[test]
fn jobs_commands_act_on_the_database_and_never_show_its_password() {
    let cluster = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let db = cluster.url();
    let specs = studies(600, 1, StudySpec::new);
    let source = source_with(&specs);
    let destination = Orthanc::start().unwrap();
    // No worker yet: the job waits.
    let ids = submit(&db, &source, &destination, &specs);
    let id = ids[0].as_str();
    let state = |db: &str| jobs(db)[id]["State"].as_str().unwrap().to_owned();
    assert_eq!(state(&db), "Pending");
    for (action, after) in [
        ("pause", "Paused"),
        ("resume", "Pending"),
        ("cancel", "Failure"),
        ("resubmit", "Pending"),
    ] {
        let report = json(&dicomweb(&["jobs", action, id, "--jobs-db", &db]));
        assert_eq!(report["After"], after, "{action}: {report}");
    }
    let shown = json(&dicomweb(&["jobs", "show", id, "--jobs-db", &db]));
    assert_eq!(shown["State"], "Pending", "{shown}");
    // The environment variable names the database too.
    let listed = Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args(["jobs", "list"])
        .env("DICOMWEB_JOBS_DB", &db)
        .output()
        .unwrap();
    assert_eq!(json(&listed).as_array().unwrap().len(), 1);

    let worker = Worker::start(&db, 30_000);
    wait_all_succeed(&db, &ids, Duration::from_secs(60));
    assert_identical(&destination, &specs);
    drop(worker);

    // A password never shows, whatever goes wrong.
    let port = cluster.port();
    for url in [
        format!("postgres://postgres:sekrit@127.0.0.1:{port}/missing"),
        "postgres://postgres:sekrit@127.0.0.1:1/x".to_owned(),
        "postgres://postgres:sekrit@127.0.0.1:1/x?bogus=1".to_owned(),
    ] {
        let failed = dicomweb(&["jobs", "list", "--jobs-db", &url]);
        let stderr = String::from_utf8_lossy(&failed.stderr);
        assert!(!failed.status.success(), "{url}");
        assert!(!stderr.contains("sekrit"), "{stderr}");
        assert!(stderr.contains("postgres:[redacted]@"), "{stderr}");
    }

    // Beyond loopback, serve wants credentials; with them, requests without are refused.
    let refused = dicomweb(&["jobs", "serve", "--jobs-db", &db, "--listen", "0.0.0.0:0"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("requires credentials"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let mut guarded = Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args(["--quiet", "jobs", "serve", "--jobs-db", &db])
        .args(["--listen", "127.0.0.1:0", "--api-token", "t0ken"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(guarded.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let hello: serde_json::Value = serde_json::from_str(&line).unwrap();
    let guarded = Worker {
        child: guarded,
        owner: hello["Owner"].as_str().unwrap().to_owned(),
        listening: hello["Listening"].as_str().unwrap().to_owned(),
    };
    assert_eq!(guarded.get("/jobs").0, 401);
}
