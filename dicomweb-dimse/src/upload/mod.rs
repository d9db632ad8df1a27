//! The durable upload queue: spooled instances sent to the DICOMweb server by STOW-RS in
//! batches, as jobs of an orthanc-jobs engine over a SQLite store in the state folder, or over
//! a store several replicas share with each replica's jobs pinned to it ([`QueueStore`]).
//!
//! A batcher task gathers newly spooled instances and cuts a batch by count, bytes or a short
//! wait ([`policy::batch_decision`]); each batch becomes one [`UPLOAD_JOB`] job. On start,
//! jobs left unfinished resume from their saved state, and every spool file that no such job
//! holds (received, acknowledged, but not yet in a job when the process stopped) is queued
//! again: what got a success response reaches the server even after a SIGKILL. On a shared
//! store only this replica's jobs count: other replicas' jobs name files on their own disks.

mod job;
pub mod policy;
mod queue_store;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use dicomweb_client::Client;
use orthanc_jobs::{Engine, EngineConfig, JobRegistry, JobState, JobsHandle};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use job::UPLOAD_JOB;
use job::{UploadContext, UploadJob, UploadState};
use policy::{BatchDecision, UploadOptions, batch_decision};
pub use queue_store::{JOBS_FILE, QueueStore};

use crate::Error;
use crate::spool::{Spool, Spooled};

/// The running upload queue.
pub struct UploadQueue {
    sender: mpsc::UnboundedSender<Spooled>,
    batcher: JoinHandle<()>,
    engine: Engine,
}

impl UploadQueue {
    /// Opens the job store (`queue_store`, or the one in `state`), resumes unfinished
    /// uploads, queues spool files no job of this replica holds, and starts sending.
    pub(crate) async fn start(
        client: Client,
        spool: Spool,
        state: &Path,
        queue_store: &QueueStore,
        options: UploadOptions,
        workers: usize,
    ) -> Result<UploadQueue, Error> {
        let opened = queue_store.open(state)?;
        let store = opened.store;
        let replica = opened.replica;
        let held = held_files(&JobsHandle::new(store.clone()), replica.as_deref()).await?;
        let context = Arc::new(UploadContext {
            client,
            spool: spool.clone(),
            options: options.clone(),
        });
        let mut registry = JobRegistry::new();
        let restore_context = context.clone();
        registry.register(UPLOAD_JOB, move |value| {
            let state: UploadState = serde_json::from_value(value)?;
            Ok(Box::new(UploadJob {
                state,
                context: restore_context.clone(),
            }) as Box<dyn orthanc_jobs::Job>)
        });
        let mut config = EngineConfig::new();
        config
            .concurrent_jobs(workers.max(1))
            .history_size(100)
            .recovery(opened.recovery);
        if let Some(name) = &replica {
            // This replica's jobs only: never another replica's, nor other programs' jobs
            // without affinity (types this engine cannot restore).
            config.affinity(name.clone()).pinned_only(true);
            tracing::info!(replica = %name, "upload queue on a shared store, jobs pinned to this replica");
        }
        let engine = Engine::start(store, registry, config).await?;
        let orphans: Vec<Spooled> = spool
            .pending()?
            .into_iter()
            .filter(|spooled| !held.contains(&spooled.path))
            .collect();
        if !orphans.is_empty() {
            tracing::info!(
                instances = orphans.len(),
                "queueing spooled instances left from an earlier run"
            );
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        for spooled in orphans {
            let _ = sender.send(spooled);
        }
        // Jobs submitted through the local handle are pinned to this replica's name.
        let batcher = tokio::spawn(batcher(receiver, engine.local_handle(), context));
        Ok(UploadQueue {
            sender,
            batcher,
            engine,
        })
    }

    /// Queues a spooled instance.
    pub(crate) fn enqueue(&self, spooled: Spooled) {
        if self.sender.send(spooled).is_err() {
            // The batcher only stops at shutdown; the file stays and is queued on restart.
            tracing::warn!("the upload queue is stopping: the instance stays in the spool");
        }
    }

    /// The engine's handle (job list, metrics).
    pub fn jobs(&self) -> &JobsHandle {
        self.engine.handle()
    }

    /// Submits what waits for a batch, then stops the engine (running steps end first).
    pub(crate) async fn shutdown(self) {
        drop(self.sender);
        let _ = self.batcher.await;
        self.engine.shutdown().await;
    }
}

/// The spool files held by this replica's upload jobs that are not finished (`replica`: its
/// name on a shared store, whose other jobs name files on other replicas' disks).
async fn held_files(handle: &JobsHandle, replica: Option<&str>) -> Result<HashSet<PathBuf>, Error> {
    let mut held = HashSet::new();
    for record in handle.list().await? {
        if record.type_name != UPLOAD_JOB
            || record.affinity.as_deref() != replica
            || matches!(record.state, JobState::Success | JobState::Failure)
        {
            continue;
        }
        if let Ok(state) = serde_json::from_value::<UploadState>(record.data) {
            held.extend(state.files);
        }
    }
    Ok(held)
}

/// Gathers instances into batches and submits each as a job; at the channel's end, submits
/// what waits and stops.
async fn batcher(
    mut receiver: mpsc::UnboundedReceiver<Spooled>,
    jobs: JobsHandle,
    context: Arc<UploadContext>,
) {
    let mut waiting: Vec<Spooled> = Vec::new();
    let mut first: Option<Instant> = None;
    loop {
        let bytes = waiting.iter().map(|s| s.bytes).sum();
        let decision = batch_decision(
            waiting.len(),
            bytes,
            first,
            Instant::now(),
            &context.options,
        );
        let next = match decision {
            BatchDecision::Cut => {
                submit(&jobs, &context, std::mem::take(&mut waiting)).await;
                first = None;
                continue;
            }
            BatchDecision::Idle => receiver.recv().await,
            BatchDecision::WaitUntil(deadline) => {
                tokio::select! {
                    received = receiver.recv() => received,
                    () = tokio::time::sleep_until(deadline.into()) => continue,
                }
            }
        };
        match next {
            Some(spooled) => {
                first.get_or_insert_with(Instant::now);
                waiting.push(spooled);
            }
            None => {
                if !waiting.is_empty() {
                    submit(&jobs, &context, waiting).await;
                }
                return;
            }
        }
    }
}

async fn submit(jobs: &JobsHandle, context: &Arc<UploadContext>, batch: Vec<Spooled>) {
    let instances = batch.len();
    let job = UploadJob {
        state: UploadState {
            files: batch.into_iter().map(|s| s.path).collect(),
            ..UploadState::default()
        },
        context: context.clone(),
    };
    match jobs.submit(job, 0).await {
        Ok(id) => tracing::debug!(%id, instances, "upload batch queued"),
        // The files stay in the spool and are queued again on the next start.
        Err(error) => tracing::error!(%error, instances, "cannot queue an upload batch"),
    }
}
