//! STOW-RS and search response parsing: never a panic, whatever the status, Content-Type and body.
//! The first byte picks the status, the next line (up to `\n`) is the Content-Type, the rest is
//! the body.

#![no_main]

use dicomweb_core::ReadOptions;
use dicomweb_core::response::{parse_search, parse_store};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 8] = [200, 202, 204, 400, 409, 404, 503, 500];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let status = StatusCode::from_u16(STATUSES[usize::from(first) % STATUSES.len()])
        .expect("every listed status is valid");
    let (content_type, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(n) => (&rest[..n], &rest[n + 1..]),
        None => (&[][..], rest),
    };
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    let options = ReadOptions::default();
    let _ = parse_store(status, &headers, body, &options);
    let _ = parse_search(status, &headers, bytes::Bytes::copy_from_slice(body), &options);
});
