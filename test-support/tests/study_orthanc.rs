//! Generated studies are real DICOM: dicom-rs and dcmtk read them, and a real Orthanc stores,
//! indexes and renders them.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use dicomweb_core::{Tag, part10};
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

fn multi_frame() -> StudySpec {
    StudySpec {
        rows: 40,
        columns: 24,
        frames: 3,
        ..StudySpec::new(11)
    }
}

#[test]
fn dicom_rs_reads_every_attribute_back() {
    let spec = multi_frame();
    for instance in spec.instances() {
        let (meta, data_set) = part10::read(&instance.bytes).unwrap();
        assert_eq!(
            meta.string(Tag(0x0002_0003)),
            Some(instance.sop_instance_uid.as_str())
        );
        assert_eq!(
            data_set.string(Tag(0x0020_000D)),
            Some(spec.study_uid().as_str())
        );
        assert_eq!(
            data_set.string(Tag(0x0020_000E)),
            Some(instance.series_uid.as_str())
        );
        assert_eq!(
            data_set.string(Tag(0x0008_0016)),
            Some("1.2.840.10008.5.1.4.1.1.7.3")
        );
        let pixels = data_set.get(Tag(0x7FE0_0010)).unwrap();
        match &pixels.value {
            dicomweb_core::Value::InlineBinary(bytes) => assert_eq!(bytes.len(), 40 * 24 * 2 * 3),
            other => panic!("pixel data: {other:?}"),
        }
    }
}

#[test]
fn dcmdump_reads_a_file_without_complaint() {
    if std::process::Command::new("dcmdump")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("dcmdump (dcmtk) is missing: run `bash scripts/install-deps.sh`");
    }
    let dir = tempfile::tempdir().unwrap();
    let paths = multi_frame().write_to(dir.path()).unwrap();
    let out = std::process::Command::new("dcmdump")
        .arg("-E") // errors to stderr as well
        .arg(&paths[0])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("W:") && !stderr.contains("E:"), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(0028,0008) IS [3]"), "{text}");
    assert!(text.contains("MONOCHROME2"), "{text}");
}

#[test]
fn orthanc_stores_indexes_and_renders_a_generated_study() {
    let orthanc = Orthanc::start().unwrap();
    let spec = multi_frame();
    let mut ids = Vec::new();
    for instance in spec.instances() {
        let answer: serde_json::Value =
            serde_json::from_str(&orthanc.upload(&instance.bytes).unwrap()).unwrap();
        assert_eq!(answer["Status"], "Success", "{answer}");
        ids.push(answer["ID"].as_str().unwrap().to_owned());
    }
    let studies = orthanc.request("GET", "/studies?expand", &[], b"").unwrap();
    let studies: serde_json::Value = serde_json::from_slice(&studies.body).unwrap();
    assert_eq!(studies.as_array().unwrap().len(), 1);
    assert_eq!(
        studies[0]["MainDicomTags"]["StudyInstanceUID"],
        spec.study_uid().as_str()
    );
    assert_eq!(studies[0]["Series"].as_array().unwrap().len(), 2);
    // A frame renders to an image, and the stored file is the one sent.
    let rendered = orthanc
        .request(
            "GET",
            &format!("/instances/{}/frames/2/rendered", ids[0]),
            &[],
            b"",
        )
        .unwrap();
    assert_eq!(rendered.status, 200, "{}", orthanc.log());
    assert!(rendered.body.starts_with(b"\x89PNG") || rendered.body.starts_with(&[0xFF, 0xD8]));
    let file = orthanc
        .request("GET", &format!("/instances/{}/file", ids[0]), &[], b"")
        .unwrap();
    assert_eq!(file.body, spec.instances().next().unwrap().bytes);
}
