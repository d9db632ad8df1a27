//! A batch's instances sorted by the server's reply: the core classifies the reply instance by
//! instance ([`StoreResult::classify`]); this maps each outcome to the file or bytes it is
//! about, and decides which instances to send again alone.

use dicomweb_core::response::{StoreResult, StowOutcome};

use super::prepare::Prepared;
use super::{Failed, Stored};
use crate::Error;

/// A batch's files sorted by the reply: stored, failed, and to send again alone.
#[derive(Default)]
pub(super) struct Sorted {
    pub(super) stored: Vec<Stored>,
    pub(super) failed: Vec<Failed>,
    pub(super) again: Vec<Prepared>,
}

/// Sorts a batch's files by the server's reply. With `split`, instances refused wholesale (an
/// error status) or not mentioned go to `again` instead of `failed`. An invalid request is an
/// error for the whole operation; a broken connection (after the retries) fails the batch.
pub(super) fn sort_reply(
    batch: Vec<Prepared>,
    reply: Result<StoreResult, Error>,
    split: bool,
) -> Result<Sorted, Error> {
    let mut sorted = Sorted::default();
    let result = match reply {
        Ok(result) => result,
        Err(error @ Error::Protocol(dicomweb_core::Error::InvalidRequest { .. })) => {
            return Err(error);
        }
        Err(Error::Protocol(dicomweb_core::Error::Status(_))) if split => {
            sorted.again = batch;
            return Ok(sorted);
        }
        Err(error) => {
            let reason = format!("the request failed: {error}");
            let transient = error.is_transient();
            sorted.failed = batch
                .into_iter()
                .map(|f| Failed {
                    source: f.payload.into_source(),
                    sop_instance_uid: Some(f.uid),
                    failure_reason: None,
                    reason: reason.clone(),
                    transient,
                })
                .collect();
            return Ok(sorted);
        }
    };
    let sent: Vec<_> = batch.iter().map(|file| file.uid.clone()).collect();
    for (file, outcome) in batch.into_iter().zip(result.classify(&sent)) {
        match outcome {
            StowOutcome::Stored { sop_instance_uid } => sorted.stored.push(Stored {
                source: file.payload.into_source(),
                sop_instance_uid,
                warning_reason: None,
            }),
            StowOutcome::StoredWithWarning {
                sop_instance_uid,
                reason,
            } => sorted.stored.push(Stored {
                source: file.payload.into_source(),
                sop_instance_uid,
                warning_reason: Some(reason.0),
            }),
            StowOutcome::NotMentioned if split => sorted.again.push(file),
            StowOutcome::NotMentioned => sorted.failed.push(Failed {
                source: file.payload.into_source(),
                sop_instance_uid: Some(file.uid),
                failure_reason: None,
                reason: format!(
                    "the server's reply ({}) does not mention this instance",
                    result.status
                ),
                transient: false,
            }),
            failed => sorted.failed.push(Failed {
                source: file.payload.into_source(),
                sop_instance_uid: Some(file.uid),
                failure_reason: failed.failure_reason().map(|r| r.0),
                reason: failed.to_string(),
                transient: false,
            }),
        }
    }
    Ok(sorted)
}
