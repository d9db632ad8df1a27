//! The Native DICOM Model XML reader: never a panic, whatever the bytes, strict or lenient.

#![no_main]

use dicomweb_core::{ReadOptions, xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = xml::read(data, &ReadOptions::default());
    let _ = xml::read(data, &ReadOptions::strict());
});
