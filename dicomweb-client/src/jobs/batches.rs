//! Where a batched job is, shared by [`TransferJob`](super::TransferJob) and
//! [`StoreJob`](super::StoreJob): saved with the job's state, and what it must check again.

use std::ops::Range;

use orthanc_jobs::StepOutcome;
use serde::{Deserialize, Serialize};

use super::{DEFAULT_BATCH, step_outcome};
use crate::Error;

/// A job's batches on their way at once: the one being stored, and the next one, whose
/// request starts once the current one's body is sent (see the relay). After a crash or a
/// failure, both may have arrived.
const IN_FLIGHT: usize = 2;

/// A batch cursor and the job's counters (saved, flattened into the job's state), plus how
/// far the destination must be asked before sending (not saved: set on restore).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Batches {
    /// Items per step.
    pub(super) batch: usize,
    /// The first item not yet done.
    pub(super) cursor: usize,
    /// Instances sent, instances found at the destination already, bytes sent.
    pub(super) sent: u64,
    pub(super) skipped: u64,
    pub(super) bytes: u64,
    /// Transient failures in a row.
    pub(super) retries: u32,
    /// Items before this index may be at the destination already (a batch in flight at a
    /// crash, a failed step's batch, batches sent before a resubmit).
    #[serde(skip)]
    verify_until: usize,
}

impl Batches {
    pub(super) fn new() -> Batches {
        Batches {
            batch: DEFAULT_BATCH,
            cursor: 0,
            sent: 0,
            skipped: 0,
            bytes: 0,
            retries: 0,
            verify_until: 0,
        }
    }

    /// Restored from saved state: the batches that were in flight may have arrived in part.
    pub(super) fn restored(mut self) -> Batches {
        self.unsure();
        self
    }

    /// Sets the batch size (at least one).
    pub(super) fn set_batch(&mut self, items: usize) {
        self.batch = items.max(1);
    }

    /// The next batch of a list of `len` items.
    pub(super) fn next(&self, len: usize) -> Range<usize> {
        self.cursor.min(len)..(self.cursor + self.batch).min(len)
    }

    /// The batch after the next one, when there is one and it will be sent without asking
    /// the destination first: what may be fetched while the next one is stored.
    pub(super) fn following(&self, len: usize) -> Option<Range<usize>> {
        let start = (self.cursor + self.batch).min(len);
        let end = (start + self.batch).min(len);
        (start < end && start >= self.verify_until).then_some(start..end)
    }

    /// Whether the destination must be asked which items of the next batch it holds.
    pub(super) fn must_verify(&self) -> bool {
        self.cursor < self.verify_until
    }

    /// Marks everything up to the end of the batches that may be in flight as possibly at the
    /// destination.
    fn unsure(&mut self) {
        let end = self.cursor + IN_FLIGHT * self.batch;
        self.verify_until = self.verify_until.max(end);
    }

    /// Records a successful step: the batch ending at `end` is done.
    pub(super) fn done(&mut self, end: usize, sent: u64, skipped: u64, bytes: u64) {
        self.cursor = end;
        self.sent += sent;
        self.skipped += skipped;
        self.bytes += bytes;
    }

    /// The engine's outcome for a step's result; a failed step leaves its batch to be checked
    /// at the destination before it is sent again.
    pub(super) fn outcome(&mut self, result: Result<StepOutcome, Error>) -> StepOutcome {
        if result.is_err() {
            self.unsure();
        }
        step_outcome(result, &mut self.retries)
    }

    /// Progress in percent of `len` items.
    pub(super) fn percent(&self, len: usize) -> u8 {
        if len == 0 {
            return 100;
        }
        (self.cursor * 100 / len).min(100) as u8
    }

    /// Starts over (resubmit): what was done so far may be at the destination already.
    pub(super) fn restart(&mut self) {
        self.unsure();
        *self = Batches {
            verify_until: self.verify_until,
            batch: self.batch,
            ..Batches::new()
        };
    }

    /// The counters for the job's `Content`.
    pub(super) fn content(&self, content: &mut serde_json::Map<String, serde_json::Value>) {
        content.insert("Sent".into(), self.sent.into());
        content.insert("AlreadyThere".into(), self.skipped.into());
        content.insert("Bytes".into(), self.bytes.into());
        content.insert("BatchSize".into(), self.batch.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_following_batch_is_known_unless_it_must_be_verified_or_there_is_none() {
        let mut batches = Batches::new();
        batches.set_batch(2);
        assert_eq!(batches.following(5), Some(2..4));
        batches.done(2, 2, 0, 0);
        assert_eq!(batches.following(5), Some(4..5));
        batches.done(4, 2, 0, 0);
        assert_eq!(batches.following(5), None);
        // The two batches in flight at a crash are verified; the one after them is not.
        let mut restored = Batches::new().restored();
        assert!(restored.must_verify());
        assert_eq!(restored.following(60), None);
        restored.done(16, 16, 0, 0);
        assert!(restored.must_verify());
        assert_eq!(restored.following(60), Some(32..48));
        restored.done(32, 16, 0, 0);
        assert!(!restored.must_verify());
    }

    #[test]
    fn a_restored_or_failed_or_restarted_job_verifies_what_may_have_arrived() {
        let mut batches = Batches::new();
        batches.set_batch(4);
        assert!(!batches.must_verify());
        batches.done(4, 4, 0, 100);
        let saved = serde_json::to_value(&batches).map_err(|e| e.to_string());
        let restored: Batches = saved
            .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
            .map(Batches::restored)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(restored.next(10), 4..8);
        assert!(restored.must_verify());

        let mut failed = Batches::new();
        let outcome = failed.outcome(Err(Error::Config {
            message: "no".into(),
        }));
        assert!(matches!(outcome, StepOutcome::Failure { .. }));
        assert!(failed.must_verify());

        batches.done(8, 4, 0, 100);
        batches.restart();
        assert_eq!((batches.cursor, batches.sent, batches.batch), (0, 0, 4));
        for cursor in [0, 4, 8, 12] {
            batches.cursor = cursor;
            assert!(batches.must_verify(), "{cursor}");
        }
        batches.cursor = 16;
        assert!(!batches.must_verify());
        batches.cursor = 12;
        assert_eq!(batches.percent(24), 50);
        assert_eq!(Batches::new().percent(0), 100);
    }
}
