//! Property tests of the multipart/related decoder: however the input is cut into chunks, the
//! events are the same; bodies built by the rules decode to the parts they were built from.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use bytes::Bytes;
use dicomweb_core::multipart::{Event, MultipartDecoder, MultipartLimits};
use proptest::prelude::*;
use proptest::sample::Index;

/// Events with each part's body pieces joined: what must not depend on chunking.
#[derive(Debug, PartialEq)]
enum Seen {
    Headers(Vec<(String, Vec<u8>)>, Option<u64>),
    Body(Vec<u8>),
    PartEnd,
    End,
}

/// Decodes `body` cut at `cuts`; the outcome is the events, or the events so far and the error.
fn decode(boundary: &str, body: &[u8], cuts: &[usize]) -> (Vec<Seen>, Option<String>) {
    let mut decoder = MultipartDecoder::new(boundary, MultipartLimits::default()).unwrap();
    let mut seen = Vec::new();
    let drain = |decoder: &mut MultipartDecoder, seen: &mut Vec<Seen>| -> Result<(), String> {
        while let Some(event) = decoder.next_event().map_err(|e| e.to_string())? {
            match event {
                Event::Headers(head) => {
                    let fields = head
                        .headers()
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                        .collect();
                    seen.push(Seen::Headers(fields, head.content_length()));
                }
                Event::Body(bytes) => {
                    assert!(!bytes.is_empty());
                    match seen.last_mut() {
                        Some(Seen::Body(joined)) => joined.extend_from_slice(&bytes),
                        _ => seen.push(Seen::Body(bytes.to_vec())),
                    }
                }
                Event::PartEnd => seen.push(Seen::PartEnd),
                Event::End => seen.push(Seen::End),
            }
        }
        Ok(())
    };
    let mut start = 0;
    let mut positions: Vec<usize> = cuts.iter().copied().filter(|&c| c <= body.len()).collect();
    positions.sort_unstable();
    positions.push(body.len());
    for end in positions {
        decoder.feed(Bytes::copy_from_slice(&body[start..end]));
        start = end;
        if let Err(error) = drain(&mut decoder, &mut seen) {
            return (seen, Some(error));
        }
    }
    if let Err(error) = decoder.finish() {
        return (seen, Some(error.to_string()));
    }
    let outcome = drain(&mut decoder, &mut seen).err();
    (seen, outcome)
}

/// One part of a generated body.
#[derive(Clone, Debug)]
struct GenPart {
    body: Vec<u8>,
    content_length: bool,
    header_case: u8,
}

#[derive(Clone, Debug)]
struct GenBody {
    boundary: String,
    preamble: Vec<u8>,
    padding: Vec<String>,
    parts: Vec<GenPart>,
    final_crlf: bool,
    epilogue: Vec<u8>,
}

impl GenBody {
    fn delimiter(&self) -> Vec<u8> {
        format!("\r\n--{}", self.boundary).into_bytes()
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = self.preamble.clone();
        if !out.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("--{}", self.boundary).as_bytes());
            out.extend_from_slice(self.padding[i % self.padding.len()].as_bytes());
            out.extend_from_slice(b"\r\n");
            let name = match part.header_case % 3 {
                0 => "Content-Type",
                1 => "content-type",
                _ => "CONTENT-TYPE ",
            };
            out.extend_from_slice(format!("{name}: application/dicom\r\n").as_bytes());
            if part.content_length {
                out.extend_from_slice(
                    format!("Content-Length: {}\r\n", part.body.len()).as_bytes(),
                );
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&part.body);
        }
        if !self.parts.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{}--", self.boundary).as_bytes());
        if self.final_crlf {
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&self.epilogue);
        }
        out
    }

    /// Whether the decoder must give back exactly the generated parts: no body that is scanned
    /// holds the delimiter, and the preamble holds nothing that looks like one.
    fn unambiguous(&self) -> bool {
        let delimiter = self.delimiter();
        let holds = |bytes: &[u8]| memchr::memmem::find(bytes, &delimiter).is_some();
        let mut preamble = b"\r\n".to_vec();
        preamble.extend_from_slice(&self.preamble);
        !holds(&preamble)
            && !self
                .parts
                .iter()
                .any(|p| !p.content_length && holds(&p.body))
    }
}

const BCHARS: &[u8] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";

fn boundary() -> impl Strategy<Value = String> {
    let short = prop::collection::vec(prop::sample::select(BCHARS), 1..4);
    let long = prop::collection::vec(prop::sample::select(BCHARS), 1..71);
    prop_oneof![short, long].prop_map(|mut chars| {
        if chars.last() == Some(&b' ') {
            *chars.last_mut().unwrap() = b'z';
        }
        String::from_utf8(chars).unwrap()
    })
}

/// Bytes dense in what a decoder might mistake for a delimiter.
fn tricky_bytes(boundary: String) -> impl Strategy<Value = Vec<u8>> {
    let b = boundary.into_bytes();
    let piece = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..8),
        Just(b"\r\n".to_vec()),
        Just(b"\r\n--".to_vec()),
        Just(b"--".to_vec()),
        Just(b" \t".to_vec()),
        (0..=b.len()).prop_map({
            let b = b.clone();
            move |k| b[..k].to_vec()
        }),
        Just([b"\r\n--".as_slice(), &b].concat()),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

fn gen_body() -> impl Strategy<Value = GenBody> {
    boundary().prop_flat_map(|boundary| {
        let part = (tricky_bytes(boundary.clone()), any::<bool>(), any::<u8>()).prop_map(
            |(body, content_length, header_case)| GenPart {
                body,
                content_length,
                header_case,
            },
        );
        (
            Just(boundary.clone()),
            tricky_bytes(boundary.clone()),
            prop::collection::vec("[ \t]{0,3}", 1..4),
            prop::collection::vec(part, 0..5),
            any::<bool>(),
            tricky_bytes(boundary),
        )
            .prop_map(
                |(boundary, preamble, padding, parts, final_crlf, epilogue)| GenBody {
                    boundary,
                    preamble,
                    padding,
                    parts,
                    final_crlf,
                    epilogue,
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any cut of a body into chunks gives the same events as one contiguous feed, and an
    /// unambiguous body gives back its parts.
    #[test]
    fn chunking_never_changes_the_events(
        body in gen_body(),
        cuts in prop::collection::vec(any::<Index>(), 0..24),
    ) {
        let bytes = body.encode();
        let cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        let whole = decode(&body.boundary, &bytes, &[]);
        let chunked = decode(&body.boundary, &bytes, &cuts);
        prop_assert_eq!(&chunked, &whole);
        let bytewise = decode(&body.boundary, &bytes, &(0..bytes.len()).collect::<Vec<_>>());
        prop_assert_eq!(&bytewise, &whole);

        if body.unambiguous() {
            let (events, error) = whole;
            prop_assert_eq!(error, None);
            let bodies: Vec<Vec<u8>> = events
                .iter()
                .filter_map(|e| match e { Seen::Body(b) => Some(b.clone()), _ => None })
                .collect();
            let expected: Vec<Vec<u8>> =
                body.parts.iter().map(|p| p.body.clone()).filter(|b| !b.is_empty()).collect();
            prop_assert_eq!(bodies, expected);
            let heads = events.iter().filter(|e| matches!(e, Seen::Headers(..))).count();
            prop_assert_eq!(heads, body.parts.len());
            prop_assert_eq!(events.last(), Some(&Seen::End));
        }
    }

    /// Arbitrary bytes: never a panic, and chunking still does not change the outcome.
    #[test]
    fn arbitrary_input_is_handled_the_same_in_chunks(
        boundary in boundary(),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        cuts in prop::collection::vec(any::<Index>(), 0..10),
    ) {
        let cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        prop_assert_eq!(decode(&boundary, &bytes, &cuts), decode(&boundary, &bytes, &[]));
    }

    /// Truncating a body anywhere before its close delimiter is an error, never fewer parts.
    #[test]
    fn truncation_is_never_a_shorter_result(body in gen_body(), cut in any::<Index>()) {
        let bytes = body.encode();
        let close = format!("--{}--", body.boundary);
        let complete = memchr::memmem::rfind(&bytes[..bytes.len() - if body.final_crlf { body.epilogue.len() + 2 } else { 0 }], close.as_bytes()).unwrap() + close.len();
        let cut = cut.index(complete);
        let (events, error) = decode(&body.boundary, &bytes[..cut], &[]);
        if body.unambiguous() {
            prop_assert!(error.is_some(), "cut at {} of {}: {:?}", cut, complete, events);
            prop_assert!(!events.contains(&Seen::End));
        }
    }
}

/// Every split of a few tricky bodies into two chunks, and into three around each delimiter.
#[test]
fn every_split_point_gives_the_same_events() {
    let bodies: [(&str, &[u8]); 4] = [
        (
            "b",
            b"pre\r\n--b \r\nA: 1\r\n\r\n\r\n--b-\r\n--bb\r\n--b\r\n\r\n\r\n--b--",
        ),
        (
            "x y",
            b"--x y\r\nContent-Length: 8\r\n\r\n\r\n--x y--\r\n--x y\t\r\n\r\n\r\n\r\n--x y--\r\n",
        ),
        (
            "==",
            b"\r\n--==\r\n\r\n\r\n--=\r\n--==\r\n--==\r\n\r\n--==--",
        ),
        ("b", b"--b\r\n\r\n\r\n--b"), // truncated
    ];
    for (boundary, body) in bodies {
        let whole = decode(boundary, body, &[]);
        for i in 0..=body.len() {
            assert_eq!(
                decode(boundary, body, &[i]),
                whole,
                "{boundary:?} split at {i}"
            );
            for j in i..=body.len().min(i + 12) {
                assert_eq!(decode(boundary, body, &[i, j]), whole, "split at {i}, {j}");
            }
        }
    }
}
