//! DICOMweb transfers as persistent jobs on [`orthanc_jobs`] (feature `jobs`).
//!
//! - [`TransferJob`] copies a study, or a [`Scope`] of it (some series, one instance), from one
//!   DICOMweb server to another: its first step lists the instances at the source (QIDO-RS,
//!   every page); each later step moves one batch by relaying it: the fewest WADO-RS requests
//!   that return exactly the batch (the study, whole series, else a few instance requests at
//!   once) streamed part by part into one chunked STOW-RS request to the destination, with no
//!   temporary file (see `relay.rs`); while the destination stores a batch, the next batch's
//!   request is already on its way. A destination that takes no chunked request
//!   (`ChunkedTransfers: false`) gets the batch through a temporary folder instead. The list
//!   and the batch cursor are the job's saved state, so a job resumed after a crash goes on
//!   from the first batch not finished.
//! - [`StoreJob`] uploads local files the same way, a batch per step.
//!
//! A job resumed from its saved state (after a restart or a crash) first asks the destination
//! which of the instances of the batches that were in flight are already there, and sends only
//! the others: a batch cut short by a crash is completed, never sent twice.
//!
//! Saved state holds server URLs and non-secret settings only; credentials come from the
//! [`Connect`] function given to [`register`] by the program that restores the jobs (the
//! `dicomweb` program builds clients from its command line and environment).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use dicomweb_client::Client;
//! use dicomweb_client::jobs::{self, Connect, TransferJob};
//! use orthanc_jobs::{Engine, EngineConfig, JobRegistry, SqliteStore};
//!
//! let connect: Connect = Arc::new(|url: &str| Client::builder(url).build());
//! let mut registry = JobRegistry::new();
//! jobs::register(&mut registry, connect.clone());
//! let store = Arc::new(SqliteStore::open("jobs.sqlite")?);
//! let engine = Engine::start(store, registry, EngineConfig::new()).await?;
//! let job = TransferJob::new(
//!     connect,
//!     "http://source:8042/dicom-web",
//!     "http://destination:8042/dicom-web",
//!     "1.2.3".parse()?,
//! )?;
//! let record = engine.submit_and_wait(job, 0).await?;
//! println!("{:?}", record.state);
//! # Ok(())
//! # }
//! ```

mod batches;
mod relay;
mod scope;
mod store_job;
mod transfer;

use std::collections::HashSet;
use std::sync::Arc;

use dicomweb_core::Uid;
use dicomweb_core::request::Search;
use dicomweb_core::tags::SOP_INSTANCE_UID;
use orthanc_jobs::{JobRegistry, StepOutcome};

pub use scope::Scope;
pub use store_job::StoreJob;
pub use transfer::TransferJob;

use crate::{Client, Error};

/// Builds a client for an endpoint: a server URL, or a name the program resolves itself (the
/// `dicomweb` program looks names up in its `--config` file), with whatever authentication the
/// program has for it. Jobs save the endpoint as given, never a credential.
pub type Connect = Arc<dyn Fn(&str) -> Result<Client, Error> + Send + Sync>;

/// The type name of [`TransferJob`] (Orthanc's `Type`).
pub const TRANSFER_JOB: &str = "DicomWebTransfer";

/// The type name of [`StoreJob`].
pub const STORE_JOB: &str = "DicomWebStore";

/// Default instances per batch (one STOW-RS request each).
pub const DEFAULT_BATCH: usize = 16;

/// Registers [`TransferJob`] and [`StoreJob`] so an engine can restore them from their saved
/// state, building their clients with `connect`.
pub fn register(registry: &mut JobRegistry, connect: Connect) {
    let for_transfer = connect.clone();
    registry.register(TRANSFER_JOB, move |state| {
        TransferJob::restore(for_transfer.clone(), state).map(|job| Box::new(job) as _)
    });
    registry.register(STORE_JOB, move |state| {
        StoreJob::restore(connect.clone(), state).map(|job| Box::new(job) as _)
    });
}

/// How many UIDs one search asks about (UID list matching keeps the URL short).
const UIDS_PER_SEARCH: usize = 32;

/// The SOP Instance UIDs among `wanted` that the server already holds: one instance-level
/// search per [`UIDS_PER_SEARCH`] UIDs, with UID list matching.
async fn present_at(client: &Client, wanted: &[Uid]) -> Result<HashSet<String>, Error> {
    let mut present = HashSet::new();
    for uids in wanted.chunks(UIDS_PER_SEARCH) {
        let search = Search::instances()
            .matching_uids("SOPInstanceUID", uids)?
            .include("SOPInstanceUID")?;
        let found = match client
            .search_all(search.limit(UIDS_PER_SEARCH as u64), wanted.len())
            .await
        {
            Ok(found) => found.data_sets,
            Err(Error::Protocol(dicomweb_core::Error::Status(status)))
                if status.status == http::StatusCode::NOT_FOUND =>
            {
                Vec::new()
            }
            Err(error) => return Err(error),
        };
        for data_set in &found {
            if let Some(uid) = data_set.string(SOP_INSTANCE_UID)
                && uids.iter().any(|u| u.as_str() == uid)
            {
                present.insert(uid.to_owned());
            }
        }
    }
    Ok(present)
}

/// Refuses a URL that carries credentials (`user:password@host`): job state is written to
/// disk, and credentials must come from the [`Connect`] function instead.
fn check_no_credentials(url: &str) -> Result<(), Error> {
    let has_userinfo = http::Uri::try_from(url)
        .ok()
        .and_then(|uri| uri.authority().map(|a| a.as_str().contains('@')))
        .unwrap_or(false);
    if has_userinfo {
        return Err(Error::Config {
            message: format!(
                "a job's server URL is saved to disk, so it must not carry credentials; \
                 give them separately (e.g. --user/--password, or a named entry of a \
                 configuration file), not in {}",
                url.split_once('@').map_or("the URL", |(_, host)| host)
            ),
        });
    }
    Ok(())
}

/// How many times in a row a step may wait for a server that is down.
const MAX_TRANSIENT_RETRIES: u32 = 5;

/// A step's result as the engine's outcome: a transient error (the network, a 5xx) becomes
/// `RetryAfter` with a growing delay, up to [`MAX_TRANSIENT_RETRIES`] in a row (`retries`
/// counts them, reset by any success); any other error fails the job with its text.
fn step_outcome(result: Result<StepOutcome, Error>, retries: &mut u32) -> StepOutcome {
    match result {
        Ok(outcome) => {
            *retries = 0;
            outcome
        }
        Err(error) if is_transient(&error) && *retries < MAX_TRANSIENT_RETRIES => {
            *retries += 1;
            tracing::warn!(retry = *retries, %error, "job step failed; retrying");
            StepOutcome::RetryAfter(std::time::Duration::from_secs(1 << (*retries).min(5)))
        }
        Err(error) => StepOutcome::Failure {
            code: NETWORK_PROTOCOL,
            description: error.to_string(),
        },
    }
}

/// Orthanc's error code for a failed exchange with a remote server (`NetworkProtocol`).
const NETWORK_PROTOCOL: i32 = 9;

/// The job's failure when a store left instances behind, with each one's reason.
fn store_failure(summary: &crate::StoreSummary, sent: usize, destination: &str) -> StepOutcome {
    let reasons: Vec<String> = summary
        .failed
        .iter()
        .map(|f| match &f.sop_instance_uid {
            Some(uid) => format!("{} ({uid}): {}", f.source, f.reason),
            None => format!("{}: {}", f.source, f.reason),
        })
        .collect();
    not_stored(&reasons, sent, destination)
}

/// The job's failure when some of `sent` instances were not stored, one reason each.
fn not_stored(reasons: &[String], sent: usize, destination: &str) -> StepOutcome {
    StepOutcome::Failure {
        code: NETWORK_PROTOCOL,
        description: format!(
            "{} of {sent} instances were not stored at {destination}: {}",
            reasons.len(),
            reasons.join("; ")
        ),
    }
}

/// Whether an error is worth waiting for and trying again (the server or the network, not
/// the request).
fn is_transient(error: &Error) -> bool {
    match error {
        Error::Transport { .. } | Error::Token { .. } => true,
        Error::Protocol(dicomweb_core::Error::Status(status)) => status.is_retryable(),
        _ => false,
    }
}
