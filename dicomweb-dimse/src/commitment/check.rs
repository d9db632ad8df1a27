//! Deciding each referenced instance's fate (the IO around [`report::verdict`]): the upload
//! queue is looked at first (which SOP instances the spool holds, read from each spool file's
//! meta group), then the DICOMweb server asked by QIDO-RS, [`BATCH`] SOP Instance UIDs per
//! request (UID list matching; a server that refuses the list for good, not for a transient
//! reason, is asked one UID at a time). Instances still queued, or a server that cannot be asked, are
//! looked at again every [`POLL`] until the wait is over or the adapter shuts down.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dicomweb_core::Uid;
use dicomweb_core::file_meta::FileMeta;
use dicomweb_core::request::Search;
use dicomweb_core::tags::{SOP_CLASS_UID, SOP_INSTANCE_UID};

use super::report::{self, OnServer, Outcome, Verdict};
use super::request::{CommitmentRequest, Reference};
use crate::adapter::Shared;
use crate::spool::Spool;

/// SOP Instance UIDs asked of the server per QIDO-RS request (some 3.3 KB of query).
pub const BATCH: usize = 50;
/// How long between two looks at instances still waited for.
pub const POLL: Duration = Duration::from_millis(500);

/// Each referenced instance's outcome, in the order referenced.
pub(crate) async fn outcomes(
    shared: &Arc<Shared>,
    request: &CommitmentRequest,
) -> Vec<(Reference, Outcome)> {
    let deadline = Instant::now() + shared.config.commitment_wait;
    let mut decided: Vec<Option<Outcome>> = vec![None; request.references.len()];
    let mut spool_names = SpoolNames::default();
    loop {
        let may_wait = Instant::now() < deadline && !shared.shutdown.is_cancelled();
        // The queue first: an instance uploaded between the two looks is then on the server.
        let queued = if shared.queue.is_some() {
            spool_names.queued(&shared.spool).await
        } else {
            HashSet::new()
        };
        let open: Vec<usize> = (0..decided.len())
            .filter(|&i| decided[i].is_none())
            .collect();
        let mut waiting = 0;
        for batch in open.chunks(BATCH) {
            let uids: Vec<Uid> = batch
                .iter()
                .map(|&i| request.references[i].sop_instance_uid.clone())
                .collect();
            let found = on_server(shared, &uids).await;
            for &i in batch {
                let reference = &request.references[i];
                let uid = reference.sop_instance_uid.as_str();
                let seen = match &found {
                    None => OnServer::Unknown,
                    Some(found) => match found.get(uid) {
                        Some(class) => OnServer::Present(class.as_deref()),
                        None => OnServer::Absent,
                    },
                };
                match report::verdict(reference, seen, queued.contains(uid), may_wait) {
                    Verdict::Decided(outcome) => decided[i] = Some(outcome),
                    Verdict::Wait => waiting += 1,
                }
            }
        }
        if waiting == 0 {
            break;
        }
        tracing::debug!(
            transaction = %request.transaction_uid,
            waiting,
            "storage commitment: waiting for queued instances or the server"
        );
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = shared.shutdown.cancelled() => {}
        }
    }
    request
        .references
        .iter()
        .cloned()
        .zip(decided)
        .map(|(reference, outcome)| {
            (
                reference,
                outcome.unwrap_or(Outcome::Failed(report::PROCESSING_FAILURE)),
            )
        })
        .collect()
}

/// The instances among `uids` the server has, with the SOP class it names for each; `None`
/// when it cannot be asked. A list the server refuses for good is asked one UID at a time.
async fn on_server(shared: &Arc<Shared>, uids: &[Uid]) -> Option<HashMap<String, Option<String>>> {
    match search(shared, uids).await {
        Ok(found) => Some(found),
        Err(error) if uids.len() > 1 && !error.is_transient() => {
            tracing::info!(%error, "storage commitment: the server refused a UID list; asking one UID at a time");
            let mut found = HashMap::new();
            for uid in uids {
                match search(shared, std::slice::from_ref(uid)).await {
                    Ok(one) => found.extend(one),
                    Err(error) => {
                        tracing::warn!(%error, "storage commitment: the DICOMweb server cannot be asked");
                        return None;
                    }
                }
            }
            Some(found)
        }
        Err(error) => {
            tracing::warn!(%error, "storage commitment: the DICOMweb server cannot be asked");
            None
        }
    }
}

/// One QIDO-RS instance search for `uids`.
async fn search(
    shared: &Arc<Shared>,
    uids: &[Uid],
) -> Result<HashMap<String, Option<String>>, dicomweb_client::Error> {
    let search = Search::instances()
        .matching_uids("SOPInstanceUID", uids)?
        .include("SOPClassUID")?;
    let results = shared.client.search_all(search, uids.len() * 4).await?;
    Ok(results
        .data_sets
        .iter()
        .filter_map(|data_set| {
            let uid = data_set.uid(SOP_INSTANCE_UID)?;
            let class = data_set
                .string(SOP_CLASS_UID)
                .map(|c| c.trim_end_matches(['\0', ' ']).to_owned());
            Some((uid.into_string(), class))
        })
        .collect())
}

/// The SOP Instance UIDs of spool files, each file's meta group read once.
#[derive(Default)]
struct SpoolNames {
    known: HashMap<PathBuf, Option<String>>,
}

impl SpoolNames {
    /// The SOP Instance UIDs of the instances in the spool now (received, acknowledged, not
    /// yet stored on the server nor refused by it).
    async fn queued(&mut self, spool: &Spool) -> HashSet<String> {
        let spool = spool.clone();
        let mut known = std::mem::take(&mut self.known);
        let (known, queued) = tokio::task::spawn_blocking(move || {
            let pending = match spool.pending() {
                Ok(pending) => pending,
                Err(error) => {
                    tracing::warn!(%error, "storage commitment: cannot list the spool");
                    Vec::new()
                }
            };
            let present: HashSet<PathBuf> = pending.iter().map(|s| s.path.clone()).collect();
            known.retain(|path, _| present.contains(path));
            for spooled in pending {
                known
                    .entry(spooled.path.clone())
                    .or_insert_with(|| instance_uid(&spooled.path));
            }
            let queued = known.values().flatten().cloned().collect();
            (known, queued)
        })
        .await
        .unwrap_or_default();
        self.known = known;
        queued
    }
}

/// The SOP Instance UID in a spool file's meta group (which the adapter wrote: a few hundred
/// bytes).
fn instance_uid(path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut head = Vec::new();
    file.by_ref().take(64 * 1024).read_to_end(&mut head).ok()?;
    let meta = FileMeta::read(&head).ok()??;
    meta.sop_instance_uid
        .map(|uid| uid.trim_end_matches(['\0', ' ']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spool::InstanceMeta;

    #[tokio::test]
    async fn the_queue_is_read_from_the_spool_files_meta_groups() {
        let state = tempfile::tempdir().unwrap();
        let spool = Spool::open(state.path()).unwrap();
        let mut names = SpoolNames::default();
        assert!(names.queued(&spool).await.is_empty());
        let mut spooled = Vec::new();
        for uid in ["1.2.3.1", "1.2.3.2"] {
            let meta = InstanceMeta {
                sop_class_uid: "1.2.840.10008.5.1.4.1.1.7".into(),
                sop_instance_uid: uid.into(),
                transfer_syntax_uid: "1.2.840.10008.1.2.1".into(),
                source_aet: "CT".into(),
            };
            let mut incoming = spool.create(&meta).await.unwrap();
            incoming.write(&[0; 64]).await.unwrap();
            spooled.push(incoming.commit().await.unwrap());
        }
        // Being received: not acknowledged, not queued.
        let being_received = spool
            .create(&InstanceMeta {
                sop_class_uid: "1.2.840.10008.5.1.4.1.1.7".into(),
                sop_instance_uid: "1.2.3.9".into(),
                transfer_syntax_uid: "1.2.840.10008.1.2.1".into(),
                source_aet: "CT".into(),
            })
            .await
            .unwrap();
        let queued = names.queued(&spool).await;
        assert_eq!(
            queued,
            HashSet::from(["1.2.3.1".to_owned(), "1.2.3.2".to_owned()])
        );
        // Uploaded: its file is gone, and so is it from the queue.
        std::fs::remove_file(&spooled[0].path).unwrap();
        assert_eq!(
            names.queued(&spool).await,
            HashSet::from(["1.2.3.2".to_owned()])
        );
        drop(being_received);
    }
}
