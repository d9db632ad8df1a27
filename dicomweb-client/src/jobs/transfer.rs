//! [`TransferJob`]: a study copied from one DICOMweb server to another, a batch per step.

use dicomweb_core::request::{RetrieveInstances, Search, Target};
use dicomweb_core::{Tag, Uid};
use orthanc_jobs::{Job, StepContext, StepFuture, StepOutcome};
use serde::{Deserialize, Serialize};

use super::{
    Connect, DEFAULT_BATCH, TRANSFER_JOB, check_no_credentials, present_at, step_outcome,
    store_failure,
};
use crate::{Client, Error, StoreOptions};

const SERIES_INSTANCE_UID: Tag = Tag(0x0020_000E);
const SOP_INSTANCE_UID: Tag = Tag(0x0008_0018);

/// The most instances one study may list (a guard against a runaway server).
const MAX_INSTANCES: usize = 1_000_000;

/// One instance to move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct InstanceRef {
    series: String,
    sop: String,
}

/// The saved state of a transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    source: String,
    destination: String,
    study: String,
    batch: usize,
    /// The study's instances at the source, once listed.
    instances: Option<Vec<InstanceRef>>,
    /// The first instance not yet moved.
    cursor: usize,
    /// Instances sent, and found already at the destination when resuming.
    sent: u64,
    skipped: u64,
    bytes: u64,
    /// Transient failures in a row.
    retries: u32,
}

/// Copies a study from one DICOMweb server to another (see [the module](super)).
pub struct TransferJob {
    state: State,
    connect: Connect,
    clients: Option<(Client, Client)>,
    /// Instances before this index may be at the destination already (a batch in flight at
    /// a crash, or batches sent before a resubmit): ask the destination before sending them.
    verify_until: usize,
}

impl TransferJob {
    /// A transfer of `study` from `source` to `destination` (DICOMweb roots), in batches of
    /// [`DEFAULT_BATCH`] instances.
    pub fn new(
        connect: Connect,
        source: impl Into<String>,
        destination: impl Into<String>,
        study: Uid,
    ) -> Result<TransferJob, Error> {
        let source = source.into();
        let destination = destination.into();
        check_no_credentials(&source)?;
        check_no_credentials(&destination)?;
        let clients = Some((connect(&source)?, connect(&destination)?));
        Ok(TransferJob {
            state: State {
                source,
                destination,
                study: study.into_string(),
                batch: DEFAULT_BATCH,
                instances: None,
                cursor: 0,
                sent: 0,
                skipped: 0,
                bytes: 0,
                retries: 0,
            },
            connect,
            clients,
            verify_until: 0,
        })
    }

    /// Moves `instances` instances per step (at least one).
    pub fn batch(mut self, instances: usize) -> TransferJob {
        self.state.batch = instances.max(1);
        self
    }

    /// A job from its saved state (see [`register`](super::register)).
    pub fn restore(
        connect: Connect,
        saved: serde_json::Value,
    ) -> Result<TransferJob, serde_json::Error> {
        let state: State = serde_json::from_value(saved)?;
        Ok(TransferJob {
            verify_until: state.cursor + state.batch,
            state,
            connect,
            clients: None,
        })
    }

    /// The study being moved.
    pub fn study(&self) -> &str {
        &self.state.study
    }

    fn clients(&mut self) -> Result<(Client, Client), Error> {
        if let Some(clients) = &self.clients {
            return Ok(clients.clone());
        }
        let clients = (
            (self.connect)(&self.state.source)?,
            (self.connect)(&self.state.destination)?,
        );
        self.clients = Some(clients.clone());
        Ok(clients)
    }

    async fn run_step(&mut self, ctx: &StepContext) -> Result<StepOutcome, Error> {
        let (source, destination) = self.clients()?;
        let study = Uid::new(self.state.study.clone())?;
        let Some(instances) = &self.state.instances else {
            let search = Search::instances_of_study(study)
                .include("SeriesInstanceUID")?
                .include("SOPInstanceUID")?
                .limit(1000);
            let found = source.search_all(search, MAX_INSTANCES).await?;
            let mut list = Vec::with_capacity(found.data_sets.len());
            for data_set in &found.data_sets {
                let (Some(series), Some(sop)) = (
                    data_set.string(SERIES_INSTANCE_UID),
                    data_set.string(SOP_INSTANCE_UID),
                ) else {
                    return Err(Error::Protocol(dicomweb_core::Error::UnexpectedResponse {
                        expected: "SeriesInstanceUID and SOPInstanceUID in every instance found",
                        found: format!("an instance without them in study {}", self.state.study),
                    }));
                };
                list.push(InstanceRef {
                    series: series.to_owned(),
                    sop: sop.to_owned(),
                });
            }
            if list.is_empty() {
                return Ok(StepOutcome::Failure {
                    code: 13, // Orthanc's UnknownResource
                    description: format!(
                        "study {} has no instances at {}",
                        self.state.study, self.state.source
                    ),
                });
            }
            self.state.instances = Some(list);
            return Ok(StepOutcome::Continue);
        };
        let end = (self.state.cursor + self.state.batch).min(instances.len());
        let batch: Vec<InstanceRef> = instances[self.state.cursor..end].to_vec();
        let total = instances.len();
        let uids = batch
            .iter()
            .map(|i| Uid::new(i.sop.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let present = if self.state.cursor < self.verify_until {
            present_at(&destination, &uids).await?
        } else {
            Default::default()
        };
        let temp = tempfile::tempdir().map_err(|source| Error::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let mut files = Vec::new();
        // Counted into the state only when the step succeeds: a step that fails is run again.
        let mut skipped = 0;
        for (instance, uid) in batch.iter().zip(&uids) {
            if present.contains(uid.as_str()) {
                skipped += 1;
                continue;
            }
            if ctx.is_cancelled() {
                return Ok(StepOutcome::Continue);
            }
            let target = Target::instance(
                Uid::new(self.state.study.clone())?,
                Uid::new(instance.series.clone())?,
                uid.clone(),
            );
            let got = source
                .retrieve_instances_to_dir(&RetrieveInstances::new(target), temp.path())
                .await?;
            files.extend(got.files.into_iter().map(|f| f.path));
        }
        if !files.is_empty() {
            let options = StoreOptions::default()
                .batch_instances(files.len())
                .batch_bytes(u64::MAX)
                .concurrency(1);
            let summary = destination.store_files(&files, &options).await?;
            if !summary.is_success() {
                return Ok(store_failure(
                    &summary,
                    files.len(),
                    &self.state.destination,
                ));
            }
            self.state.sent += summary.stored.len() as u64;
            self.state.bytes += summary.bytes;
        }
        self.state.skipped += skipped;
        self.state.cursor = end;
        Ok(if end >= total {
            StepOutcome::Success
        } else {
            StepOutcome::Continue
        })
    }
}

impl Job for TransferJob {
    fn type_name(&self) -> &str {
        TRANSFER_JOB
    }

    fn step<'a>(&'a mut self, ctx: &'a StepContext) -> StepFuture<'a> {
        Box::pin(async move {
            let result = self.run_step(ctx).await;
            if result.is_err() {
                // Part of the batch may have reached the destination before the failure.
                self.verify_until = self.verify_until.max(self.state.cursor + self.state.batch);
            }
            step_outcome(result, &mut self.state.retries)
        })
    }

    fn progress(&self) -> u8 {
        match &self.state.instances {
            None => 0,
            Some(list) if list.is_empty() => 100,
            Some(list) => (self.state.cursor * 100 / list.len()).min(100) as u8,
        }
    }

    fn content(&self) -> serde_json::Value {
        serde_json::json!({
            "Source": self.state.source,
            "Destination": self.state.destination,
            "StudyInstanceUID": self.state.study,
            "Instances": self.state.instances.as_ref().map(Vec::len),
            "Moved": self.state.cursor,
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
        // After a failure, what was moved so far (and the batch that failed) may be at the
        // destination already.
        self.verify_until = self.verify_until.max(self.state.cursor + self.state.batch);
        self.state.instances = None;
        self.state.cursor = 0;
        self.state.sent = 0;
        self.state.skipped = 0;
        self.state.bytes = 0;
        self.state.retries = 0;
    }
}
