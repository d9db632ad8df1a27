//! Differential fuzzing of the multipart decoder: the input cut into chunks (cut points drawn
//! from the fuzz input) must give exactly the events of one contiguous feed, and a byte-at-a-time
//! feed must too. Never a panic.
//!
//! Input layout: byte 0 picks a boundary and limits, byte 1 seeds the chunk sizes, the rest is
//! the body.

#![no_main]

use bytes::Bytes;
use dicomweb_core::multipart::{Event, MultipartDecoder, MultipartLimits};
use libfuzzer_sys::fuzz_target;

const BOUNDARIES: [&str; 4] = ["b", "boundary", "x y:=", "-"];

/// Events with each part's body pieces joined.
#[derive(Debug, PartialEq)]
enum Seen {
    Headers(Vec<(String, Vec<u8>)>, Option<u64>),
    Body(Vec<u8>),
    PartEnd,
    End,
}

fn decode(
    boundary: &str,
    limits: MultipartLimits,
    body: &[u8],
    sizes: &mut dyn FnMut() -> usize,
) -> (Vec<Seen>, Option<String>) {
    let Ok(mut decoder) = MultipartDecoder::new(boundary, limits) else {
        return (Vec::new(), Some("boundary".to_owned()));
    };
    let mut seen = Vec::new();
    let mut rest = body;
    loop {
        let take = sizes().min(rest.len());
        let (chunk, tail) = rest.split_at(take);
        rest = tail;
        let last = rest.is_empty();
        decoder.feed(Bytes::copy_from_slice(chunk));
        if last {
            if let Err(error) = decoder.finish() {
                return (seen, Some(error.to_string()));
            }
        }
        loop {
            match decoder.next_event() {
                Ok(None) => break,
                Ok(Some(Event::Headers(head))) => {
                    let fields = head
                        .headers()
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                        .collect();
                    let _ = head.content_type();
                    let _ = head.content_location();
                    seen.push(Seen::Headers(fields, head.content_length()));
                }
                Ok(Some(Event::Body(bytes))) => {
                    assert!(!bytes.is_empty(), "empty body event");
                    match seen.last_mut() {
                        Some(Seen::Body(joined)) => joined.extend_from_slice(&bytes),
                        _ => seen.push(Seen::Body(bytes.to_vec())),
                    }
                }
                Ok(Some(Event::PartEnd)) => seen.push(Seen::PartEnd),
                Ok(Some(Event::End)) => seen.push(Seen::End),
                Err(error) => return (seen, Some(error.to_string())),
            }
        }
        if last {
            return (seen, None);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [select, seed, body @ ..] = data else {
        return;
    };
    let boundary = BOUNDARIES[usize::from(select & 3)];
    let limits = if select & 4 == 0 {
        MultipartLimits::default()
    } else {
        MultipartLimits::default()
            .with_max_header_bytes(40)
            .with_max_headers(2)
            .with_max_parts(3)
            .with_max_preamble(16)
            .with_max_padding(2)
    };
    let whole = decode(boundary, limits, body, &mut || usize::MAX);
    // A small xorshift generator seeded from the input draws chunk sizes of 1 to 16 bytes.
    let mut state = u32::from(*seed) | 0x100;
    let chunked = decode(boundary, limits, body, &mut || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 16) as usize + 1
    });
    assert_eq!(chunked, whole);
    let bytewise = decode(boundary, limits, body, &mut || 1);
    assert_eq!(bytewise, whole);
});
