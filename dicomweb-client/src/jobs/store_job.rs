//! [`StoreJob`]: local files uploaded to a DICOMweb server, a batch per step.

use dicomweb_core::Uid;
use orthanc_jobs::{Job, StepContext, StepFuture, StepOutcome};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use super::{
    Connect, DEFAULT_BATCH, STORE_JOB, check_no_credentials, present_at, step_outcome,
    store_failure,
};
use crate::store::prepare;
use crate::{Client, Error, StoreOptions};

/// The saved state of an upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    destination: String,
    study: Option<String>,
    batch: usize,
    files: Vec<PathBuf>,
    cursor: usize,
    sent: u64,
    skipped: u64,
    bytes: u64,
    retries: u32,
}

/// Uploads local Part 10 files with STOW-RS (see [the module](super)).
pub struct StoreJob {
    state: State,
    connect: Connect,
    client: Option<Client>,
    verify_until: usize,
}

impl StoreJob {
    /// An upload of `files` to `destination` (a DICOMweb root), [`DEFAULT_BATCH`] per step.
    /// Folders are not walked here: give files ([`collect_files`](crate::collect_files)).
    pub fn new(
        connect: Connect,
        destination: impl Into<String>,
        files: Vec<PathBuf>,
    ) -> Result<StoreJob, Error> {
        let destination = destination.into();
        check_no_credentials(&destination)?;
        let client = Some(connect(&destination)?);
        Ok(StoreJob {
            state: State {
                destination,
                study: None,
                batch: DEFAULT_BATCH,
                files,
                cursor: 0,
                sent: 0,
                skipped: 0,
                bytes: 0,
                retries: 0,
            },
            connect,
            client,
            verify_until: 0,
        })
    }

    /// Sends to `/studies/{study}`.
    pub fn study(mut self, study: Uid) -> StoreJob {
        self.state.study = Some(study.into_string());
        self
    }

    /// Sends `files` files per step (at least one).
    pub fn batch(mut self, files: usize) -> StoreJob {
        self.state.batch = files.max(1);
        self
    }

    /// A job from its saved state (see [`register`](super::register)).
    pub fn restore(
        connect: Connect,
        saved: serde_json::Value,
    ) -> Result<StoreJob, serde_json::Error> {
        let state: State = serde_json::from_value(saved)?;
        Ok(StoreJob {
            verify_until: state.cursor + state.batch,
            state,
            connect,
            client: None,
        })
    }

    async fn run_step(&mut self) -> Result<StepOutcome, Error> {
        let client = match &self.client {
            Some(client) => client.clone(),
            None => {
                let client = (self.connect)(&self.state.destination)?;
                self.client = Some(client.clone());
                client
            }
        };
        let end = (self.state.cursor + self.state.batch).min(self.state.files.len());
        let mut batch: Vec<PathBuf> = self.state.files[self.state.cursor..end].to_vec();
        // Counted into the state only when the step succeeds: a step that fails is run again.
        let mut skipped = 0;
        if self.state.cursor < self.verify_until {
            let mut uids = Vec::new();
            for path in &batch {
                if let Ok(prepared) = prepare(path).await {
                    uids.push((path.clone(), prepared.uid));
                }
            }
            let wanted: Vec<Uid> = uids.iter().map(|(_, uid)| uid.clone()).collect();
            let present = present_at(&client, &wanted).await?;
            let before = batch.len();
            batch.retain(|path| {
                !uids
                    .iter()
                    .any(|(p, uid)| p == path && present.contains(uid.as_str()))
            });
            skipped = (before - batch.len()) as u64;
        }
        if !batch.is_empty() {
            let mut options = StoreOptions::default()
                .batch_instances(batch.len())
                .batch_bytes(u64::MAX)
                .concurrency(1);
            if let Some(study) = &self.state.study {
                options = options.study(Uid::new(study.clone())?);
            }
            let summary = client.store_files(&batch, &options).await?;
            if !summary.is_success() {
                return Ok(store_failure(
                    &summary,
                    batch.len(),
                    &self.state.destination,
                ));
            }
            self.state.sent += summary.stored.len() as u64;
            self.state.bytes += summary.bytes;
        }
        self.state.skipped += skipped;
        self.state.cursor = end;
        Ok(if end >= self.state.files.len() {
            StepOutcome::Success
        } else {
            StepOutcome::Continue
        })
    }
}

impl Job for StoreJob {
    fn type_name(&self) -> &str {
        STORE_JOB
    }

    fn step<'a>(&'a mut self, _ctx: &'a StepContext) -> StepFuture<'a> {
        Box::pin(async move {
            let result = self.run_step().await;
            if result.is_err() {
                // Part of the batch may have reached the destination before the failure.
                self.verify_until = self.verify_until.max(self.state.cursor + self.state.batch);
            }
            step_outcome(result, &mut self.state.retries)
        })
    }

    fn progress(&self) -> u8 {
        if self.state.files.is_empty() {
            return 100;
        }
        (self.state.cursor * 100 / self.state.files.len()).min(100) as u8
    }

    fn content(&self) -> serde_json::Value {
        serde_json::json!({
            "Destination": self.state.destination,
            "StudyInstanceUID": self.state.study,
            "Files": self.state.files.len(),
            "Done": self.state.cursor,
            "Sent": self.state.sent,
            "AlreadyThere": self.state.skipped,
            "Bytes": self.state.bytes,
            "BatchSize": self.state.batch,
        })
    }

    fn save(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(&self.state)
    }

    fn reset(&mut self) {
        self.verify_until = self.verify_until.max(self.state.cursor + self.state.batch);
        self.state.cursor = 0;
        self.state.sent = 0;
        self.state.skipped = 0;
        self.state.bytes = 0;
        self.state.retries = 0;
    }
}
