//! A persistent job engine with Orthanc's semantics.
//!
//! Jobs are step-based and resumable ([`Job`]). An [`Engine`] runs them on
//! `concurrent_jobs` workers, higher priority first and in submission order within a
//! priority, and keeps a bounded history of finished jobs. Jobs move through Orthanc's states
//! (`Pending`, `Running`, `Success`, `Failure`, `Paused`, `Retry`) under the actions pause,
//! resume, cancel and resubmit, exactly as the table in [`state`] says; an action not allowed
//! in a state is [`Error::ActionNotAllowed`].
//!
//! Every state change and every finished step is saved through a [`Store`]:
//! [`MemoryStore`], or `SqliteStore` (feature `sqlite`, on by default) which survives a
//! crash: on start, jobs that were running resume from their last saved step. The store is
//! the source of truth, so another process can pause or cancel a job through the same store
//! ([`JobsHandle::new`]). `PostgresStore` (feature `postgres`) shares one queue between
//! engines on several hosts: claims with `FOR UPDATE SKIP LOCKED`, leases judged by the
//! database's clock and renewed by heartbeats, fencing tokens on every write, and
//! `LISTEN`/`NOTIFY` wake-ups (see [`store`]). A job may be pinned to the engines of one
//! name ([`EngineConfig::affinity`], [`JobsHandle::with_affinity`]) when it needs something
//! only one host has; engines without that name never take it.
//!
//! Metrics come as Prometheus text with Orthanc's names ([`JobsHandle::metrics`]); with the
//! `axum` feature, `http::router` serves Orthanc's `/jobs` REST API over an engine.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use orthanc_jobs::{Engine, EngineConfig, Job, JobRegistry, JobState, MemoryStore};
//! use orthanc_jobs::{StepContext, StepFuture, StepOutcome};
//!
//! /// Counts to three, one step at a time.
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Count { done: u8 }
//!
//! impl Job for Count {
//!     fn type_name(&self) -> &str { "Count" }
//!     fn step<'a>(&'a mut self, _ctx: &'a StepContext) -> StepFuture<'a> {
//!         Box::pin(async move {
//!             self.done += 1;
//!             if self.done == 3 { StepOutcome::Success } else { StepOutcome::Continue }
//!         })
//!     }
//!     fn progress(&self) -> u8 { self.done * 33 }
//!     fn save(&self) -> Result<serde_json::Value, serde_json::Error> { serde_json::to_value(self) }
//!     fn reset(&mut self) { self.done = 0; }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), orthanc_jobs::Error> {
//! let mut registry = JobRegistry::new();
//! registry.register_serde::<Count>("Count");
//! let engine = Engine::start(Arc::new(MemoryStore::new()), registry, EngineConfig::new()).await?;
//! let record = engine.submit_and_wait(Count { done: 0 }, 0).await?;
//! assert_eq!(record.state, JobState::Success);
//! assert_eq!(record.steps, 3);
//! engine.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # What it does not do
//!
//! It knows nothing of DICOM (DICOMweb transfer jobs live in `dicomweb-client`), it does not
//! start a runtime (it needs tokio), and it does not drop a running step's future: cancel
//! reaches a step through its cancellation token, and a step that never looks at it runs to
//! its end before the job is marked canceled.

#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's examples compile and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod clock;
mod engine;
mod error;
mod handle;
#[cfg(feature = "axum")]
pub mod http;
mod id;
mod job;
pub mod metrics;
mod record;
mod registry;
pub mod state;
pub mod store;

pub use clock::{Clock, TokioClock};
pub use engine::{Engine, EngineConfig};
pub use error::Error;
pub use handle::JobsHandle;
pub use id::{JobId, OwnerId};
pub use job::{Job, JobOutput, OutputBody, StepContext, StepFuture, StepOutcome};
pub use record::{JobError, JobRecord, orthanc_time};
pub use registry::JobRegistry;
pub use state::{Action, JobState, Recovery, Request, Transition};
pub use store::{MemoryStore, Store};
#[cfg(feature = "postgres")]
pub use store::{PostgresOptions, PostgresStore};
#[cfg(feature = "sqlite")]
pub use store::{SqliteOptions, SqliteStore};
