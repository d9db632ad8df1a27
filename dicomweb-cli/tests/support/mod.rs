//! Shared helpers of the CLI's integration tests: running the program, checking its output,
//! generating Part 10 instances, and asking Orthanc about what it stores.
#![allow(dead_code, clippy::unwrap_used)]

pub mod dimse;
pub mod healthcare;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use bytes::Bytes;
use dicomweb_core::{DataSet, Element, Number, PersonName, Tag, Value, Vr};
use test_support::orthanc::Orthanc;

/// Runs `dicomweb` with `args`, with no DICOMweb variables from the environment.
pub fn dicomweb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args(args)
        .env_remove("DICOMWEB_URL")
        .env_remove("DICOMWEB_PASSWORD")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A failure: status 1, nothing on stdout, exactly one line on stderr; returns that line.
pub fn one_line_error(output: &Output) -> String {
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("dicomweb: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// A success: status 0; returns stdout parsed as JSON.
pub fn success_json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "status {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The first string value of `tag` (eight hex digits) in a DICOM JSON data set.
pub fn string(data_set: &serde_json::Value, tag: &str) -> Option<String> {
    let value = &data_set[tag]["Value"][0];
    value
        .as_str()
        .map(str::to_owned)
        .or_else(|| value["Alphabetic"].as_str().map(str::to_owned))
}

/// Every data set's first value of `tag`, sorted.
pub fn strings(array: &serde_json::Value, tag: &str) -> Vec<String> {
    let mut all: Vec<String> = array
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|ds| string(ds, tag))
        .collect();
    all.sort();
    all
}

/// One generated instance.
#[derive(Clone, Debug)]
pub struct Spec {
    pub patient_id: String,
    pub patient_name: String,
    pub study: String,
    pub series: String,
    pub sop: String,
    pub study_date: String,
    /// The series' Modality ("OT" unless set).
    pub modality: String,
    pub number: u32,
    /// Frames of 8-bit monochrome pixels; none without pixel data.
    pub frames: u32,
    /// The frames' rows and columns (4 unless set).
    pub side: u32,
}

impl Spec {
    /// Instance `number` of series `series` of study `study` (UIDs built from the numbers).
    pub fn new(patient: &str, study: u32, series: u32, number: u32) -> Spec {
        let root = "1.2.826.0.1.3680043.10.543";
        Spec {
            patient_id: patient.to_owned(),
            patient_name: format!("DOE^{patient}"),
            study: format!("{root}.{study}"),
            series: format!("{root}.{study}.{series}"),
            sop: format!("{root}.{study}.{series}.{number}"),
            study_date: "20200115".to_owned(),
            modality: "OT".to_owned(),
            number,
            frames: 0,
            side: 4,
        }
    }
}

const SECONDARY_CAPTURE: &str = "1.2.840.10008.5.1.4.1.1.7";
const MULTIFRAME_GRAYSCALE_BYTE_SC: &str = "1.2.840.10008.5.1.4.1.1.7.2";

/// The pixel bytes of frame `n` (from 1) of a generated instance with 4×4 frames.
pub fn frame_bytes(n: u32) -> Vec<u8> {
    frame_bytes_of(n, 4)
}

/// The pixel bytes of frame `n` (from 1) of a frame of `side`×`side` pixels.
pub fn frame_bytes_of(n: u32, side: u32) -> Vec<u8> {
    (0..side * side).map(|i| (n * 16 + i) as u8).collect()
}

/// The Part 10 bytes of an instance (explicit VR little endian).
pub fn instance(spec: &Spec) -> Vec<u8> {
    let mut ds = DataSet::new();
    let text = |vr, s: &str| Element::string(vr, s);
    let int = |vr, n: i64| Element::numbers(vr, [Number::Int(n)]);
    let is = |n: u32| Element::numbers(Vr::IS, [Number::Text(n.to_string().into())]);
    let class = if spec.frames > 0 {
        MULTIFRAME_GRAYSCALE_BYTE_SC
    } else {
        SECONDARY_CAPTURE
    };
    ds.insert(Tag(0x0008_0016), text(Vr::UI, class));
    ds.insert(Tag(0x0008_0018), text(Vr::UI, &spec.sop));
    ds.insert(Tag(0x0008_0020), text(Vr::DA, &spec.study_date));
    ds.insert(Tag(0x0008_0060), text(Vr::CS, &spec.modality));
    ds.insert(Tag(0x0008_0080), text(Vr::LO, "Test Hospital"));
    ds.insert(
        Tag(0x0010_0010),
        Element::person_name(PersonName::alphabetic(spec.patient_name.clone())),
    );
    ds.insert(Tag(0x0010_0020), text(Vr::LO, &spec.patient_id));
    ds.insert(Tag(0x0020_000D), text(Vr::UI, &spec.study));
    ds.insert(Tag(0x0020_000E), text(Vr::UI, &spec.series));
    ds.insert(Tag(0x0020_0011), is(1));
    ds.insert(Tag(0x0020_0013), is(spec.number));
    if spec.frames > 0 {
        ds.insert(Tag(0x0028_0002), int(Vr::US, 1));
        ds.insert(Tag(0x0028_0004), text(Vr::CS, "MONOCHROME2"));
        ds.insert(Tag(0x0028_0008), is(spec.frames));
        ds.insert(Tag(0x0028_0010), int(Vr::US, i64::from(spec.side)));
        ds.insert(Tag(0x0028_0011), int(Vr::US, i64::from(spec.side)));
        ds.insert(Tag(0x0028_0100), int(Vr::US, 8));
        ds.insert(Tag(0x0028_0101), int(Vr::US, 8));
        ds.insert(Tag(0x0028_0102), int(Vr::US, 7));
        ds.insert(Tag(0x0028_0103), int(Vr::US, 0));
        let pixels: Vec<u8> = (1..=spec.frames)
            .flat_map(|n| frame_bytes_of(n, spec.side))
            .collect();
        ds.insert(
            Tag(0x7FE0_0010),
            Element::new(Vr::OB, Value::InlineBinary(Bytes::from(pixels))),
        );
    }
    dicomweb_core::part10::write(&DataSet::new(), &ds).unwrap()
}

/// Writes `spec`'s instance to `dir/name`.
pub fn write_instance(dir: &Path, name: &str, spec: &Spec) -> Vec<u8> {
    let bytes = instance(spec);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), &bytes).unwrap();
    bytes
}

/// Starts Orthanc and uploads the instances.
pub fn orthanc_with(specs: &[Spec]) -> Orthanc {
    let orthanc = Orthanc::start().unwrap();
    for spec in specs {
        orthanc.upload(&instance(spec)).unwrap();
    }
    orthanc
}

/// Orthanc's stored file of the instance with SOP Instance UID `sop`, or `None`.
pub fn stored_file(orthanc: &Orthanc, sop: &str) -> Option<Vec<u8>> {
    orthanc.stored_file(sop).unwrap()
}
