//! Edge cases of the multipart/related decoder, one RFC 2046 / RFC 2387 rule at a time, and the
//! known bugs of other implementations.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use bytes::Bytes;
use dicomweb_core::Error;
use dicomweb_core::media_type::MediaType;
use dicomweb_core::multipart::{
    BodyDecoder, Event, MultipartDecoder, MultipartLimits, PartHeaders,
};
use http::{HeaderMap, HeaderValue, header};

/// A decoded part: headers and the concatenation of its body events.
type Decoded = Vec<(PartHeaders, Vec<u8>)>;

/// Decodes `body` fed in chunks of `chunk` bytes, checking the event order on the way.
fn decode_chunked(boundary: &str, body: &[u8], chunk: usize) -> Result<Decoded, Error> {
    decode_with(boundary, body, chunk, MultipartLimits::default())
}

fn decode_with(
    boundary: &str,
    body: &[u8],
    chunk: usize,
    limits: MultipartLimits,
) -> Result<Decoded, Error> {
    let mut decoder = MultipartDecoder::new(boundary, limits)?;
    let mut parts: Decoded = Vec::new();
    let mut in_part = false;
    let mut ended = false;
    let mut drain = |decoder: &mut MultipartDecoder| -> Result<(), Error> {
        while let Some(event) = decoder.next_event()? {
            assert!(!ended, "event after End: {event:?}");
            match event {
                Event::Headers(head) => {
                    assert!(!in_part);
                    in_part = true;
                    parts.push((head, Vec::new()));
                }
                Event::Body(bytes) => {
                    assert!(in_part && !bytes.is_empty());
                    parts.last_mut().unwrap().1.extend_from_slice(&bytes);
                }
                Event::PartEnd => {
                    assert!(in_part);
                    in_part = false;
                }
                Event::End => {
                    assert!(!in_part);
                    ended = true;
                }
            }
        }
        Ok(())
    };
    for piece in body.chunks(chunk.max(1)) {
        decoder.feed(Bytes::copy_from_slice(piece));
        drain(&mut decoder)?;
    }
    decoder.finish()?;
    drain(&mut decoder)?;
    assert!(ended);
    Ok(parts)
}

/// Decodes with several chunk sizes, checks they agree, and returns the bodies.
fn bodies(boundary: &str, body: &[u8]) -> Vec<Vec<u8>> {
    let whole = decode_chunked(boundary, body, body.len()).unwrap();
    for chunk in [1, 2, 3, 7, 64] {
        assert_eq!(
            decode_chunked(boundary, body, chunk).unwrap(),
            whole,
            "chunk {chunk}"
        );
    }
    whole.into_iter().map(|(_, b)| b).collect()
}

fn error(boundary: &str, body: &[u8]) -> String {
    let whole = decode_chunked(boundary, body, body.len().max(1));
    let bytewise = decode_chunked(boundary, body, 1);
    let (Err(a), Err(b)) = (whole, bytewise) else {
        panic!("expected an error for {:?}", String::from_utf8_lossy(body))
    };
    assert_eq!(a.to_string(), b.to_string());
    a.to_string()
}

#[test]
fn boundaries_of_every_rfc_2046_shape() {
    let long = "x".repeat(70);
    for boundary in [
        "b",
        "gc0pJq0M:08jU534c0p",
        "with space inside",
        "'()+_,-./:=?",
        &long,
    ] {
        let body = format!("--{boundary}\r\n\r\none\r\n--{boundary}\r\n\r\ntwo\r\n--{boundary}--");
        assert_eq!(
            bodies(boundary, body.as_bytes()),
            vec![b"one".to_vec(), b"two".to_vec()]
        );
    }
}

#[test]
fn boundary_from_content_type_quoted_or_not_any_order() {
    let body = b"--a:b=c\r\n\r\nx\r\n--a:b=c--\r\n";
    for ct in [
        r#"multipart/related; type="application/dicom"; boundary="a:b=c""#,
        r#"Multipart/Related;Boundary=a:b=c;Type="application/dicom""#,
        "multipart/related; boundary=a:b=c; type=application/dicom",
    ] {
        let ct: MediaType = ct.parse().unwrap();
        let decoder = MultipartDecoder::from_content_type(&ct, MultipartLimits::default()).unwrap();
        assert_eq!(decoder.boundary(), "a:b=c");
        let parts = decoder.decode_all(Bytes::from_static(body)).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].1, "x");
    }
    let no_boundary: MediaType = "multipart/related; type=application/dicom".parse().unwrap();
    let err = MultipartDecoder::from_content_type(&no_boundary, MultipartLimits::default());
    assert!(
        err.unwrap_err()
            .to_string()
            .contains("expected a boundary parameter")
    );
    assert!(MultipartDecoder::new("", MultipartLimits::default()).is_err());
    assert!(MultipartDecoder::new("a\r\nb", MultipartLimits::default()).is_err());
}

#[test]
fn close_delimiter_without_final_crlf_keeps_the_last_part() {
    // dicom-web 0.7 drops the last part here.
    let body = b"--b\r\nContent-Type: application/dicom\r\n\r\nfirst\r\n--b\r\n\r\nlast\r\n--b--";
    assert_eq!(bodies("b", body), vec![b"first".to_vec(), b"last".to_vec()]);
    let with_crlf = b"--b\r\n\r\nfirst\r\n--b\r\n\r\nlast\r\n--b--\r\n";
    assert_eq!(
        bodies("b", with_crlf),
        vec![b"first".to_vec(), b"last".to_vec()]
    );
}

#[test]
fn transport_padding_after_delimiters() {
    let body = b"--b \t \r\n\r\none\r\n--b\t\r\n\r\ntwo\r\n--b--  \r\nepilogue";
    assert_eq!(bodies("b", body), vec![b"one".to_vec(), b"two".to_vec()]);
    let limits = MultipartLimits::default().with_max_padding(2);
    let err = decode_with("b", b"--b   \r\n\r\nx\r\n--b--", 100, limits).unwrap_err();
    assert!(err.to_string().contains("transport padding"), "{err}");
}

#[test]
fn preamble_and_epilogue_are_skipped() {
    let body = b"This is a preamble.\r\n--b also not a delimiter\r\n--bb\r\n\r\n--b\r\n\r\nbody\r\n--b--\r\nepilogue --b\r\n\r\nnot a part";
    assert_eq!(bodies("b", body), vec![b"body".to_vec()]);
    let crlf_first = b"\r\n--b\r\n\r\nbody\r\n--b--";
    assert_eq!(bodies("b", crlf_first), vec![b"body".to_vec()]);
}

#[test]
fn header_names_in_any_case_and_whitespace() {
    let body = b"--b\r\ncontent-type:application/dicom+json\r\nCONTENT-LOCATION :  /bulk/1 \r\nX-Other:\r\n\r\n{}\r\n--b--";
    let parts = decode_chunked("b", body, 3).unwrap();
    let head = &parts[0].0;
    assert!(
        head.content_type()
            .unwrap()
            .unwrap()
            .is("application", "dicom+json")
    );
    assert_eq!(head.content_location(), Some("/bulk/1"));
    assert_eq!(head.headers().get("x-other").unwrap(), "");
}

#[test]
fn part_content_type_parameters_inside_and_outside_quoted_type() {
    let body = b"--b\r\nContent-Type: multipart/related; type=\"application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50\"\r\n\r\nx\r\n--b\r\nContent-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\ny\r\n--b--";
    let parts = decode_chunked("b", body, 5).unwrap();
    let first = parts[0].0.content_type().unwrap().unwrap();
    let inner = first.related_type().unwrap().unwrap();
    assert_eq!(
        inner.param("transfer-syntax"),
        Some("1.2.840.10008.1.2.4.50")
    );
    let second = parts[1].0.content_type().unwrap().unwrap();
    assert_eq!(second.param("transfer-syntax"), Some("1.2.840.10008.1.2.1"));
}

#[test]
fn near_misses_are_data() {
    let payloads: [&[u8]; 9] = [
        b"\r\n--bX",
        b"\r\n--b-",
        b"\r\n--b -",
        b"\r\n--b\r",
        b"\r\n--b\rX",
        b"x--b\r\n",
        b"\n--b\r\n",
        b"\r\n-b\r\n\r\n\r\n--",
        b"\r\n--\r\n--b\tX\r\n--\r\n",
    ];
    for payload in payloads {
        let mut body = b"--b\r\n\r\n".to_vec();
        body.extend_from_slice(payload);
        body.extend_from_slice(b"\r\n--b--");
        assert_eq!(bodies("b", &body), vec![payload.to_vec()], "{payload:?}");
    }
}

#[test]
fn empty_parts_and_parts_without_headers() {
    let body =
        b"--b\r\n\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\r\n--b\r\n\r\n\r\n\r\n--b--";
    let parts = decode_chunked("b", body, 1).unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0].1, b"");
    assert_eq!(parts[1].1, b"");
    assert_eq!(parts[2].1, b"\r\n");
    assert_eq!(
        parts.iter().map(|(h, _)| h.index()).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    // Zero parts: tolerated, though RFC 2046 asks for one.
    assert!(bodies("b", b"--b--").is_empty());
}

#[test]
fn bodies_that_look_like_headers_or_hold_blank_lines() {
    // Bodies with CRLF CRLF, colons and dashes: legal input other parsers have choked on.
    let body = b"--b\r\nContent-Type: text/plain\r\n\r\nA: b\r\n\r\n--\r\n-- b\r\n\r\n--b\r\n\r\n\r\n\r\n--b--";
    assert_eq!(
        bodies("b", body),
        vec![b"A: b\r\n\r\n--\r\n-- b\r\n".to_vec(), b"\r\n".to_vec()]
    );
}

#[test]
fn content_length_is_used_and_checked() {
    // With Content-Length the body may even hold the delimiter.
    let body = b"--b\r\nContent-Length: 10\r\n\r\n\r\n--b--xyz\r\n--b\r\ncontent-length:0\r\n\r\n\r\n--b--";
    assert_eq!(
        bodies("b", body),
        vec![b"\r\n--b--xyz".to_vec(), b"".to_vec()]
    );
    let too_long = b"--b\r\nContent-Length: 5\r\n\r\nabc\r\n--b--";
    let err = error("b", too_long);
    assert!(err.contains("declares Content-Length 5"), "{err}");
    let too_short = b"--b\r\nContent-Length: 2\r\n\r\nabc\r\n--b--";
    let err = error("b", too_short);
    assert!(err.contains("at byte 28"), "{err}");
    assert!(
        err.contains("expected a delimiter \"--b\" after that many bytes, found \"c\""),
        "{err}"
    );
    let bad = error("b", b"--b\r\nContent-Length: -1\r\n\r\n\r\n--b--");
    assert!(bad.contains("decimal number"), "{bad}");
}

#[test]
fn truncation_is_an_error_at_every_cut() {
    let body = b"preamble\r\n--b\r\nContent-Type: a/b\r\n\r\nhello\r\n--b\r\nContent-Length: 3\r\n\r\nabc\r\n--b--\r\n";
    let complete = body.len() - 2; // the final CRLF is optional
    let full = decode_chunked("b", body, 4).unwrap();
    for cut in 0..body.len() {
        let result = decode_chunked("b", &body[..cut], 4);
        if cut < complete {
            let err = result.expect_err("a truncated body must not decode");
            let text = err.to_string();
            assert!(text.contains("found the end of the body"), "{cut}: {text}");
        } else {
            assert_eq!(result.unwrap(), full);
        }
    }
    let err = error("b", b"--b\r\nContent-Length: 10\r\n\r\nabc");
    assert!(
        err.contains("expected 7 more bytes of part #1 (Content-Length 10)"),
        "{err}"
    );
    let err = error("b", b"--b\r\nA: b\r\n");
    assert!(err.contains("ends part #1's headers"), "{err}");
    let err = error("b", b"--b\r\n\r\nabc\r\n--b");
    assert!(
        err.contains("at byte 15") && err.contains("after part #1, found the end"),
        "{err}"
    );
}

#[test]
fn finish_reports_undecoded_input_through_next_event() {
    let mut decoder = MultipartDecoder::new("b", MultipartLimits::default()).unwrap();
    decoder.feed(Bytes::from_static(b"--b\r\n\r\nabc"));
    decoder.finish().unwrap(); // input remains: the error comes from next_event
    assert!(matches!(decoder.next_event(), Ok(Some(Event::Headers(_)))));
    assert!(matches!(decoder.next_event(), Ok(Some(Event::Body(_)))));
    let err = decoder.next_event().unwrap_err();
    assert!(
        err.to_string().contains("found the end of the body"),
        "{err}"
    );
    assert!(
        decoder.next_event().is_err(),
        "a failed decoder stays failed"
    );
}

#[test]
fn limits_give_clear_errors() {
    let limits = MultipartLimits::default()
        .with_max_header_bytes(16)
        .with_max_preamble(8)
        .with_max_parts(2);
    let err = decode_with(
        "b",
        b"--b\r\nA: 0123456789abcdef\r\n\r\n\r\n--b--",
        3,
        limits,
    );
    assert!(
        matches!(
            err,
            Err(Error::MultipartLimit {
                what: "header block of a part",
                limit: 16,
                offset: 5
            })
        ),
        "{err:?}"
    );
    let err = decode_with("b", b"0123456789\r\n--b\r\n\r\n\r\n--b--", 3, limits);
    assert!(
        matches!(
            err,
            Err(Error::MultipartLimit {
                what: "preamble",
                limit: 8,
                ..
            })
        ),
        "{err:?}"
    );
    let three = b"--b\r\n\r\n\r\n--b\r\n\r\n\r\n--b\r\n\r\n\r\n--b--";
    let err = decode_with("b", three, 100, limits).unwrap_err();
    assert_eq!(
        err.to_string(),
        "multipart part count exceeds the limit of 2 at byte 16"
    );
    assert_eq!(decode_with("b", &three[7..], 100, limits).unwrap().len(), 2);
    let limits = MultipartLimits::default().with_max_headers(1);
    let err = decode_with("b", b"--b\r\nA: 1\r\nB: 2\r\n\r\n\r\n--b--", 2, limits);
    assert!(
        matches!(
            err,
            Err(Error::MultipartLimit {
                what: "header count of a part",
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn body_bytes_are_slices_of_the_input() {
    let body = Bytes::from_static(b"--b\r\n\r\nsome payload bytes\r\n--b--");
    let range = body.as_ptr_range();
    let mut decoder = MultipartDecoder::new("b", MultipartLimits::default()).unwrap();
    decoder.feed(body.clone());
    let mut seen = false;
    while let Some(event) = decoder.next_event().unwrap() {
        if let Event::Body(bytes) = event {
            assert!(range.contains(&bytes.as_ptr()));
            assert_eq!(bytes, "some payload bytes");
            seen = true;
        }
    }
    assert!(seen && decoder.is_complete());
}

#[test]
fn memory_does_not_grow_with_part_size() {
    // 8 MiB part fed in 64 KiB chunks: after each feed, all but at most a delimiter's length of
    // the input has come out again.
    let mut decoder = MultipartDecoder::new("boundary", MultipartLimits::default()).unwrap();
    decoder.feed(Bytes::from_static(b"--boundary\r\n\r\n"));
    let chunk = Bytes::from(vec![b'\r'; 64 * 1024]); // every byte could begin a delimiter
    let (mut fed, mut out) = (0usize, 0usize);
    for _ in 0..128 {
        decoder.feed(chunk.clone());
        fed += chunk.len();
        while let Some(event) = decoder.next_event().unwrap() {
            if let Event::Body(bytes) = event {
                out += bytes.len();
            }
        }
        assert!(fed - out <= "\r\n--boundary".len(), "{fed} fed, {out} out");
    }
    decoder.feed(Bytes::from_static(b"\r\n--boundary--"));
    while let Some(event) = decoder.next_event().unwrap() {
        if let Event::Body(bytes) = event {
            out += bytes.len();
        }
    }
    decoder.finish().unwrap();
    assert_eq!(out, fed);
}

#[test]
fn epilogue_after_end_is_dropped() {
    let mut decoder = MultipartDecoder::new("b", MultipartLimits::default()).unwrap();
    decoder.feed(Bytes::from_static(b"--b\r\n\r\nx\r\n--b--"));
    let mut events = Vec::new();
    while let Some(event) = decoder.next_event().unwrap() {
        events.push(event);
    }
    assert_eq!(events.last(), Some(&Event::End));
    decoder.feed(Bytes::from_static(b"\r\n--b\r\n\r\nmore"));
    assert_eq!(decoder.next_event().unwrap(), None);
    decoder.finish().unwrap();
    assert_eq!(decoder.parts(), 1);
}

#[test]
fn bad_part_headers_are_errors() {
    let err = error("b", b"--b\r\nno colon\r\n\r\nx\r\n--b--");
    assert!(
        err.contains("at byte 5") && err.contains("part #1"),
        "{err}"
    );
}

#[test]
fn single_part_response_is_one_part() {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/dicom"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("6"));
    headers.insert(header::SERVER, HeaderValue::from_static("x"));
    let mut decoder = BodyDecoder::from_headers(&headers, MultipartLimits::default()).unwrap();
    assert!(matches!(decoder, BodyDecoder::Single(_)));
    let mut events = Vec::new();
    for chunk in ["DI", "CM", "!!"] {
        decoder.feed(Bytes::from_static(chunk.as_bytes()));
        while let Some(event) = decoder.next_event().unwrap() {
            events.push(event);
        }
    }
    decoder.finish().unwrap();
    while let Some(event) = decoder.next_event().unwrap() {
        events.push(event);
    }
    let Event::Headers(head) = &events[0] else {
        panic!("{events:?}")
    };
    assert!(
        head.content_type()
            .unwrap()
            .unwrap()
            .is("application", "dicom")
    );
    assert!(head.headers().get(header::SERVER).is_none());
    assert_eq!(events.len(), 6);
    assert_eq!(events[4], Event::PartEnd);
    assert_eq!(events[5], Event::End);

    let decoder = BodyDecoder::from_headers(&headers, MultipartLimits::default()).unwrap();
    let err = decoder.decode_all(Bytes::from_static(b"DICM")).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected 6 bytes (Content-Length)"),
        "{err}"
    );
    let decoder = BodyDecoder::from_headers(&headers, MultipartLimits::default()).unwrap();
    assert!(decoder.decode_all(Bytes::from_static(b"DICM!!!")).is_err());
}

#[test]
fn body_decoder_picks_multipart_by_content_type() {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("multipart/related; type=\"application/dicom\"; boundary=xyz"),
    );
    let decoder = BodyDecoder::from_headers(&headers, MultipartLimits::default()).unwrap();
    let parts = decoder
        .decode_all(Bytes::from_static(
            b"--xyz\r\n\r\none\r\n--xyz\r\n\r\ntwo\r\n--xyz--",
        ))
        .unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1].1, "two");
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("multipart/related"),
    );
    assert!(BodyDecoder::from_headers(&headers, MultipartLimits::default()).is_err());
    let none = BodyDecoder::from_headers(&HeaderMap::new(), MultipartLimits::default()).unwrap();
    assert_eq!(none.decode_all(Bytes::new()).unwrap().len(), 1);
}

/// Found by the multipart_decoder fuzz target: with a whole feed, the transport padding limit
/// was checked on a delimiter before the preamble in front of it was counted, so the error
/// depended on chunking.
#[test]
fn fuzz_regression_limit_errors_do_not_depend_on_chunking() {
    let limits = MultipartLimits::default()
        .with_max_preamble(16)
        .with_max_padding(2);
    let mut body = vec![b'p'; 40];
    body.extend_from_slice(b"\r\n--b\t\t\t\t\r\n\r\n\r\n--b--");
    let whole = decode_with("b", &body, body.len(), limits).unwrap_err();
    let bytewise = decode_with("b", &body, 1, limits).unwrap_err();
    assert_eq!(whole.to_string(), bytewise.to_string());
    assert_eq!(
        whole.to_string(),
        "multipart preamble exceeds the limit of 16 at byte 16"
    );
    // Padding right at a delimiter in a body: reported at the delimiter however it is cut.
    let body = b"--b\r\n\r\nabc\r\n--b\t\t\t\r\n";
    let whole = decode_with("b", body, body.len(), limits).unwrap_err();
    let bytewise = decode_with("b", body, 1, limits).unwrap_err();
    assert_eq!(whole.to_string(), bytewise.to_string());
    assert!(whole.to_string().contains("transport padding"), "{whole}");
}
