//! The [`Job`] trait: a step-based, resumable unit of work, and what a step sees and returns.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::id::JobId;

/// The future returned by [`Job::step`].
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = StepOutcome> + Send + 'a>>;

/// A resumable job, run one step at a time by the engine.
///
/// After every step the engine saves the job's state ([`Job::save`]) together with its new
/// state in the store, so a crash loses at most the step that was running. A job must
/// therefore keep in its own state where it is (a cursor), and a step should be idempotent
/// or cheap to repeat: after a crash, the step that was running is run again.
pub trait Job: Send + 'static {
    /// The job's type name: the key under which a [`JobRegistry`](crate::JobRegistry) restores
    /// it, and Orthanc's `Type` field.
    fn type_name(&self) -> &str;

    /// Run one step. A step that runs for long should watch [`StepContext::cancelled`] (or
    /// use [`StepContext::sleep`]) so a cancel reaches it at once.
    fn step<'a>(&'a mut self, ctx: &'a StepContext) -> StepFuture<'a>;

    /// Progress from 0 to 100 (larger values are taken as 100).
    fn progress(&self) -> u8 {
        0
    }

    /// What to show about the job (Orthanc's `Content`): any JSON value, usually an object.
    fn content(&self) -> serde_json::Value {
        serde_json::Value::Object(serde_json::Map::new())
    }

    /// The job's state, to be stored and later given back to the registered restore function.
    fn save(&self) -> Result<serde_json::Value, serde_json::Error>;

    /// Start over: called before the first step after a `resubmit` (Orthanc resets a failed
    /// job before running it again).
    fn reset(&mut self);

    /// The job's outputs, taken once when it succeeds and kept in the store
    /// (served at `GET /jobs/{id}/{name}`).
    fn take_outputs(&mut self) -> Vec<JobOutput> {
        Vec::new()
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// More steps to run.
    Continue,
    /// The job is done.
    Success,
    /// The job failed (Orthanc's `ErrorCode` and `ErrorDescription`).
    Failure {
        /// An error code (Orthanc's codes where one fits; `0` is success and must not be used).
        code: i32,
        /// What went wrong.
        description: String,
    },
    /// Wait for this long (state `Retry`), then run the job again from its saved state.
    RetryAfter(Duration),
}

/// What a step can see: the job's id, a cancellation token and the engine's clock.
pub struct StepContext {
    id: JobId,
    cancellation: CancellationToken,
    clock: Arc<dyn Clock>,
}

impl StepContext {
    pub(crate) fn new(id: JobId, cancellation: CancellationToken, clock: Arc<dyn Clock>) -> Self {
        StepContext {
            id,
            cancellation,
            clock,
        }
    }

    /// The job's id.
    pub fn id(&self) -> JobId {
        self.id
    }

    /// The token that fires when the job is canceled (or the engine shuts down).
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancellation
    }

    /// Whether the job was canceled while this step runs.
    pub fn is_cancelled(&self) -> bool {
        self.cancellation.is_cancelled()
    }

    /// Completes when the job is canceled.
    pub async fn cancelled(&self) {
        self.cancellation.cancelled().await;
    }

    /// The engine's current time.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Sleep for `duration` on the engine's clock, waking early if the job is canceled.
    /// Returns `false` if it was canceled.
    pub async fn sleep(&self, duration: Duration) -> bool {
        let deadline = self.clock.now() + duration;
        tokio::select! {
            () = self.clock.sleep_until(deadline) => true,
            () = self.cancellation.cancelled() => false,
        }
    }
}

/// A named output of a finished job: bytes kept in the store, or a file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutput {
    /// The name under which it is served (`GET /jobs/{id}/{name}`).
    pub name: String,
    /// Its media type (`application/zip`, `application/json`, ...).
    pub content_type: String,
    /// The file name to offer in `Content-Disposition`, if any.
    pub filename: Option<String>,
    /// The content.
    pub body: OutputBody,
}

/// Where an output's content is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputBody {
    /// Bytes kept in the store.
    Bytes(Bytes),
    /// A file written by the job; the store keeps its path.
    File(PathBuf),
}

impl JobOutput {
    /// An output held in memory (and in the store).
    pub fn bytes(name: impl Into<String>, content_type: impl Into<String>, data: Bytes) -> Self {
        JobOutput {
            name: name.into(),
            content_type: content_type.into(),
            filename: None,
            body: OutputBody::Bytes(data),
        }
    }

    /// An output that is a file written by the job.
    pub fn file(name: impl Into<String>, content_type: impl Into<String>, path: PathBuf) -> Self {
        JobOutput {
            name: name.into(),
            content_type: content_type.into(),
            filename: None,
            body: OutputBody::File(path),
        }
    }

    /// Offer this file name to downloaders.
    pub fn with_filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }
}
