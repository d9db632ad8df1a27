//! WADO-RS: instances, metadata, frames, bulk data and pixel data (PS3.18 §10.4).
//!
//! ```
//! use dicomweb_core::request::{Accept, BaseUrl, RetrieveFrames, RetrieveInstances, Target, TransferSyntax};
//!
//! let base: BaseUrl = "http://127.0.0.1:8042/dicom-web".parse()?;
//! let study = "1.2.3".parse()?;
//! let request = RetrieveInstances::new(Target::study(study)).to_request(&base)?;
//! assert_eq!(request.uri().path(), "/dicom-web/studies/1.2.3");
//! assert_eq!(
//!     request.headers()["accept"],
//!     r#"multipart/related; type="application/dicom"; transfer-syntax=*"#
//! );
//!
//! let frames = RetrieveFrames::new("1.2.3".parse()?, "4.5".parse()?, "6.7".parse()?, [1, 3])?
//!     .accept(Accept::octet_stream(TransferSyntax::Uid("1.2.840.10008.1.2.1".parse()?)));
//! let request = frames.to_request(&base)?;
//! assert_eq!(request.uri().path(), "/dicom-web/studies/1.2.3/series/4.5/instances/6.7/frames/1,3");
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

use http::header::RANGE;
use http::{Method, Uri};

use crate::request::base::{Query, redact_userinfo};
use crate::request::{Accept, BaseUrl, Body, Target, TransferSyntax, bodiless, header_value};
use crate::{Error, Uid};

/// Retrieves the instances of a study, a series, or one instance, as Part 10 objects.
///
/// The `Accept` header defaults to `multipart/related; type="application/dicom";
/// transfer-syntax=*`: the instances as stored, byte for byte, with no transcoding.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrieveInstances {
    target: Target,
    accept: Accept,
}

impl RetrieveInstances {
    /// `GET /studies/{s}[/series/{r}[/instances/{i}]]`.
    pub fn new(target: Target) -> RetrieveInstances {
        RetrieveInstances {
            target,
            accept: Accept::dicom(TransferSyntax::Any),
        }
    }

    /// Another `Accept` header (e.g. [`Accept::dicom`] with a transfer syntax UID).
    pub fn accept(mut self, accept: Accept) -> RetrieveInstances {
        self.accept = accept;
        self
    }

    /// The study, series or instance asked for.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The same request (same `Accept`) for another target: how a study's retrieve is split
    /// into one request per series.
    pub fn with_target(&self, target: Target) -> RetrieveInstances {
        RetrieveInstances {
            target,
            accept: self.accept.clone(),
        }
    }

    /// The request.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let uri = base.uri(self.target.path().as_str(), &Query::new())?;
        bodiless(Method::GET, uri, Some(&self.accept))
    }
}

/// Retrieves the metadata of a study, a series or an instance: DICOM JSON by default, or
/// Native DICOM Model XML with [`RetrieveMetadata::xml`].
#[derive(Clone, Debug, PartialEq)]
pub struct RetrieveMetadata {
    target: Target,
    accept: Accept,
}

impl RetrieveMetadata {
    /// `GET …/metadata`, `Accept: application/dicom+json`.
    pub fn new(target: Target) -> RetrieveMetadata {
        RetrieveMetadata {
            target,
            accept: Accept::dicom_json(),
        }
    }

    /// Asks for `multipart/related; type="application/dicom+xml"`.
    pub fn xml(self) -> RetrieveMetadata {
        self.accept(Accept::dicom_xml())
    }

    /// Another `Accept` header.
    pub fn accept(mut self, accept: Accept) -> RetrieveMetadata {
        self.accept = accept;
        self
    }

    /// The request.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let path = self.target.path().word("metadata");
        let uri = base.uri(path.as_str(), &Query::new())?;
        bodiless(Method::GET, uri, Some(&self.accept))
    }
}

/// Retrieves frames of a multi-frame instance, numbered from 1.
///
/// The `Accept` header defaults to `multipart/related; type="application/octet-stream";
/// transfer-syntax=*` (frames as stored).
#[derive(Clone, Debug, PartialEq)]
pub struct RetrieveFrames {
    target: Target,
    frames: Vec<u32>,
    accept: Accept,
}

impl RetrieveFrames {
    /// `GET …/instances/{i}/frames/{list}`. The list must hold at least one frame, and frame
    /// numbers start at 1.
    pub fn new(
        study: Uid,
        series: Uid,
        instance: Uid,
        frames: impl IntoIterator<Item = u32>,
    ) -> Result<RetrieveFrames, Error> {
        let frames: Vec<u32> = frames.into_iter().collect();
        if frames.is_empty() {
            return Err(Error::InvalidRequest {
                what: "frame list",
                message: "expected at least one frame number, found none".into(),
            });
        }
        if frames.contains(&0) {
            return Err(Error::InvalidRequest {
                what: "frame list",
                message: format!("frame numbers start at 1, found 0 in {frames:?}"),
            });
        }
        Ok(RetrieveFrames {
            target: Target::instance(study, series, instance),
            frames,
            accept: Accept::octet_stream(TransferSyntax::Any),
        })
    }

    /// Another `Accept` header (e.g. `multipart/related; type="image/jpeg"`).
    pub fn accept(mut self, accept: Accept) -> RetrieveFrames {
        self.accept = accept;
        self
    }

    /// The frame numbers asked for.
    pub fn frames(&self) -> &[u32] {
        &self.frames
    }

    /// The request.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let path = self.target.path().word("frames").numbers(&self.frames);
        let uri = base.uri(path.as_str(), &Query::new())?;
        bodiless(Method::GET, uri, Some(&self.accept))
    }
}

/// Retrieves the pixel data of an instance, a series or a study
/// (`…/pixeldata`, PS3.18 §10.4.1.1.7).
#[derive(Clone, Debug, PartialEq)]
pub struct RetrievePixelData {
    target: Target,
    accept: Accept,
}

impl RetrievePixelData {
    /// `GET …/pixeldata`, `Accept: multipart/related; type="application/octet-stream"; transfer-syntax=*`.
    pub fn new(target: Target) -> RetrievePixelData {
        RetrievePixelData {
            target,
            accept: Accept::octet_stream(TransferSyntax::Any),
        }
    }

    /// Another `Accept` header.
    pub fn accept(mut self, accept: Accept) -> RetrievePixelData {
        self.accept = accept;
        self
    }

    /// The request.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let path = self.target.path().word("pixeldata");
        let uri = base.uri(path.as_str(), &Query::new())?;
        bodiless(Method::GET, uri, Some(&self.accept))
    }
}

/// A byte range for the `Range` header (RFC 9110 §14.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteRange {
    /// `bytes=first-last`, both inclusive.
    Inclusive(u64, u64),
    /// `bytes=first-`: from `first` to the end.
    From(u64),
    /// `bytes=-n`: the last `n` bytes.
    Last(u64),
}

impl ByteRange {
    fn header(&self) -> Result<String, Error> {
        match *self {
            ByteRange::Inclusive(first, last) if first <= last => {
                Ok(format!("bytes={first}-{last}"))
            }
            ByteRange::Inclusive(first, last) => Err(Error::InvalidRequest {
                what: "byte range",
                message: format!("expected first <= last, found {first}-{last}"),
            }),
            ByteRange::From(first) => Ok(format!("bytes={first}-")),
            ByteRange::Last(0) => Err(Error::InvalidRequest {
                what: "byte range",
                message: "expected a suffix length of at least 1, found 0".into(),
            }),
            ByteRange::Last(n) => Ok(format!("bytes=-{n}")),
        }
    }
}

/// Retrieves bulk data by the BulkDataURI a metadata response gave, optionally a byte range.
///
/// The URI comes from a server, so it is checked before any request is made (credentials a
/// client adds must never leave for another host, and a URI must not climb out of the
/// service):
/// - an absolute URI must have the base URL's origin (scheme, host and port, the scheme's
///   default port filled in);
/// - its path (absolute URIs and `/`-rooted ones) must lie under the base URL's prefix;
/// - a relative URI without a leading `/` is taken relative to the base URL (`{base}/{uri}`);
/// - no path segment may be `.` or `..`, plainly or percent-encoded, and the path may hold no
///   encoded `/` or `\`.
///
/// A URI that fails a check is an [`Error::InvalidUrl`] saying which. A server behind a proxy
/// that reports its internal host must be configured with its public root instead.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrieveBulkData {
    uri: String,
    range: Option<ByteRange>,
    accept: Accept,
}

impl RetrieveBulkData {
    /// `GET {BulkDataURI}`, `Accept: multipart/related; type="application/octet-stream"; transfer-syntax=*`.
    pub fn new(bulk_data_uri: impl Into<String>) -> RetrieveBulkData {
        RetrieveBulkData {
            uri: bulk_data_uri.into(),
            range: None,
            accept: Accept::octet_stream(TransferSyntax::Any),
        }
    }

    /// Asks for a byte range only (`Range: bytes=…`).
    pub fn range(mut self, range: ByteRange) -> RetrieveBulkData {
        self.range = Some(range);
        self
    }

    /// Another `Accept` header.
    pub fn accept(mut self, accept: Accept) -> RetrieveBulkData {
        self.accept = accept;
        self
    }

    /// The request, after the checks above.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let uri = resolve_bulk_data_uri(base, &self.uri)?;
        let mut request = bodiless(Method::GET, uri, Some(&self.accept))?;
        if let Some(range) = &self.range {
            request
                .headers_mut()
                .insert(RANGE, header_value(range.header()?, "byte range")?);
        }
        Ok(request)
    }
}

fn resolve_bulk_data_uri(base: &BaseUrl, text: &str) -> Result<Uri, Error> {
    let invalid = |reason: String| Error::InvalidUrl {
        text: redact_userinfo(text),
        reason,
    };
    if text.is_empty() {
        return Err(invalid("expected a BulkDataURI, found nothing".into()));
    }
    let parse = |text: &str| {
        text.parse::<Uri>()
            .map_err(|e| invalid(format!("not a URI ({e})")))
    };
    let has_scheme = text
        .split_once(':')
        .is_some_and(|(scheme, _)| !scheme.is_empty() && !scheme.contains('/'));
    let uri = if has_scheme {
        let parsed = parse(text)?;
        if !base.same_origin(&parsed) {
            return Err(invalid(format!(
                "a BulkDataURI must have the origin of the base URL {}://{}",
                base.scheme(),
                base.authority()
            )));
        }
        parsed
    } else if text.starts_with("//") {
        return Err(invalid(
            "a network-path reference (//host/…) is refused".into(),
        ));
    } else if text.starts_with('/') {
        parse(&format!("{}://{}{}", base.scheme(), base.authority(), text))?
    } else {
        parse(&format!("{base}/{text}"))?
    };
    let path = uri.path();
    let prefix = base.prefix();
    let under_prefix = prefix.is_empty()
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'));
    if !under_prefix {
        return Err(invalid(format!(
            "a BulkDataURI must lie under the base URL's path {prefix:?}, found the path {path:?}"
        )));
    }
    let dot_segment = path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    });
    if dot_segment {
        return Err(invalid("'.' and '..' path segments are refused".into()));
    }
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") {
        return Err(invalid(
            "an encoded '/' or '\\' in the path is refused".into(),
        ));
    }
    Ok(uri)
}
