//! Identifiers: [`JobId`] for jobs, [`OwnerId`] for the engine that holds a running job.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::error::Error;

/// A job's id: a random UUID, written as Orthanc writes job ids
/// (`6f1c2b7e-0c1d-4c53-9d2e-3b4a5c6d7e8f`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(uuid::Uuid);

impl JobId {
    /// A new random id.
    pub fn new() -> JobId {
        JobId(uuid::Uuid::new_v4())
    }

    /// The id's 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl Default for JobId {
    fn default() -> Self {
        JobId::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobId({self})")
    }
}

impl FromStr for JobId {
    type Err = Error;

    fn from_str(text: &str) -> Result<JobId, Error> {
        uuid::Uuid::try_parse(text)
            .map(JobId)
            .map_err(|_| Error::InvalidId {
                found: text.chars().take(80).collect(),
            })
    }
}

/// A hasher for [`JobId`] keys: ids are random, so their bytes need no further mixing.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }

    fn write_usize(&mut self, _length: usize) {}
}

/// A map keyed by job id.
pub(crate) type IdMap<V> =
    std::collections::HashMap<JobId, V, std::hash::BuildHasherDefault<IdHasher>>;

/// A set of job ids.
pub(crate) type IdSet = std::collections::HashSet<JobId, std::hash::BuildHasherDefault<IdHasher>>;

/// The identity of one running engine: it claims jobs under this id and holds leases on them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OwnerId(Arc<str>);

impl OwnerId {
    /// A new random owner id.
    pub fn new() -> OwnerId {
        OwnerId(uuid::Uuid::new_v4().simple().to_string().into())
    }

    /// An owner id read back from a store.
    pub fn from_stored(text: &str) -> OwnerId {
        OwnerId(text.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for OwnerId {
    fn default() -> Self {
        OwnerId::new()
    }
}

impl fmt::Display for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OwnerId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_junk() {
        let id = JobId::new();
        let text = id.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text.parse::<JobId>().ok(), Some(id));
        let err = "../../etc".parse::<JobId>().unwrap_err();
        assert!(err.to_string().contains("\"../../etc\""), "{err}");
        assert_ne!(JobId::new(), JobId::new());
    }
}
