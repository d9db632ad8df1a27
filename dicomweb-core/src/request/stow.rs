//! STOW-RS: storing instances (PS3.18 §10.5) as one `multipart/related` body.
//!
//! Two shapes: Part 10 instances (`type="application/dicom"`, one part each), or metadata
//! (`application/dicom+json` or `application/dicom+xml`) followed by bulk data parts whose
//! `Content-Location` matches the BulkDataURIs in the metadata.
//!
//! The body is a list of [`Bytes`] segments: part heads made here, and the caller's bytes,
//! shared and never copied. A caller that streams the parts itself (files read while sending)
//! takes the head from [`Store::to_request_head`] and the framing from [`Store::framing`].
//!
//! ```
//! use bytes::Bytes;
//! use dicomweb_core::multipart::Boundary;
//! use dicomweb_core::request::{BaseUrl, Store};
//!
//! let base: BaseUrl = "http://127.0.0.1:8042/dicom-web".parse()?;
//! let instance = Bytes::from_static(b"DICM...");
//! let boundary = Boundary::from_random_bytes([7; 24]); // random bytes in real use
//! let request = Store::new(boundary.clone())
//!     .instance(instance.clone())
//!     .to_request(&base)?;
//! assert_eq!(request.method(), http::Method::POST);
//! assert_eq!(request.uri().path(), "/dicom-web/studies");
//! assert_eq!(
//!     request.headers()["content-type"],
//!     format!(r#"multipart/related; type="application/dicom"; boundary={boundary}"#).as_str()
//! );
//! let segments = request.body().segments();
//! assert_eq!(segments[1].as_ptr(), instance.as_ptr()); // the instance was not copied
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

use bytes::Bytes;
use http::Method;
use http::header::{ACCEPT, CONTENT_TYPE};
use memchr::memmem;

use crate::media_type::{MediaType, ParamQuoting};
use crate::multipart::{Boundary, MultipartEncoder, MultipartFraming, Part};
use crate::request::base::{Path, Query};
use crate::request::{Accept, BaseUrl, Body, header_value};
use crate::{DataSet, Error, Uid, json, xml};

/// A STOW-RS request: `POST /studies` or `POST /studies/{study}` with a multipart/related body
/// of [`Part`]s, written by the [`MultipartEncoder`].
///
/// The `type` parameter of the `Content-Type` is the first part's media type (`application/dicom`,
/// `application/dicom+json` or `application/dicom+xml`) unless set with [`Store::related_type`].
/// `Accept` defaults to `application/dicom+json` (the STOW response).
#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    study: Option<Uid>,
    boundary: Boundary,
    parts: Vec<Part>,
    related_type: Option<MediaType>,
    accept: Accept,
    quoting: ParamQuoting,
    part_lengths: bool,
}

impl Store {
    /// A store with this multipart boundary, which should be random
    /// ([`Boundary::from_random_bytes`]); this crate does no IO, so it draws no randomness.
    pub fn new(boundary: Boundary) -> Store {
        Store {
            study: None,
            boundary,
            parts: Vec::new(),
            related_type: None,
            accept: Accept::dicom_json(),
            quoting: ParamQuoting::WhenRequired,
            part_lengths: false,
        }
    }

    /// Stores into this study (`POST /studies/{study}`); the server refuses instances of
    /// other studies.
    pub fn study(mut self, study: Uid) -> Store {
        self.study = Some(study);
        self
    }

    /// Appends a Part 10 instance: `Content-Type: application/dicom`.
    pub fn instance(self, body: Bytes) -> Store {
        self.part(Part::new(MediaType::new("application", "dicom"), body))
    }

    /// Appends DICOM JSON metadata (an array of data sets): `Content-Type: application/dicom+json`.
    pub fn json_metadata(self, body: Bytes) -> Store {
        self.part(Part::new(MediaType::new("application", "dicom+json"), body))
    }

    /// Appends the metadata of `data_sets` as one DICOM JSON array part. Elements whose bulk
    /// data travels in later parts carry a BulkDataURI equal to that part's `Content-Location`.
    pub fn json_metadata_of(self, data_sets: &[DataSet]) -> Store {
        let mut body = Vec::new();
        json::write_data_sets(data_sets, &mut body);
        self.json_metadata(Bytes::from(body))
    }

    /// Appends the metadata of `data_sets` as one Native DICOM Model part per data set.
    pub fn xml_metadata_of(mut self, data_sets: &[DataSet]) -> Store {
        for data_set in data_sets {
            self = self.xml_metadata(Bytes::from(xml::write(data_set)));
        }
        self
    }

    /// Appends one Native DICOM Model document: `Content-Type: application/dicom+xml`.
    pub fn xml_metadata(self, body: Bytes) -> Store {
        self.part(Part::new(MediaType::new("application", "dicom+xml"), body))
    }

    /// Appends bulk data for the metadata element whose BulkDataURI is `location`, e.g. of type
    /// `application/octet-stream` or `image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50`.
    pub fn bulk_data(
        self,
        location: impl Into<String>,
        content_type: MediaType,
        body: Bytes,
    ) -> Store {
        self.part(Part::new(content_type, body).with_content_location(location))
    }

    /// Appends a part.
    pub fn part(mut self, part: Part) -> Store {
        self.parts.push(part);
        self
    }

    /// Appends parts.
    pub fn parts(mut self, parts: impl IntoIterator<Item = Part>) -> Store {
        self.parts.extend(parts);
        self
    }

    /// Sets the `type` parameter of the body's `Content-Type`.
    pub fn related_type(mut self, media_type: MediaType) -> Store {
        self.related_type = Some(media_type);
        self
    }

    /// Writes `type=application/dicom` unquoted, for servers that do not read quoted values.
    pub fn with_unquoted_type(mut self) -> Store {
        self.quoting = ParamQuoting::Minimal;
        self
    }

    /// Adds `Content-Length` to every part head (lets a server skip scanning part bodies).
    pub fn with_part_lengths(mut self) -> Store {
        self.part_lengths = true;
        self
    }

    /// Another `Accept` header (e.g. `application/dicom+xml`).
    pub fn accept(mut self, accept: Accept) -> Store {
        self.accept = accept;
        self
    }

    /// The parts, in order.
    pub fn part_list(&self) -> &[Part] {
        &self.parts
    }

    /// The boundary.
    pub fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// The `Content-Type` of the body: `multipart/related; type="…"; boundary=…`.
    pub fn content_type(&self) -> MediaType {
        let related = match (&self.related_type, self.parts.first()) {
            (Some(media_type), _) => media_type.clone(),
            (None, Some(first)) => {
                let media_type = first.content_type();
                MediaType::new(media_type.type_(), media_type.subtype())
            }
            (None, None) => MediaType::new("application", "dicom"),
        };
        MultipartEncoder::new(self.boundary.clone()).content_type(&related)
    }

    /// The request without its body: `POST`, the URI, `Content-Type` and `Accept`. For
    /// callers that stream the parts themselves, framed by [`framing`](Self::framing); the
    /// parts added to this `Store` only choose the `type` parameter and are otherwise ignored.
    ///
    /// ```
    /// use dicomweb_core::media_type::MediaType;
    /// use dicomweb_core::multipart::Boundary;
    /// use dicomweb_core::request::{BaseUrl, Store};
    ///
    /// let base: BaseUrl = "http://127.0.0.1:8042/dicom-web".parse()?;
    /// let dicom = MediaType::new("application", "dicom");
    /// let store = Store::new(Boundary::from_random_bytes([7; 24])).related_type(dicom.clone());
    /// let head = store.to_request_head(&base)?;
    /// let sizes = [1200u64, 5300]; // of the files to send
    /// let framed = store.framing().frame(sizes.iter().map(|&size| (&dicom, size)))?;
    /// // Send: part_heads()[0], file 0, part_heads()[1], file 1, close_delimiter().
    /// assert_eq!(framed.part_heads().len(), 2);
    /// assert!(framed.content_length() > 6500);
    /// assert!(head.headers()["content-type"].to_str()?.contains(store.boundary().as_str()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_request_head(&self, base: &BaseUrl) -> Result<http::Request<()>, Error> {
        let path = match &self.study {
            Some(study) => Path::new().word("studies").uid(study),
            None => Path::new().word("studies"),
        };
        let uri = base.uri(path.as_str(), &Query::new())?;
        let mut request = http::Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        let content_type = self.content_type().display_with(self.quoting).to_string();
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, header_value(content_type, "Content-Type")?);
        headers.insert(ACCEPT, self.accept.to_header_value()?);
        Ok(request)
    }

    /// The framing of a body with this store's boundary, for a caller that streams the parts
    /// itself: each part's head (with `Content-Length`), the close delimiter, the body's length.
    pub fn framing(&self) -> MultipartFraming {
        MultipartFraming::new(self.boundary.clone())
    }

    /// `POST`, with `Content-Type`, `Accept`, and the body as segments. Fails when there is no
    /// part, when the boundary occurs inside a part, or when a part header value holds a
    /// control character.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        if self.parts.is_empty() {
            return Err(Error::InvalidRequest {
                what: "STOW-RS body",
                message: "expected at least one part, found none".into(),
            });
        }
        let head = self.to_request_head(base)?;
        let delimiter = format!("--{}", self.boundary);
        let finder = memmem::Finder::new(delimiter.as_bytes());
        let mut encoder = MultipartEncoder::new(self.boundary.clone());
        let mut segments = Vec::with_capacity(self.parts.len() * 2 + 1);
        for (index, part) in self.parts.iter().enumerate() {
            if finder.find(part.body()).is_some() {
                return Err(Error::InvalidRequest {
                    what: "multipart boundary",
                    message: format!(
                        "the boundary occurs inside part #{}; draw another",
                        index + 1
                    ),
                });
            }
            let encoded = if self.part_lengths {
                encoder.encode_part(&part.clone().with_content_length())?
            } else {
                encoder.encode_part(part)?
            };
            segments.extend(encoded);
        }
        segments.push(encoder.close());
        let (parts, ()) = head.into_parts();
        Ok(http::Request::from_parts(
            parts,
            Body::from_segments(segments),
        ))
    }
}
