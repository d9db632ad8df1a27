//! [`QueueStore`]: where the upload queue keeps its jobs — the state folder's own SQLite file,
//! or a store several adapter replicas share (PostgreSQL), with job affinity per replica.
//!
//! A spooled instance lives on one replica's disk, so with a shared store an upload job may
//! only run on the replica that holds its files. Each replica names itself (in a Kubernetes
//! StatefulSet, its pod name, which stays the same across restarts), and its upload jobs are
//! pinned to that name ([`orthanc_jobs::EngineConfig::affinity`]): no other replica takes
//! them, and when a replica crashes its jobs wait for it to come back. Its engine takes pinned
//! jobs only, so it never runs (and fails) the jobs of other programs on the same database,
//! and engines without a name (`dicomweb jobs serve` workers) never take upload jobs.

use std::path::Path;
use std::sync::Arc;

use orthanc_jobs::{Recovery, SqliteStore, Store};

use crate::Error;

/// The job store's file name in the state folder.
pub const JOBS_FILE: &str = "uploads.sqlite";

/// Where the upload queue keeps its jobs ([`crate::AdapterBuilder::shared_queue`]).
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum QueueStore {
    /// [`JOBS_FILE`] in the state folder (the default): this adapter's alone.
    #[default]
    StateFolder,
    /// A store shared with other adapter replicas and programs (PostgreSQL).
    Shared {
        /// The store.
        store: Arc<dyn Store>,
        /// This replica's name: its upload jobs are pinned to it.
        replica: String,
    },
}

impl std::fmt::Debug for QueueStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueueStore::StateFolder => f.write_str("StateFolder"),
            QueueStore::Shared { replica, .. } => f
                .debug_struct("Shared")
                .field("replica", replica)
                .finish_non_exhaustive(),
        }
    }
}

/// An opened queue store and how this replica's engine uses it.
pub(crate) struct OpenedStore {
    pub(crate) store: Arc<dyn Store>,
    /// The replica's name on a shared store; `None` on the state folder's own file.
    pub(crate) replica: Option<String>,
    pub(crate) recovery: Recovery,
}

impl QueueStore {
    /// Opens the state folder's file, or checks the replica's name of a shared store.
    pub(crate) fn open(&self, state: &Path) -> Result<OpenedStore, Error> {
        match self {
            QueueStore::StateFolder => Ok(OpenedStore {
                store: Arc::new(SqliteStore::open(state.join(JOBS_FILE))?),
                replica: None,
                recovery: Recovery::AllRunning,
            }),
            QueueStore::Shared { store, replica } => {
                let name = replica.trim();
                if name.is_empty() {
                    return Err(Error::Config(
                        "expected a replica name for the shared upload queue, found an empty one"
                            .into(),
                    ));
                }
                Ok(OpenedStore {
                    store: store.clone(),
                    replica: Some(name.to_owned()),
                    // Other replicas run their own jobs: take back only what a crash left.
                    recovery: Recovery::ExpiredLeases,
                })
            }
        }
    }
}
