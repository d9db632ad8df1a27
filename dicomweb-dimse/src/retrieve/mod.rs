//! The C-MOVE and C-GET SCPs: the instances a retrieve identifier names are found with QIDO-RS
//! ([`plan::instances_search`]), fetched with WADO-RS (the fewest requests for the level) and
//! sent by C-STORE sub-operations (the crate's C-STORE SCU): to the C-MOVE destination, an AE
//! title of the known modalities reached on a new association, or back over the C-GET's own
//! association (the requester proposed storage contexts with the SCP role).
//!
//! After each sub-operation a pending response (FF00) carries the remaining, completed, failed
//! and warning counts; the final one is 0000, B000 (some failed or warned) or A702 (none
//! succeeded); FE00 after a C-CANCEL; A801 for an unknown move destination; A900 for an
//! identifier without the level's unique keys; C000 when the DICOMweb server fails. A failed
//! sub-operation is counted and reported, never dropped: instances the WADO-RS replies did not
//! deliver count as failed too.

pub mod plan;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use dicom_ul::Pdu;
use dicom_ul::association::{AsyncAssociation, AsyncServerAssociation};
use dicomweb_core::request::RetrieveInstances;

use crate::adapter::Shared;
use crate::association::Stream;
use crate::command::{Command, CommandField, Response, SubOperations};
use crate::find::{self, Ended, IDENTIFIER_DOES_NOT_MATCH, UNABLE_TO_PROCESS};
use crate::scu::{StoreScu, SubOutcome, send_instance};
use plan::{Found, final_status, found, instances_search, targets};

/// Status A801: move destination unknown.
pub const MOVE_DESTINATION_UNKNOWN: u16 = 0xA801;
/// Status FE00: canceled.
const CANCELED: u16 = 0xFE00;
/// Status FF00: pending.
const PENDING: u16 = 0xFF00;
/// At most this many instances per retrieve.
const MAX_INSTANCES: usize = 60_000;

type Requester<S> = AsyncServerAssociation<S>;

/// Answers a C-MOVE or C-GET whose identifier is `identifier`.
pub(crate) async fn answer<S: Stream>(
    requester: &mut Requester<S>,
    shared: &Arc<Shared>,
    context: u8,
    transfer_syntax: &str,
    command: &Command,
    identifier: &[u8],
) -> Result<Ended, String> {
    let sop_class = command
        .affected_sop_class_uid
        .as_deref()
        .unwrap_or_default();
    let is_move = command.field == CommandField::CMoveRq;
    let data_set = match find::read_identifier(identifier, sop_class, transfer_syntax) {
        Ok(data_set) => data_set,
        Err(reason) => {
            return finish(
                requester,
                context,
                command,
                IDENTIFIER_DOES_NOT_MATCH,
                None,
                &reason,
            )
            .await;
        }
    };
    let (level, search) = match instances_search(&data_set) {
        Ok(found) => found,
        Err(reason) => {
            return finish(
                requester,
                context,
                command,
                IDENTIFIER_DOES_NOT_MATCH,
                None,
                &reason.0,
            )
            .await;
        }
    };
    let destination_aet = command.move_destination.clone().unwrap_or_default();
    let modality = if is_move {
        match shared.config.modalities.by_aet(&destination_aet) {
            Some((_, modality)) => Some(modality.clone()),
            None => {
                tracing::warn!(
                    destination = destination_aet,
                    "C-MOVE to an unknown destination: A801"
                );
                let comment = format!("move destination {destination_aet:?} unknown");
                return finish(
                    requester,
                    context,
                    command,
                    MOVE_DESTINATION_UNKNOWN,
                    None,
                    &comment,
                )
                .await;
            }
        }
    } else {
        None
    };
    let results = match shared.client.search_all(search, MAX_INSTANCES).await {
        Ok(results) => results.data_sets,
        Err(error) => {
            tracing::warn!(%error, "retrieve: the QIDO-RS search failed: C000");
            return finish(
                requester,
                context,
                command,
                UNABLE_TO_PROCESS,
                None,
                &error.to_string(),
            )
            .await;
        }
    };
    let instances = found(&results);
    let total = u16::try_from(instances.len()).unwrap_or(u16::MAX);
    tracing::info!(level = ?level, instances = instances.len(), destination = destination_aet, "{}", if is_move { "C-MOVE" } else { "C-GET" });
    let mut counts = SubOperations {
        remaining: total,
        ..SubOperations::default()
    };
    if instances.is_empty() {
        return finish(requester, context, command, 0, Some(counts), "").await;
    }
    // A C-MOVE's sub-operations go over a new association; a C-GET's over its own.
    let mut other = match &modality {
        Some(modality) => match open_destination(shared, modality, &instances, command).await {
            Ok(scu) => Some(scu),
            Err(reason) => {
                tracing::warn!(%reason, "C-MOVE: the destination cannot be reached");
                counts.failed = total;
                counts.remaining = 0;
                return finish(
                    requester,
                    context,
                    command,
                    final_status(&counts),
                    Some(counts),
                    &reason,
                )
                .await;
            }
        },
        None => None,
    };
    let mut message_id: u16 = 1;
    let mut canceled = false;
    let mut broken = None;
    'targets: for target in targets(level, &instances) {
        let mut parts = match shared
            .client
            .retrieve_instances(&RetrieveInstances::new(target.clone()))
            .await
        {
            Ok(parts) => parts,
            Err(error) => {
                tracing::warn!(%error, ?target, "retrieve: a WADO-RS request failed");
                continue;
            }
        };
        loop {
            match parts.next_part().await {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, ?target, "retrieve: a WADO-RS reply broke");
                    break;
                }
            }
            let sent = match other.as_mut() {
                Some(scu) => scu
                    .store(&mut parts)
                    .await
                    .map(|outcome| (outcome, false))
                    .map_err(|e| e.to_string()),
                None => send_instance(requester, &mut parts, message_id, None)
                    .await
                    .map(|sent| (sent.outcome, sent.canceled)),
            };
            message_id = message_id.wrapping_add(1).max(1);
            let (outcome, sub_canceled) = match sent {
                Ok(sent) => sent,
                Err(reason) => {
                    tracing::warn!(%reason, "retrieve: the sub-operations' association failed");
                    broken = Some(reason);
                    break 'targets;
                }
            };
            counts.remaining = counts.remaining.saturating_sub(1);
            match outcome {
                SubOutcome::Completed => counts.completed += 1,
                SubOutcome::Warning => counts.warning += 1,
                SubOutcome::Failed(reason) => {
                    tracing::warn!(%reason, "retrieve: a sub-operation failed");
                    counts.failed += 1;
                }
            }
            if sub_canceled || (is_move && cancel_waiting(requester).await?) {
                canceled = true;
                break 'targets;
            }
            let mut pending =
                Response::to(command, PENDING).ok_or("internal: a retrieve has a response")?;
            pending.sub_operations = Some(counts);
            crate::association::send_message(requester, context, &pending.to_bytes(), None).await?;
        }
    }
    if let Some(scu) = other {
        let _ = scu.release().await;
    }
    if broken.is_some() && !is_move {
        // The C-GET's own association broke mid-message: nothing more can be said on it.
        return Err(broken.unwrap_or_default());
    }
    if canceled {
        tracing::info!(?counts, "retrieve canceled");
        return finish(requester, context, command, CANCELED, Some(counts), "").await;
    }
    // What the WADO-RS replies did not deliver failed.
    counts.failed = counts.failed.saturating_add(counts.remaining);
    counts.remaining = 0;
    tracing::info!(?counts, "retrieve done");
    let comment = broken.unwrap_or_default();
    finish(
        requester,
        context,
        command,
        final_status(&counts),
        Some(counts),
        &comment,
    )
    .await
}

/// Opens an association to a C-MOVE destination with a presentation context for each SOP
/// class found and each transfer syntax an instance may be stored in.
async fn open_destination(
    shared: &Arc<Shared>,
    modality: &crate::Modality,
    instances: &[Found],
    command: &Command,
) -> Result<StoreScu, String> {
    let classes: BTreeSet<&str> = instances
        .iter()
        .filter_map(|f| f.sop_class.as_deref())
        .collect();
    let classes: Vec<&str> = classes.into_iter().collect();
    let aet = shared.config.aet.trim();
    let mut scu = StoreScu::connect_with(
        aet,
        modality,
        shared.config.tls.as_ref(),
        &classes,
        shared.config.max_pdu_length,
        shared.config.idle_timeout,
    )
    .await
    .map_err(|e| {
        format!(
            "cannot associate with {} at {}:{}: {e}",
            modality.aet, modality.host, modality.port
        )
    })?;
    scu.move_originator(aet, command.message_id.unwrap_or(0));
    Ok(scu)
}

/// Whether a C-CANCEL waits on the requester's association (looked for without waiting).
async fn cancel_waiting<S: Stream>(requester: &mut Requester<S>) -> Result<bool, String> {
    match tokio::time::timeout(Duration::ZERO, AsyncAssociation::receive(requester)).await {
        Err(_) => Ok(false),
        Ok(Ok(Pdu::PData { data })) => {
            let mut bytes = Vec::new();
            for pdv in &data {
                bytes.extend_from_slice(&pdv.data);
            }
            match Command::read(&bytes) {
                Ok(command) if command.field == CommandField::CCancelRq => Ok(true),
                _ => Err(
                    "expected nothing or a C-CANCEL during a C-MOVE, found another message".into(),
                ),
            }
        }
        Ok(Ok(pdu)) => Err(format!(
            "expected nothing or a C-CANCEL during a C-MOVE, found {}",
            pdu.short_description()
        )),
        Ok(Err(error)) => Err(format!("the requester left during a C-MOVE: {error}")),
    }
}

/// Sends the final response.
async fn finish<S: Stream>(
    requester: &mut Requester<S>,
    context: u8,
    command: &Command,
    status: u16,
    counts: Option<SubOperations>,
    comment: &str,
) -> Result<Ended, String> {
    let mut response =
        Response::to(command, status).ok_or("internal: a retrieve has a response")?;
    response.sub_operations = counts;
    if !comment.is_empty() {
        response = response.with_comment(comment);
    }
    crate::association::send_message(requester, context, &response.to_bytes(), None).await?;
    Ok(Ended::Answered)
}
