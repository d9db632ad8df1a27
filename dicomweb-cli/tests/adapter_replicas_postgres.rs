//! Two `dicomweb adapter` replicas, "a" and "b", each with its own `--state` folder, sharing
//! one upload queue in a real PostgreSQL (`--jobs-db`). Replica a takes a study by dcmsend
//! while its DICOMweb server is down: every C-STORE is acknowledged and its upload jobs wait in
//! PostgreSQL, pinned to "a". Replica b, whose server is up, uploads a study of its own but
//! never takes a's jobs (its server receives nothing of a's study, and the store shows a's
//! jobs unfinished under a's name). Then a is SIGKILLed, a server started, a restarted with
//! it: every instance a acknowledged arrives, identical.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dicomweb_dimse::upload::UPLOAD_JOB;
use orthanc_jobs::{JobState, JobsHandle, PostgresStore};
use support::dimse::*;
use test_support::orthanc::Orthanc;
use test_support::postgres::Postgres;
use test_support::study::StudySpec;

fn study(seed: u64, dir: &std::path::Path) -> Vec<PathBuf> {
    let spec = StudySpec {
        series: 2,
        instances_per_series: 3,
        ..StudySpec::new(seed)
    };
    spec.write_to(dir).unwrap()
}

/// The upload jobs in the shared store, as (affinity, state).
fn upload_jobs(db: &str) -> Vec<(Option<String>, JobState)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = std::sync::Arc::new(PostgresStore::connect(db).await.unwrap());
        JobsHandle::new(store)
            .list()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.type_name == UPLOAD_JOB)
            .map(|r| (r.affinity, r.state))
            .collect()
    })
}

#[test]
fn a_replicas_upload_jobs_wait_for_it_and_no_other_replica_takes_them() {
    let cluster = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let db = cluster.url();
    let folders = tempfile::tempdir().unwrap();
    let state_a = folders.path().join("a");
    let state_b = folders.path().join("b");
    let files_a = study(31, &folders.path().join("study-a"));
    let files_b = study(32, &folders.path().join("study-b"));

    // Replica b in front of a server that is up.
    let server_b = Orthanc::start().unwrap();
    let shared = |name: &'static str| ["--jobs-db", db.as_str(), "--replica", name];
    let replica_b = AdapterProcess::start(
        &server_b.dicomweb_url(),
        &state_b,
        free_port(),
        &shared("b"),
    );
    // Replica a in front of a server that is down: nothing listens at its address.
    let down = format!("http://127.0.0.1:{}/dicom-web", free_port());
    let replica_a = AdapterProcess::start(&down, &state_a, free_port(), &shared("a"));

    let output = dcmsend(&replica_a, &files_a);
    assert!(output.status.success(), "{}", text(&output));
    let spooled = std::fs::read_dir(state_a.join("spool")).unwrap().count();
    assert_eq!(spooled, files_a.len(), "{}", replica_a.log());
    let output = dcmsend(&replica_b, &files_b);
    assert!(output.status.success(), "{}", text(&output));
    wait_for_instances(&server_b, files_b.len() as u64, || replica_b.log());

    // a's jobs are in PostgreSQL, pinned to "a", and stay unfinished while b runs beside them
    // (b's engine wakes their retry timers, yet never claims them).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let jobs = upload_jobs(&db);
        let of_a = jobs
            .iter()
            .filter(|(affinity, _)| affinity.as_deref() == Some("a"));
        if of_a.count() > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no upload job of replica a in the store: {jobs:?}\n{}",
            replica_a.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    let jobs = upload_jobs(&db);
    for (affinity, state) in &jobs {
        assert!(
            matches!(affinity.as_deref(), Some("a" | "b")),
            "an upload job without a replica: {jobs:?}"
        );
        if affinity.as_deref() == Some("a") {
            assert!(!state.is_finished(), "a's job finished elsewhere: {jobs:?}");
        }
    }
    assert_eq!(server_b.count_instances().unwrap(), files_b.len() as u64);
    assert_eq!(
        std::fs::read_dir(state_a.join("spool")).unwrap().count(),
        files_a.len()
    );

    // a crashes; its server comes up; a comes back under the same name and sends it all.
    replica_a.kill();
    let server_a = Orthanc::start().unwrap();
    let replica_a = AdapterProcess::start(
        &server_a.dicomweb_url(),
        &state_a,
        free_port(),
        &shared("a"),
    );
    wait_for_instances(&server_a, files_a.len() as u64, || replica_a.log());
    assert_on_server(&server_a, &files_a);
    assert_on_server(&server_b, &files_b);
    // b's server never saw a's study.
    assert_eq!(server_b.count_instances().unwrap(), files_b.len() as u64);
    let log_b = replica_b.log();
    assert!(!log_b.contains("panicked"), "{log_b}");
}
