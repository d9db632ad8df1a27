//! Content-Type and Accept parsing: never a panic; what parses, formats, and parses back equal
//! (with either quoting style).

#![no_main]

use dicomweb_core::media_type::{MediaType, ParamQuoting, format_accept, parse_accept};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(media_type) = MediaType::parse(text) {
        let _ = media_type.related_type();
        for quoting in [ParamQuoting::WhenRequired, ParamQuoting::Minimal] {
            let written = media_type.display_with(quoting).to_string();
            let reparsed = MediaType::parse(&written)
                .unwrap_or_else(|e| panic!("{written:?} does not parse back: {e}"));
            assert_eq!(reparsed, media_type, "{written:?}");
        }
    }
    if let Ok(list) = parse_accept(text) {
        let written = format_accept(&list);
        let reparsed = parse_accept(&written)
            .unwrap_or_else(|e| panic!("{written:?} does not parse back: {e}"));
        assert_eq!(reparsed, list, "{written:?}");
    }
});
