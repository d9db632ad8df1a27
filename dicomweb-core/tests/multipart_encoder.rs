//! The multipart/related encoder: exact bytes, no copies of bodies, and round trips through the
//! decoder.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use bytes::Bytes;
use dicomweb_core::media_type::MediaType;
use dicomweb_core::multipart::{
    Boundary, MultipartDecoder, MultipartEncoder, MultipartLimits, Part,
};
use http::{HeaderName, HeaderValue};

fn dicom() -> MediaType {
    MediaType::new("application", "dicom")
}

#[test]
fn writes_the_exact_rfc_2046_form() {
    let mut encoder = MultipartEncoder::new(Boundary::new("BOUNDARY").unwrap());
    let parts = [
        Part::new(
            MediaType::new("application", "dicom+json"),
            Bytes::from_static(b"[{}]"),
        ),
        Part::new(
            MediaType::new("application", "octet-stream"),
            Bytes::from_static(b"\x00\x01"),
        )
        .with_content_location("http://host/bulk/1")
        .with_content_length()
        .with_header(
            HeaderName::from_static("x-extra"),
            HeaderValue::from_static("yes"),
        ),
    ];
    let body = encoder.encode_all(&parts).unwrap().concat();
    assert_eq!(
        body,
        b"--BOUNDARY\r\nContent-Type: application/dicom+json\r\n\r\n[{}]\
          \r\n--BOUNDARY\r\nContent-Type: application/octet-stream\r\nContent-Length: 2\r\n\
          Content-Location: http://host/bulk/1\r\nx-extra: yes\r\n\r\n\x00\x01\
          \r\n--BOUNDARY--\r\n"
    );
    assert_eq!(encoder.written(), body.len() as u64);
}

#[test]
fn bodies_are_never_copied() {
    let instance = Bytes::from(vec![7u8; 1 << 20]);
    let mut encoder = MultipartEncoder::new(Boundary::from_random_bytes([1; 24]));
    let [head, body] = encoder
        .encode_part(&Part::new(dicom(), instance.clone()))
        .unwrap();
    assert_eq!(body.as_ptr(), instance.as_ptr());
    assert!(head.len() < 100);
}

#[test]
fn content_type_names_the_boundary_and_related_type() {
    let encoder = MultipartEncoder::new(Boundary::from_random_bytes([9; 24]));
    let related = dicom().with_param("transfer-syntax", "1.2.840.10008.1.2.1");
    let ct = encoder.content_type(&related);
    assert!(ct.is("multipart", "related"));
    assert_eq!(ct.boundary(), Some(encoder.boundary().as_str()));
    assert_eq!(ct.related_type().unwrap(), Some(related));
    let reparsed: MediaType = ct.to_string().parse().unwrap();
    assert_eq!(reparsed, ct);
}

#[test]
fn round_trips_through_the_decoder() {
    let random = [0x5A; 24];
    let mut encoder = MultipartEncoder::new(Boundary::from_random_bytes(random));
    let ct = encoder.content_type(&dicom());
    let payloads: Vec<Bytes> = (0..5u8)
        .map(|i| Bytes::from(vec![i; 1000 * usize::from(i)]))
        .collect();
    let parts: Vec<Part> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let part = Part::new(dicom(), p.clone()).with_content_location(format!("/i/{i}"));
            if i % 2 == 0 {
                part.with_content_length()
            } else {
                part
            }
        })
        .collect();
    let body: Vec<u8> = encoder.encode_all(&parts).unwrap().concat();
    let decoder = MultipartDecoder::from_content_type(&ct, MultipartLimits::default()).unwrap();
    let decoded = decoder.decode_all(Bytes::from(body)).unwrap();
    assert_eq!(decoded.len(), 5);
    for (i, (head, body)) in decoded.iter().enumerate() {
        assert_eq!(body, &payloads[i]);
        assert_eq!(head.content_location(), Some(format!("/i/{i}").as_str()));
        assert_eq!(head.content_type().unwrap(), Some(dicom()));
        let expected_length = (i % 2 == 0).then_some(payloads[i].len() as u64);
        assert_eq!(head.content_length(), expected_length);
    }
}

#[test]
fn header_injection_is_refused() {
    let mut encoder = MultipartEncoder::new(Boundary::new("b").unwrap());
    let part = Part::new(dicom(), Bytes::new()).with_content_location("/x\r\nEvil: 1");
    let err = encoder.encode_part(&part).unwrap_err().to_string();
    assert!(
        err.contains("Content-Location without control characters"),
        "{err}"
    );
    let bad_type = Part::new(dicom().with_param("x", "a\nb"), Bytes::new());
    assert!(encoder.encode_part(&bad_type).is_err());
    assert_eq!(encoder.written(), 0, "nothing is written on failure");
    assert_eq!(encoder.close(), "--b--\r\n");
}

#[test]
fn caller_boundaries_are_checked() {
    assert!(Boundary::new("valid boundary'()+_,-./:=?").is_ok());
    let err = Boundary::new("no;semicolons").unwrap_err().to_string();
    assert!(err.contains("expected only letters, digits"), "{err}");
}
