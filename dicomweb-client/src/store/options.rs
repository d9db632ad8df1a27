//! What a store is asked to do and what it achieved: [`StoreOptions`] (batching and
//! concurrency), and [`StoreSummary`] with each instance [`Stored`] or [`Failed`], named by its
//! [`InstanceSource`].

use std::path::{Path, PathBuf};

use dicomweb_core::Uid;

/// How [`Client::store_files`](crate::Client::store_files) groups and sends instances.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Send to `/studies/{study}`: the server refuses instances of other studies.
    pub study: Option<Uid>,
    /// At most this many instances per request (at least one).
    pub batch_instances: usize,
    /// At most this many bytes of instances per request; a larger file goes alone.
    pub batch_bytes: u64,
    /// At most this many requests in flight (at least one).
    pub concurrency: usize,
}

impl Default for StoreOptions {
    /// 32 instances or 64 MiB per request, two requests in flight.
    fn default() -> Self {
        StoreOptions {
            study: None,
            batch_instances: 32,
            batch_bytes: 64 * 1024 * 1024,
            concurrency: 2,
        }
    }
}

impl StoreOptions {
    /// Sends to `/studies/{study}`.
    pub fn study(mut self, study: Uid) -> Self {
        self.study = Some(study);
        self
    }

    /// At most `n` instances per request.
    pub fn batch_instances(mut self, n: usize) -> Self {
        self.batch_instances = n.max(1);
        self
    }

    /// At most `bytes` of instances per request.
    pub fn batch_bytes(mut self, bytes: u64) -> Self {
        self.batch_bytes = bytes.max(1);
        self
    }

    /// At most `n` requests in flight.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
}

/// Where an instance given to a store came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceSource {
    /// A file ([`Client::store_files`](crate::Client::store_files)).
    File(PathBuf),
    /// The instance at this index of the list given to [`Client::store_instances`](crate::Client::store_instances).
    Memory(usize),
}

impl InstanceSource {
    /// The file, for a file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            InstanceSource::File(path) => Some(path),
            InstanceSource::Memory(_) => None,
        }
    }
}

impl std::fmt::Display for InstanceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InstanceSource::File(path) => write!(f, "{}", path.display()),
            InstanceSource::Memory(index) => write!(f, "instance #{index}"),
        }
    }
}

/// An instance the server stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stored {
    /// The file, or the position in the list given.
    pub source: InstanceSource,
    /// Its SOP Instance UID, as the server reported it (a file whose meta group disagrees
    /// with its data set is reported under the data set's UID).
    pub sop_instance_uid: Uid,
    /// The server's WarningReason code, if it stored the instance with a change.
    pub warning_reason: Option<u16>,
}

/// An instance that was not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failed {
    /// The file, or the position in the list given.
    pub source: InstanceSource,
    /// Its SOP Instance UID, when its meta group could be read.
    pub sop_instance_uid: Option<Uid>,
    /// The server's FailureReason code, when it gave one.
    pub failure_reason: Option<u16>,
    /// Why, in words.
    pub reason: String,
    /// Whether the request failed in a way worth trying again later (a broken connection, a
    /// timeout, or a 408/429/5xx status after the client's own retries), as opposed to a
    /// refusal of the instance itself.
    pub transient: bool,
}

/// What [`Client::store_files`](crate::Client::store_files) or [`Client::store_instances`](crate::Client::store_instances) achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreSummary {
    /// The instances stored.
    pub stored: Vec<Stored>,
    /// The instances not stored, with reasons.
    pub failed: Vec<Failed>,
    /// Bytes of instances sent (not multipart framing), retries not counted.
    pub bytes: u64,
    /// STOW-RS requests made: one per batch, plus one per instance sent again alone
    /// (retries not counted).
    pub requests: usize,
}

impl StoreSummary {
    /// Whether every instance was stored.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
    }
}
