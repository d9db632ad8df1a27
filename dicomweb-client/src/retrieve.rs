//! WADO-RS retrieval as a stream of parts, and instances streamed to disk.
//!
//! A retrieve response (multipart/related, or a single part where the server sent plain
//! `application/dicom`, `image/jpeg`, …) is read through dicomweb-core's push decoder as it
//! arrives: memory holds one network chunk, never a whole instance or study. [`PartStream`]
//! hands out each part's headers, then its body chunk by chunk; [`PartStream::save_part`]
//! writes a part to a file under a temporary name and renames it only once the part is
//! complete, so an interrupted download never leaves a file that looks whole.
//!
//! Files are written from 1 MiB buffers on tokio's blocking pool, one buffer filling while the
//! previous one is written. For bulk transfers prefer a current-thread runtime (or a task
//! pinned with the connection): on a multi-thread runtime every body chunk wakes a task on
//! another thread, which cost three times the wall time of a 400 MiB retrieve here.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use dicomweb_core::file_meta::FileMeta;
use dicomweb_core::media_type::MediaType;
use dicomweb_core::multipart::{BodyDecoder, Event, MultipartLimits, PartHeaders};
use dicomweb_core::request::{
    RetrieveBulkData, RetrieveFrames, RetrieveInstances, RetrievePixelData, RetrieveRendered,
    RetrieveThumbnail,
};
use dicomweb_core::response::{Warning, check_status, warnings};
use dicomweb_core::{Error as CoreError, Uid};
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode};

use crate::progress::ProgressEvent;
use crate::{Client, Error, RequestBody, ResponseBody};

/// How much of an error response's body is kept for the error message.
const ERROR_BODY_BYTES: usize = 8 * 1024;

/// The write buffer of a file being downloaded (two at most are in use).
const WRITE_BUFFER: usize = 1024 * 1024;

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
        mut name: impl FnMut(&[u8], bool) -> Result<Option<PathBuf>, Error>,
    ) -> Result<Saved, Error> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = dir.join(format!(".dicomweb-{:016x}.part", rand::random::<u64>()));
        let result = self.write_part(&temp, &mut name).await;
        match result {
            Ok((bytes, chosen)) => {
                let path = chosen.unwrap_or_else(|| target.to_path_buf());
                if let Err(source) = tokio::fs::rename(&temp, &path).await {
                    let _ = tokio::fs::remove_file(&temp).await;
                    return Err(Error::Io { path, source });
                }
                Ok(Saved { path, bytes })
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                Err(e)
            }
        }
    }

    async fn write_part(
        &mut self,
        temp: &Path,
        name: &mut impl FnMut(&[u8], bool) -> Result<Option<PathBuf>, Error>,
    ) -> Result<(u64, Option<PathBuf>), Error> {
        let io_error = |source| Error::Io {
            path: temp.to_path_buf(),
            source,
        };
        let mut out = FileWriter::create(temp).await.map_err(io_error)?;
        let mut written = 0u64;
        let mut prefix: Vec<u8> = Vec::new();
        let mut chosen: Option<PathBuf> = None;
        let mut naming = true;
        while let Some(chunk) = self.next_chunk().await? {
            if naming {
                prefix.extend_from_slice(&chunk[..chunk.len().min(FIRST_BYTES - prefix.len())]);
                if let Some(path) = name(&prefix, false)? {
                    chosen = Some(path);
                    naming = false;
                } else if prefix.len() >= FIRST_BYTES {
                    naming = false;
                }
            }
            out.write(&chunk).await.map_err(io_error)?;
            written += chunk.len() as u64;
        }
        out.finish().await.map_err(io_error)?;
        if naming {
            chosen = name(&prefix, true)?;
        }
        Ok((written, chosen))
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

/// Writes a file from async code without blocking the runtime and without a thread hand-off
/// per network chunk: bytes gather in a buffer of [`WRITE_BUFFER`], and each full buffer is
/// written on the blocking pool while the next one fills (two buffers at most).
struct FileWriter {
    file: Option<std::fs::File>,
    buffer: Vec<u8>,
    pending: Option<tokio::task::JoinHandle<std::io::Result<std::fs::File>>>,
}

impl FileWriter {
    async fn create(path: &Path) -> std::io::Result<FileWriter> {
        let path = path.to_path_buf();
        let file = tokio::task::spawn_blocking(move || std::fs::File::create(path))
            .await
            .map_err(std::io::Error::other)??;
        Ok(FileWriter {
            file: Some(file),
            buffer: Vec::with_capacity(WRITE_BUFFER),
            pending: None,
        })
    }

    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= WRITE_BUFFER {
            self.flush_buffer().await?;
        }
        Ok(())
    }

    /// Hands the buffer to the blocking pool after the previous write has finished.
    async fn flush_buffer(&mut self) -> std::io::Result<()> {
        let mut file = match self.pending.take() {
            Some(write) => write.await.map_err(std::io::Error::other)??,
            None => self
                .file
                .take()
                .ok_or_else(|| std::io::Error::other("the file was lost after a failed write"))?,
        };
        let data = std::mem::replace(&mut self.buffer, Vec::with_capacity(WRITE_BUFFER));
        self.pending = Some(tokio::task::spawn_blocking(move || {
            use std::io::Write;
            file.write_all(&data)?;
            Ok(file)
        }));
        Ok(())
    }

    /// Writes what is left and waits for every write to end.
    async fn finish(mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            self.flush_buffer().await?;
        }
        if let Some(write) = self.pending.take() {
            write.await.map_err(std::io::Error::other)??;
        }
        Ok(())
    }
}

/// An instance's file name: `stem` and the core's extension for `application/dicom` (`.dcm`).
fn instance_file_name(stem: &str) -> String {
    let dicom = MediaType::new("application", "dicom");
    format!("{stem}.{}", dicom.file_extension())
}

/// How many first bytes of a part are offered for naming it (a meta group fits easily).
const FIRST_BYTES: usize = 64 * 1024;

struct Saved {
    path: PathBuf,
    bytes: u64,
}

/// One instance written by [`Client::retrieve_instances_to_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetrievedFile {
    /// The file, `<dir>/<SOPInstanceUID>.dcm`.
    pub path: PathBuf,
    /// The instance's SOP Instance UID, from its file meta group.
    pub sop_instance_uid: Uid,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// What [`Client::retrieve_instances_to_dir`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetrieveSummary {
    /// The files, in the order the server sent them.
    pub files: Vec<RetrievedFile>,
    /// Their total size in bytes.
    pub bytes: u64,
    /// The server's `Warning` headers.
    pub warnings: Vec<Warning>,
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

    /// Retrieves instances and writes each to `dir` as `<SOPInstanceUID>.dcm` (the UID from the
    /// file's meta group), streaming: each file is written under a temporary name and renamed
    /// when complete. On failure, the files completed before it stay; the one in progress is
    /// removed. Memory does not grow with instance or study size.
    pub async fn retrieve_instances_to_dir(
        &self,
        request: &RetrieveInstances,
        dir: &Path,
    ) -> Result<RetrieveSummary, Error> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        let mut parts = self.retrieve_instances(request).await?;
        let mut summary = RetrieveSummary {
            warnings: parts.warnings(),
            ..RetrieveSummary::default()
        };
        while parts.next_part().await?.is_some() {
            let index = parts.parts_seen();
            let mut uid = None;
            let saved = parts
                .save_part_with(
                    &dir.join(instance_file_name("unnamed")),
                    |prefix, at_end| {
                        let Some(meta) =
                            FileMeta::read(prefix).map_err(|e| part_error(index, e))?
                        else {
                            if at_end {
                                return Err(part_error(
                                    index,
                                    "it ended inside its file meta group",
                                ));
                            }
                            if prefix.len() >= FIRST_BYTES {
                                return Err(part_error(
                                    index,
                                    "no complete file meta group in its first 64 KiB",
                                ));
                            }
                            return Ok(None);
                        };
                        let text = meta.sop_instance_uid.unwrap_or_default();
                        let found = Uid::new(text).map_err(|e| {
                            part_error(index, format!("its Media Storage SOP Instance UID: {e}"))
                        })?;
                        let path = dir.join(instance_file_name(found.as_str()));
                        uid = Some(found);
                        Ok(Some(path))
                    },
                )
                .await?;
            let Some(sop_instance_uid) = uid else {
                return Err(part_error(index, "it has no file meta group"));
            };
            self.report(ProgressEvent::InstancesReceived { count: 1 });
            summary.bytes += saved.bytes;
            summary.files.push(RetrievedFile {
                path: saved.path,
                sop_instance_uid,
                bytes: saved.bytes,
            });
        }
        Ok(summary)
    }
}

fn part_error(index: usize, why: impl std::fmt::Display) -> Error {
    Error::Protocol(CoreError::UnexpectedResponse {
        expected: "a DICOM Part 10 instance in every part",
        found: format!("part {index}: {why}"),
    })
}
