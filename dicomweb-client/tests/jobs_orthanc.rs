//! Transfer and store jobs between two real Orthancs on the job engine: every instance arrives
//! byte-identical, and a job restored from saved state with a batch in flight sends only what
//! the destination lacks.

#![cfg(feature = "jobs")]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use dicomweb_client::Client;
use dicomweb_client::jobs::{self, Connect, StoreJob, TransferJob};
use dicomweb_core::Uid;
use orthanc_jobs::{Engine, EngineConfig, JobRegistry, JobState, MemoryStore, SqliteStore};
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

fn spec() -> StudySpec {
    StudySpec {
        series: 2,
        instances_per_series: 5,
        ..StudySpec::new(21)
    }
}

fn connect() -> Connect {
    Arc::new(|url: &str| Client::builder(url).build())
}

fn registry() -> JobRegistry {
    let mut registry = JobRegistry::new();
    jobs::register(&mut registry, connect());
    registry
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_job_copies_a_study_byte_for_byte() {
    let (source, destination) = (Orthanc::start().unwrap(), Orthanc::start().unwrap());
    for instance in spec().instances() {
        source.upload(&instance.bytes).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("jobs.sqlite")).unwrap());
    let engine = Engine::start(store, registry(), EngineConfig::new())
        .await
        .unwrap();
    let study = Uid::new(spec().study_uid()).unwrap();
    let job = TransferJob::new(
        connect(),
        source.dicomweb_url(),
        destination.dicomweb_url(),
        study,
    )
    .unwrap()
    .batch(3);
    let record = engine.submit_and_wait(job, 0).await.unwrap();
    assert_eq!(record.state, JobState::Success, "{:?}", record.error);
    assert_eq!(record.progress, 100);
    // One step to list, then ceil(10 / 3) = 4 batches.
    assert_eq!(record.steps, 5);
    assert_eq!(record.content["Sent"], 10);
    assert_eq!(record.content["AlreadyThere"], 0);
    for instance in spec().instances() {
        assert_eq!(
            destination
                .stored_file(&instance.sop_instance_uid)
                .unwrap()
                .unwrap(),
            instance.bytes,
            "{}",
            instance.sop_instance_uid
        );
    }
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_transfer_sends_only_what_the_destination_lacks() {
    let (source, destination) = (Orthanc::start().unwrap(), Orthanc::start().unwrap());
    let instances: Vec<_> = spec().instances().collect();
    for instance in &instances {
        source.upload(&instance.bytes).unwrap();
    }
    // As if a crash cut a batch short: its first instances are at the destination already.
    let mut listed = Vec::new();
    for instance in &instances {
        listed.push(
            serde_json::json!({"series": instance.series_uid, "sop": instance.sop_instance_uid}),
        );
    }
    for instance in &instances[3..5] {
        destination.upload(&instance.bytes).unwrap();
    }
    let saved = serde_json::json!({
        "source": source.dicomweb_url(),
        "destination": destination.dicomweb_url(),
        "study": spec().study_uid(),
        "batch": 4,
        "instances": listed,
        "cursor": 3,          // instances 0..3 were moved and saved
        "sent": 3, "skipped": 0, "bytes": 0, "retries": 0,
    });
    for instance in &instances[..3] {
        destination.upload(&instance.bytes).unwrap();
    }
    let registry = registry();
    let job = registry.restore(jobs::TRANSFER_JOB, saved).unwrap();
    let engine = Engine::start(Arc::new(MemoryStore::new()), registry, EngineConfig::new())
        .await
        .unwrap();
    let id = engine.handle().submit_boxed(job, 0).await.unwrap();
    let record = engine.handle().wait(id).await.unwrap();
    assert_eq!(record.state, JobState::Success, "{:?}", record.error);
    assert_eq!(record.content["AlreadyThere"], 2, "{}", record.content);
    assert_eq!(record.content["Sent"], 3 + 5, "{}", record.content);
    assert_eq!(destination.count_instances().unwrap(), 10);
    for instance in &instances {
        assert_eq!(
            destination
                .stored_file(&instance.sop_instance_uid)
                .unwrap()
                .unwrap(),
            instance.bytes
        );
    }
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_job_uploads_files_and_a_bad_file_fails_the_job_with_its_reason() {
    let destination = Orthanc::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = spec().write_to(dir.path()).unwrap();
    let engine = Engine::start(
        Arc::new(MemoryStore::new()),
        registry(),
        EngineConfig::new(),
    )
    .await
    .unwrap();
    let job = StoreJob::new(connect(), destination.dicomweb_url(), files.clone())
        .unwrap()
        .batch(4);
    let record = engine.submit_and_wait(job, 0).await.unwrap();
    assert_eq!(record.state, JobState::Success, "{:?}", record.error);
    assert_eq!(record.steps, 3);
    assert_eq!(destination.count_instances().unwrap(), 10);

    let junk = dir.path().join("junk.dcm");
    std::fs::write(&junk, b"not DICOM at all").unwrap();
    let job = StoreJob::new(connect(), destination.dicomweb_url(), vec![junk]).unwrap();
    let record = engine.submit_and_wait(job, 0).await.unwrap();
    assert_eq!(record.state, JobState::Failure);
    let error = record.error.unwrap().description;
    assert!(
        error.contains("junk.dcm") && error.contains("not a DICOM Part 10 file"),
        "{error}"
    );
    engine.shutdown().await;
}

#[test]
fn a_url_with_credentials_is_refused_before_it_reaches_the_state_file() {
    let study = Uid::new("1.2.3").unwrap();
    let error = TransferJob::new(
        connect(),
        "http://alice:s3cret@127.0.0.1:8042/dicom-web",
        "http://127.0.0.1:8043/dicom-web",
        study,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(error.contains("must not carry credentials"), "{error}");
    assert!(!error.contains("s3cret"), "{error}");
    let error = StoreJob::new(connect(), "http://bob:pw@127.0.0.1:1/x", Vec::new())
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("must not carry credentials") && !error.contains("pw"),
        "{error}"
    );
}
