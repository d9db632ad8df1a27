//! DICOMweb requests (PS3.18) as typed operation values that turn into [`http::Request`]s.
//!
//! Every operation has `to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error>`
//! (also through the [`ToRequest`] trait). Send the request with any HTTP stack, then hand the
//! response's status, headers and body to the matching parser in [`crate::response`]:
//! build, send, parse.
//!
//! ```
//! use dicomweb_core::request::{BaseUrl, Search};
//! use dicomweb_core::response::parse_search;
//! use dicomweb_core::ReadOptions;
//!
//! let base: BaseUrl = "http://127.0.0.1:8042/dicom-web".parse()?;
//! let request = Search::studies()
//!     .matching("PatientName", "DOE^J*")?
//!     .matching("StudyDate", "20240101-20241231")?
//!     .include("StudyDescription")?
//!     .limit(10)
//!     .to_request(&base)?;
//! assert_eq!(
//!     request.uri().to_string(),
//!     "http://127.0.0.1:8042/dicom-web/studies?PatientName=DOE%5EJ*&StudyDate=20240101-20241231&includefield=StudyDescription&limit=10"
//! );
//! assert_eq!(request.headers()["accept"], "application/dicom+json");
//!
//! // … send `request` with any HTTP client; here, a canned answer:
//! let status = http::StatusCode::NO_CONTENT;
//! let results = parse_search(status, &http::HeaderMap::new(), bytes::Bytes::new(), &ReadOptions::default())?;
//! assert!(results.data_sets.is_empty());
//! # Ok::<(), dicomweb_core::Error>(())
//! ```
//!
//! # Driving the core from any HTTP stack
//!
//! A blocking client only needs a function from request to response; the core does the rest.
//!
//! ```
//! use dicomweb_core::request::{BaseUrl, Body, RetrieveMetadata, Target};
//! use dicomweb_core::response::parse_metadata;
//! use dicomweb_core::{Error, ReadOptions, Tag};
//!
//! /// Any blocking HTTP client (ureq, a raw socket, a test double).
//! fn send(request: http::Request<Body>) -> http::Response<Vec<u8>> {
//!     assert_eq!(request.uri().path(), "/dicom-web/studies/1.2/metadata");
//!     http::Response::builder()
//!         .header("content-type", "application/dicom+json")
//!         .body(br#"[{"00080018": {"vr": "UI", "Value": ["1.2.3"]}}]"#.to_vec())
//!         .unwrap()
//! }
//!
//! fn metadata(base: &BaseUrl, study: &str) -> Result<Vec<dicomweb_core::DataSet>, Error> {
//!     let request = RetrieveMetadata::new(Target::study(study.parse()?)).to_request(base)?; // build
//!     let (head, body) = send(request).into_parts();                                       // send
//!     let parsed = parse_metadata(head.status, &head.headers, body, &ReadOptions::default())?; // parse
//!     Ok(parsed.data_sets)
//! }
//!
//! let base: BaseUrl = "http://127.0.0.1:8042/dicom-web".parse()?;
//! let data_sets = metadata(&base, "1.2")?;
//! assert_eq!(data_sets[0].string(Tag(0x0008_0018)), Some("1.2.3"));
//! # Ok::<(), Error>(())
//! ```
//!
//! An async client is the same three steps around an `.await`; the core never needs a runtime.
//!
//! ```
//! use std::future::Future;
//! use std::pin::pin;
//! use std::task::{Context, Poll, Waker};
//!
//! use dicomweb_core::request::{BaseUrl, Body, Search};
//! use dicomweb_core::response::{DataSets, parse_search};
//! use dicomweb_core::{Error, ReadOptions};
//!
//! async fn search<F, Fut>(base: &BaseUrl, send: F) -> Result<DataSets, Error>
//! where
//!     F: Fn(http::Request<Body>) -> Fut,
//!     Fut: Future<Output = http::Response<bytes::Bytes>>,
//! {
//!     let request = Search::studies().matching("PatientID", "ID-7")?.to_request(base)?;
//!     let (head, body) = send(request).await.into_parts();
//!     parse_search(head.status, &head.headers, body, &ReadOptions::default())
//! }
//!
//! // A transport that answers at once: "no matches".
//! let send = |_request: http::Request<Body>| async {
//!     http::Response::builder().status(204).body(bytes::Bytes::new()).unwrap()
//! };
//! let base: BaseUrl = "http://127.0.0.1:8042/dicom-web".parse()?;
//! let mut future = pin!(search(&base, send));
//! let Poll::Ready(result) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
//!     unreachable!("the stand-in transport never waits")
//! };
//! assert!(result?.data_sets.is_empty());
//! # Ok::<(), Error>(())
//! ```
//!
//! Request paths are made of the standard's fixed words and validated [`crate::Uid`]s only;
//! every query name and value is percent-encoded. Request bodies ([`Body`]) are lists of
//! [`bytes::Bytes`] segments, so a STOW-RS body holds the caller's instance bytes without
//! copying them.

mod accept;
mod attribute_path;
mod base;
mod body;
mod capabilities;
mod delete;
mod qido;
mod rendered;
mod stow;
mod target;
mod wado;
mod wado_uri;

pub use accept::{Accept, TransferSyntax, multipart_related};
pub use attribute_path::AttributePath;
pub use base::BaseUrl;
pub use body::Body;
pub use capabilities::Capabilities;
pub use delete::Delete;
pub use qido::{IncludeField, Search, SearchLevel};
pub use rendered::{
    Annotation, IccProfile, RenderedTarget, RenderingParams, RetrieveRendered, RetrieveThumbnail,
    Viewport, Window, WindowFunction,
};
pub use stow::Store;
pub use target::Target;
pub use wado::{
    ByteRange, RetrieveBulkData, RetrieveFrames, RetrieveInstances, RetrieveMetadata,
    RetrievePixelData,
};
pub use wado_uri::WadoUri;

use http::header::{ACCEPT, HeaderValue};
use http::{Method, Uri};

use crate::Error;

/// An operation that becomes an HTTP request under a base URL.
pub trait ToRequest {
    /// The request for this operation under `base`.
    fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error>;
}

/// A request with a method, a URI, an `Accept` header (when given) and an empty body.
pub(crate) fn bodiless(
    method: Method,
    uri: Uri,
    accept: Option<&Accept>,
) -> Result<http::Request<Body>, Error> {
    let mut request = http::Request::new(Body::empty());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    if let Some(accept) = accept {
        request
            .headers_mut()
            .insert(ACCEPT, accept.to_header_value()?);
    }
    Ok(request)
}

/// A header value made by this crate from validated parts.
pub(crate) fn header_value(text: String, what: &'static str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(&text).map_err(|_| Error::InvalidRequest {
        what,
        message: format!("expected visible ASCII characters, found {text:?}"),
    })
}

macro_rules! impl_to_request {
    ($($t:ty),*) => {$(
        impl ToRequest for $t {
            fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
                <$t>::to_request(self, base)
            }
        }
    )*};
}

impl_to_request!(
    Search,
    RetrieveInstances,
    RetrieveMetadata,
    RetrieveFrames,
    RetrieveBulkData,
    RetrievePixelData,
    RetrieveRendered,
    RetrieveThumbnail,
    WadoUri,
    Store,
    Delete,
    Capabilities
);
