//! Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99) on a real file, pydicom's
//! `image_dfl.dcm` (golden/): read into DICOM JSON with the values dcmdump shows, written back
//! deflated and read again the same, and broken or oversized deflate streams refused.

#![cfg(feature = "part10")]
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::io::Read as _;
use std::path::Path;

use dicomweb_core::file_meta::FileMeta;
use dicomweb_core::{DataSet, Document, Limits, Tag, json, part10};

const DEFLATED: &str = "1.2.840.10008.1.2.1.99";
const SOP_INSTANCE: &str = "1.3.6.1.4.1.5962.1.1.0.0.0.977067309.6001.0";

fn golden_file() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/image_dfl.dcm")).unwrap()
}

/// The raw deflate stream after the meta group of a Part 10 file, inflated.
fn inflate_data_set(file: &[u8]) -> Vec<u8> {
    let meta = FileMeta::read(file).unwrap().unwrap();
    let mut plain = Vec::new();
    flate2::read::DeflateDecoder::new(&file[meta.data_set_offset..])
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

fn transfer_syntax(meta: &DataSet) -> Option<&str> {
    meta.string(Tag(0x0002_0010))
        .map(|s| s.trim_end_matches(['\0', ' ']))
}

#[test]
fn a_deflated_file_reads_into_dicom_json() {
    let (meta, data_set) = part10::read(&golden_file()).unwrap();
    assert_eq!(transfer_syntax(&meta), Some(DEFLATED));
    let doc = json::write(&Document::Single(data_set));
    let doc: serde_json::Value = serde_json::from_slice(&doc).unwrap();
    let first = |tag: &str| doc[tag]["Value"][0].clone();
    assert_eq!(first("00080016"), "1.2.840.10008.5.1.4.1.1.7");
    assert_eq!(first("00080018"), SOP_INSTANCE);
    assert_eq!(first("00080060"), "OT");
    assert_eq!(first("00080064"), "WSD");
    assert_eq!(first("0020000D"), "1.3.6.1.4.1.5962.1.2.0.977067310.6001.0");
    assert_eq!(first("00280004"), "MONOCHROME2");
    assert_eq!(first("00280010"), 512);
    assert_eq!(first("00280011"), 512);
    assert_eq!(first("00280100"), 8);
    assert!(
        first("00204000")
            .as_str()
            .unwrap()
            .starts_with("THE OUTPUT OF THIS SOFTWARE IS FOR INVESTIGATIONAL USE ONLY"),
        "{}",
        first("00204000")
    );
    // Empty elements stay, without a Value.
    assert_eq!(doc["00100020"], serde_json::json!({"vr": "LO"}));
    // 512 × 512 bytes of pixels, whole.
    assert_eq!(doc["7FE00010"]["vr"], "OB");
    let pixels = base64_len(doc["7FE00010"]["InlineBinary"].as_str().unwrap());
    assert_eq!(pixels, 512 * 512);
}

/// The decoded length of base64 text.
fn base64_len(text: &str) -> usize {
    let padding = text.bytes().rev().take_while(|&b| b == b'=').count();
    text.len() / 4 * 3 - padding
}

#[test]
fn written_back_deflated_it_reads_the_same() {
    let (meta, data_set) = part10::read(&golden_file()).unwrap();
    let written = part10::write(&meta, &data_set).unwrap();
    let (meta_back, back) = part10::read(&written).unwrap();
    assert_eq!(transfer_syntax(&meta_back), Some(DEFLATED));
    assert_eq!(back, data_set);
    // Deflated for real: the data set is a raw deflate stream of an Explicit VR Little Endian
    // data set that opens with SOP Class UID (0008,0016) UI, much smaller than its inflated self.
    let plain = inflate_data_set(&written);
    assert_eq!(&plain[..6], &[0x08, 0x00, 0x16, 0x00, b'U', b'I']);
    let meta_end = FileMeta::read(&written).unwrap().unwrap().data_set_offset;
    assert!(
        written.len() - meta_end < plain.len() / 10,
        "{} deflated bytes for {} inflated",
        written.len() - meta_end,
        plain.len()
    );
    // The same data set written Explicit VR Little Endian holds the same bytes, inflated.
    let mut explicit_meta = DataSet::new();
    explicit_meta.insert(
        Tag(0x0002_0010),
        dicomweb_core::Element::string(dicomweb_core::Vr::UI, part10::EXPLICIT_VR_LITTLE_ENDIAN),
    );
    let explicit = part10::write(&explicit_meta, &data_set).unwrap();
    let explicit_end = FileMeta::read(&explicit).unwrap().unwrap().data_set_offset;
    assert_eq!(&explicit[explicit_end..], &plain[..]);
}

#[test]
fn a_broken_deflate_stream_is_an_error() {
    let file = golden_file();
    let meta_end = FileMeta::read(&file).unwrap().unwrap().data_set_offset;
    let mut broken = file.clone();
    for byte in &mut broken[meta_end..meta_end + 16] {
        *byte = 0xFF;
    }
    let err = part10::read(&broken).unwrap_err().to_string();
    assert!(err.contains("raw deflate stream"), "{err}");
}

#[test]
fn a_deflated_file_cut_short_is_an_error_wherever_it_is_cut() {
    let file = golden_file();
    let meta_end = FileMeta::read(&file).unwrap().unwrap().data_set_offset;
    // The file holds 8 bytes after the end of its deflate stream; a cut among them loses nothing.
    let mut decoder = flate2::read::DeflateDecoder::new(&file[meta_end..]);
    decoder.read_to_end(&mut Vec::new()).unwrap();
    let stream_end = meta_end + usize::try_from(decoder.total_in()).unwrap();
    assert_eq!(file.len() - stream_end, 8);
    for cut in meta_end + 1..stream_end {
        assert!(
            part10::read(&file[..cut]).is_err(),
            "cut at {cut} of {} read without error",
            file.len()
        );
    }
}

#[test]
fn inflating_stops_at_the_limit() {
    let limits = Limits::default().with_max_inflated_bytes(100_000);
    let err = part10::read_with_limits(&golden_file(), &limits)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("more than 100000 bytes") && err.contains("max_inflated_bytes"),
        "{err}"
    );
}
