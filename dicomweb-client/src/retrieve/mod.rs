//! WADO-RS retrieval as a stream of parts, and instances streamed to disk.
//!
//! A retrieve response (multipart/related, or a single part where the server sent plain
//! `application/dicom`, `image/jpeg`, …) is read through dicomweb-core's push decoder as it
//! arrives: memory holds one network chunk, never a whole instance or study. [`PartStream`]
//! hands out each part's headers, then its body chunk by chunk; [`PartStream::save_part`]
//! writes a part to a file under a temporary name and renames it only once the part is
//! complete, so an interrupted download never leaves a file that looks whole.
//!
//! Files are written by one blocking task per response (`disk.rs`), fed through a small
//! queue: the network side never waits for a file to be created, written or renamed, which is
//! what many small instances cost. For bulk transfers prefer a current-thread runtime (or a task
//! pinned with the connection): on a multi-thread runtime every body chunk wakes a task on
//! another thread, which cost three times the wall time of a 400 MiB retrieve here.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use dicomweb_core::Error as CoreError;
use dicomweb_core::multipart::{BodyDecoder, Event, MultipartLimits, PartHeaders};
use dicomweb_core::request::{
    RetrieveBulkData, RetrieveFrames, RetrieveInstances, RetrievePixelData, RetrieveRendered,
    RetrieveThumbnail,
};
use dicomweb_core::response::{Warning, check_status, warnings};
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode};

use crate::disk::Disk;
use crate::{Client, Error, RequestBody, ResponseBody};

mod split;
mod to_dir;

pub use to_dir::{RetrieveOptions, RetrieveSummary, RetrievedFile};

/// How much of an error response's body is kept for the error message.
const ERROR_BODY_BYTES: usize = 8 * 1024;

/// The parts of a WADO-RS response, read as they arrive.
///
/// Call [`next_part`](Self::next_part) for each part's headers, then
/// [`next_chunk`](Self::next_chunk) until it gives `None` (or [`save_part`](Self::save_part),
/// or [`part_bytes`](Self::part_bytes)); asking for the next part skips what is left of the
/// current one. A body cut short is an error, never a shorter part.
pub struct PartStream {
    status: StatusCode,
    headers: HeaderMap,
    label: String,
    body: ResponseBody,
    decoder: BodyDecoder,
    input_done: bool,
    in_part: bool,
    ended: bool,
    parts: usize,
}

impl std::fmt::Debug for PartStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartStream")
            .field("request", &self.label)
            .field("status", &self.status)
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

impl PartStream {
    /// The response status (200, or 206 for a byte range or a partial result).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The server's `Warning` headers.
    pub fn warnings(&self) -> Vec<Warning> {
        warnings(&self.headers)
    }

    /// How many parts have begun so far.
    pub fn parts_seen(&self) -> usize {
        self.parts
    }

    /// The next part's headers, or `None` after the last part. What is left of the current
    /// part is skipped.
    pub async fn next_part(&mut self) -> Result<Option<PartHeaders>, Error> {
        while !self.ended {
            match self.next_event().await? {
                Some(Event::Headers(head)) => {
                    self.in_part = true;
                    self.parts += 1;
                    return Ok(Some(head));
                }
                Some(Event::Body(_)) => {}
                Some(Event::PartEnd) => self.in_part = false,
                Some(Event::End) | None => self.ended = true,
            }
        }
        Ok(None)
    }

    /// The next bytes of the current part, or `None` at its end (or outside any part).
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        if !self.in_part {
            return Ok(None);
        }
        match self.next_event().await? {
            Some(Event::Body(bytes)) => Ok(Some(bytes)),
            Some(Event::PartEnd) => {
                self.in_part = false;
                Ok(None)
            }
            other => Err(Error::Protocol(CoreError::UnexpectedResponse {
                expected: "the rest of a part, then its end",
                found: format!("{other:?} inside part {} of {}", self.parts, self.label),
            })),
        }
    }

    /// The rest of the current part in memory, refusing more than `max` bytes.
    pub async fn part_bytes(&mut self, max: usize) -> Result<Bytes, Error> {
        let mut pieces = Vec::new();
        let mut length = 0usize;
        while let Some(chunk) = self.next_chunk().await? {
            length += chunk.len();
            if length > max {
                return Err(Error::Protocol(CoreError::UnexpectedResponse {
                    expected: "a part that fits the memory limit",
                    found: format!(
                        "part {} of {} is larger than {max} bytes",
                        self.parts, self.label
                    ),
                }));
            }
            pieces.push(chunk);
        }
        Ok(match pieces.len() {
            1 => pieces.pop().unwrap_or_default(),
            _ => Bytes::from(pieces.concat()),
        })
    }

    /// Writes the rest of the current part to `path`: first to a temporary file beside it,
    /// renamed to `path` once the part is complete. On any failure the temporary file is
    /// removed and `path` is left as it was. Returns the number of bytes written.
    pub async fn save_part(&mut self, path: &Path) -> Result<u64, Error> {
        let saved = self.save_part_with(path, |_, _| Ok(None)).await?;
        Ok(saved.bytes)
    }

    /// Saves the current part under a temporary name beside `target`, lets `name` choose the
    /// final path from the part's first bytes (called as they grow, and once more at the end
    /// with `true`), and renames it once the part is complete.
    async fn save_part_with(
        &mut self,
        target: &Path,
        name: impl FnMut(&[u8], bool) -> Result<Option<PathBuf>, Error>,
    ) -> Result<Saved, Error> {
        let mut disk = Disk::start();
        let saved = self.write_part(&mut disk, target, name).await;
        let written = disk.finish().await;
        let saved = saved?;
        written.map(|()| saved)
    }

    /// Writes the current part through `disk` under a temporary name beside `target`, and
    /// has it renamed, once complete, to `target` or the path `name` chose (see
    /// [`save_part_with`](Self::save_part_with)). On failure the file is dropped.
    async fn write_part(
        &mut self,
        disk: &mut Disk,
        target: &Path,
        mut name: impl FnMut(&[u8], bool) -> Result<Option<PathBuf>, Error>,
    ) -> Result<Saved, Error> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        disk.create(dir.join(format!(".dicomweb-{:016x}.part", rand::random::<u64>())))
            .await;
        let mut bytes = 0u64;
        let mut prefix: Vec<u8> = Vec::new();
        let mut chosen: Option<PathBuf> = None;
        let mut naming = true;
        let written: Result<(), Error> = async {
            while let Some(chunk) = self.next_chunk().await? {
                if naming {
                    let wanted = chunk.len().min(FIRST_BYTES - prefix.len());
                    prefix.extend_from_slice(&chunk[..wanted]);
                    if let Some(path) = name(&prefix, false)? {
                        chosen = Some(path);
                        naming = false;
                    } else if prefix.len() >= FIRST_BYTES {
                        naming = false;
                    }
                }
                bytes += chunk.len() as u64;
                disk.write(chunk).await;
            }
            if naming {
                chosen = name(&prefix, true)?;
            }
            Ok(())
        }
        .await;
        match written {
            Ok(()) => {
                let path = chosen.unwrap_or_else(|| target.to_path_buf());
                disk.commit(path.clone()).await;
                Ok(Saved { path, bytes })
            }
            Err(error) => {
                disk.abort().await;
                Err(error)
            }
        }
    }

    async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if let Some(event) = self.decoder.next_event()? {
                return Ok(Some(event));
            }
            if self.input_done {
                return Ok(None);
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.decoder.feed(chunk),
                Some(Err(source)) => {
                    return Err(Error::Transport {
                        request: self.label.clone(),
                        source,
                    });
                }
                None => {
                    self.input_done = true;
                    self.decoder.finish()?;
                }
            }
        }
    }
}

/// How many first bytes of a part are offered for naming it (a meta group fits easily).
const FIRST_BYTES: usize = 64 * 1024;

struct Saved {
    path: PathBuf,
    bytes: u64,
}

impl Client {
    /// Sends a WADO-RS (or any) request and returns its response as a stream of parts.
    /// An error status is [`dicomweb_core::Error::Status`] inside [`Error::Protocol`], with
    /// the start of the body.
    pub async fn retrieve_parts(
        &self,
        request: http::Request<dicomweb_core::request::Body>,
    ) -> Result<PartStream, Error> {
        let label = format!("{} {}", request.method(), request.uri());
        let response = self.execute(request.map(RequestBody::from)).await?;
        let (head, body) = response.into_parts();
        if !head.status.is_success() || head.status == StatusCode::NO_CONTENT {
            let text = body
                .bytes_limited(ERROR_BODY_BYTES)
                .await
                .unwrap_or_default();
            check_status(head.status, &head.headers, &text)?;
            return Err(Error::Protocol(CoreError::UnexpectedResponse {
                expected: "200 or 206 with a body",
                found: format!("{} from {label}", head.status),
            }));
        }
        let decoder = BodyDecoder::from_headers(&head.headers, MultipartLimits::default())?;
        Ok(PartStream {
            status: head.status,
            headers: head.headers,
            label,
            body,
            decoder,
            input_done: false,
            in_part: false,
            ended: false,
            parts: 0,
        })
    }

    /// WADO-RS instances of a study, series or instance, as a stream of Part 10 parts.
    pub async fn retrieve_instances(
        &self,
        request: &RetrieveInstances,
    ) -> Result<PartStream, Error> {
        self.retrieve_parts(request.to_request(self.base_url())?)
            .await
    }

    /// WADO-RS frames of an instance, one part per frame in the order asked.
    pub async fn retrieve_frames(&self, request: &RetrieveFrames) -> Result<PartStream, Error> {
        self.retrieve_parts(request.to_request(self.base_url())?)
            .await
    }

    /// WADO-RS pixel data of a study, series or instance.
    pub async fn retrieve_pixel_data(
        &self,
        request: &RetrievePixelData,
    ) -> Result<PartStream, Error> {
        self.retrieve_parts(request.to_request(self.base_url())?)
            .await
    }

    /// WADO-RS bulk data by its BulkDataURI (with a byte range, if set).
    pub async fn retrieve_bulk_data(
        &self,
        request: &RetrieveBulkData,
    ) -> Result<PartStream, Error> {
        self.retrieve_parts(request.to_request(self.base_url())?)
            .await
    }

    /// A rendered image (JPEG, PNG, GIF, …) of a study, series, instance or frames.
    pub async fn retrieve_rendered(&self, request: &RetrieveRendered) -> Result<PartStream, Error> {
        self.retrieve_parts(request.to_request(self.base_url())?)
            .await
    }

    /// A thumbnail of a study, series, instance or frame.
    pub async fn retrieve_thumbnail(
        &self,
        request: &RetrieveThumbnail,
    ) -> Result<PartStream, Error> {
        self.retrieve_parts(request.to_request(self.base_url())?)
            .await
    }
}
