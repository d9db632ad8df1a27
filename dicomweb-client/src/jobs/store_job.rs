//! [`StoreJob`]: local files uploaded to a DICOMweb server, a batch per step.

use dicomweb_core::Uid;
use orthanc_jobs::{Job, StepContext, StepFuture, StepOutcome};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use super::batches::Batches;
use super::{Connect, STORE_JOB, check_no_credentials, present_at, store_failure};
use crate::store::prepare;
use crate::{Client, Error, StoreOptions};

/// The saved state of an upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    destination: String,
    study: Option<String>,
    files: Vec<PathBuf>,
    #[serde(flatten)]
    batches: Batches,
}

/// Uploads local Part 10 files with STOW-RS (see [the module](super)).
pub struct StoreJob {
    state: State,
    connect: Connect,
    client: Option<Client>,
}

impl StoreJob {
    /// An upload of `files` to `destination` (a DICOMweb root),
    /// [`DEFAULT_BATCH`](super::DEFAULT_BATCH) per step.
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
                files,
                batches: Batches::new(),
            },
            connect,
            client,
        })
    }

    /// Sends to `/studies/{study}`.
    pub fn study(mut self, study: Uid) -> StoreJob {
        self.state.study = Some(study.into_string());
        self
    }

    /// Sends `files` files per step (at least one).
    pub fn batch(mut self, files: usize) -> StoreJob {
        self.state.batches.set_batch(files);
        self
    }

    /// A job from its saved state (see [`register`](super::register)).
    pub fn restore(
        connect: Connect,
        saved: serde_json::Value,
    ) -> Result<StoreJob, serde_json::Error> {
        let mut state: State = serde_json::from_value(saved)?;
        state.batches = state.batches.restored();
        Ok(StoreJob {
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
        let next = self.state.batches.next(self.state.files.len());
        let end = next.end;
        let mut batch: Vec<PathBuf> = self.state.files[next].to_vec();
        // Counted into the state only when the step succeeds: a step that fails is run again.
        let mut skipped = 0;
        if self.state.batches.must_verify() {
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
        let (mut sent, mut bytes) = (0, 0);
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
            sent = summary.stored.len() as u64;
            bytes = summary.bytes;
        }
        self.state.batches.done(end, sent, skipped, bytes);
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
            self.state.batches.outcome(result)
        })
    }

    fn progress(&self) -> u8 {
        self.state.batches.percent(self.state.files.len())
    }

    fn content(&self) -> serde_json::Value {
        let mut content = serde_json::Map::new();
        content.insert("Destination".into(), self.state.destination.clone().into());
        content.insert("StudyInstanceUID".into(), self.state.study.clone().into());
        content.insert("Files".into(), self.state.files.len().into());
        content.insert("Done".into(), self.state.batches.cursor.into());
        self.state.batches.content(&mut content);
        serde_json::Value::Object(content)
    }

    fn save(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(&self.state)
    }

    fn reset(&mut self) {
        self.state.batches.restart();
    }
}
