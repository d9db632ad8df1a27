//! The builders and parsers against a real Orthanc with its DICOMweb plugin: build, send (with
//! test-support's minimal HTTP/1.1 client), parse.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use bytes::Bytes;
use dicomweb_core::multipart::{Boundary, MultipartLimits};
use dicomweb_core::request::{
    Accept, BaseUrl, Body, RenderedTarget, RenderingParams, RetrieveBulkData, RetrieveFrames,
    RetrieveInstances, RetrieveMetadata, RetrieveRendered, Search, Store, Target, ToRequest,
    TransferSyntax, WadoUri, Window,
};
use dicomweb_core::response::{
    StatusKind, parse_metadata, parse_retrieve, parse_search, parse_store,
};
use dicomweb_core::tags::{self, SERIES_INSTANCE_UID, SOP_INSTANCE_UID, STUDY_INSTANCE_UID};
use dicomweb_core::{DataSet, Error, ReadOptions, Tag, Uid, Value};
use test_support::orthanc::Orthanc;

fn golden(name: &str) -> Bytes {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    Bytes::from(std::fs::read(&path).unwrap())
}

/// Sends a request built by the core to Orthanc and returns the response as `http` types.
fn send(orthanc: &Orthanc, request: &http::Request<Body>) -> http::Response<Bytes> {
    let path = request.uri().path_and_query().unwrap().as_str();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let body = request.body().to_bytes();
    let reply = orthanc
        .request(request.method().as_str(), path, &headers, &body)
        .unwrap();
    let mut builder = http::Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        if name != "transfer-encoding" && name != "content-length" {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    builder.body(Bytes::from(reply.body)).unwrap()
}

fn exchange(orthanc: &Orthanc, base: &BaseUrl, op: &dyn ToRequest) -> http::Response<Bytes> {
    send(orthanc, &op.to_request(base).unwrap())
}

fn uid_of(data_set: &DataSet, tag: Tag) -> Uid {
    data_set.uid(tag).unwrap()
}

#[test]
fn round_trip_through_orthanc() {
    let orthanc = match Orthanc::start() {
        Ok(orthanc) => orthanc,
        Err(err) => panic!("{err}"),
    };
    let base: BaseUrl = orthanc.dicomweb_url().parse().unwrap();
    let options = ReadOptions::default();
    let ct = golden("CT_small.dcm");
    let mr = golden("MR_small.dcm");

    // STOW-RS: two instances in one body; the instance bytes are not copied.
    let store = Store::new(Boundary::from_random_bytes([5; 24]))
        .instance(ct.clone())
        .instance(mr.clone());
    let response = exchange(&orthanc, &base, &store);
    let stored = parse_store(
        response.status(),
        response.headers(),
        response.body(),
        &options,
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", orthanc.log()));
    assert_eq!(stored.stored.len(), 2, "{stored:?}");
    assert!(stored.failed.is_empty(), "{stored:?}");

    // QIDO-RS: instances, then the CT study by a matching attribute.
    let response = exchange(&orthanc, &base, &Search::instances().include_all());
    let found = parse_search(
        response.status(),
        response.headers(),
        response.body().clone(),
        &options,
    )
    .unwrap();
    assert_eq!(found.data_sets.len(), 2);
    let ct_set = found
        .data_sets
        .iter()
        .find(|d| d.string(tags::MODALITY) == Some("CT"))
        .unwrap()
        .clone();
    let (study, series, instance) = (
        uid_of(&ct_set, STUDY_INSTANCE_UID),
        uid_of(&ct_set, SERIES_INSTANCE_UID),
        uid_of(&ct_set, SOP_INSTANCE_UID),
    );
    assert!(
        stored
            .stored
            .iter()
            .any(|s| s.sop_instance_uid.as_deref() == Some(instance.as_str()))
    );
    let search = Search::studies()
        .matching("StudyInstanceUID", study.as_str())
        .unwrap()
        .include("StudyDescription")
        .unwrap()
        .limit(5);
    let response = exchange(&orthanc, &base, &search);
    let found = parse_search(
        response.status(),
        response.headers(),
        response.body().clone(),
        &options,
    )
    .unwrap();
    assert_eq!(found.data_sets.len(), 1);
    assert_eq!(
        found.data_sets[0].uid(STUDY_INSTANCE_UID).as_ref(),
        Some(&study)
    );

    // Wildcards and UID lists.
    let wildcard = Search::studies()
        .matching("PatientName", "Compressed*CT?")
        .unwrap()
        .matching_uids(
            "StudyInstanceUID",
            &[study.clone(), "1.2.3".parse().unwrap()],
        )
        .unwrap();
    let response = exchange(&orthanc, &base, &wildcard);
    let found = parse_search(
        response.status(),
        response.headers(),
        response.body().clone(),
        &options,
    )
    .unwrap();
    assert_eq!(
        found.data_sets.len(),
        1,
        "{:?}",
        wildcard.to_request(&base).unwrap().uri()
    );

    // QIDO-RS as XML.
    let response = exchange(
        &orthanc,
        &base,
        &Search::series_of_study(study.clone()).xml(),
    );
    let found = parse_search(
        response.status(),
        response.headers(),
        response.body().clone(),
        &options,
    )
    .unwrap_or_else(|e| panic!("{e}: {:?}", response.headers()));
    assert_eq!(found.data_sets.len(), 1);
    assert_eq!(
        found.data_sets[0].uid(SERIES_INSTANCE_UID).as_ref(),
        Some(&series)
    );

    // No match: an empty result, not an error.
    let nobody = Search::studies()
        .matching("PatientID", "no-such-patient&x=1")
        .unwrap();
    let response = exchange(&orthanc, &base, &nobody);
    let found = parse_search(
        response.status(),
        response.headers(),
        response.body().clone(),
        &options,
    )
    .unwrap();
    assert!(found.data_sets.is_empty());

    // Metadata, JSON and XML.
    let target = Target::instance(study.clone(), series.clone(), instance.clone());
    let response = exchange(&orthanc, &base, &RetrieveMetadata::new(target.clone()));
    let json = parse_metadata(
        response.status(),
        response.headers(),
        response.body().clone(),
        &options,
    )
    .unwrap();
    let response = exchange(
        &orthanc,
        &base,
        &RetrieveMetadata::new(target.clone()).xml(),
    );
    let xml = parse_metadata(
        response.status(),
        response.headers(),
        response.body().clone(),
        &options,
    )
    .unwrap();
    assert_eq!(json.data_sets.len(), 1);
    assert_eq!(xml.data_sets.len(), 1);
    assert_eq!(
        json.data_sets[0].uid(SOP_INSTANCE_UID).as_ref(),
        Some(&instance)
    );
    assert_eq!(
        xml.data_sets[0].uid(SOP_INSTANCE_UID).as_ref(),
        Some(&instance)
    );

    // Bulk data by the BulkDataURI the metadata gave.
    let bulk = json.data_sets[0]
        .get(tags::PIXEL_DATA)
        .map(|e| match &e.value {
            Value::BulkDataUri(uri) => uri.clone(),
            other => panic!("pixel data not as BulkDataURI: {other:?}"),
        })
        .unwrap();
    let response = exchange(&orthanc, &base, &RetrieveBulkData::new(bulk.as_str()));
    let bulk_parts = parse_retrieve(
        response.status(),
        response.headers(),
        response.body().clone(),
        MultipartLimits::default(),
    )
    .unwrap();
    assert_eq!(bulk_parts.parts.len(), 1);
    assert_eq!(bulk_parts.parts[0].body.len(), 128 * 128 * 2);

    // The instance, byte for byte as stored.
    let response = exchange(&orthanc, &base, &RetrieveInstances::new(target.clone()));
    let retrieved = parse_retrieve(
        response.status(),
        response.headers(),
        response.body().clone(),
        MultipartLimits::default(),
    )
    .unwrap();
    assert_eq!(retrieved.parts.len(), 1);
    assert_eq!(retrieved.parts[0].body, ct);

    // The study, with the transfer-syntax parameter unquoted (both forms are understood).
    let retrieve = RetrieveInstances::new(Target::study(study.clone()))
        .accept(Accept::dicom(TransferSyntax::Any).with_unquoted_type());
    let response = exchange(&orthanc, &base, &retrieve);
    let retrieved = parse_retrieve(
        response.status(),
        response.headers(),
        response.body().clone(),
        MultipartLimits::default(),
    )
    .unwrap();
    assert_eq!(retrieved.parts.len(), 1);

    // Frames: one frame of 128 × 128 × 16 bits.
    let frames = RetrieveFrames::new(study.clone(), series.clone(), instance.clone(), [1]).unwrap();
    let response = exchange(&orthanc, &base, &frames);
    let frame = parse_retrieve(
        response.status(),
        response.headers(),
        response.body().clone(),
        MultipartLimits::default(),
    )
    .unwrap();
    assert_eq!(frame.parts.len(), 1);
    assert_eq!(frame.parts[0].body.len(), 128 * 128 * 2);

    // Rendered, with a window.
    let rendered = RetrieveRendered::new(RenderedTarget::new(target.clone()))
        .params(RenderingParams::default().window(Window::new(40.0, 400.0)))
        .accept(Accept::image("png"));
    let response = exchange(&orthanc, &base, &rendered);
    assert_eq!(response.status(), 200, "{:?}", response.body());
    assert!(response.body().starts_with(b"\x89PNG"));

    // WADO-URI.
    let wado: BaseUrl = format!("{}/wado", orthanc.http_url()).parse().unwrap();
    let request = WadoUri::new(study.clone(), series.clone(), instance.clone())
        .content_type("application/dicom".parse().unwrap())
        .to_request(&wado)
        .unwrap();
    let response = send(&orthanc, &request);
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), &ct);

    // STOW-RS into the study, with part lengths and an unquoted type: both understood.
    let again = Store::new(Boundary::from_random_bytes([8; 24]))
        .study(study.clone())
        .instance(ct.clone())
        .with_part_lengths()
        .with_unquoted_type();
    let response = exchange(&orthanc, &base, &again);
    let stored = parse_store(
        response.status(),
        response.headers(),
        response.body(),
        &options,
    )
    .unwrap();
    assert_eq!(
        stored.unreported(std::slice::from_ref(&instance)),
        Vec::<&Uid>::new()
    );

    // Something that is not DICOM: Orthanc answers 400 with empty sequences, a typed error.
    let bad = Store::new(Boundary::from_random_bytes([6; 24]))
        .instance(Bytes::from_static(b"not dicom at all"));
    let response = exchange(&orthanc, &base, &bad);
    let err = parse_store(
        response.status(),
        response.headers(),
        response.body(),
        &options,
    )
    .unwrap_err();
    let Error::Status(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!(status.kind, StatusKind::BadRequest);
    assert!(status.body.contains("00081198"), "{}", status.body);

    // An unknown study: a typed 404.
    let missing = RetrieveMetadata::new(Target::study("1.2.3.4.5.6.7.8.9".parse().unwrap()));
    let response = exchange(&orthanc, &base, &missing);
    let err = parse_metadata(
        response.status(),
        response.headers(),
        response.body().clone(),
        &options,
    )
    .unwrap_err();
    let Error::Status(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!(status.kind, StatusKind::NotFound);
}
