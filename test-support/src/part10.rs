//! A minimal DICOM Part 10 writer (explicit VR little endian) for generating test instances.

/// One instance's identity and a few searchable attributes.
pub struct Instance<'a> {
    /// Patient ID (0010,0020).
    pub patient_id: &'a str,
    /// Patient's Name (0010,0010).
    pub patient_name: &'a str,
    /// Study Instance UID.
    pub study_uid: &'a str,
    /// Series Instance UID.
    pub series_uid: &'a str,
    /// SOP Instance UID.
    pub sop_uid: &'a str,
    /// Study Date, `YYYYMMDD`.
    pub study_date: &'a str,
    /// Instance Number.
    pub instance_number: u32,
}

const SECONDARY_CAPTURE: &str = "1.2.840.10008.5.1.4.1.1.7";
use crate::study::{element, file_head};

const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

/// The Part 10 bytes of `i`.
pub fn instance(i: &Instance<'_>) -> Vec<u8> {
    let mut meta = Vec::new();
    element(&mut meta, 0x0002, 0x0001, b"OB", &[0, 1]);
    element(
        &mut meta,
        0x0002,
        0x0002,
        b"UI",
        SECONDARY_CAPTURE.as_bytes(),
    );
    element(&mut meta, 0x0002, 0x0003, b"UI", i.sop_uid.as_bytes());
    element(&mut meta, 0x0002, 0x0010, b"UI", EXPLICIT_LE.as_bytes());
    element(
        &mut meta,
        0x0002,
        0x0012,
        b"UI",
        b"1.2.826.0.1.3680043.10.999",
    );
    let mut out = file_head(&meta, 512);
    element(
        &mut out,
        0x0008,
        0x0016,
        b"UI",
        SECONDARY_CAPTURE.as_bytes(),
    );
    element(&mut out, 0x0008, 0x0018, b"UI", i.sop_uid.as_bytes());
    element(&mut out, 0x0008, 0x0020, b"DA", i.study_date.as_bytes());
    element(&mut out, 0x0008, 0x0060, b"CS", b"OT");
    element(&mut out, 0x0010, 0x0010, b"PN", i.patient_name.as_bytes());
    element(&mut out, 0x0010, 0x0020, b"LO", i.patient_id.as_bytes());
    element(&mut out, 0x0020, 0x000D, b"UI", i.study_uid.as_bytes());
    element(&mut out, 0x0020, 0x000E, b"UI", i.series_uid.as_bytes());
    element(&mut out, 0x0020, 0x0010, b"SH", b"S1");
    element(&mut out, 0x0020, 0x0011, b"IS", b"1");
    element(
        &mut out,
        0x0020,
        0x0013,
        b"IS",
        i.instance_number.to_string().as_bytes(),
    );
    out
}
