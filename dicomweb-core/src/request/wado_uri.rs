//! WADO-URI: `GET {endpoint}?requestType=WADO&studyUID=…&seriesUID=…&objectUID=…` (PS3.18 §9).
//!
//! The base URL here is the WADO-URI endpoint, which servers put apart from the DICOMweb root
//! (Orthanc: `/wado`, dcm4chee: `/dcm4chee-arc/aets/DCM4CHEE/wado`).
//!
//! ```
//! use dicomweb_core::request::{BaseUrl, WadoUri};
//! use dicomweb_core::media_type::MediaType;
//!
//! let endpoint: BaseUrl = "http://127.0.0.1:8042/wado".parse()?;
//! let request = WadoUri::new("1.2".parse()?, "3.4".parse()?, "5.6".parse()?)
//!     .content_type(MediaType::new("application", "dicom"))
//!     .transfer_syntax("1.2.840.10008.1.2.1".parse()?)
//!     .to_request(&endpoint)?;
//! assert_eq!(
//!     request.uri().to_string(),
//!     "http://127.0.0.1:8042/wado?requestType=WADO&studyUID=1.2&seriesUID=3.4&objectUID=5.6&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.1"
//! );
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

use http::Method;

use crate::media_type::MediaType;
use crate::request::base::Query;
use crate::request::{Accept, Annotation, BaseUrl, Body, bodiless};
use crate::{Error, Uid};

/// A WADO-URI request for one object, as Part 10 (`contentType=application/dicom`) or rendered.
/// Parameters are checked when the request is built.
#[derive(Clone, Debug, PartialEq)]
pub struct WadoUri {
    study: Uid,
    series: Uid,
    object: Uid,
    content_type: Option<MediaType>,
    charset: Option<String>,
    transfer_syntax: Option<Uid>,
    frame_number: Option<u32>,
    anonymize: bool,
    annotations: Vec<Annotation>,
    rows: Option<u32>,
    columns: Option<u32>,
    region: Option<[f64; 4]>,
    window: Option<(f64, f64)>,
    image_quality: Option<u8>,
    presentation: Option<(Uid, Uid)>,
}

impl WadoUri {
    /// The object `objectUID` of series `seriesUID` of study `studyUID`.
    pub fn new(study: Uid, series: Uid, object: Uid) -> WadoUri {
        WadoUri {
            study,
            series,
            object,
            content_type: None,
            charset: None,
            transfer_syntax: None,
            frame_number: None,
            anonymize: false,
            annotations: Vec::new(),
            rows: None,
            columns: None,
            region: None,
            window: None,
            image_quality: None,
            presentation: None,
        }
    }

    /// `contentType`: `application/dicom`, `image/jpeg`, … (also sent as `Accept`).
    pub fn content_type(mut self, media_type: MediaType) -> WadoUri {
        self.content_type = Some(media_type);
        self
    }

    /// `charset`.
    pub fn charset(mut self, charset: impl Into<String>) -> WadoUri {
        self.charset = Some(charset.into());
        self
    }

    /// `transferSyntax` (with `contentType=application/dicom`).
    pub fn transfer_syntax(mut self, uid: Uid) -> WadoUri {
        self.transfer_syntax = Some(uid);
        self
    }

    /// `frameNumber` (from 1) of a multi-frame image to render.
    pub fn frame_number(mut self, frame: u32) -> WadoUri {
        self.frame_number = Some(frame);
        self
    }

    /// `anonymize=yes`.
    pub fn anonymize(mut self) -> WadoUri {
        self.anonymize = true;
        self
    }

    /// One more `annotation`.
    pub fn annotation(mut self, annotation: Annotation) -> WadoUri {
        if !self.annotations.contains(&annotation) {
            self.annotations.push(annotation);
        }
        self
    }

    /// `rows` of the rendered image.
    pub fn rows(mut self, rows: u32) -> WadoUri {
        self.rows = Some(rows);
        self
    }

    /// `columns` of the rendered image.
    pub fn columns(mut self, columns: u32) -> WadoUri {
        self.columns = Some(columns);
        self
    }

    /// `region=xmin,ymin,xmax,ymax`, normalized to 0.0–1.0.
    pub fn region(mut self, x_min: f64, y_min: f64, x_max: f64, y_max: f64) -> WadoUri {
        self.region = Some([x_min, y_min, x_max, y_max]);
        self
    }

    /// `windowCenter` and `windowWidth`.
    pub fn window(mut self, center: f64, width: f64) -> WadoUri {
        self.window = Some((center, width));
        self
    }

    /// `imageQuality=1..100`.
    pub fn image_quality(mut self, quality: u8) -> WadoUri {
        self.image_quality = Some(quality);
        self
    }

    /// `presentationUID` and `presentationSeriesUID` of a presentation state to apply.
    pub fn presentation(mut self, presentation: Uid, presentation_series: Uid) -> WadoUri {
        self.presentation = Some((presentation, presentation_series));
        self
    }

    /// `GET {endpoint}?requestType=WADO&…`.
    pub fn to_request(&self, endpoint: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let invalid = |what: &'static str, message: String| Error::InvalidRequest { what, message };
        let mut query = Query::new();
        query.push("requestType", "WADO");
        query.push("studyUID", self.study.as_str());
        query.push("seriesUID", self.series.as_str());
        query.push("objectUID", self.object.as_str());
        if let Some(media_type) = &self.content_type {
            query.push("contentType", media_type.to_string());
        }
        if let Some(charset) = &self.charset {
            query.push("charset", charset.as_str());
        }
        if self.anonymize {
            query.push("anonymize", "yes");
        }
        if !self.annotations.is_empty() {
            let names: Vec<&str> = self
                .annotations
                .iter()
                .map(|a| match a {
                    Annotation::Patient => "patient",
                    Annotation::Technique => "technique",
                })
                .collect();
            query.push("annotation", names.join(","));
        }
        for (name, value) in [("rows", self.rows), ("columns", self.columns)] {
            if let Some(value) = value {
                if value == 0 {
                    return Err(invalid(
                        "WADO-URI size",
                        format!("expected {name} of at least 1, found 0"),
                    ));
                }
                query.push(name, value.to_string());
            }
        }
        if let Some(region) = self.region {
            let [x0, y0, x1, y1] = region;
            let in_unit = region.iter().all(|v| (0.0..=1.0).contains(v));
            if !in_unit || x0 >= x1 || y0 >= y1 {
                return Err(invalid(
                    "region",
                    format!(
                        "expected 0 <= xmin < xmax <= 1 and 0 <= ymin < ymax <= 1, found {x0},{y0},{x1},{y1}"
                    ),
                ));
            }
            query.push("region", format!("{x0},{y0},{x1},{y1}"));
        }
        if let Some((center, width)) = self.window {
            if !center.is_finite() || !width.is_finite() || width <= 0.0 {
                return Err(invalid(
                    "window",
                    format!(
                        "expected a finite center and a positive width, found {center},{width}"
                    ),
                ));
            }
            query.push("windowCenter", center.to_string());
            query.push("windowWidth", width.to_string());
        }
        if let Some(quality) = self.image_quality {
            if !(1..=100).contains(&quality) {
                return Err(invalid(
                    "imageQuality",
                    format!("expected 1 to 100, found {quality}"),
                ));
            }
            query.push("imageQuality", quality.to_string());
        }
        if let Some((presentation, series)) = &self.presentation {
            query.push("presentationUID", presentation.as_str());
            query.push("presentationSeriesUID", series.as_str());
        }
        if let Some(uid) = &self.transfer_syntax {
            query.push("transferSyntax", uid.as_str());
        }
        if let Some(frame) = self.frame_number {
            if frame == 0 {
                return Err(invalid(
                    "frameNumber",
                    "frame numbers start at 1, found 0".into(),
                ));
            }
            query.push("frameNumber", frame.to_string());
        }
        let uri = endpoint.uri("", &query)?;
        let accept = self.content_type.clone().map(Accept::new);
        bodiless(Method::GET, uri, accept.as_ref())
    }
}
