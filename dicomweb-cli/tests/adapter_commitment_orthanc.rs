//! Storage commitment through the adapter, with Orthanc's DICOM side as the Storage Commitment
//! SCU: Orthanc stores a series to the adapter by C-STORE, then asks it (REST
//! `/modalities/{id}/storage-commitment`, an N-ACTION) to commit to those instances and to
//! one it never sent. Orthanc releases its association after the N-ACTION response, so the
//! N-EVENT-REPORT comes back on a new association from the adapter to Orthanc's DICOM port
//! (found in the adapter's `--modalities`); Orthanc's report (`/storage-commitment/{id}`)
//! lists what the adapter committed and what failed, with the failure reason.

#![allow(clippy::unwrap_used)]

mod support;

use dicomweb_core::file_meta::FileMeta;
use serde_json::{Value, json};
use support::dimse::*;
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

/// No Such Object Instance.
const NO_SUCH_OBJECT_INSTANCE: u64 = 0x0112;

#[test]
fn orthanc_gets_storage_commitment_results_from_the_adapter() {
    let adapter_port = free_port();
    let peer_port = free_port();
    let peer = peer_knowing_adapter(peer_port, adapter_port);
    let server = Orthanc::start().unwrap();
    let spec = StudySpec {
        series: 1,
        instances_per_series: 3,
        ..StudySpec::new(83)
    };
    let mut sent = Vec::new();
    for instance in spec.instances() {
        peer.upload(&instance.bytes).unwrap();
        let meta = FileMeta::read(&instance.bytes).unwrap().unwrap();
        sent.push(json!({
            "SOPClassUID": meta.sop_class_uid.unwrap().trim_end_matches('\0'),
            "SOPInstanceUID": meta.sop_instance_uid.unwrap().trim_end_matches('\0'),
        }));
    }
    let config = tempfile::tempdir().unwrap();
    let modalities = config.path().join("orthanc.json");
    std::fs::write(
        &modalities,
        json!({ "DicomModalities": { "peer": ["PEER", "127.0.0.1", peer_port] } }).to_string(),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let adapter = AdapterProcess::start(
        &server.dicomweb_url(),
        &state.path().join("state"),
        adapter_port,
        &["--modalities", modalities.to_str().unwrap()],
    );
    peer_stores_study(&peer, &spec.study_uid(), || adapter.log());

    // Asked at once: the instances may still be in the adapter's upload queue, which the
    // adapter waits for.
    let report = commitment(&peer, &sent, || adapter.log());
    assert_eq!(report["Status"], "Success", "{report}\n{}", adapter.log());
    assert_eq!(uids(&report["Success"]), uids(&Value::from(sent.clone())));
    assert_eq!(report["Failures"].as_array().map(Vec::len), Some(0));
    assert_eq!(server.count_instances().unwrap(), 3);

    // One instance the adapter never received.
    let missing = json!({
        "SOPClassUID": sent[0]["SOPClassUID"],
        "SOPInstanceUID": "1.2.826.0.1.3680043.10.1234.999"
    });
    let asked = vec![sent[1].clone(), missing.clone()];
    let report = commitment(&peer, &asked, || adapter.log());
    assert_eq!(report["Status"], "Failure", "{report}\n{}", adapter.log());
    assert_eq!(
        uids(&report["Success"]),
        uids(&Value::from(vec![sent[1].clone()]))
    );
    let failures = report["Failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{report}");
    assert_eq!(failures[0]["SOPInstanceUID"], missing["SOPInstanceUID"]);
    assert_eq!(
        failures[0]["FailureReason"], NO_SUCH_OBJECT_INSTANCE,
        "{report}"
    );

    let log = adapter.log();
    assert!(log.contains("storage commitment requested"), "{log}");
    adapter.wait_for_log("result sent on a new association");
}
