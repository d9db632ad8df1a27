//! Instances retrieved into a folder, one file each named by its SOP Instance UID, over one
//! request or several at once ([`RetrieveOptions::concurrency`]: a study's series in
//! parallel).
//!
//! Each response is read by its own loop with its own file writer ([`Disk`]): the same memory
//! bound per stream as one retrieve, and the same guarantees: a file appears under its final
//! name only once complete, and a failure leaves no partial file.

use std::path::{Path, PathBuf};

use dicomweb_core::file_meta::FileMeta;
use dicomweb_core::media_type::MediaType;
use dicomweb_core::request::{RetrieveInstances, Search, Target};
use dicomweb_core::response::Warning;
use dicomweb_core::tags::SERIES_INSTANCE_UID;
use dicomweb_core::{Error as CoreError, Uid};
use futures_util::{StreamExt, stream};

use super::{FIRST_BYTES, PartStream};
use crate::disk::Disk;
use crate::progress::ProgressEvent;
use crate::{Client, Error};

/// Series listed at most, when a study is split by series.
const MAX_SERIES: usize = 100_000;

/// How [`Client::retrieve_instances_to_dir_with`] retrieves.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetrieveOptions {
    /// Requests at once: a study of several series is retrieved a series a request, this
    /// many at a time (its series listed first with QIDO-RS). 1 (the default) sends the
    /// request as given.
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
    /// A study of several series, with a concurrency above 1, is retrieved a series a request
    /// (the series listed first with QIDO-RS; a server that cannot list them gets the one
    /// study request). When one request fails, the others still finish; the first error is
    /// returned.
    pub async fn retrieve_instances_to_dir_with(
        &self,
        request: &RetrieveInstances,
        dir: &Path,
        options: &RetrieveOptions,
    ) -> Result<RetrieveSummary, Error> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        let requests = self.split(request, options.concurrency).await;
        if let [one] = requests.as_slice() {
            return self.one_stream_to_dir(one, dir).await;
        }
        // The futures made first (not run until polled): a closure inside the stream would
        // make the job's step future lose `Send` to a higher-ranked lifetime.
        let streams: Vec<_> = requests
            .iter()
            .map(|request| Box::pin(self.one_stream_to_dir(request, dir)))
            .collect();
        let results: Vec<Result<RetrieveSummary, Error>> = stream::iter(streams)
            .buffered(options.concurrency)
            .collect()
            .await;
        let mut summary = RetrieveSummary::default();
        for result in results {
            let part = result?;
            summary.files.extend(part.files);
            summary.bytes += part.bytes;
            for warning in part.warnings {
                if !summary.warnings.contains(&warning) {
                    summary.warnings.push(warning);
                }
            }
        }
        Ok(summary)
    }

    /// The requests that together retrieve what `request` does: one per series of a study
    /// when more than one request may run at once and the study has several series.
    async fn split(
        &self,
        request: &RetrieveInstances,
        concurrency: usize,
    ) -> Vec<RetrieveInstances> {
        let Target::Study(study) = request.target() else {
            return vec![request.clone()];
        };
        if concurrency < 2 {
            return vec![request.clone()];
        }
        let listed = match Search::series_of_study(study.clone()).include("SeriesInstanceUID") {
            Ok(search) => self.search_all(search.limit(1000), MAX_SERIES).await,
            Err(error) => Err(Error::Protocol(error)),
        };
        let series: Option<Vec<Uid>> = match listed {
            Ok(found) => found
                .data_sets
                .iter()
                .map(|data_set| {
                    data_set
                        .string(SERIES_INSTANCE_UID)
                        .and_then(|uid| Uid::new(uid).ok())
                })
                .collect(),
            Err(error) => {
                tracing::debug!(%error, "listing the study's series failed; one request");
                None
            }
        };
        match series {
            Some(series) if series.len() > 1 => series
                .into_iter()
                .map(|uid| request.with_target(Target::series(study.clone(), uid)))
                .collect(),
            _ => vec![request.clone()],
        }
    }

    /// One request's instances into `dir`, through one file writer.
    async fn one_stream_to_dir(
        &self,
        request: &RetrieveInstances,
        dir: &Path,
    ) -> Result<RetrieveSummary, Error> {
        let mut parts = self.retrieve_instances(request).await?;
        let mut disk = Disk::start();
        let mut summary = RetrieveSummary {
            warnings: parts.warnings(),
            ..RetrieveSummary::default()
        };
        let read = self
            .parts_to_dir(&mut parts, &mut disk, dir, &mut summary)
            .await;
        let written = disk.finish().await;
        read?;
        written?;
        Ok(summary)
    }

    async fn parts_to_dir(
        &self,
        parts: &mut PartStream,
        disk: &mut Disk,
        dir: &Path,
        summary: &mut RetrieveSummary,
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
