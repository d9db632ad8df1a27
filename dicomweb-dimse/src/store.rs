//! The C-STORE SCP: where a received data set goes (a spool file, or nowhere when the
//! instance is refused before its data arrive) and the response once it is complete.
//!
//! Queued mode (the default): the instance is committed to the spool (file and folder synced),
//! queued for upload, and answered 0000. Synchronous mode: it is sent by STOW-RS at once and
//! answered with the outcome: 0000, the server's FailureReason, A700 when the server could not
//! be reached, or C000.

use std::sync::Arc;

use dicomweb_client::store::StoreOptions;

use crate::adapter::Shared;
use crate::association::{DataTarget, SOP_CLASS_NOT_SUPPORTED, storable};
use crate::command::{Command, Response};
use crate::disk;
use crate::spool::InstanceMeta;

/// Status A700: Refused, Out of Resources.
pub const OUT_OF_RESOURCES: u16 = 0xA700;
/// Status C000: Error, Cannot Understand.
pub const CANNOT_UNDERSTAND: u16 = 0xC000;

/// Decides where a C-STORE's data set goes, before its first fragment.
pub(crate) async fn start_store(
    shared: &Arc<Shared>,
    command: &Command,
    meta: &InstanceMeta,
) -> DataTarget {
    if !storable(&meta.sop_class_uid) {
        tracing::warn!(
            sop_class = meta.sop_class_uid,
            "C-STORE of a SOP class that is not a storage SOP class"
        );
        return DataTarget::Discard(SOP_CLASS_NOT_SUPPORTED);
    }
    if meta.sop_instance_uid.is_empty() || command.affected_sop_instance_uid.is_none() {
        tracing::warn!("C-STORE without an Affected SOP Instance UID");
        return DataTarget::Discard(CANNOT_UNDERSTAND);
    }
    match disk::free_bytes(shared.spool.dir()) {
        Ok(free) if !disk::has_room(free, shared.config.min_free_bytes) => {
            tracing::warn!(
                free,
                threshold = shared.config.min_free_bytes,
                "free disk below the threshold: C-STORE refused with A700"
            );
            return DataTarget::Discard(OUT_OF_RESOURCES);
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "cannot read the free disk space; accepting"),
    }
    match shared.spool.create(meta).await {
        Ok(incoming) => DataTarget::Spool(incoming),
        Err(error) => {
            tracing::error!(%error, "cannot create a spool file: C-STORE refused with A700");
            DataTarget::Discard(OUT_OF_RESOURCES)
        }
    }
}

/// Commits a complete instance and gives the response to send (`None` when `command` is not a
/// request).
pub(crate) async fn finish_store(
    shared: &Arc<Shared>,
    command: &Command,
    target: DataTarget,
) -> Option<Response> {
    let status = match target {
        DataTarget::Discard(status) => status,
        DataTarget::Identifier(_) => CANNOT_UNDERSTAND,
        DataTarget::Spool(incoming) => match incoming.commit().await {
            Err(error) => {
                tracing::error!(%error, "cannot make the instance durable: C-STORE refused with A700");
                OUT_OF_RESOURCES
            }
            Ok(spooled) => {
                let uid = command
                    .affected_sop_instance_uid
                    .as_deref()
                    .unwrap_or_default();
                if shared.config.sync {
                    let status = store_now(shared, &spooled.path).await;
                    tracing::info!(
                        uid,
                        bytes = spooled.bytes,
                        status = format_args!("{status:04X}"),
                        "C-STORE (sent by STOW-RS)"
                    );
                    status
                } else {
                    tracing::info!(uid, bytes = spooled.bytes, "C-STORE (spooled)");
                    if let Some(queue) = &shared.queue {
                        queue.enqueue(spooled);
                    }
                    0
                }
            }
        },
    };
    let response = Response::to(command, status)?;
    Some(if status == SOP_CLASS_NOT_SUPPORTED {
        response.with_comment("SOP class not supported by this adapter")
    } else {
        response
    })
}

/// Synchronous mode: one STOW-RS request for this instance; the spool file is removed
/// whatever the outcome (the sender keeps the instance when it is not a success).
async fn store_now(shared: &Arc<Shared>, path: &std::path::Path) -> u16 {
    let files = [path.to_owned()];
    let result = shared
        .client
        .store_files(&files, &StoreOptions::default().concurrency(1))
        .await;
    let _ = tokio::fs::remove_file(path).await;
    match result {
        Ok(summary) if !summary.stored.is_empty() => 0,
        Ok(summary) => match summary.failed.first() {
            Some(failed) if failed.transient => OUT_OF_RESOURCES,
            Some(failed) => failed
                .failure_reason
                .filter(|r| is_failure_status(*r))
                .unwrap_or(CANNOT_UNDERSTAND),
            None => CANNOT_UNDERSTAND,
        },
        Err(error) => {
            tracing::error!(%error, "the STOW-RS request could not be made");
            OUT_OF_RESOURCES
        }
    }
}

/// Whether a STOW-RS FailureReason is also a C-STORE failure status (PS3.4 Annex B; PS3.18
/// takes its FailureReason codes from there).
fn is_failure_status(code: u16) -> bool {
    matches!(code, 0x0110 | 0x0122 | 0x0124 | 0x0211 | 0xA700..=0xA7FF | 0xA900..=0xA9FF | 0xC000..=0xCFFF)
}
