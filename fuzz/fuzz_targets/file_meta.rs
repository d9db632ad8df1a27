//! A Part 10 file's meta group read from the first bytes of a download or a file: never a
//! panic; an answer for a prefix never contradicts the answer for the whole (a prefix is
//! incomplete, or gives the same meta group, or the same error).

#![no_main]

use dicomweb_core::file_meta::FileMeta;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = FileMeta::read(data);
    if let Ok(Some(meta)) = &whole {
        assert!(meta.data_set_offset <= data.len());
        // Every longer prefix that is complete says the same.
        for cut in [meta.data_set_offset, data.len().saturating_sub(1)] {
            if cut >= meta.data_set_offset {
                if let Ok(Some(again)) = FileMeta::read(&data[..cut]) {
                    assert_eq!(&again, meta, "prefix of {cut} bytes");
                }
            }
        }
    }
    // A prefix is never complete where the whole is an error before that point.
    for cut in [data.len() / 2, data.len() / 3] {
        if let (Ok(Some(part)), Ok(Some(all))) = (FileMeta::read(&data[..cut]), &whole) {
            assert_eq!(&part, all, "prefix of {cut} bytes");
        }
    }
});
