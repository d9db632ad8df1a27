//! C-FIND identifiers as a peer sends them (Implicit VR Little Endian): reading never panics;
//! what reads maps to a QIDO-RS request or a clear refusal, never a panic, and the request has
//! the server's base URL as its prefix; every response identifier encodes.

#![no_main]

use dicomweb_core::request::BaseUrl;
use dicomweb_dimse::find::query::plan;
use dicomweb_dimse::find::{read_identifier, write_identifier};
use dicomweb_dimse::sop_classes::STUDY_ROOT_FIND;
use libfuzzer_sys::fuzz_target;

const IMPLICIT: &str = "1.2.840.10008.1.2";

fuzz_target!(|data: &[u8]| {
    let Ok(identifier) = read_identifier(data, STUDY_ROOT_FIND, IMPLICIT) else {
        return;
    };
    let Ok(plan) = plan(&identifier, "FUZZ") else {
        return;
    };
    let base = BaseUrl::parse("http://127.0.0.1:8042/dicom-web").expect("a valid base");
    if let Ok(request) = plan.search.to_request(&base) {
        assert!(request.uri().path().starts_with("/dicom-web/"));
    }
    let response = plan.response(&identifier);
    let _ = write_identifier(&response, STUDY_ROOT_FIND, IMPLICIT);
});
