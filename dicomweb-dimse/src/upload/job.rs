//! The upload job: one batch of spooled instances sent by STOW-RS, kept in the job store
//! until the server's reply has accounted for every instance.
//!
//! Each step sends the instances still held through the client's store API and sorts them by
//! the reply ([`failure_fate`]): stored ones' spool files are deleted, refused ones move to
//! `failed/` beside a JSON record, and the rest stay for the next attempt, after a backoff
//! ([`retry_delay`]) the engine waits out in its `Retry` state. The saved state is the list of
//! files and the attempt count, so after a crash the step runs again on what was not yet
//! accounted for; a file already gone was dealt with before the crash.

use std::path::PathBuf;
use std::sync::Arc;

use dicomweb_client::Client;
use dicomweb_client::store::StoreOptions;
use orthanc_jobs::{Job, StepContext, StepFuture, StepOutcome};
use serde::{Deserialize, Serialize};

use super::policy::{InstanceFate, UploadOptions, failure_fate, retry_delay};
use crate::spool::Spool;

/// The job type's name in the job store.
pub const UPLOAD_JOB: &str = "DimseUpload";

/// What an upload job needs besides its saved state.
pub(crate) struct UploadContext {
    pub(crate) client: Client,
    pub(crate) spool: Spool,
    pub(crate) options: UploadOptions,
}

/// An upload job's saved state.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct UploadState {
    /// The spool files not yet accounted for.
    pub(crate) files: Vec<PathBuf>,
    /// Failed attempts so far.
    #[serde(default)]
    pub(crate) attempts: u32,
    /// Instances stored so far.
    #[serde(default)]
    pub(crate) stored: u64,
    /// Instances refused so far.
    #[serde(default)]
    pub(crate) refused: u64,
}

/// One batch of spooled instances on its way to the DICOMweb server.
pub(crate) struct UploadJob {
    pub(crate) state: UploadState,
    pub(crate) context: Arc<UploadContext>,
}

impl Job for UploadJob {
    fn type_name(&self) -> &str {
        UPLOAD_JOB
    }

    fn step<'a>(&'a mut self, _ctx: &'a StepContext) -> StepFuture<'a> {
        Box::pin(self.send())
    }

    fn progress(&self) -> u8 {
        let done = self.state.stored + self.state.refused;
        let total = done + self.state.files.len() as u64;
        (done * 100)
            .checked_div(total)
            .map_or(100, |percent| u8::try_from(percent).unwrap_or(100))
    }

    fn content(&self) -> serde_json::Value {
        serde_json::json!({
            "Remaining": self.state.files.len(),
            "Stored": self.state.stored,
            "Refused": self.state.refused,
            "Attempts": self.state.attempts,
        })
    }

    fn save(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(&self.state)
    }

    fn reset(&mut self) {
        self.state.attempts = 0;
    }
}

impl UploadJob {
    async fn send(&mut self) -> StepOutcome {
        let context = self.context.clone();
        // A file already gone was stored or moved before a crash.
        let mut files = Vec::with_capacity(self.state.files.len());
        for path in std::mem::take(&mut self.state.files) {
            if tokio::fs::try_exists(&path).await.unwrap_or(true) {
                files.push(path);
            }
        }
        if files.is_empty() {
            return StepOutcome::Success;
        }
        let options = StoreOptions::default()
            .batch_instances(context.options.batch_instances)
            .batch_bytes(context.options.batch_bytes)
            .concurrency(1);
        let summary = match context.client.store_files(&files, &options).await {
            Ok(summary) => summary,
            Err(error) => {
                // Only an invalid request (a configuration error) ends up here: keep the files
                // and try again later, loudly.
                tracing::error!(%error, instances = files.len(), "the upload request could not be made");
                self.state.files = files;
                return self.retry();
            }
        };
        for stored in &summary.stored {
            let Some(path) = stored.source.path() else {
                continue;
            };
            tracing::debug!(file = %path.display(), uid = %stored.sop_instance_uid, "stored on the DICOMweb server");
            if let Err(error) = tokio::fs::remove_file(path).await {
                tracing::warn!(%error, file = %path.display(), "cannot remove a stored instance's spool file");
            }
            self.state.stored += 1;
        }
        let attempts = self.state.attempts + 1;
        let mut again = Vec::new();
        for failed in &summary.failed {
            let Some(path) = failed.source.path() else {
                continue;
            };
            match failure_fate(
                failed.failure_reason,
                failed.transient,
                attempts,
                &context.options,
            ) {
                InstanceFate::Retry => again.push(path.to_owned()),
                InstanceFate::Refused | InstanceFate::Stored => {
                    let record = serde_json::json!({
                        "SOPInstanceUID": failed.sop_instance_uid.as_ref().map(|u| u.as_str().to_owned()),
                        "FailureReason": failed.failure_reason,
                        "Reason": failed.reason,
                        "Attempts": attempts,
                    });
                    match context.spool.fail(path, &record).await {
                        Ok(moved) => {
                            tracing::warn!(file = %moved.display(), reason = %failed.reason, failure_reason = ?failed.failure_reason, "the DICOMweb server refused an instance: moved to failed/");
                            self.state.refused += 1;
                        }
                        Err(error) => {
                            tracing::error!(%error, "cannot move a refused instance to failed/");
                            again.push(path.to_owned());
                        }
                    }
                }
            }
        }
        if again.is_empty() {
            tracing::info!(
                stored = self.state.stored,
                refused = self.state.refused,
                "upload batch done"
            );
            return StepOutcome::Success;
        }
        tracing::warn!(
            instances = again.len(),
            attempt = attempts,
            "upload failed for now; will retry"
        );
        self.state.files = again;
        self.retry()
    }

    fn retry(&mut self) -> StepOutcome {
        self.state.attempts = self.state.attempts.saturating_add(1);
        let jitter = 0.5 + rand::random::<f64>() / 2.0;
        StepOutcome::RetryAfter(retry_delay(
            self.state.attempts,
            jitter,
            &self.context.options,
        ))
    }
}
