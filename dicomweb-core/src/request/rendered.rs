//! WADO-RS rendered resources and thumbnails (PS3.18 §10.4.1.1.3–4, §8.3.5).
//!
//! ```
//! use dicomweb_core::request::{
//!     Accept, Annotation, BaseUrl, RenderedTarget, RenderingParams, RetrieveRendered, Viewport,
//!     Window, WindowFunction,
//! };
//!
//! let base: BaseUrl = "http://127.0.0.1:8042/dicom-web".parse()?;
//! let target = RenderedTarget::frames("1.2".parse()?, "3.4".parse()?, "5.6".parse()?, [1])?;
//! let params = RenderingParams::default()
//!     .viewport(Viewport::new(512, 512))
//!     .window(Window::new(40.0, 400.0).function(WindowFunction::Sigmoid))
//!     .quality(90)
//!     .annotation(Annotation::Patient);
//! let request = RetrieveRendered::new(target)
//!     .params(params)
//!     .accept(Accept::image("png"))
//!     .to_request(&base)?;
//! assert_eq!(
//!     request.uri().path_and_query().map(|p| p.as_str()),
//!     Some("/dicom-web/studies/1.2/series/3.4/instances/5.6/frames/1/rendered?viewport=512,512&window=40,400,sigmoid&quality=90&annotation=patient")
//! );
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

use http::Method;

use crate::request::base::{Path, Query};
use crate::request::{Accept, BaseUrl, Body, RetrieveFrames, Target, bodiless};
use crate::{Error, Uid};

/// What is rendered: a study, a series, an instance, or frames of an instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RenderedTarget {
    target: Target,
    frames: Vec<u32>,
}

impl RenderedTarget {
    /// A study, series or instance.
    pub fn new(target: Target) -> RenderedTarget {
        RenderedTarget {
            target,
            frames: Vec::new(),
        }
    }

    /// Frames of an instance (at least one; numbered from 1).
    pub fn frames(
        study: Uid,
        series: Uid,
        instance: Uid,
        frames: impl IntoIterator<Item = u32>,
    ) -> Result<RenderedTarget, Error> {
        // The same checks as a frame retrieval.
        let checked = RetrieveFrames::new(study.clone(), series.clone(), instance.clone(), frames)?;
        Ok(RenderedTarget {
            target: Target::instance(study, series, instance),
            frames: checked.frames().to_vec(),
        })
    }

    fn path(&self, last: &'static str) -> Path {
        let path = self.target.path();
        let path = if self.frames.is_empty() {
            path
        } else {
            path.word("frames").numbers(&self.frames)
        };
        path.word(last)
    }
}

impl From<Target> for RenderedTarget {
    fn from(target: Target) -> RenderedTarget {
        RenderedTarget::new(target)
    }
}

/// `viewport=vw,vh[,sx,sy,sw,sh]`: the size of the rendered image, optionally of a source region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Viewport {
    width: u32,
    height: u32,
    source: Option<(i64, i64, i64, i64)>,
}

impl Viewport {
    /// A rendered size of `width` × `height` pixels (both at least 1).
    pub fn new(width: u32, height: u32) -> Viewport {
        Viewport {
            width,
            height,
            source: None,
        }
    }

    /// Renders the source region at (`x`, `y`) of `width` × `height` (negative sizes flip).
    pub fn source(mut self, x: i64, y: i64, width: i64, height: i64) -> Viewport {
        self.source = Some((x, y, width, height));
        self
    }

    fn value(&self) -> Result<String, Error> {
        if self.width == 0 || self.height == 0 {
            return Err(Error::InvalidRequest {
                what: "viewport",
                message: format!(
                    "expected a width and height of at least 1, found {}x{}",
                    self.width, self.height
                ),
            });
        }
        let mut value = format!("{},{}", self.width, self.height);
        if let Some((x, y, w, h)) = self.source {
            value.push_str(&format!(",{x},{y},{w},{h}"));
        }
        Ok(value)
    }
}

/// The VOI LUT function of a [`Window`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WindowFunction {
    /// `linear`.
    #[default]
    Linear,
    /// `linear-exact`.
    LinearExact,
    /// `sigmoid`.
    Sigmoid,
}

impl WindowFunction {
    fn as_str(self) -> &'static str {
        match self {
            WindowFunction::Linear => "linear",
            WindowFunction::LinearExact => "linear-exact",
            WindowFunction::Sigmoid => "sigmoid",
        }
    }
}

/// `window=center,width,function`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    center: f64,
    width: f64,
    function: WindowFunction,
}

impl Window {
    /// A linear window.
    pub fn new(center: f64, width: f64) -> Window {
        Window {
            center,
            width,
            function: WindowFunction::Linear,
        }
    }

    /// Another VOI LUT function.
    pub fn function(mut self, function: WindowFunction) -> Window {
        self.function = function;
        self
    }

    fn value(&self) -> Result<String, Error> {
        if !self.center.is_finite() || !self.width.is_finite() || self.width <= 0.0 {
            return Err(Error::InvalidRequest {
                what: "window",
                message: format!(
                    "expected a finite center and a positive finite width, found {},{}",
                    self.center, self.width
                ),
            });
        }
        Ok(format!(
            "{},{},{}",
            self.center,
            self.width,
            self.function.as_str()
        ))
    }
}

/// An `annotation` to burn into the rendered image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Annotation {
    /// `patient`: patient identification.
    Patient,
    /// `technique`: acquisition technique.
    Technique,
}

/// `iccprofile`: which ICC profile the rendered image carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IccProfile {
    /// `no`: none.
    No,
    /// `yes`: the instance's own.
    Yes,
    /// `srgb`.
    Srgb,
    /// `adobergb`.
    AdobeRgb,
    /// `rommrgb`.
    RommRgb,
}

impl IccProfile {
    fn as_str(self) -> &'static str {
        match self {
            IccProfile::No => "no",
            IccProfile::Yes => "yes",
            IccProfile::Srgb => "srgb",
            IccProfile::AdobeRgb => "adobergb",
            IccProfile::RommRgb => "rommrgb",
        }
    }
}

/// The query parameters of a rendered request. Checked when the request is built.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RenderingParams {
    viewport: Option<Viewport>,
    window: Option<Window>,
    quality: Option<u8>,
    annotations: Vec<Annotation>,
    icc_profile: Option<IccProfile>,
}

impl RenderingParams {
    /// `viewport=…`.
    pub fn viewport(mut self, viewport: Viewport) -> RenderingParams {
        self.viewport = Some(viewport);
        self
    }

    /// `window=…`.
    pub fn window(mut self, window: Window) -> RenderingParams {
        self.window = Some(window);
        self
    }

    /// `quality=1..100` (lossy media types).
    pub fn quality(mut self, quality: u8) -> RenderingParams {
        self.quality = Some(quality);
        self
    }

    /// One more `annotation`.
    pub fn annotation(mut self, annotation: Annotation) -> RenderingParams {
        if !self.annotations.contains(&annotation) {
            self.annotations.push(annotation);
        }
        self
    }

    /// `iccprofile=…`.
    pub fn icc_profile(mut self, profile: IccProfile) -> RenderingParams {
        self.icc_profile = Some(profile);
        self
    }

    fn push_to(&self, query: &mut Query) -> Result<(), Error> {
        if let Some(viewport) = &self.viewport {
            query.push("viewport", viewport.value()?);
        }
        if let Some(window) = &self.window {
            query.push("window", window.value()?);
        }
        if let Some(quality) = self.quality {
            if !(1..=100).contains(&quality) {
                return Err(Error::InvalidRequest {
                    what: "quality",
                    message: format!("expected 1 to 100, found {quality}"),
                });
            }
            query.push("quality", quality.to_string());
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
        if let Some(profile) = self.icc_profile {
            query.push("iccprofile", profile.as_str());
        }
        Ok(())
    }
}

/// Retrieves a rendered (consumer-format) image of a study, series, instance or frames.
/// The `Accept` header defaults to `image/jpeg`.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrieveRendered {
    target: RenderedTarget,
    params: RenderingParams,
    accept: Accept,
}

impl RetrieveRendered {
    /// `GET …/rendered`.
    pub fn new(target: impl Into<RenderedTarget>) -> RetrieveRendered {
        RetrieveRendered {
            target: target.into(),
            params: RenderingParams::default(),
            accept: Accept::image("jpeg"),
        }
    }

    /// The rendering parameters.
    pub fn params(mut self, params: RenderingParams) -> RetrieveRendered {
        self.params = params;
        self
    }

    /// Another `Accept` header (`image/png`, `image/gif`, `video/mp4`, …).
    pub fn accept(mut self, accept: Accept) -> RetrieveRendered {
        self.accept = accept;
        self
    }

    /// The request.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let mut query = Query::new();
        self.params.push_to(&mut query)?;
        let uri = base.uri(self.target.path("rendered").as_str(), &query)?;
        bodiless(Method::GET, uri, Some(&self.accept))
    }
}

/// Retrieves a thumbnail of a study, series, instance or frames. The `Accept` header defaults
/// to `image/jpeg`.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrieveThumbnail {
    target: RenderedTarget,
    viewport: Option<Viewport>,
    accept: Accept,
}

impl RetrieveThumbnail {
    /// `GET …/thumbnail`.
    pub fn new(target: impl Into<RenderedTarget>) -> RetrieveThumbnail {
        RetrieveThumbnail {
            target: target.into(),
            viewport: None,
            accept: Accept::image("jpeg"),
        }
    }

    /// `viewport=…`.
    pub fn viewport(mut self, viewport: Viewport) -> RetrieveThumbnail {
        self.viewport = Some(viewport);
        self
    }

    /// Another `Accept` header.
    pub fn accept(mut self, accept: Accept) -> RetrieveThumbnail {
        self.accept = accept;
        self
    }

    /// The request.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let mut query = Query::new();
        if let Some(viewport) = &self.viewport {
            query.push("viewport", viewport.value()?);
        }
        let uri = base.uri(self.target.path("thumbnail").as_str(), &query)?;
        bodiless(Method::GET, uri, Some(&self.accept))
    }
}
