//! The upload queue on a store shared by replicas ([`AdapterBuilder::shared_queue`]): at
//! start, replica "a" queues every spool file that no job *of its own* holds. Another
//! replica's unfinished job naming the same path (replicas mount their volumes at the same
//! path) does not hold a's file: a sends it, and leaves the other replica's job alone.
//!
//! [`AdapterBuilder::shared_queue`]: dicomweb_dimse::AdapterBuilder::shared_queue

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use dicomweb_dimse::UploadOptions;
use dicomweb_dimse::orthanc_jobs::store::NewJob;
use dicomweb_dimse::orthanc_jobs::{JobId, JobState, MemoryStore, Store};
use dicomweb_dimse::upload::UPLOAD_JOB;
use test_support::standin::{StandIn, respond};
use test_support::study::StudySpec;

use common::SECONDARY_CAPTURE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_this_replicas_jobs_hold_its_spool_files() {
    let spec = StudySpec {
        series: 1,
        instances_per_series: 1,
        ..StudySpec::new(93)
    };
    let uid = spec.sop_instance_uid(1, 1);
    let reply = serde_json::json!({
        "00081199": { "vr": "SQ", "Value": [{
            "00081150": { "vr": "UI", "Value": [SECONDARY_CAPTURE] },
            "00081155": { "vr": "UI", "Value": [uid] },
            "00081190": { "vr": "UR", "Value": ["http://server/studies/1"] }
        }]}
    })
    .to_string();
    let server = StandIn::start(move |_, _| {
        respond(
            "200 OK",
            &[("Content-Type", "application/dicom+json")],
            reply.as_bytes(),
        )
    });

    // Replica a's volume: one acknowledged instance that was not yet in a job when it stopped.
    let state = tempfile::tempdir().unwrap();
    let spool = state.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let files_dir = tempfile::tempdir().unwrap();
    let files = spec.write_to(files_dir.path()).unwrap();
    let spooled = spool.join("00000000000000000000000001-0000000000000001.dcm");
    std::fs::copy(&files[0], &spooled).unwrap();

    // Replica b's unfinished upload job names the same path, on b's own volume.
    let store = Arc::new(MemoryStore::new());
    let of_b = JobId::new();
    store
        .insert(vec![NewJob {
            id: of_b,
            type_name: UPLOAD_JOB.to_owned(),
            priority: 0,
            data: serde_json::json!({ "files": [spooled] }),
            content: serde_json::json!({}),
            progress: 0,
            creation_time: SystemTime::now(),
            affinity: Some("b".to_owned()),
        }])
        .await
        .unwrap();

    let mut builder = common::builder(common::client(&server.url_for("/dicom-web")), state.path());
    builder
        .shared_queue(store.clone(), "a")
        .upload(UploadOptions::default().batch_wait(Duration::from_millis(50)));
    let (_, stop, task) = common::start(&builder).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    while spooled.exists() {
        assert!(
            Instant::now() < deadline,
            "replica a did not send its spool file; {} requests",
            server.hits()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(server.hits(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let jobs = store.list().await.unwrap();
    let b = jobs.iter().find(|r| r.id == of_b).unwrap();
    assert_eq!(
        (b.state, b.affinity.as_deref(), b.steps),
        (JobState::Pending, Some("b"), 0)
    );
    let of_a: Vec<_> = jobs.iter().filter(|r| r.id != of_b).collect();
    assert_eq!(of_a.len(), 1, "{jobs:?}");
    assert_eq!(
        (of_a[0].state, of_a[0].affinity.as_deref()),
        (JobState::Success, Some("a"))
    );
    stop.send(()).unwrap();
    task.await.unwrap();
}
