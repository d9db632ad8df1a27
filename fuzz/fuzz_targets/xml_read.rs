//! The Native DICOM Model XML reader: never a panic, whatever the bytes, strict or lenient;
//! and its fast path agrees with the general reader on every input (same data set, or the
//! same error).

#![no_main]

use dicomweb_core::{Limits, ReadOptions, xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tight = ReadOptions::default().with_limits(
        Limits::default().with_max_depth(3).with_max_elements(12),
    );
    for options in [ReadOptions::default(), ReadOptions::strict(), tight] {
        let read = format!("{:?}", xml::read(data, &options));
        let reference = format!("{:?}", xml::read_reference(data, &options));
        assert_eq!(read, reference, "the fast path disagrees with the general reader");
    }
});
