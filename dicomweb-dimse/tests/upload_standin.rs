//! The upload queue against a scripted DICOMweb server: while the server answers 503, the
//! acknowledged instances stay in the spool and are sent again after a backoff; when it stores
//! one and refuses the other with a FailureReason, the stored one's spool file is deleted and
//! the refused one moves to `failed/` beside a JSON record of why.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use dicomweb_dimse::UploadOptions;
use test_support::standin::{StandIn, respond};
use test_support::study::StudySpec;

use common::SECONDARY_CAPTURE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_and_refusals_set_aside() {
    let spec = StudySpec {
        series: 1,
        instances_per_series: 2,
        ..StudySpec::new(91)
    };
    let (stored_uid, refused_uid) = (spec.sop_instance_uid(1, 1), spec.sop_instance_uid(1, 2));
    let reply = serde_json::json!({
        "00081198": { "vr": "SQ", "Value": [{
            "00081150": { "vr": "UI", "Value": [SECONDARY_CAPTURE] },
            "00081155": { "vr": "UI", "Value": [refused_uid] },
            "00081197": { "vr": "US", "Value": [0xA900] }
        }]},
        "00081199": { "vr": "SQ", "Value": [{
            "00081150": { "vr": "UI", "Value": [SECONDARY_CAPTURE] },
            "00081155": { "vr": "UI", "Value": [stored_uid] },
            "00081190": { "vr": "UR", "Value": ["http://server/studies/1"] }
        }]}
    })
    .to_string();
    // The first attempt (the batch, then each instance alone) meets a server in trouble.
    let server = StandIn::start(move |n, _| {
        if n < 3 {
            respond("503 Service Unavailable", &[], b"")
        } else {
            respond(
                "202 Accepted",
                &[("Content-Type", "application/dicom+json")],
                reply.as_bytes(),
            )
        }
    });

    let state = tempfile::tempdir().unwrap();
    let mut builder = common::builder(common::client(&server.url_for("/dicom-web")), state.path());
    builder.upload(
        UploadOptions::default()
            .batch_instances(2)
            .batch_wait(Duration::from_secs(2))
            .retry_delays(Duration::from_millis(200), Duration::from_millis(400)),
    );
    let (address, stop, task) = common::start(&builder).await;

    let files_dir = tempfile::tempdir().unwrap();
    let files = spec.write_to(files_dir.path()).unwrap();
    let mut scu = common::sender(address).await;
    common::store_each(&mut scu, &files).await;
    scu.release().await.unwrap();

    let spool = state.path().join("spool");
    let failed = state.path().join("failed");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&spool).unwrap().count() > 0 {
        assert!(
            Instant::now() < deadline,
            "the spool was not emptied; {} requests",
            server.hits()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        server.hits(),
        4,
        "one failed attempt (batch, then each alone), one that worked"
    );
    let mut names: Vec<String> = std::fs::read_dir(&failed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[0].ends_with(".dcm") && names[1].ends_with(".json"),
        "{names:?}"
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(failed.join(&names[1])).unwrap()).unwrap();
    assert_eq!(record["FailureReason"], 0xA900, "{record}");
    assert_eq!(record["SOPInstanceUID"], refused_uid.as_str(), "{record}");
    assert_eq!(record["Attempts"], 2, "{record}");
    let moved = std::fs::read(failed.join(&names[0])).unwrap();
    let meta = dicomweb_core::file_meta::FileMeta::read(&moved)
        .unwrap()
        .unwrap();
    assert_eq!(meta.sop_instance_uid.as_deref(), Some(refused_uid.as_str()));
    stop.send(()).unwrap();
    task.await.unwrap();
}
