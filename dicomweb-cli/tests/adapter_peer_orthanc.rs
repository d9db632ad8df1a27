//! Orthanc's own DICOM side as the adapter's peer: Orthanc sends a study to the adapter by
//! C-STORE (REST `/modalities/{id}/store`), which lands on a second Orthanc through STOW-RS;
//! then Orthanc is the destination of a C-MOVE through the adapter, and gets the study back.

#![allow(clippy::unwrap_used)]

mod support;

use support::dimse::*;
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

#[test]
fn orthanc_stores_through_the_adapter_and_is_a_move_destination() {
    let adapter_port = free_port();
    let peer_port = free_port();
    // The DIMSE peer: it knows the adapter as a modality.
    let peer = peer_knowing_adapter(peer_port, adapter_port);
    // The DICOMweb server behind the adapter.
    let server = Orthanc::start().unwrap();
    let spec = StudySpec {
        series: 2,
        instances_per_series: 2,
        ..StudySpec::new(71)
    };
    let mut expected = std::collections::BTreeMap::new();
    for instance in spec.instances() {
        peer.upload(&instance.bytes).unwrap();
        let (_, sop, data_set) = identity(&instance.bytes);
        expected.insert(sop, data_set);
    }
    let config = tempfile::tempdir().unwrap();
    let modalities = config.path().join("orthanc.json");
    std::fs::write(
        &modalities,
        format!(r#"{{ "DicomModalities": {{ "peer": {{ "AET": "PEER", "Host": "127.0.0.1", "Port": {peer_port} }} }} }}"#),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let adapter = AdapterProcess::start(
        &server.dicomweb_url(),
        &state.path().join("state"),
        adapter_port,
        &["--modalities", modalities.to_str().unwrap()],
    );

    // Orthanc → adapter → STOW-RS → the server.
    peer_stores_study(&peer, &spec.study_uid(), || adapter.log());
    wait_for_instances(&server, 4, || adapter.log());
    for sop in expected.keys() {
        let stored = server.stored_file(sop).unwrap().unwrap();
        assert!(
            identity(&stored).2 == expected[sop],
            "{sop} differs on the server"
        );
    }

    // The server → adapter → C-MOVE → Orthanc, after Orthanc forgot the study.
    peer.delete_study(&spec.study_uid()).unwrap();
    assert_eq!(peer.count_instances().unwrap(), 0);
    let study = format!("StudyInstanceUID={}", spec.study_uid());
    let said = text(&run(dcmtk("movescu")
        .args(["-v", "-S", "-aet", "MOVER", "-aec", AET, "-aem", "PEER"])
        .args([
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            &study,
            "127.0.0.1",
            &adapter.port(),
        ])));
    assert!(
        said.contains("Received Final Move Response (Success)"),
        "{said}\n{}",
        adapter.log()
    );
    assert_eq!(peer.count_instances().unwrap(), 4);
    for sop in expected.keys() {
        let stored = peer.stored_file(sop).unwrap().unwrap();
        assert!(
            identity(&stored).2 == expected[sop],
            "{sop} differs at the move destination"
        );
    }
}
