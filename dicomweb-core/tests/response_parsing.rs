//! Response parsers: every status and body shape.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use dicomweb_core::multipart::MultipartLimits;
use dicomweb_core::response::{
    FailureReason, InstanceOutcome, MAX_ERROR_BODY, RetryAfter, StatusKind, WarningReason,
    check_status, parse_metadata, parse_retrieve, parse_search, parse_store,
};
use dicomweb_core::{Error, ReadOptions, Tag};
use http::header::{CONTENT_TYPE, RETRY_AFTER, WARNING};
use http::{HeaderMap, HeaderValue, StatusCode};

fn headers(pairs: &[(http::header::HeaderName, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(name.clone(), HeaderValue::from_str(value).unwrap());
    }
    map
}

fn opts() -> ReadOptions {
    ReadOptions::default()
}

fn status_error(err: Error) -> Box<dicomweb_core::response::StatusError> {
    match err {
        Error::Status(status) => status,
        other => panic!("expected a status error, found {other:?}"),
    }
}

#[test]
fn every_error_status_is_typed() {
    let cases = [
        (400, StatusKind::BadRequest, false),
        (401, StatusKind::Unauthorized, false),
        (403, StatusKind::Forbidden, false),
        (404, StatusKind::NotFound, false),
        (406, StatusKind::NotAcceptable, false),
        (408, StatusKind::RequestTimeout, true),
        (409, StatusKind::Conflict, false),
        (410, StatusKind::Gone, false),
        (413, StatusKind::PayloadTooLarge, false),
        (415, StatusKind::UnsupportedMediaType, false),
        (429, StatusKind::TooManyRequests, true),
        (500, StatusKind::ServerError, true),
        (501, StatusKind::ServerError, false),
        (502, StatusKind::ServerError, true),
        (503, StatusKind::ServiceUnavailable, true),
        (504, StatusKind::ServerError, true),
        (418, StatusKind::Unexpected, false),
        (302, StatusKind::Unexpected, false),
    ];
    for (code, kind, retryable) in cases {
        let status = StatusCode::from_u16(code).unwrap();
        let err = status_error(check_status(status, &HeaderMap::new(), b"why").unwrap_err());
        assert_eq!(err.kind, kind, "{code}");
        assert_eq!(err.is_retryable(), retryable, "{code}");
        assert_eq!(err.body, "why");
        assert!(err.to_string().contains(&code.to_string()), "{err}");
    }
    for code in [200, 202, 204, 206] {
        assert!(check_status(StatusCode::from_u16(code).unwrap(), &HeaderMap::new(), b"").is_ok());
    }
}

#[test]
fn retry_after_seconds_and_dates() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_700);
    let h = headers(&[(RETRY_AFTER, "30")]);
    let err = status_error(check_status(StatusCode::TOO_MANY_REQUESTS, &h, b"").unwrap_err());
    assert_eq!(
        err.retry_after,
        Some(RetryAfter::Delay(Duration::from_secs(30)))
    );
    assert_eq!(err.retry_after.unwrap().delay(now), Duration::from_secs(30));

    let h = headers(&[(RETRY_AFTER, "Sun, 06 Nov 1994 08:49:37 GMT")]);
    let err = status_error(check_status(StatusCode::SERVICE_UNAVAILABLE, &h, b"").unwrap_err());
    assert_eq!(err.retry_after.unwrap().delay(now), Duration::from_secs(77));
    let later = now + Duration::from_secs(1000);
    assert_eq!(err.retry_after.unwrap().delay(later), Duration::ZERO);

    for junk in ["soon", "-5", "1.5", ""] {
        let h = headers(&[(RETRY_AFTER, junk)]);
        let err = status_error(check_status(StatusCode::SERVICE_UNAVAILABLE, &h, b"").unwrap_err());
        assert_eq!(err.retry_after, None, "{junk:?}");
    }
}

#[test]
fn error_bodies_are_bounded_and_lossy() {
    let big = vec![b'x'; MAX_ERROR_BODY * 3];
    let err =
        status_error(check_status(StatusCode::BAD_REQUEST, &HeaderMap::new(), &big).unwrap_err());
    assert_eq!(err.body.len(), MAX_ERROR_BODY);
    assert!(err.body_truncated);
    assert!(err.to_string().len() < 400, "the message shows an excerpt");
    let err = status_error(
        check_status(StatusCode::BAD_REQUEST, &HeaderMap::new(), b"bad \xff byte").unwrap_err(),
    );
    assert_eq!(err.body, "bad \u{FFFD} byte");
}

#[test]
fn search_204_and_empty_200_are_empty_results() {
    let r = parse_search(StatusCode::NO_CONTENT, &HeaderMap::new(), &b""[..], &opts()).unwrap();
    assert!(r.data_sets.is_empty());
    let h = headers(&[(CONTENT_TYPE, "application/dicom+json")]);
    assert!(
        parse_search(StatusCode::OK, &h, &b""[..], &opts())
            .unwrap()
            .data_sets
            .is_empty()
    );
    assert!(
        parse_search(StatusCode::OK, &h, &b" [] "[..], &opts())
            .unwrap()
            .data_sets
            .is_empty()
    );
}

#[test]
fn search_json_with_warnings() {
    let h = headers(&[
        (CONTENT_TYPE, "application/dicom+json; charset=utf-8"),
        (
            WARNING,
            r#"299 pacs "The fuzzymatching parameter is not supported.""#,
        ),
    ]);
    let body = br#"[{"0020000D":{"vr":"UI","Value":["1.2.3"]}},{"0020000D":{"vr":"UI","Value":["1.2.4"]}}]"#;
    let r = parse_search(StatusCode::OK, &h, &body[..], &opts()).unwrap();
    assert_eq!(r.data_sets.len(), 2);
    assert_eq!(r.data_sets[1].string(Tag(0x0020_000D)), Some("1.2.4"));
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].code, 299);
    assert_eq!(
        r.warnings[0].text,
        "The fuzzymatching parameter is not supported."
    );
}

#[test]
fn search_without_content_type_is_sniffed() {
    let body = b"\xEF\xBB\xBF\n [{\"00100020\":{\"vr\":\"LO\",\"Value\":[\"ID\"]}}]";
    let r = parse_search(StatusCode::OK, &HeaderMap::new(), &body[..], &opts()).unwrap();
    assert_eq!(r.data_sets[0].string(Tag(0x0010_0020)), Some("ID"));
    let h = headers(&[(CONTENT_TYPE, "application/json")]);
    assert_eq!(
        parse_search(StatusCode::OK, &h, &body[3..], &opts())
            .unwrap()
            .data_sets
            .len(),
        1
    );
}

#[test]
fn search_errors_and_other_bodies() {
    let h = headers(&[(CONTENT_TYPE, "text/html")]);
    let err = parse_search(StatusCode::OK, &h, &b"<html>"[..], &opts()).unwrap_err();
    assert!(matches!(err, Error::UnexpectedResponse { .. }), "{err:?}");
    let err = parse_search(
        StatusCode::BAD_REQUEST,
        &h,
        &b"unknown attribute"[..],
        &opts(),
    )
    .unwrap_err();
    assert_eq!(status_error(err).body, "unknown attribute");
    let h = headers(&[(CONTENT_TYPE, "application/dicom+json")]);
    assert!(parse_search(StatusCode::OK, &h, &b"[{\"0020000D\":"[..], &opts()).is_err());
}

const XML_STUDY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<NativeDicomModel xml:space="preserve">
  <DicomAttribute tag="0020000D" vr="UI" keyword="StudyInstanceUID"><Value number="1">1.2.3</Value></DicomAttribute>
</NativeDicomModel>
"#;

#[test]
fn metadata_xml_single_and_multipart() {
    let h = headers(&[(CONTENT_TYPE, "application/dicom+xml")]);
    let r = parse_metadata(StatusCode::OK, &h, XML_STUDY, &opts()).unwrap();
    assert_eq!(r.data_sets[0].string(Tag(0x0020_000D)), Some("1.2.3"));

    let second = XML_STUDY.replace("1.2.3", "1.2.4");
    let body = format!(
        "--XYZ\r\nContent-Type: application/dicom+xml\r\n\r\n{XML_STUDY}\r\n--XYZ\r\nContent-Type: application/dicom+xml; charset=utf-8\r\n\r\n{second}\r\n--XYZ--"
    );
    let h = headers(&[(
        CONTENT_TYPE,
        r#"multipart/related; type="application/dicom+xml"; boundary=XYZ"#,
    )]);
    let r = parse_metadata(StatusCode::OK, &h, body.clone(), &opts()).unwrap();
    let uids: Vec<_> = r
        .data_sets
        .iter()
        .map(|d| d.string(Tag(0x0020_000D)).unwrap())
        .collect();
    assert_eq!(uids, ["1.2.3", "1.2.4"]);

    // Truncated: an error, never one data set fewer.
    let cut = &body[..body.len() - 10];
    assert!(parse_metadata(StatusCode::OK, &h, cut.to_owned(), &opts()).is_err());
    // A part that is not XML.
    let odd = "--XYZ\r\nContent-Type: image/jpeg\r\n\r\nJFIF\r\n--XYZ--";
    let err = parse_metadata(StatusCode::OK, &h, odd, &opts()).unwrap_err();
    assert!(err.to_string().contains("image/jpeg"), "{err}");
}

const STOW_JSON: &str = r#"{
  "00081190": {"vr": "UR", "Value": ["http://pacs/dicom-web/studies/1.2"]},
  "00081199": {"vr": "SQ", "Value": [
    {"00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]},
     "00081155": {"vr": "UI", "Value": ["1.2.3.1"]},
     "00081190": {"vr": "UR", "Value": ["http://pacs/dicom-web/studies/1.2/series/3/instances/1.2.3.1"]}},
    {"00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]},
     "00081155": {"vr": "UI", "Value": ["1.2.3.2"]},
     "00081196": {"vr": "US", "Value": [45056]}}
  ]},
  "00081198": {"vr": "SQ", "Value": [
    {"00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.4"]},
     "00081155": {"vr": "UI", "Value": ["1.2.3.3"]},
     "00081197": {"vr": "US", "Value": [43264]}}
  ]},
  "0008119A": {"vr": "SQ", "Value": [
    {"00081197": {"vr": "US", "Value": [272]}}
  ]}
}"#;

#[test]
fn stow_json_on_202() {
    let h = headers(&[(CONTENT_TYPE, "application/dicom+json")]);
    let r = parse_store(StatusCode::ACCEPTED, &h, STOW_JSON.as_bytes(), &opts()).unwrap();
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(
        r.retrieve_url.as_deref(),
        Some("http://pacs/dicom-web/studies/1.2")
    );
    assert_eq!(r.stored.len(), 2);
    assert_eq!(r.stored[0].sop_instance_uid.as_deref(), Some("1.2.3.1"));
    assert!(
        r.stored[0]
            .retrieve_url
            .as_deref()
            .unwrap()
            .ends_with("/instances/1.2.3.1")
    );
    assert_eq!(r.stored[1].warning_reason, Some(WarningReason(0xB000)));
    assert_eq!(
        r.stored[1].warning_reason.unwrap().description(),
        Some("coercion of data elements")
    );
    assert_eq!(r.failed.len(), 1);
    assert_eq!(r.failed[0].sop_instance_uid.as_deref(), Some("1.2.3.3"));
    assert_eq!(r.failed[0].failure_reason, Some(FailureReason(0xA900)));
    assert_eq!(
        r.failed[0].failure_reason.unwrap().to_string(),
        "A900H (data set does not match SOP class)"
    );
    assert_eq!(
        r.other_failures[0].failure_reason,
        Some(FailureReason(0x0110))
    );
    assert!(!r.is_complete_success());

    let sent: Vec<dicomweb_core::Uid> = ["1.2.3.1", "1.2.3.3", "1.2.3.4"]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    assert!(
        matches!(r.outcome(&sent[0]), InstanceOutcome::Stored(s) if s.warning_reason.is_none())
    );
    assert!(matches!(r.outcome(&sent[1]), InstanceOutcome::Failed(_)));
    assert_eq!(r.outcome(&sent[2]), InstanceOutcome::Unreported);
    assert_eq!(r.unreported(&sent), vec![&sent[2]]);
}

#[test]
fn stow_409_with_and_without_a_body() {
    let body = r#"{"00081198": {"vr": "SQ", "Value": [
        {"00081155": {"vr": "UI", "Value": ["1.2.3.3"]}, "00081197": {"vr": "US", "Value": [49442]}}]}}"#;
    let h = headers(&[(CONTENT_TYPE, "application/dicom+json")]);
    let r = parse_store(StatusCode::CONFLICT, &h, body.as_bytes(), &opts()).unwrap();
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.stored.is_empty());
    assert_eq!(
        r.failed[0].failure_reason.unwrap().description(),
        Some("referenced transfer syntax not supported")
    );
    let err = parse_store(StatusCode::CONFLICT, &HeaderMap::new(), b"", &opts()).unwrap_err();
    assert_eq!(status_error(err).kind, StatusKind::Conflict);
    let text = headers(&[(CONTENT_TYPE, "text/plain")]);
    let err = parse_store(StatusCode::CONFLICT, &text, b"conflict!", &opts()).unwrap_err();
    assert_eq!(status_error(err).body, "conflict!");
    // A 400 listing failures is a result; one listing nothing (Orthanc's answer to a body
    // that is not DICOM) is the error it is.
    let r = parse_store(StatusCode::BAD_REQUEST, &h, body.as_bytes(), &opts()).unwrap();
    assert_eq!(r.failed.len(), 1);
    let empty = br#"{"00080005": {"vr": "CS", "Value": ["ISO_IR 100"]}, "00081198": {"vr": "SQ"}, "00081199": {"vr": "SQ"}}"#;
    let err = parse_store(StatusCode::BAD_REQUEST, &HeaderMap::new(), empty, &opts()).unwrap_err();
    assert_eq!(status_error(err).kind, StatusKind::BadRequest);
    let err = parse_store(StatusCode::UNSUPPORTED_MEDIA_TYPE, &h, b"", &opts()).unwrap_err();
    assert_eq!(status_error(err).kind, StatusKind::UnsupportedMediaType);
}

#[test]
fn stow_xml_and_codes_as_text() {
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<NativeDicomModel>
  <DicomAttribute tag="00081190" vr="UR" keyword="RetrieveURL"><Value number="1">http://pacs/studies/1.2</Value></DicomAttribute>
  <DicomAttribute tag="00081198" vr="SQ" keyword="FailedSOPSequence">
    <Item number="1">
      <DicomAttribute tag="00081155" vr="UI" keyword="ReferencedSOPInstanceUID"><Value number="1">1.2.9</Value></DicomAttribute>
      <DicomAttribute tag="00081197" vr="US" keyword="FailureReason"><Value number="1">42752</Value></DicomAttribute>
    </Item>
  </DicomAttribute>
  <DicomAttribute tag="00081199" vr="SQ" keyword="ReferencedSOPSequence">
    <Item number="1">
      <DicomAttribute tag="00081155" vr="UI" keyword="ReferencedSOPInstanceUID"><Value number="1">1.2.8</Value></DicomAttribute>
    </Item>
  </DicomAttribute>
</NativeDicomModel>"#;
    let h = headers(&[(CONTENT_TYPE, "application/dicom+xml")]);
    let r = parse_store(StatusCode::ACCEPTED, &h, body.as_bytes(), &opts()).unwrap();
    assert_eq!(r.retrieve_url.as_deref(), Some("http://pacs/studies/1.2"));
    assert_eq!(r.stored[0].sop_instance_uid.as_deref(), Some("1.2.8"));
    assert_eq!(r.failed[0].failure_reason, Some(FailureReason(0xA700)));
    assert_eq!(
        r.failed[0].failure_reason.unwrap().description(),
        Some("out of resources")
    );

    // Codes some servers send as strings.
    let body =
        r#"{"00081198": {"vr": "SQ", "Value": [{"00081197": {"vr": "US", "Value": ["C000H"]}}]}}"#;
    let r = parse_store(
        StatusCode::ACCEPTED,
        &HeaderMap::new(),
        body.as_bytes(),
        &opts(),
    )
    .unwrap();
    assert_eq!(r.failed[0].failure_reason, Some(FailureReason(0xC000)));
    let body =
        r#"{"00081198": {"vr": "SQ", "Value": [{"00081197": {"vr": "US", "Value": ["272"]}}]}}"#;
    let r = parse_store(
        StatusCode::ACCEPTED,
        &HeaderMap::new(),
        body.as_bytes(),
        &opts(),
    )
    .unwrap();
    assert_eq!(r.failed[0].failure_reason, Some(FailureReason(0x0110)));
}

#[test]
fn stow_200_complete_success_and_empty_body() {
    let body =
        r#"{"00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": ["1.2"]}}]}}"#;
    let h = headers(&[(CONTENT_TYPE, "application/dicom+json")]);
    let r = parse_store(StatusCode::OK, &h, body.as_bytes(), &opts()).unwrap();
    assert!(r.is_complete_success());
    let r = parse_store(StatusCode::OK, &HeaderMap::new(), b"", &opts()).unwrap();
    assert!(r.stored.is_empty() && r.failed.is_empty());
    let html = headers(&[(CONTENT_TYPE, "text/html")]);
    assert!(parse_store(StatusCode::OK, &html, b"<p>ok</p>", &opts()).is_err());
}

#[test]
fn retrieve_multipart_and_single_part() {
    let body = Bytes::from_static(
        b"--b\r\nContent-Type: application/dicom\r\n\r\nFIRST\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Location: /bulk/1\r\n\r\nSECOND\r\n--b--\r\n",
    );
    let h = headers(&[(
        CONTENT_TYPE,
        r#"multipart/related; type="application/dicom"; boundary=b"#,
    )]);
    let r = parse_retrieve(StatusCode::OK, &h, body.clone(), MultipartLimits::default()).unwrap();
    assert_eq!(r.parts.len(), 2);
    assert_eq!(r.parts[0].body, "FIRST");
    assert_eq!(r.parts[1].content_location.as_deref(), Some("/bulk/1"));
    // Parts are slices of the body, not copies.
    let start = body.as_ptr() as usize;
    let part = r.parts[0].body.as_ptr() as usize;
    assert!(part >= start && part < start + body.len());

    // A plain application/dicom answer to a multipart request is one part.
    let h = headers(&[(CONTENT_TYPE, "application/dicom")]);
    let r = parse_retrieve(
        StatusCode::OK,
        &h,
        Bytes::from_static(b"DICM"),
        MultipartLimits::default(),
    )
    .unwrap();
    assert_eq!(r.parts.len(), 1);
    assert_eq!(r.parts[0].body, "DICM");
    assert_eq!(
        r.parts[0]
            .content_type
            .as_ref()
            .map(|m| m.to_string())
            .as_deref(),
        Some("application/dicom")
    );

    // A byte range.
    let h = headers(&[(CONTENT_TYPE, "application/octet-stream")]);
    let r = parse_retrieve(
        StatusCode::PARTIAL_CONTENT,
        &h,
        Bytes::from_static(b"abc"),
        MultipartLimits::default(),
    )
    .unwrap();
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);

    // Truncated multipart is an error; so is an error status.
    let h = headers(&[(CONTENT_TYPE, r#"multipart/related; boundary=b"#)]);
    assert!(
        parse_retrieve(
            StatusCode::OK,
            &h,
            body.slice(..40),
            MultipartLimits::default()
        )
        .is_err()
    );
    let err = parse_retrieve(
        StatusCode::NOT_ACCEPTABLE,
        &h,
        Bytes::new(),
        MultipartLimits::default(),
    )
    .unwrap_err();
    assert_eq!(status_error(err).kind, StatusKind::NotAcceptable);
}
