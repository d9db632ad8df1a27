//! Nothing a caller or a server supplies can change which resource a request names.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use bytes::Bytes;
use dicomweb_core::media_type::MediaType;
use dicomweb_core::multipart::Boundary;
use dicomweb_core::request::{
    Accept, BaseUrl, RetrieveBulkData, RetrieveInstances, Search, Store, Target, WadoUri,
};
use dicomweb_core::{Error, Uid};

const HOSTILE: &[&str] = &[
    "../../admin",
    "1.2/../../x",
    "1.2?x=1",
    "1.2#frag",
    "1.2%2F..%2F",
    "1.2\r\nHost: evil",
    "1.2&limit=100000",
    "/studies",
    "..",
    ".",
    "1.2 3",
    "1.2;jsessionid=x",
    "１.２",
    "",
];

fn base() -> BaseUrl {
    "https://pacs.example/dicom-web".parse().unwrap()
}

#[test]
fn hostile_uids_never_become_uids() {
    for text in HOSTILE {
        assert!(text.parse::<Uid>().is_err(), "{text:?}");
    }
}

#[test]
fn hostile_match_values_stay_in_the_query() {
    for text in HOSTILE {
        for attribute in ["PatientName", "00100020", "StudyInstanceUID"] {
            let request = Search::studies()
                .matching(attribute, *text)
                .unwrap()
                .to_request(&base())
                .unwrap();
            let uri = request.uri();
            assert_eq!(uri.host(), Some("pacs.example"));
            assert_eq!(uri.path(), "/dicom-web/studies", "{text:?}");
            let query = uri.query().unwrap_or("");
            // One parameter only: the value's own `&`, `=`, `#` are encoded.
            assert_eq!(query.matches('&').count(), 0, "{query}");
            assert_eq!(query.matches('=').count(), 1, "{query}");
            assert!(!query.contains(['#', ' ', '\r', '\n', '+']), "{query}");
        }
    }
}

#[test]
fn hostile_attribute_names_are_refused() {
    for attribute in [
        "PatientName&x=1",
        "PatientName=1",
        "../studies",
        "Patient Name",
        "0010002",
        "00100010.",
        ".00100010",
        "PatientName\r\n",
    ] {
        let err = Search::studies().matching(attribute, "x").unwrap_err();
        assert!(
            matches!(
                err,
                Error::UnknownKeyword { .. }
                    | Error::InvalidTag { .. }
                    | Error::InvalidRequest { .. }
            ),
            "{attribute:?}: {err:?}"
        );
        assert!(
            Search::studies().include(attribute).is_err(),
            "{attribute:?}"
        );
    }
}

#[test]
fn hostile_wado_uri_values_stay_in_the_query() {
    let endpoint: BaseUrl = "https://pacs.example/wado".parse().unwrap();
    let uid: Uid = "1.2".parse().unwrap();
    let request = WadoUri::new(uid.clone(), uid.clone(), uid)
        .charset("utf-8&requestType=OTHER")
        .to_request(&endpoint)
        .unwrap();
    assert_eq!(request.uri().path(), "/wado");
    let query = request.uri().query().unwrap();
    assert_eq!(query.matches("requestType=").count(), 1, "{query}");
    assert!(
        query.ends_with("charset=utf-8%26requestType%3DOTHER"),
        "{query}"
    );
}

#[test]
fn hostile_header_values_are_refused() {
    let accept =
        Accept::new(MediaType::new("application", "dicom").with_param("x", "a\r\nX-Evil: 1"));
    let uid: Uid = "1".parse().unwrap();
    assert!(
        RetrieveInstances::new(Target::study(uid))
            .accept(accept)
            .to_request(&base())
            .is_err()
    );
    let store = Store::new(Boundary::new("b0undary").unwrap()).bulk_data(
        "http://x/1\r\nX-Evil: 1",
        MediaType::new("application", "octet-stream"),
        Bytes::from_static(b"x"),
    );
    assert!(store.to_request(&base()).is_err());
}

#[test]
fn hostile_bulk_data_uris_are_refused() {
    for uri in [
        "https://evil.example/dicom-web/bulk/1",
        "http://pacs.example/dicom-web/bulk/1",
        "https://pacs.example:8443/dicom-web/bulk/1",
        "https://user@pacs.example/dicom-web/bulk/1",
        "//evil.example/dicom-web/bulk/1",
        "/other/bulk/1",
        "/dicom-webx/bulk/1",
        "/dicom-web/../admin",
        "/dicom-web/%2e%2e/admin",
        "/dicom-web/%2E./admin",
        "/dicom-web/x%2F..%2F..%2Fadmin",
        "../admin",
        "./bulk",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://pacs.example/dicom-web/bulk/1\r\nX: 1",
        "",
    ] {
        let err = RetrieveBulkData::new(uri).to_request(&base()).unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{uri:?}: {err:?}");
    }
}

#[test]
fn hostile_base_urls_are_refused() {
    for text in [
        "https://user:secret@pacs.example/dicom-web",
        "https://pacs.example/dicom-web?token=1",
        "file:///dicom-web",
        "pacs.example/dicom-web",
        "https://",
    ] {
        let err = text.parse::<BaseUrl>().unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
