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
//! Request bodies are [`BodySource`](crate::BodySource)s that reopen the files, so a retried
//! request re-sends the whole body from disk; memory holds one read buffer per request in
//! flight, whatever the study's size.
//!
//! The protocol is the core's: the request head and the body's framing come from
//! [`Store`], the reply's meaning for each instance from [`StoreResult::classify`]. Here:
//! [`options`](StoreOptions) and the [`StoreSummary`], preparing instances (meta group,
//! batches), the streamed body, and mapping the reply to files.

mod body;
mod options;
mod prepare;
mod reply;

use std::path::PathBuf;

use bytes::Bytes;
use dicomweb_core::media_type::MediaType;
use dicomweb_core::multipart::Boundary;
use dicomweb_core::request::Store;
use dicomweb_core::response::{StoreResult, parse_store};
use futures_util::{StreamExt, stream};

pub use options::{Failed, InstanceSource, StoreOptions, StoreSummary, Stored};
pub use prepare::collect_files;
pub(crate) use prepare::prepare;

use crate::progress::ProgressEvent;
use crate::{Client, Error, RequestBody};
use prepare::{Prepared, batches, prepare_bytes};
use reply::sort_reply;

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
                    transient: false,
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
            match prepare_bytes(index, bytes) {
                Ok(prepared) => ready.push(prepared),
                Err(reason) => summary.failed.push(Failed {
                    source: InstanceSource::Memory(index),
                    sop_instance_uid: None,
                    failure_reason: None,
                    reason,
                    transient: false,
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
        let framed = store
            .framing()
            .frame(batch.iter().map(|file| (&dicom, file.length)))?;
        let mut source = body::batch_body(batch, &framed);
        if !self.chunked_transfers() {
            source = source.with_length(framed.content_length());
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
