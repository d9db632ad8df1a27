//! STOW-RS from files: batches of instances per request, several requests in flight, bodies
//! streamed from disk, every instance checked against the server's reply.
//!
//! Each file's SOP Instance UID is read from its file meta group first (a few hundred bytes),
//! so the reply can be checked instance by instance: stored, stored with a warning, failed with
//! its reason, or not mentioned at all. When the server refuses a batch of several instances
//! as a whole (an error status: one file it cannot parse makes Orthanc answer 400 for all), or
//! leaves instances unmentioned, those instances are sent again one per request, so one bad
//! file fails alone. A broken connection (after the retries) fails its batch; the other
//! batches go on.
//!
//! Request bodies are [`BodySource`]s that reopen the files, so a retried request re-sends the
//! whole body from disk; memory holds one read buffer per request in flight, whatever the
//! study's size.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use dicomweb_core::Uid;
use dicomweb_core::file_meta::FileMeta;
use dicomweb_core::media_type::MediaType;
use dicomweb_core::multipart::{Boundary, MultipartEncoder, Part};
use dicomweb_core::request::Store;
use dicomweb_core::response::{InstanceOutcome, StoreResult, parse_store};
use futures_util::{Stream, StreamExt, stream};
use tokio::io::AsyncReadExt;

use crate::progress::ProgressEvent;
use crate::{BodySource, Client, Error, RequestBody};

/// How much of a file is read per chunk of a request body.
const READ_CHUNK: usize = 256 * 1024;

/// How much of a file is read to find its meta group.
const META_PREFIX: usize = 64 * 1024;

/// How [`Client::store_files`] groups and sends instances.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Send to `/studies/{study}`: the server refuses instances of other studies.
    pub study: Option<Uid>,
    /// At most this many instances per request (at least one).
    pub batch_instances: usize,
    /// At most this many bytes of instances per request; a larger file goes alone.
    pub batch_bytes: u64,
    /// At most this many requests in flight (at least one).
    pub concurrency: usize,
}

impl Default for StoreOptions {
    /// 32 instances or 64 MiB per request, two requests in flight.
    fn default() -> Self {
        StoreOptions {
            study: None,
            batch_instances: 32,
            batch_bytes: 64 * 1024 * 1024,
            concurrency: 2,
        }
    }
}

impl StoreOptions {
    /// Sends to `/studies/{study}`.
    pub fn study(mut self, study: Uid) -> Self {
        self.study = Some(study);
        self
    }

    /// At most `n` instances per request.
    pub fn batch_instances(mut self, n: usize) -> Self {
        self.batch_instances = n.max(1);
        self
    }

    /// At most `bytes` of instances per request.
    pub fn batch_bytes(mut self, bytes: u64) -> Self {
        self.batch_bytes = bytes.max(1);
        self
    }

    /// At most `n` requests in flight.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
}

/// Where an instance given to a store came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceSource {
    /// A file ([`Client::store_files`]).
    File(PathBuf),
    /// The instance at this index of the list given to [`Client::store_instances`].
    Memory(usize),
}

impl InstanceSource {
    /// The file, for a file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            InstanceSource::File(path) => Some(path),
            InstanceSource::Memory(_) => None,
        }
    }
}

impl std::fmt::Display for InstanceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InstanceSource::File(path) => write!(f, "{}", path.display()),
            InstanceSource::Memory(index) => write!(f, "instance #{index}"),
        }
    }
}

/// An instance the server stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stored {
    /// The file, or the position in the list given.
    pub source: InstanceSource,
    /// Its SOP Instance UID, as the server reported it (a file whose meta group disagrees
    /// with its data set is reported under the data set's UID).
    pub sop_instance_uid: Uid,
    /// The server's WarningReason code, if it stored the instance with a change.
    pub warning_reason: Option<u16>,
}

/// An instance that was not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failed {
    /// The file, or the position in the list given.
    pub source: InstanceSource,
    /// Its SOP Instance UID, when its meta group could be read.
    pub sop_instance_uid: Option<Uid>,
    /// The server's FailureReason code, when it gave one.
    pub failure_reason: Option<u16>,
    /// Why, in words.
    pub reason: String,
}

/// What [`Client::store_files`] or [`Client::store_instances`] achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreSummary {
    /// The instances stored.
    pub stored: Vec<Stored>,
    /// The instances not stored, with reasons.
    pub failed: Vec<Failed>,
    /// Bytes of instances sent (not multipart framing), retries not counted.
    pub bytes: u64,
    /// STOW-RS requests made: one per batch, plus one per instance sent again alone
    /// (retries not counted).
    pub requests: usize,
}

impl StoreSummary {
    /// Whether every instance was stored.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
    }
}

/// The regular files in `paths`, folders walked recursively (symbolic links followed), in a
/// stable order: each folder's entries sorted by name.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for path in paths {
        walk(path, &mut out)?;
    }
    Ok(out)
}

fn walk(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(io_error)?;
    if metadata.is_dir() {
        let mut entries = std::fs::read_dir(path)
            .map_err(io_error)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io_error)?;
        entries.sort();
        for entry in entries {
            walk(&entry, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// An instance ready to send: where it is, its UID and size.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub(crate) source: InstanceSource,
    /// The bytes, for an instance in memory.
    pub(crate) bytes: Option<Bytes>,
    pub(crate) uid: Uid,
    pub(crate) length: u64,
}

impl Client {
    /// Stores Part 10 files with STOW-RS, in batches, several in flight (see [`StoreOptions`]).
    ///
    /// A file that cannot be read, or is not a Part 10 file, is reported failed without being
    /// sent. The result lists every file, stored or failed; `Err` is kept for what stops the
    /// whole operation before anything is sent (an invalid request).
    pub async fn store_files(
        &self,
        files: &[PathBuf],
        options: &StoreOptions,
    ) -> Result<StoreSummary, Error> {
        let mut summary = StoreSummary::default();
        let mut ready = Vec::with_capacity(files.len());
        for path in files {
            match prepare(path).await {
                Ok(prepared) => ready.push(prepared),
                Err(reason) => summary.failed.push(Failed {
                    source: InstanceSource::File(path.clone()),
                    sop_instance_uid: None,
                    failure_reason: None,
                    reason,
                }),
            }
        }
        self.store_prepared(ready, summary, options).await
    }

    /// Stores Part 10 instances held in memory (each a whole file, preamble optional), in
    /// batches as [`store_files`](Self::store_files) does; the bytes are sent as they are,
    /// never copied. Results name each instance by its position in `instances`.
    pub async fn store_instances(
        &self,
        instances: Vec<Bytes>,
        options: &StoreOptions,
    ) -> Result<StoreSummary, Error> {
        let mut summary = StoreSummary::default();
        let mut ready = Vec::with_capacity(instances.len());
        for (index, bytes) in instances.into_iter().enumerate() {
            let source = InstanceSource::Memory(index);
            let uid = match FileMeta::read(&bytes) {
                Ok(Some(meta)) => Uid::new(meta.sop_instance_uid.unwrap_or_default())
                    .map_err(|e| format!("its Media Storage SOP Instance UID: {e}")),
                Ok(None) => Err("not a DICOM Part 10 file: no complete file meta group".to_owned()),
                Err(e) => Err(e.to_string()),
            };
            match uid {
                Ok(uid) => ready.push(Prepared {
                    source,
                    length: bytes.len() as u64,
                    bytes: Some(bytes),
                    uid,
                }),
                Err(reason) => summary.failed.push(Failed {
                    source,
                    sop_instance_uid: None,
                    failure_reason: None,
                    reason,
                }),
            }
        }
        self.store_prepared(ready, summary, options).await
    }

    async fn store_prepared(
        &self,
        ready: Vec<Prepared>,
        mut summary: StoreSummary,
        options: &StoreOptions,
    ) -> Result<StoreSummary, Error> {
        let batches = batches(ready, options);
        let mut results = stream::iter(batches)
            .map(|batch| self.store_batch(batch, options))
            .buffer_unordered(options.concurrency.max(1));
        while let Some(result) = results.next().await {
            let batch = result?;
            summary.stored.extend(batch.stored);
            summary.failed.extend(batch.failed);
            summary.bytes += batch.bytes;
            summary.requests += batch.requests;
        }
        Ok(summary)
    }

    /// Sends one batch and sorts its files by the reply. When the server refuses a batch of
    /// several instances as a whole (an error status), or leaves some instances unmentioned,
    /// those instances are sent again one per request, so that one file the server cannot
    /// take does not fail the others.
    async fn store_batch(
        &self,
        batch: Vec<Prepared>,
        options: &StoreOptions,
    ) -> Result<BatchOutcome, Error> {
        let bytes: u64 = batch.iter().map(|f| f.length).sum();
        let split = batch.len() > 1;
        let reply = self.send_batch(&batch, options).await;
        let mut sorted = sort_reply(batch, reply, split)?;
        let alone = std::mem::take(&mut sorted.again);
        if !alone.is_empty() {
            tracing::info!(
                instances = alone.len(),
                "a batch was refused in part or whole: sending those instances one by one"
            );
        }
        let requests = 1 + alone.len();
        for file in alone {
            let reply = self.send_batch(std::slice::from_ref(&file), options).await;
            let single = sort_reply(vec![file], reply, false)?;
            sorted.stored.extend(single.stored);
            sorted.failed.extend(single.failed);
        }
        self.report(ProgressEvent::InstancesSent {
            count: sorted.stored.len() as u64,
        });
        Ok(BatchOutcome {
            stored: sorted.stored,
            failed: sorted.failed,
            bytes,
            requests,
        })
    }

    /// One STOW-RS request for these files, streamed from disk, and its parsed reply.
    async fn send_batch(
        &self,
        batch: &[Prepared],
        options: &StoreOptions,
    ) -> Result<StoreResult, Error> {
        let dicom = MediaType::new("application", "dicom");
        let mut store = Store::new(Boundary::from_random_bytes(rand::random::<[u8; 24]>()));
        if let Some(study) = &options.study {
            store = store.study(study.clone());
        }
        let store = store.related_type(dicom.clone());
        let head = store.to_request_head(self.base_url())?;
        let mut encoder = MultipartEncoder::new(store.boundary().clone());
        let mut segments = Vec::with_capacity(batch.len() * 2 + 1);
        let mut length = 0u64;
        for file in batch {
            let [part_head, _] = encoder.encode_part(&Part::new(dicom.clone(), Bytes::new()))?;
            length += part_head.len() as u64 + file.length;
            segments.push(Segment::Bytes(part_head));
            segments.push(match (&file.bytes, &file.source) {
                (Some(bytes), _) => Segment::Bytes(bytes.clone()),
                (None, InstanceSource::File(path)) => Segment::File {
                    path: path.clone(),
                    length: file.length,
                },
                (None, InstanceSource::Memory(_)) => Segment::Bytes(Bytes::new()),
            });
        }
        let close = encoder.close();
        length += close.len() as u64;
        segments.push(Segment::Bytes(close));
        let segments: Arc<[Segment]> = segments.into();
        let mut source = BodySource::new(move || body_stream(segments.clone()));
        if !self.chunked_transfers() {
            source = source.with_length(length);
        }
        let request = head.map(|()| RequestBody::Source(source));
        let (status, headers, body) = self.fetch_body(request).await?;
        Ok(parse_store(status, &headers, &body, self.read_options())?)
    }
}

/// What one batch achieved.
struct BatchOutcome {
    stored: Vec<Stored>,
    failed: Vec<Failed>,
    bytes: u64,
    requests: usize,
}

/// A batch's files sorted by the reply: stored, failed, and to send again alone.
#[derive(Default)]
struct Sorted {
    stored: Vec<Stored>,
    failed: Vec<Failed>,
    again: Vec<Prepared>,
}

/// Sorts a batch's files by the server's reply. With `split`, instances refused wholesale (an
/// error status) or not mentioned go to `again` instead of `failed`. An invalid request is an
/// error for the whole operation; a broken connection (after the retries) fails the batch.
fn sort_reply(
    batch: Vec<Prepared>,
    reply: Result<StoreResult, Error>,
    split: bool,
) -> Result<Sorted, Error> {
    let mut sorted = Sorted::default();
    let result = match reply {
        Ok(result) => result,
        Err(error @ Error::Protocol(dicomweb_core::Error::InvalidRequest { .. })) => {
            return Err(error);
        }
        Err(Error::Protocol(dicomweb_core::Error::Status(_))) if split => {
            sorted.again = batch;
            return Ok(sorted);
        }
        Err(error) => {
            let reason = format!("the request failed: {error}");
            sorted.failed = batch
                .into_iter()
                .map(|f| Failed {
                    source: f.source,
                    sop_instance_uid: Some(f.uid),
                    failure_reason: None,
                    reason: reason.clone(),
                })
                .collect();
            return Ok(sorted);
        }
    };
    let single = batch.len() == 1;
    for file in batch {
        let mut outcome = result.outcome(&file.uid);
        // A request of one instance whose reply lists exactly one instance is about that
        // instance, even under another UID (a file whose meta group disagrees with its data
        // set's SOP Instance UID, as some real files do).
        if single && matches!(outcome, InstanceOutcome::Unreported) {
            match (&result.stored[..], &result.failed[..]) {
                ([only], []) => outcome = InstanceOutcome::Stored(only),
                ([], [only]) => outcome = InstanceOutcome::Failed(only),
                _ => {}
            }
        }
        match outcome {
            InstanceOutcome::Stored(instance) => sorted.stored.push(Stored {
                source: file.source,
                sop_instance_uid: instance
                    .sop_instance_uid
                    .as_ref()
                    .and_then(|uid| Uid::new(uid.clone()).ok())
                    .unwrap_or(file.uid),
                warning_reason: instance.warning_reason.map(|w| w.0),
            }),
            InstanceOutcome::Failed(instance) => {
                let code = instance.failure_reason.map(|r| r.0);
                let reason = match instance.failure_reason {
                    Some(r) => match r.description() {
                        Some(text) => format!("FailureReason {:04X}H: {text}", r.0),
                        None => format!("FailureReason {:04X}H", r.0),
                    },
                    None => "listed in the FailedSOPSequence without a reason".to_owned(),
                };
                sorted.failed.push(Failed {
                    source: file.source,
                    sop_instance_uid: Some(file.uid),
                    failure_reason: code,
                    reason,
                });
            }
            InstanceOutcome::Unreported if split => sorted.again.push(file),
            InstanceOutcome::Unreported => sorted.failed.push(Failed {
                source: file.source,
                sop_instance_uid: Some(file.uid),
                failure_reason: None,
                reason: format!(
                    "the server's reply ({}) does not mention this instance",
                    result.status
                ),
            }),
        }
    }
    Ok(sorted)
}

/// Reads a file's size and its SOP Instance UID from its meta group.
pub(crate) async fn prepare(path: &Path) -> Result<Prepared, String> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| format!("cannot open the file: {e}"))?;
    let length = file
        .metadata()
        .await
        .map_err(|e| format!("cannot read the file's size: {e}"))?
        .len();
    let mut prefix = Vec::with_capacity(4096);
    loop {
        let read = (&mut file)
            .take((META_PREFIX - prefix.len()) as u64)
            .read_buf(&mut prefix)
            .await
            .map_err(|e| format!("cannot read the file: {e}"))?;
        match FileMeta::read(&prefix) {
            Err(e) => return Err(e.to_string()),
            Ok(Some(meta)) => {
                let text = meta.sop_instance_uid.unwrap_or_default();
                let uid = Uid::new(text)
                    .map_err(|e| format!("its Media Storage SOP Instance UID: {e}"))?;
                return Ok(Prepared {
                    source: InstanceSource::File(path.to_path_buf()),
                    bytes: None,
                    uid,
                    length,
                });
            }
            Ok(None) if read == 0 || prefix.len() >= META_PREFIX => {
                return Err("not a DICOM Part 10 file: no complete file meta group".to_owned());
            }
            Ok(None) => {}
        }
    }
}

/// Groups files by the batch limits, keeping their order.
fn batches(files: Vec<Prepared>, options: &StoreOptions) -> Vec<Vec<Prepared>> {
    let mut out: Vec<Vec<Prepared>> = Vec::new();
    let mut bytes = 0u64;
    for file in files {
        let fits = out.last().is_some_and(|batch| {
            batch.len() < options.batch_instances.max(1)
                && bytes + file.length <= options.batch_bytes
        });
        if !fits {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += file.length;
        if let Some(batch) = out.last_mut() {
            batch.push(file);
        }
    }
    out
}

/// A piece of a STOW-RS body: framing in memory, or a whole file read from disk.
#[derive(Debug)]
enum Segment {
    Bytes(Bytes),
    File { path: PathBuf, length: u64 },
}

/// The body: segments in order, files read in chunks. A file whose size changed since it was
/// measured is an error, never a body of the wrong length.
fn body_stream(segments: Arc<[Segment]>) -> impl Stream<Item = Result<Bytes, io::Error>> {
    struct State {
        segments: Arc<[Segment]>,
        next: usize,
        open: Option<(tokio::fs::File, PathBuf, u64)>,
    }
    let state = State {
        segments,
        next: 0,
        open: None,
    };
    stream::try_unfold(state, |mut state| async move {
        loop {
            if let Some((mut file, path, remaining)) = state.open.take() {
                if remaining == 0 {
                    let mut probe = [0u8; 1];
                    if file.read(&mut probe).await? != 0 {
                        return Err(changed(&path, "grew"));
                    }
                    continue;
                }
                let want = READ_CHUNK.min(usize::try_from(remaining).unwrap_or(READ_CHUNK));
                let mut buffer = BytesMut::with_capacity(want);
                while buffer.len() < want {
                    if (&mut file)
                        .take((want - buffer.len()) as u64)
                        .read_buf(&mut buffer)
                        .await?
                        == 0
                    {
                        return Err(changed(&path, "shrank"));
                    }
                }
                let left = remaining - buffer.len() as u64;
                state.open = Some((file, path, left));
                return Ok(Some((buffer.freeze(), state)));
            }
            let Some(segment) = state.segments.get(state.next) else {
                return Ok(None);
            };
            state.next += 1;
            match segment {
                Segment::Bytes(bytes) => return Ok(Some((bytes.clone(), state))),
                Segment::File { path, length } => {
                    let file = tokio::fs::File::open(path).await.map_err(|e| {
                        io::Error::new(e.kind(), format!("{}: {e}", path.display()))
                    })?;
                    state.open = Some((file, path.clone(), *length));
                }
            }
        }
    })
}

fn changed(path: &Path, how: &str) -> io::Error {
    io::Error::other(format!("{} {how} while it was being sent", path.display()))
}
