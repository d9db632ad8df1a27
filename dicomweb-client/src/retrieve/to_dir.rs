//! Instances retrieved into a folder, one file each named by its SOP Instance UID, over one
//! request or several at once ([`RetrieveOptions::concurrency`]: a study's series in
//! parallel, or ranges of one big series' instances; `split.rs` decides which).
//!
//! Each response is read by its own loop with its own file writer ([`Disk`]): the same memory
//! bound per stream as one retrieve, and the same guarantees: a file appears under its final
//! name only once complete, and a failure leaves no partial file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dicomweb_core::file_meta::FileMeta;
use dicomweb_core::media_type::MediaType;
use dicomweb_core::request::RetrieveInstances;
use dicomweb_core::response::Warning;
use dicomweb_core::{Error as CoreError, Uid};
use futures_util::{StreamExt, stream};

use super::{FIRST_BYTES, PartStream};
use crate::disk::Disk;
use crate::progress::ProgressEvent;
use crate::{Client, Error};

/// How [`Client::retrieve_instances_to_dir_with`] retrieves.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetrieveOptions {
    /// Requests at once: a study of several series is retrieved a series a request, this
    /// many at a time (its series listed first with QIDO-RS); one series of large instances
    /// (a study of one series, or a series asked for) in this many ranges of its instances,
    /// an instance a request. 1 (the default) sends the request as given.
    pub concurrency: usize,
}

impl RetrieveOptions {
    /// One request: exactly the request given.
    pub fn new() -> RetrieveOptions {
        RetrieveOptions { concurrency: 1 }
    }

    /// A concurrency that helps on common servers, the `dicomweb` program's default (measured
    /// against Orthanc, whose one stream is bound by its own per-instance work, not the
    /// network).
    pub const SUGGESTED_CONCURRENCY: usize = 3;

    /// At most `requests` requests at once (at least one).
    pub fn concurrency(mut self, requests: usize) -> RetrieveOptions {
        self.concurrency = requests.max(1);
        self
    }
}

impl Default for RetrieveOptions {
    fn default() -> RetrieveOptions {
        RetrieveOptions::new()
    }
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
    /// The files, in the order the server sent them (request by request, when split).
    pub files: Vec<RetrievedFile>,
    /// Their total size in bytes.
    pub bytes: u64,
    /// The server's `Warning` headers.
    pub warnings: Vec<Warning>,
}

impl RetrieveSummary {
    /// Adds what another request wrote.
    pub(super) fn absorb(&mut self, other: RetrieveSummary) {
        self.files.extend(other.files);
        self.bytes += other.bytes;
        self.add_warnings(other.warnings);
    }

    fn add_warnings(&mut self, warnings: Vec<Warning>) {
        for warning in warnings {
            if !self.warnings.contains(&warning) {
                self.warnings.push(warning);
            }
        }
    }
}

impl Client {
    /// Retrieves instances with exactly this one request and writes each to `dir` as
    /// `<SOPInstanceUID>.dcm` (the UID from the file's meta group). See
    /// [`retrieve_instances_to_dir_with`](Self::retrieve_instances_to_dir_with), which can
    /// retrieve a study's series several at once.
    pub async fn retrieve_instances_to_dir(
        &self,
        request: &RetrieveInstances,
        dir: &Path,
    ) -> Result<RetrieveSummary, Error> {
        self.retrieve_instances_to_dir_with(request, dir, &RetrieveOptions::default())
            .await
    }

    /// Retrieves instances and writes each to `dir` as `<SOPInstanceUID>.dcm`, streaming: each
    /// file is written under a temporary name and renamed when complete. On failure, the files
    /// completed before it stay; the one in progress is removed. Memory does not grow with
    /// instance or study size (each of the `options.concurrency` streams holds a few chunks).
    ///
    /// With a concurrency above 1, a study of several series is retrieved a series a request
    /// (the series listed first with QIDO-RS; a server that cannot list them gets the one
    /// study request). One series (a series asked for, or a study's only one) is listed to its
    /// instances and the first one retrieved alone: when it is large (256 KiB or more) and its
    /// transfer took at least twice the wait for the reply, the others follow an instance a
    /// request in `concurrency` ranges at once; otherwise one request retrieves the series
    /// (the first instance written again, counted once). When
    /// one request fails, the others still finish; the first error is returned.
    pub async fn retrieve_instances_to_dir_with(
        &self,
        request: &RetrieveInstances,
        dir: &Path,
        options: &RetrieveOptions,
    ) -> Result<RetrieveSummary, Error> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|source| Error::Io {
                doing: "create the folder",
                path: dir.to_path_buf(),
                source,
            })?;
        if options.concurrency < 2 {
            return self
                .requests_to_dir(std::slice::from_ref(request), dir, None)
                .await;
        }
        self.split_to_dir(request, dir, options.concurrency).await
    }

    /// Runs `streams` at most `concurrency` at a time, each a list of requests sent one after
    /// the other into one file writer, and gathers what they wrote. When one stream fails, the
    /// others still finish; the first error is returned.
    pub(super) async fn streams_to_dir(
        &self,
        streams: Vec<Vec<RetrieveInstances>>,
        dir: &Path,
        concurrency: usize,
    ) -> Result<RetrieveSummary, Error> {
        // The futures made first (not run until polled): a closure inside the stream would
        // make the job's step future lose `Send` to a higher-ranked lifetime.
        let streams: Vec<_> = streams
            .iter()
            .map(|requests| Box::pin(self.requests_to_dir(requests, dir, None)))
            .collect();
        let results: Vec<Result<RetrieveSummary, Error>> =
            stream::iter(streams).buffered(concurrency).collect().await;
        let mut summary = RetrieveSummary::default();
        for result in results {
            summary.absorb(result?);
        }
        Ok(summary)
    }

    /// `requests`' instances into `dir`, one request after the other, through one file
    /// writer. An instance named `again` (already written by an earlier request) is written
    /// once more but not counted again.
    pub(super) async fn requests_to_dir(
        &self,
        requests: &[RetrieveInstances],
        dir: &Path,
        again: Option<&Uid>,
    ) -> Result<RetrieveSummary, Error> {
        let (summary, _) = self.requests_to_dir_timed(requests, dir, again).await?;
        Ok(summary)
    }

    /// [`requests_to_dir`](Self::requests_to_dir), also saying how long it waited for the
    /// replies' heads, in all.
    pub(super) async fn requests_to_dir_timed(
        &self,
        requests: &[RetrieveInstances],
        dir: &Path,
        again: Option<&Uid>,
    ) -> Result<(RetrieveSummary, Duration), Error> {
        let mut disk = Disk::start();
        let mut summary = RetrieveSummary::default();
        let mut waited = Duration::ZERO;
        let mut read = Ok(());
        for request in requests {
            let asked = Instant::now();
            read = match self.retrieve_instances(request).await {
                Ok(mut parts) => {
                    waited += asked.elapsed();
                    summary.add_warnings(parts.warnings());
                    self.parts_to_dir(&mut parts, &mut disk, dir, &mut summary, again)
                        .await
                }
                Err(error) => Err(error),
            };
            if read.is_err() || disk.has_failed() {
                break;
            }
        }
        let written = disk.finish().await;
        read?;
        written?;
        Ok((summary, waited))
    }

    async fn parts_to_dir(
        &self,
        parts: &mut PartStream,
        disk: &mut Disk,
        dir: &Path,
        summary: &mut RetrieveSummary,
        again: Option<&Uid>,
    ) -> Result<(), Error> {
        let unnamed = dir.join(instance_file_name("unnamed"));
        while parts.next_part().await?.is_some() {
            if disk.has_failed() {
                // `finish` says why.
                return Ok(());
            }
            let index = parts.parts_seen();
            let mut uid = None;
            let saved = parts
                .write_part(disk, &unnamed, |prefix, at_end| {
                    let Some(meta) = FileMeta::read(prefix).map_err(|e| part_error(index, e))?
                    else {
                        if at_end {
                            return Err(part_error(index, "it ended inside its file meta group"));
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
                })
                .await?;
            let Some(sop_instance_uid) = uid else {
                return Err(part_error(index, "it has no file meta group"));
            };
            if again == Some(&sop_instance_uid) {
                continue;
            }
            self.report(ProgressEvent::InstancesReceived { count: 1 });
            summary.bytes += saved.bytes;
            summary.files.push(RetrievedFile {
                path: saved.path,
                sop_instance_uid,
                bytes: saved.bytes,
            });
        }
        Ok(())
    }
}

fn part_error(index: usize, why: impl std::fmt::Display) -> Error {
    Error::Protocol(CoreError::UnexpectedResponse {
        expected: "a DICOM Part 10 instance in every part",
        found: format!("part {index}: {why}"),
    })
}

/// An instance's file name: `stem` and the core's extension for `application/dicom` (`.dcm`).
fn instance_file_name(stem: &str) -> String {
    let dicom = MediaType::new("application", "dicom");
    format!("{stem}.{}", dicom.file_extension())
}
