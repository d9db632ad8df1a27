//! Responses saved part by part: frames, bulk data, and the shared helpers (file names,
//! `--media-type`); extensions come from the core (`PartHeaders::file_extension`).

use std::path::{Path, PathBuf};

use dicomweb_client::{Client, PartStream};
use dicomweb_core::Uid;
use dicomweb_core::media_type::MediaType;
use dicomweb_core::multipart::PartHeaders;
use dicomweb_core::request::{
    Accept, RetrieveBulkData, RetrieveFrames, TransferSyntax, multipart_related,
};

use crate::Failure;
use crate::output::{print_json, print_warnings, warnings_json};
use crate::progress::Progress;

/// Arguments of `dicomweb retrieve frames`.
#[derive(Debug, clap::Args)]
pub struct FramesArgs {
    /// The Study Instance UID.
    #[arg(long, value_name = "UID")]
    study: Uid,
    /// The Series Instance UID.
    #[arg(long, value_name = "UID")]
    series: Uid,
    /// The SOP Instance UID.
    #[arg(long, value_name = "UID")]
    instance: Uid,
    /// The frame numbers, from 1, comma-separated.
    #[arg(long, value_name = "N,N,…", value_delimiter = ',', required = true)]
    frames: Vec<u32>,
    /// The folder to write to (created if missing): one file per frame, frame-N.EXT.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The media type to ask for, e.g. image/jpeg or application/octet-stream (frames come
    /// as stored by default).
    #[arg(long, value_name = "TYPE")]
    media_type: Option<String>,
}

/// Arguments of `dicomweb retrieve bulkdata`.
#[derive(Debug, clap::Args)]
pub struct BulkDataArgs {
    /// The BulkDataURI, as metadata gave it (absolute, or relative to the DICOMweb root).
    #[arg(long, value_name = "URI")]
    uri: String,
    /// The file to write (further parts, if any, go to FILE-2, FILE-3, …).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The media type to ask for (application/octet-stream as stored by default).
    #[arg(long, value_name = "TYPE")]
    media_type: Option<String>,
}

/// `retrieve frames`.
pub async fn frames(
    args: &FramesArgs,
    client: &Client,
    progress: &Progress,
) -> Result<(), Failure> {
    let mut request = RetrieveFrames::new(
        args.study.clone(),
        args.series.clone(),
        args.instance.clone(),
        args.frames.iter().copied(),
    )?;
    if let Some(text) = &args.media_type {
        request = request.accept(multipart_accept(text)?);
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure(format!("cannot create {}: {e}", args.out.display())))?;
    let parts = client.retrieve_frames(&request).await;
    let saved = match parts {
        Ok(mut parts) => {
            let frames = &args.frames;
            save_parts(&mut parts, progress, |n, headers| {
                let frame = frames.get(n - 1).ok_or_else(|| {
                    Failure(format!(
                        "the server sent more parts than the {} frames asked for",
                        frames.len()
                    ))
                })?;
                Ok(args
                    .out
                    .join(format!("frame-{frame}.{}", headers.file_extension())))
            })
            .await
            .map(|files| (files, parts.warnings()))
        }
        Err(e) => Err(e.into()),
    };
    progress.finish();
    let (files, warnings) = saved?;
    print_warnings(&warnings);
    if files.len() != args.frames.len() {
        return Err(Failure(format!(
            "expected {} frames, the server sent {}",
            args.frames.len(),
            files.len()
        )));
    }
    print_json(&summary(&files, &warnings))
}

/// `retrieve bulkdata`.
pub async fn bulk_data(
    args: &BulkDataArgs,
    client: &Client,
    progress: &Progress,
) -> Result<(), Failure> {
    let mut request = RetrieveBulkData::new(args.uri.clone());
    if let Some(text) = &args.media_type {
        request = request.accept(multipart_accept(text)?);
    }
    save_and_report(
        client.retrieve_bulk_data(&request).await,
        &args.out,
        progress,
    )
    .await
}

/// Saves every part of a reply as [`save_numbered`] does, ends the progress bar, and prints
/// the server's warnings and the summary of the files written.
pub async fn save_and_report(
    reply: Result<PartStream, dicomweb_client::Error>,
    out: &Path,
    progress: &Progress,
) -> Result<(), Failure> {
    let result = match reply {
        Ok(parts) => save_numbered(parts, out, progress).await,
        Err(e) => Err(e.into()),
    };
    progress.finish();
    let (files, warnings) = result?;
    print_warnings(&warnings);
    print_json(&summary(&files, &warnings))
}

/// Saves every part: the first to `out`, the others to `out` numbered. At least one part is
/// expected.
pub async fn save_numbered(
    mut parts: PartStream,
    out: &Path,
    progress: &Progress,
) -> Result<(Vec<(PathBuf, u64)>, Vec<dicomweb_core::response::Warning>), Failure> {
    let files = save_parts(&mut parts, progress, |n, _| Ok(numbered(out, n))).await?;
    if files.is_empty() {
        return Err(Failure(
            "the server's response held no part to save".to_owned(),
        ));
    }
    Ok((files, parts.warnings()))
}

/// Saves each part to the path `name` gives it (parts numbered from 1), each complete before
/// it gets its name. Returns the files and their sizes.
pub async fn save_parts(
    parts: &mut PartStream,
    progress: &Progress,
    mut name: impl FnMut(usize, &PartHeaders) -> Result<PathBuf, Failure>,
) -> Result<Vec<(PathBuf, u64)>, Failure> {
    let mut files = Vec::new();
    while let Some(headers) = parts.next_part().await? {
        let path = name(files.len() + 1, &headers)?;
        let bytes = parts.save_part(&path).await?;
        progress.add_items(1);
        files.push((path, bytes));
    }
    Ok(files)
}

/// The one-line summary of saved files.
pub fn summary(
    files: &[(PathBuf, u64)],
    warnings: &[dicomweb_core::response::Warning],
) -> serde_json::Value {
    let list: Vec<serde_json::Value> = files
        .iter()
        .map(
            |(path, bytes)| serde_json::json!({"path": path.display().to_string(), "bytes": bytes}),
        )
        .collect();
    serde_json::json!({
        "files": list,
        "bytes": files.iter().map(|(_, b)| b).sum::<u64>(),
        "warnings": warnings_json(warnings),
    })
}

/// `out` for the first part; `name-2.ext`, `name-3.ext`, … for the next.
pub fn numbered(out: &Path, n: usize) -> PathBuf {
    if n <= 1 {
        return out.to_path_buf();
    }
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match out.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    out.with_file_name(name)
}

/// `--media-type` for frames and bulk data, which come as multipart/related: a full
/// `multipart/related; type=…` is taken as is, a single type (`image/jpeg`, with an optional
/// `transfer-syntax` parameter) is wrapped in one.
pub fn multipart_accept(text: &str) -> Result<Accept, Failure> {
    let media_type = MediaType::parse(text)?;
    if media_type.is_multipart() {
        return Ok(Accept::new(media_type));
    }
    let syntax = media_type
        .param("transfer-syntax")
        .map(str::parse::<TransferSyntax>)
        .transpose()?;
    let inner = format!("{}/{}", media_type.type_(), media_type.subtype());
    Ok(Accept::new(multipart_related(&inner, syntax.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn further_parts_are_numbered() {
        assert_eq!(numbered(Path::new("a/b.jpg"), 1), Path::new("a/b.jpg"));
        assert_eq!(numbered(Path::new("a/b.jpg"), 2), Path::new("a/b-2.jpg"));
        assert_eq!(numbered(Path::new("raw"), 3), Path::new("raw-3"));
    }

    #[test]
    fn media_types_are_wrapped_in_multipart() {
        let accept = multipart_accept("image/jpeg").unwrap().to_string();
        assert_eq!(accept, r#"multipart/related; type="image/jpeg""#);
        let accept = multipart_accept("application/octet-stream; transfer-syntax=*")
            .unwrap()
            .to_string();
        assert_eq!(
            accept,
            r#"multipart/related; type="application/octet-stream"; transfer-syntax=*"#
        );
        let full = r#"multipart/related; type="image/jls""#;
        assert_eq!(multipart_accept(full).unwrap().to_string(), full);
        assert!(multipart_accept("not a type").is_err());
    }
}
