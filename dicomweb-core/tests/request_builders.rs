//! Every request builder: exact URLs, methods and headers.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use bytes::Bytes;
use dicomweb_core::media_type::MediaType;
use dicomweb_core::multipart::{Boundary, MultipartDecoder, MultipartLimits};
use dicomweb_core::request::{
    Accept, Annotation, BaseUrl, ByteRange, Capabilities, Delete, IccProfile, RenderedTarget,
    RenderingParams, RetrieveBulkData, RetrieveFrames, RetrieveInstances, RetrieveMetadata,
    RetrievePixelData, RetrieveRendered, RetrieveThumbnail, Search, Store, Target, ToRequest,
    TransferSyntax, Viewport, WadoUri, Window, WindowFunction,
};
use dicomweb_core::{Error, Tag, Uid};
use http::Method;

fn uid(text: &str) -> Uid {
    text.parse().unwrap()
}

fn base() -> BaseUrl {
    "http://127.0.0.1:8042/dicom-web/".parse().unwrap()
}

fn url(request: &http::Request<dicomweb_core::request::Body>) -> String {
    request.uri().to_string()
}

fn header<'a>(request: &'a http::Request<dicomweb_core::request::Body>, name: &str) -> &'a str {
    request.headers()[name].to_str().unwrap()
}

const B: &str = "http://127.0.0.1:8042/dicom-web";

#[test]
fn qido_at_every_level() {
    let cases = [
        (Search::studies(), "/studies"),
        (Search::series(), "/series"),
        (Search::series_of_study(uid("1.2")), "/studies/1.2/series"),
        (Search::instances(), "/instances"),
        (
            Search::instances_of_study(uid("1.2")),
            "/studies/1.2/instances",
        ),
        (
            Search::instances_of_series(uid("1.2"), uid("3.4")),
            "/studies/1.2/series/3.4/instances",
        ),
    ];
    for (search, path) in cases {
        let request = search.to_request(&base()).unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(url(&request), format!("{B}{path}"));
        assert_eq!(header(&request, "accept"), "application/dicom+json");
        assert!(request.body().is_empty());
    }
}

#[test]
fn qido_matching_include_and_paging() {
    let request = Search::studies()
        .matching("patientname", "DOE*")
        .map(|_| ())
        .unwrap_err();
    assert!(
        matches!(request, Error::UnknownKeyword { .. }),
        "keywords are case-sensitive"
    );

    let uids = [uid("1.2.3"), uid("1.2.4")];
    let request = Search::studies()
        .matching("PatientName", "DOE^JO?N*")
        .unwrap()
        .matching("0020000D", "1.2.3\\1.2.4")
        .unwrap()
        .matching_uids("StudyInstanceUID", &uids)
        .unwrap()
        .matching_range("StudyDate", Some("20240101"), None)
        .unwrap()
        .matching_range("StudyTime", None, Some("120000"))
        .unwrap()
        .matching_path(Tag(0x0008_0061), "CT")
        .matching(
            "ScheduledProcedureStepSequence.ScheduledStationAETitle",
            "AE1",
        )
        .unwrap()
        .matching("(0010,0020)", "ID 7")
        .unwrap()
        .include("all")
        .unwrap()
        .include("00081030")
        .unwrap()
        .include("ReferencedStudySequence.ReferencedSOPInstanceUID")
        .unwrap()
        .fuzzy_matching(false)
        .limit(0)
        .offset(5)
        .to_request(&base())
        .unwrap();
    assert_eq!(
        url(&request),
        format!(
            "{B}/studies?PatientName=DOE%5EJO?N*&0020000D=1.2.3%5C1.2.4\
             &StudyInstanceUID=1.2.3,1.2.4&StudyDate=20240101-&StudyTime=-120000\
             &00080061=CT&ScheduledProcedureStepSequence.ScheduledStationAETitle=AE1\
             &00100020=ID%207&includefield=all&includefield=00081030\
             &includefield=ReferencedStudySequence.ReferencedSOPInstanceUID\
             &fuzzymatching=false&limit=0&offset=5"
        )
    );
}

#[test]
fn qido_refuses_what_would_mislead_a_server() {
    let err = Search::studies()
        .matching("PatientName.PatientID", "x")
        .unwrap_err();
    assert!(err.to_string().contains("not a sequence"), "{err}");
    assert!(Search::studies().matching("", "x").is_err());
    assert!(Search::studies().matching("00400275.", "x").is_err());
    assert!(
        Search::studies()
            .matching_uids("StudyInstanceUID", &[])
            .is_err()
    );
    assert!(
        Search::studies()
            .matching_range("StudyDate", None, None)
            .is_err()
    );
    assert!(Search::studies().include("everything").is_err());
}

#[test]
fn qido_xml_and_custom_accept() {
    let request = Search::studies().xml().to_request(&base()).unwrap();
    assert_eq!(
        header(&request, "accept"),
        r#"multipart/related; type="application/dicom+xml""#
    );
    let request = Search::studies()
        .accept(Accept::dicom_json().or(MediaType::new("application", "json"), 0.5))
        .to_request(&base())
        .unwrap();
    assert_eq!(
        header(&request, "accept"),
        "application/dicom+json, application/json; q=0.5"
    );
}

#[test]
fn wado_instances_metadata_pixeldata_at_every_level() {
    let targets = [
        (Target::study(uid("1")), "/studies/1"),
        (Target::series(uid("1"), uid("2")), "/studies/1/series/2"),
        (
            Target::instance(uid("1"), uid("2"), uid("3")),
            "/studies/1/series/2/instances/3",
        ),
    ];
    for (target, path) in targets {
        let r = RetrieveInstances::new(target.clone())
            .to_request(&base())
            .unwrap();
        assert_eq!(url(&r), format!("{B}{path}"));
        assert_eq!(
            header(&r, "accept"),
            r#"multipart/related; type="application/dicom"; transfer-syntax=*"#
        );
        let r = RetrieveMetadata::new(target.clone())
            .to_request(&base())
            .unwrap();
        assert_eq!(url(&r), format!("{B}{path}/metadata"));
        assert_eq!(header(&r, "accept"), "application/dicom+json");
        let r = RetrieveMetadata::new(target.clone())
            .xml()
            .to_request(&base())
            .unwrap();
        assert_eq!(
            header(&r, "accept"),
            r#"multipart/related; type="application/dicom+xml""#
        );
        let r = RetrievePixelData::new(target.clone())
            .to_request(&base())
            .unwrap();
        assert_eq!(url(&r), format!("{B}{path}/pixeldata"));
        assert_eq!(
            header(&r, "accept"),
            r#"multipart/related; type="application/octet-stream"; transfer-syntax=*"#
        );
        let r = RetrieveThumbnail::new(target.clone())
            .viewport(Viewport::new(64, 48))
            .to_request(&base())
            .unwrap();
        assert_eq!(url(&r), format!("{B}{path}/thumbnail?viewport=64,48"));
        assert_eq!(header(&r, "accept"), "image/jpeg");
        let r = RetrieveRendered::new(target).to_request(&base()).unwrap();
        assert_eq!(url(&r), format!("{B}{path}/rendered"));
    }
}

#[test]
fn wado_transfer_syntax_any_uid_and_unquoted() {
    let ts = TransferSyntax::Uid(uid("1.2.840.10008.1.2.4.201"));
    let r = RetrieveInstances::new(Target::study(uid("1")))
        .accept(Accept::dicom(ts.clone()).with_unquoted_type())
        .to_request(&base())
        .unwrap();
    assert_eq!(
        header(&r, "accept"),
        "multipart/related; type=application/dicom; transfer-syntax=1.2.840.10008.1.2.4.201"
    );
    let r = RetrieveInstances::new(Target::study(uid("1")))
        .accept(
            Accept::dicom(ts)
                .or(Accept::dicom_media_type(TransferSyntax::Any), 0.8)
                .or(MediaType::new("application", "dicom"), 0.5),
        )
        .to_request(&base())
        .unwrap();
    assert_eq!(
        header(&r, "accept"),
        r#"multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.201, multipart/related; type="application/dicom"; transfer-syntax=*; q=0.8, application/dicom; q=0.5"#
    );
}

#[test]
fn frames_lists_are_checked() {
    let r = RetrieveFrames::new(uid("1"), uid("2"), uid("3"), [5, 1, 2])
        .unwrap()
        .to_request(&base())
        .unwrap();
    assert_eq!(
        url(&r),
        format!("{B}/studies/1/series/2/instances/3/frames/5,1,2")
    );
    assert_eq!(
        header(&r, "accept"),
        r#"multipart/related; type="application/octet-stream"; transfer-syntax=*"#
    );
    assert!(RetrieveFrames::new(uid("1"), uid("2"), uid("3"), []).is_err());
    let err = RetrieveFrames::new(uid("1"), uid("2"), uid("3"), [1, 0]).unwrap_err();
    assert!(err.to_string().contains("start at 1"), "{err}");
}

#[test]
fn rendered_parameters() {
    let target = RenderedTarget::frames(uid("1"), uid("2"), uid("3"), [2, 4]).unwrap();
    let params = RenderingParams::default()
        .viewport(Viewport::new(256, 128).source(10, 20, -100, 200))
        .window(Window::new(-600.5, 1500.0).function(WindowFunction::LinearExact))
        .quality(75)
        .annotation(Annotation::Patient)
        .annotation(Annotation::Technique)
        .annotation(Annotation::Patient)
        .icc_profile(IccProfile::Srgb);
    let r = RetrieveRendered::new(target)
        .params(params)
        .accept(Accept::image("png"))
        .to_request(&base())
        .unwrap();
    assert_eq!(
        url(&r),
        format!(
            "{B}/studies/1/series/2/instances/3/frames/2,4/rendered?viewport=256,128,10,20,-100,200\
             &window=-600.5,1500,linear-exact&quality=75&annotation=patient,technique&iccprofile=srgb"
        )
    );
    assert_eq!(header(&r, "accept"), "image/png");
    let thumbnail =
        RetrieveThumbnail::new(RenderedTarget::frames(uid("1"), uid("2"), uid("3"), [1]).unwrap())
            .to_request(&base())
            .unwrap();
    assert_eq!(
        url(&thumbnail),
        format!("{B}/studies/1/series/2/instances/3/frames/1/thumbnail")
    );

    let study = || RetrieveRendered::new(Target::study(uid("1")));
    for bad in [
        RenderingParams::default().quality(0),
        RenderingParams::default().quality(101),
        RenderingParams::default().viewport(Viewport::new(0, 10)),
        RenderingParams::default().window(Window::new(1.0, 0.0)),
        RenderingParams::default().window(Window::new(f64::NAN, 10.0)),
    ] {
        assert!(study().params(bad).to_request(&base()).is_err());
    }
    assert!(RenderedTarget::frames(uid("1"), uid("2"), uid("3"), [0]).is_err());
}

#[test]
fn bulk_data_uris_and_ranges() {
    let same = "http://127.0.0.1:8042/dicom-web/studies/1/series/2/instances/3/bulk/7FE00010";
    let r = RetrieveBulkData::new(same)
        .range(ByteRange::Inclusive(0, 1023))
        .to_request(&base())
        .unwrap();
    assert_eq!(url(&r), same);
    assert_eq!(header(&r, "range"), "bytes=0-1023");
    assert_eq!(
        header(&r, "accept"),
        r#"multipart/related; type="application/octet-stream"; transfer-syntax=*"#
    );
    let r = RetrieveBulkData::new("/dicom-web/bulk/abc?x=1")
        .range(ByteRange::From(100))
        .to_request(&base())
        .unwrap();
    assert_eq!(url(&r), format!("{B}/bulk/abc?x=1"));
    assert_eq!(header(&r, "range"), "bytes=100-");
    let r = RetrieveBulkData::new("bulk/abc")
        .range(ByteRange::Last(10))
        .to_request(&base())
        .unwrap();
    assert_eq!(url(&r), format!("{B}/bulk/abc"));
    assert_eq!(header(&r, "range"), "bytes=-10");
    // The default port of the scheme counts as the same origin.
    let https: BaseUrl = "https://pacs.example/dicomWeb".parse().unwrap();
    let r = RetrieveBulkData::new("https://pacs.example:443/dicomWeb/x")
        .to_request(&https)
        .unwrap();
    assert_eq!(r.uri().path(), "/dicomWeb/x");
    assert!(r.headers().get("range").is_none());

    assert!(
        RetrieveBulkData::new(same)
            .range(ByteRange::Inclusive(5, 4))
            .to_request(&base())
            .is_err()
    );
    assert!(
        RetrieveBulkData::new(same)
            .range(ByteRange::Last(0))
            .to_request(&base())
            .is_err()
    );
}

#[test]
fn wado_uri_parameters() {
    let endpoint: BaseUrl = "http://127.0.0.1:8042/wado".parse().unwrap();
    let r = WadoUri::new(uid("1"), uid("2"), uid("3"))
        .content_type(MediaType::new("image", "jpeg"))
        .charset("UTF-8")
        .anonymize()
        .annotation(Annotation::Patient)
        .rows(512)
        .columns(256)
        .region(0.0, 0.25, 0.5, 1.0)
        .window(40.0, 400.0)
        .image_quality(80)
        .presentation(uid("9.1"), uid("9.2"))
        .frame_number(3)
        .to_request(&endpoint)
        .unwrap();
    assert_eq!(
        url(&r),
        "http://127.0.0.1:8042/wado?requestType=WADO&studyUID=1&seriesUID=2&objectUID=3\
         &contentType=image/jpeg&charset=UTF-8&anonymize=yes&annotation=patient&rows=512\
         &columns=256&region=0,0.25,0.5,1&windowCenter=40&windowWidth=400&imageQuality=80\
         &presentationUID=9.1&presentationSeriesUID=9.2&frameNumber=3"
    );
    assert_eq!(header(&r, "accept"), "image/jpeg");
    let plain = WadoUri::new(uid("1"), uid("2"), uid("3"))
        .to_request(&endpoint)
        .unwrap();
    assert!(plain.headers().get("accept").is_none());
    let object = || WadoUri::new(uid("1"), uid("2"), uid("3"));
    for bad in [
        object().frame_number(0),
        object().image_quality(0),
        object().rows(0),
        object().region(0.5, 0.0, 0.5, 1.0),
        object().region(0.0, 0.0, 1.5, 1.0),
        object().window(1.0, -1.0),
    ] {
        assert!(bad.to_request(&endpoint).is_err());
    }
}

#[test]
fn stow_instances_body_decodes_back() {
    let boundary = Boundary::from_random_bytes([3; 24]);
    let one = Bytes::from(vec![1u8; 300]);
    let two = Bytes::from_static(b"second instance");
    let store = Store::new(boundary.clone())
        .study(uid("1.2"))
        .instance(one.clone())
        .instance(two.clone())
        .with_part_lengths();
    let r = store.to_request(&base()).unwrap();
    assert_eq!(r.method(), Method::POST);
    assert_eq!(url(&r), format!("{B}/studies/1.2"));
    assert_eq!(header(&r, "accept"), "application/dicom+json");
    let content_type = header(&r, "content-type").to_owned();
    assert_eq!(
        content_type,
        format!(r#"multipart/related; type="application/dicom"; boundary={boundary}"#)
    );
    // Instance bytes are shared, not copied.
    let segments = r.body().segments();
    assert_eq!(segments.len(), 5);
    assert_eq!(segments[1].as_ptr(), one.as_ptr());
    assert_eq!(segments[3].as_ptr(), two.as_ptr());

    let media_type: MediaType = content_type.parse().unwrap();
    let decoder =
        MultipartDecoder::from_content_type(&media_type, MultipartLimits::default()).unwrap();
    let parts = decoder.decode_all(r.body().to_bytes()).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].1, one);
    assert_eq!(parts[1].1, two);
    assert_eq!(parts[1].0.content_length(), Some(two.len() as u64));
    assert_eq!(
        parts[0].0.content_type().unwrap(),
        Some(MediaType::new("application", "dicom"))
    );
    assert_eq!(r.body().len(), r.body().to_bytes().len() as u64);

    let unquoted = Store::new(boundary.clone())
        .instance(one)
        .with_unquoted_type();
    let r = unquoted.to_request(&base()).unwrap();
    assert_eq!(
        header(&r, "content-type"),
        format!("multipart/related; type=application/dicom; boundary={boundary}")
    );
}

#[test]
fn stow_metadata_and_bulk_data() {
    let boundary = Boundary::new("metadata-boundary-0123456789abcdef").unwrap();
    let metadata =
        Bytes::from_static(br#"[{"7FE00010": {"vr": "OB", "BulkDataURI": "http://x/bulk/1"}}]"#);
    let pixels = Bytes::from(vec![9u8; 64]);
    let r = Store::new(boundary.clone())
        .json_metadata(metadata.clone())
        .bulk_data(
            "http://x/bulk/1",
            MediaType::new("application", "octet-stream"),
            pixels.clone(),
        )
        .to_request(&base())
        .unwrap();
    assert_eq!(url(&r), format!("{B}/studies"));
    assert_eq!(
        header(&r, "content-type"),
        r#"multipart/related; type="application/dicom+json"; boundary=metadata-boundary-0123456789abcdef"#
    );
    let body = r.body().to_bytes();
    let decoder = MultipartDecoder::new(boundary.as_str(), MultipartLimits::default()).unwrap();
    let parts = decoder.decode_all(body).unwrap();
    assert_eq!(parts[0].1, metadata);
    assert_eq!(parts[1].0.content_location(), Some("http://x/bulk/1"));
    assert_eq!(parts[1].1, pixels);

    let xml = Store::new(boundary)
        .xml_metadata(Bytes::from_static(b"<NativeDicomModel/>"))
        .to_request(&base())
        .unwrap();
    assert!(
        header(&xml, "content-type")
            .starts_with(r#"multipart/related; type="application/dicom+xml""#)
    );
}

#[test]
fn stow_refuses_empty_bodies_and_boundary_collisions() {
    let boundary = Boundary::new("abc").unwrap();
    assert!(Store::new(boundary.clone()).to_request(&base()).is_err());
    let err = Store::new(boundary)
        .instance(Bytes::from_static(b"xx\r\n--abc\r\nyy"))
        .to_request(&base())
        .unwrap_err();
    assert!(
        err.to_string().contains("boundary occurs inside part #1"),
        "{err}"
    );
}

#[test]
fn delete_and_capabilities() {
    for (target, path) in [
        (Target::study(uid("1")), "/studies/1"),
        (Target::series(uid("1"), uid("2")), "/studies/1/series/2"),
        (
            Target::instance(uid("1"), uid("2"), uid("3")),
            "/studies/1/series/2/instances/3",
        ),
    ] {
        let r = Delete::new(target).to_request(&base()).unwrap();
        assert_eq!(r.method(), Method::DELETE);
        assert_eq!(url(&r), format!("{B}{path}"));
        assert!(r.headers().get("accept").is_none());
    }
    let r = Capabilities::new().to_request(&base()).unwrap();
    assert_eq!(r.method(), Method::OPTIONS);
    assert_eq!(url(&r), B);
    let root: BaseUrl = "http://127.0.0.1:8042".parse().unwrap();
    assert_eq!(
        url(&Capabilities::new().to_request(&root).unwrap()),
        "http://127.0.0.1:8042/"
    );
}

#[test]
fn the_trait_builds_the_same_requests() {
    let ops: Vec<Box<dyn ToRequest>> = vec![
        Box::new(Search::studies()),
        Box::new(Delete::new(Target::study(uid("1")))),
        Box::new(Capabilities::default()),
    ];
    let paths: Vec<String> = ops
        .iter()
        .map(|op| op.to_request(&base()).unwrap().uri().path().to_owned())
        .collect();
    assert_eq!(
        paths,
        ["/dicom-web/studies", "/dicom-web/studies/1", "/dicom-web"]
    );
}

#[test]
fn google_style_base_keeps_its_prefix() {
    let base: BaseUrl = "https://healthcare.googleapis.com/v1/projects/p/locations/us/datasets/d/dicomStores/s/dicomWeb"
        .parse()
        .unwrap();
    let r = Search::instances_of_series(uid("1"), uid("2"))
        .to_request(&base)
        .unwrap();
    assert_eq!(
        url(&r),
        "https://healthcare.googleapis.com/v1/projects/p/locations/us/datasets/d/dicomStores/s/dicomWeb/studies/1/series/2/instances"
    );
}

#[test]
fn stow_head_for_streamed_bodies_and_metadata_from_data_sets() {
    use dicomweb_core::{DataSet, Element, Value, Vr};
    let boundary = Boundary::from_random_bytes([9; 24]);
    let head = Store::new(boundary.clone())
        .study(uid("1.2"))
        .to_request_head(&base())
        .unwrap();
    assert_eq!(head.method(), Method::POST);
    assert_eq!(head.uri().to_string(), format!("{B}/studies/1.2"));
    assert_eq!(
        head.headers()["content-type"],
        format!(r#"multipart/related; type="application/dicom"; boundary={boundary}"#).as_str()
    );

    let mut data_set = DataSet::new();
    data_set.insert(Tag(0x0008_0018), Element::string(Vr::UI, "1.2.3"));
    data_set.insert(
        Tag(0x7FE0_0010),
        Element::new(Vr::OB, Value::BulkDataUri("http://x/bulk/1".into())),
    );
    let request = Store::new(boundary.clone())
        .json_metadata_of(std::slice::from_ref(&data_set))
        .bulk_data(
            "http://x/bulk/1",
            MediaType::new("application", "octet-stream"),
            Bytes::from_static(b"pixels"),
        )
        .to_request(&base())
        .unwrap();
    let decoder = MultipartDecoder::new(boundary.as_str(), MultipartLimits::default()).unwrap();
    let parts = decoder.decode_all(request.body().to_bytes()).unwrap();
    let back = dicomweb_core::json::read(&parts[0].1, &Default::default()).unwrap();
    assert_eq!(back.data_sets(), std::slice::from_ref(&data_set));

    let request = Store::new(boundary.clone())
        .xml_metadata_of(&[data_set.clone(), data_set.clone()])
        .to_request(&base())
        .unwrap();
    let decoder = MultipartDecoder::new(boundary.as_str(), MultipartLimits::default()).unwrap();
    let parts = decoder.decode_all(request.body().to_bytes()).unwrap();
    assert_eq!(parts.len(), 2);
    let back = dicomweb_core::xml::read(&parts[1].1, &Default::default()).unwrap();
    assert_eq!(back, data_set);
}

#[test]
fn paging_advances_the_offset() {
    let first = Search::studies().limit(2).offset(10);
    let second = first.next_page(2).unwrap();
    let request = second.to_request(&base()).unwrap();
    assert_eq!(url(&request), format!("{B}/studies?limit=2&offset=12"));
    assert!(second.next_page(1).is_none());
    assert!(second.next_page(0).is_none());
    assert!(Search::studies().next_page(100).is_none());
}
