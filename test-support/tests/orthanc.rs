//! Starts a real Orthanc, uploads a Part 10 file and reads it back over DICOMweb.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use test_support::orthanc::Orthanc;

/// A small Part 10 file built by hand: Explicit VR Little Endian, Secondary Capture, no pixels.
fn tiny_part10() -> Vec<u8> {
    fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
        let mut value = value.to_vec();
        if value.len() % 2 == 1 {
            value.push(if vr == b"UI" { 0 } else { b' ' });
        }
        out.extend_from_slice(&group.to_le_bytes());
        out.extend_from_slice(&elem.to_le_bytes());
        out.extend_from_slice(vr);
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        out.extend_from_slice(&value);
    }
    let mut meta = Vec::new();
    element(
        &mut meta,
        0x0002,
        0x0002,
        b"UI",
        b"1.2.840.10008.5.1.4.1.1.7",
    );
    element(
        &mut meta,
        0x0002,
        0x0003,
        b"UI",
        b"1.2.826.0.1.3680043.10.1.3",
    );
    element(&mut meta, 0x0002, 0x0010, b"UI", b"1.2.840.10008.1.2.1");
    element(
        &mut meta,
        0x0002,
        0x0012,
        b"UI",
        b"1.2.826.0.1.3680043.10.1",
    );
    let mut file = vec![0u8; 128];
    file.extend_from_slice(b"DICM");
    element(
        &mut file,
        0x0002,
        0x0000,
        b"UL",
        &(meta.len() as u32).to_le_bytes(),
    );
    file.extend_from_slice(&meta);
    element(
        &mut file,
        0x0008,
        0x0016,
        b"UI",
        b"1.2.840.10008.5.1.4.1.1.7",
    );
    element(
        &mut file,
        0x0008,
        0x0018,
        b"UI",
        b"1.2.826.0.1.3680043.10.1.3",
    );
    element(&mut file, 0x0010, 0x0010, b"PN", b"Doe^Jane");
    element(&mut file, 0x0010, 0x0020, b"LO", b"PID-1");
    element(
        &mut file,
        0x0020,
        0x000D,
        b"UI",
        b"1.2.826.0.1.3680043.10.1.1",
    );
    element(
        &mut file,
        0x0020,
        0x000E,
        b"UI",
        b"1.2.826.0.1.3680043.10.1.2",
    );
    file
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
