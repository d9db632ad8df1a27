//! `retrieve rendered` and `retrieve thumbnail`, with the rendering options as text.

use std::path::PathBuf;

use dicomweb_client::Client;
use dicomweb_core::request::{
    Accept, Annotation, RenderedTarget, RenderingParams, RetrieveRendered, RetrieveThumbnail,
    Viewport, Window, WindowFunction,
};

use crate::Failure;
use crate::progress::Progress;
use crate::retrieve::files::save_and_report;
use crate::target::TargetArgs;

/// What is rendered, and where it goes.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Render these frames of the instance (comma-separated, from 1).
    #[arg(
        long,
        value_name = "N,N,…",
        value_delimiter = ',',
        requires = "instance"
    )]
    frames: Vec<u32>,
    /// The file to write (further parts, if any, go to FILE-2, FILE-3, …).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The media type to ask for, e.g. image/png (image/jpeg by default).
    #[arg(long, value_name = "TYPE")]
    media_type: Option<String>,
    /// The size of the image: WIDTH,HEIGHT, optionally followed by a source region
    /// X,Y,WIDTH,HEIGHT.
    #[arg(long, value_name = "W,H[,SX,SY,SW,SH]", value_parser = parse_viewport)]
    viewport: Option<Viewport>,
}

/// Arguments of `dicomweb retrieve rendered`.
#[derive(Debug, clap::Args)]
pub struct RenderedArgs {
    #[command(flatten)]
    image: ImageArgs,
    /// The VOI window: CENTER,WIDTH[,linear|linear-exact|sigmoid].
    #[arg(long, value_name = "C,W[,FUNCTION]", value_parser = parse_window)]
    window: Option<Window>,
    /// The quality of a lossy image, 1 to 100.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: Option<u8>,
    /// Burn in annotations: patient, technique (comma-separated or repeated).
    #[arg(long, value_name = "WHAT", value_delimiter = ',', value_parser = parse_annotation)]
    annotation: Vec<Annotation>,
}

/// Arguments of `dicomweb retrieve thumbnail`.
#[derive(Debug, clap::Args)]
pub struct ThumbnailArgs {
    #[command(flatten)]
    image: ImageArgs,
}

impl ImageArgs {
    fn rendered_target(&self) -> Result<RenderedTarget, Failure> {
        let target = self.target.target();
        match (&self.target.series, &self.target.instance) {
            (Some(series), Some(instance)) if !self.frames.is_empty() => {
                Ok(RenderedTarget::frames(
                    self.target.study.clone(),
                    series.clone(),
                    instance.clone(),
                    self.frames.iter().copied(),
                )?)
            }
            _ => Ok(RenderedTarget::new(target)),
        }
    }

    fn accept(&self) -> Result<Option<Accept>, Failure> {
        Ok(self.media_type.as_deref().map(Accept::parse).transpose()?)
    }
}

/// `retrieve rendered`.
pub async fn rendered(
    args: &RenderedArgs,
    client: &Client,
    progress: &Progress,
) -> Result<(), Failure> {
    let image = &args.image;
    let mut params = RenderingParams::default();
    if let Some(viewport) = image.viewport {
        params = params.viewport(viewport);
    }
    if let Some(window) = args.window {
        params = params.window(window);
    }
    if let Some(quality) = args.quality {
        params = params.quality(quality);
    }
    for annotation in &args.annotation {
        params = params.annotation(*annotation);
    }
    let mut request = RetrieveRendered::new(image.rendered_target()?).params(params);
    if let Some(accept) = image.accept()? {
        request = request.accept(accept);
    }
    save_and_report(
        client.retrieve_rendered(&request).await,
        &image.out,
        progress,
    )
    .await
}

/// `retrieve thumbnail`.
pub async fn thumbnail(
    args: &ThumbnailArgs,
    client: &Client,
    progress: &Progress,
) -> Result<(), Failure> {
    let image = &args.image;
    let mut request = RetrieveThumbnail::new(image.rendered_target()?);
    if let Some(viewport) = image.viewport {
        request = request.viewport(viewport);
    }
    if let Some(accept) = image.accept()? {
        request = request.accept(accept);
    }
    save_and_report(
        client.retrieve_thumbnail(&request).await,
        &image.out,
        progress,
    )
    .await
}

/// `W,H` or `W,H,SX,SY,SW,SH`.
fn parse_viewport(text: &str) -> Result<Viewport, String> {
    let expected = || format!("expected WIDTH,HEIGHT or WIDTH,HEIGHT,SX,SY,SW,SH, got {text:?}");
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let size = |s: &str| s.parse::<u32>().ok().filter(|n| *n > 0);
    let (Some(width), Some(height)) = (
        parts.first().copied().and_then(size),
        parts.get(1).copied().and_then(size),
    ) else {
        return Err(expected());
    };
    let viewport = Viewport::new(width, height);
    match parts.len() {
        2 => Ok(viewport),
        6 => {
            let numbers: Option<Vec<i64>> = parts[2..].iter().map(|s| s.parse().ok()).collect();
            match numbers.as_deref() {
                Some(&[x, y, w, h]) => Ok(viewport.source(x, y, w, h)),
                _ => Err(expected()),
            }
        }
        _ => Err(expected()),
    }
}

/// `CENTER,WIDTH[,FUNCTION]`.
fn parse_window(text: &str) -> Result<Window, String> {
    let expected = || {
        format!("expected CENTER,WIDTH[,linear|linear-exact|sigmoid] with WIDTH > 0, got {text:?}")
    };
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let number = |s: &str| s.parse::<f64>().ok().filter(|n| n.is_finite());
    let (Some(center), Some(width)) = (
        parts.first().copied().and_then(number),
        parts.get(1).copied().and_then(number),
    ) else {
        return Err(expected());
    };
    if width <= 0.0 {
        return Err(expected());
    }
    let function = match parts.get(2..) {
        Some([]) => WindowFunction::Linear,
        Some(["linear"]) => WindowFunction::Linear,
        Some(["linear-exact"]) => WindowFunction::LinearExact,
        Some(["sigmoid"]) => WindowFunction::Sigmoid,
        _ => return Err(expected()),
    };
    Ok(Window::new(center, width).function(function))
}

fn parse_annotation(text: &str) -> Result<Annotation, String> {
    match text.trim() {
        "patient" => Ok(Annotation::Patient),
        "technique" => Ok(Annotation::Technique),
        _ => Err(format!("expected patient or technique, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_options_parse() {
        assert_eq!(parse_viewport("512,256"), Ok(Viewport::new(512, 256)));
        assert_eq!(
            parse_viewport("64,64,0,0,-100,100"),
            Ok(Viewport::new(64, 64).source(0, 0, -100, 100))
        );
        for bad in ["512", "0,5", "a,b", "1,2,3", "1,2,3,4,5,x"] {
            assert!(parse_viewport(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_window("40,400"), Ok(Window::new(40.0, 400.0)));
        assert_eq!(
            parse_window("-600,1500,sigmoid"),
            Ok(Window::new(-600.0, 1500.0).function(WindowFunction::Sigmoid))
        );
        for bad in ["40", "40,0", "40,400,cubic", "x,400", "40,400,linear,1"] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_annotation("technique"), Ok(Annotation::Technique));
        assert!(parse_annotation("all").is_err());
    }
}
