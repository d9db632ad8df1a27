//! Part 10 reading (feature `part10`: dicom-rs behind our structural check, deflated data sets
//! inflated first): never a panic, and memory stays within tight limits whatever the bytes.

#![no_main]

use dicomweb_core::Limits;
use dicomweb_core::part10;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default()
        .with_max_inflated_bytes(1 << 20)
        .with_max_elements(10_000);
    if let Ok((meta, data_set)) = part10::read_with_limits(data, &limits) {
        // What was read can be written and read back.
        if let Ok(bytes) = part10::write(&meta, &data_set) {
            let _ = part10::read_with_limits(&bytes, &limits);
        }
    }
});
