//! The DICOM JSON reader: never a panic, whatever the bytes, strict or lenient.

#![no_main]

use dicomweb_core::{ReadOptions, json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = json::read(data, &ReadOptions::default());
    let _ = json::read(data, &ReadOptions::strict());
});
