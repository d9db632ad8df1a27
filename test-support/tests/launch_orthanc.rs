//! Starts a real Orthanc, uploads a Part 10 file and reads it back over DICOMweb.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use test_support::orthanc::Orthanc;
use test_support::part10::{self, Instance};

/// A small Part 10 file: Explicit VR Little Endian, Secondary Capture, no pixels.
fn tiny_part10() -> Vec<u8> {
    part10::instance(&Instance {
        patient_id: "PID-1",
        patient_name: "Doe^Jane",
        study_uid: "1.2.826.0.1.3680043.10.1.1",
        series_uid: "1.2.826.0.1.3680043.10.1.2",
        sop_uid: "1.2.826.0.1.3680043.10.1.3",
        study_date: "20240102",
        instance_number: 1,
    })
}

#[test]
fn orthanc_serves_an_uploaded_instance_over_dicomweb() {
    let orthanc = Orthanc::start().unwrap_or_else(|e| panic!("{e}"));
    assert!(orthanc.dicomweb_url().starts_with("http://127.0.0.1:"));
    let answer = orthanc
        .upload(&tiny_part10())
        .unwrap_or_else(|e| panic!("{e}\n{}", orthanc.log()));
    assert!(answer.contains("\"Status\""), "{answer}");

    let path = "/dicom-web/studies/1.2.826.0.1.3680043.10.1.1/series/1.2.826.0.1.3680043.10.1.2\
                /instances/1.2.826.0.1.3680043.10.1.3/metadata";
    let response = orthanc
        .request("GET", path, &[("Accept", "application/dicom+json")], b"")
        .unwrap();
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let body = String::from_utf8(response.body).unwrap();
    assert!(
        body.contains("Doe^Jane") && body.contains("PID-1"),
        "{body}"
    );

    let missing = orthanc
        .request("GET", "/dicom-web/studies/1.2.3/metadata", &[], b"")
        .unwrap();
    assert_eq!(missing.status, 404);
}
