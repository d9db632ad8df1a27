//! One association, from the A-ASSOCIATE-AC to its release or abort: P-DATA PDUs are read one
//! at a time, their command fragments gathered into a command set, and a C-STORE's data set
//! fragments written straight to its spool file, so memory holds one PDU whatever the
//! instance's size.
//!
//! Between messages, storage commitment results decided meanwhile are sent to the requester
//! (see [`commitment`](crate::commitment)), and a shutdown ends the association (A-ABORT); a
//! message in progress is finished and answered first. An association that ends mid-instance
//! leaves no spool file and sends no response. A PDU that cannot be read, or one out of place, ends the
//! association with a log line, never a panic; a read that waits longer than the idle
//! timeout ends it too.

use std::sync::Arc;

use dicom_ul::Pdu;
use dicom_ul::association::{Association as _, AsyncAssociation, AsyncServerAssociation};
use dicom_ul::pdu::{
    AbortRQServiceProviderReason, AbortRQSource, PDataValue, PDataValueType,
    PresentationContextResultReason,
};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::adapter::Shared;
use crate::command::{Command, CommandField, MAX_COMMAND_BYTES, Response};
use crate::sop_classes;
use crate::spool::Incoming;
use crate::spool::InstanceMeta;
use crate::store::{OUT_OF_RESOURCES, finish_store, start_store};
use crate::{commitment, find, retrieve};

/// Status 0122: SOP class not supported.
pub(crate) const SOP_CLASS_NOT_SUPPORTED: u16 = 0x0122;

/// What an association runs over: a TCP connection, or TLS over one.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

type Association<S> = AsyncServerAssociation<S>;

/// The largest C-FIND identifier accepted.
const MAX_IDENTIFIER_BYTES: usize = 1024 * 1024;

/// Where a data set's fragments go.
#[derive(Debug)]
pub(crate) enum DataTarget {
    /// A C-STORE's spool file.
    Spool(Incoming),
    /// A C-FIND's, C-MOVE's or C-GET's identifier or an N-ACTION's Action Information, kept
    /// in memory (at most [`MAX_IDENTIFIER_BYTES`]).
    Identifier(Vec<u8>),
    /// Nowhere: the request is answered with this status once its data set has been read.
    Discard(u16),
}

impl DataTarget {
    /// Writes a fragment; a spool write error turns the target into a discard answered A700.
    async fn write(&mut self, data: &[u8]) -> Result<(), String> {
        match self {
            DataTarget::Spool(incoming) => {
                if let Err(error) = incoming.write(data).await {
                    tracing::error!(%error, "cannot write to the spool: the instance will be refused");
                    *self = DataTarget::Discard(OUT_OF_RESOURCES);
                }
                Ok(())
            }
            DataTarget::Identifier(bytes) => {
                if bytes.len() + data.len() > MAX_IDENTIFIER_BYTES {
                    return Err(format!(
                        "expected a data set of at most {MAX_IDENTIFIER_BYTES} bytes, found more"
                    ));
                }
                bytes.extend_from_slice(data);
                Ok(())
            }
            DataTarget::Discard(_) => Ok(()),
        }
    }
}

/// What the association is in the middle of.
enum Progress {
    /// Between messages.
    Idle,
    /// Gathering a command set's fragments.
    Command { context: u8, bytes: Vec<u8> },
    /// Receiving the data set of a command.
    Data {
        context: u8,
        command: Box<Command>,
        target: DataTarget,
    },
}

/// Serves an established association until it is released, aborted or fails.
pub(crate) async fn serve<S: Stream>(mut association: Association<S>, shared: Arc<Shared>) {
    let calling = association_peer(&association);
    let mut progress = Progress::Idle;
    // Storage commitment results for this requester (sent here between messages).
    let mut reports = commitment::Reports::new(shared.clone());
    loop {
        let received = if matches!(progress, Progress::Idle) {
            tokio::select! {
                received = association.receive() => received,
                ready = reports.next() => {
                    if let Err(reason) = reports.send_on(&mut association, ready).await {
                        tracing::warn!(calling = %calling, %reason, "association ended while sending a storage commitment result");
                        let _ = association.abort().await;
                        return;
                    }
                    continue;
                }
                () = shared.shutdown.cancelled() => {
                    tracing::info!(calling = %calling, "shutting down: aborting an idle association");
                    let _ = association.abort().await;
                    return;
                }
            }
        } else {
            association.receive().await
        };
        let pdu = match received {
            Ok(pdu) => pdu,
            Err(error) => {
                tracing::warn!(calling = %calling, %error, "association ended: the peer's PDU could not be read (closed, idle too long, or malformed)");
                let _ = association.abort().await;
                return;
            }
        };
        match pdu {
            Pdu::PData { data } => {
                for pdv in data {
                    match handle_pdv(
                        &mut association,
                        &shared,
                        &calling,
                        &mut progress,
                        &mut reports,
                        pdv,
                    )
                    .await
                    {
                        Ok(()) => {}
                        Err(reason) => {
                            tracing::warn!(calling = %calling, %reason, "association aborted");
                            let _ = association
                                .send(&Pdu::AbortRQ {
                                    source: AbortRQSource::ServiceProvider(
                                        AbortRQServiceProviderReason::UnexpectedPdu,
                                    ),
                                })
                                .await;
                            return;
                        }
                    }
                }
            }
            Pdu::ReleaseRQ => {
                if !matches!(progress, Progress::Idle) {
                    tracing::warn!(calling = %calling, "released in the middle of a message: the partial instance is dropped");
                }
                let _ = association.send(&Pdu::ReleaseRP).await;
                tracing::info!(calling = %calling, "association released");
                return;
            }
            Pdu::AbortRQ { source } => {
                tracing::warn!(calling = %calling, ?source, "association aborted by the peer");
                return;
            }
            other => {
                tracing::warn!(calling = %calling, pdu = %other.short_description(), "unexpected PDU: aborting the association");
                let _ = association.abort().await;
                return;
            }
        }
    }
}

fn association_peer<S: Stream>(association: &Association<S>) -> String {
    association.peer_ae_title().trim().to_owned()
}

/// Feeds one PDV to the message in progress; an error aborts the association.
async fn handle_pdv<S: Stream>(
    association: &mut Association<S>,
    shared: &Arc<Shared>,
    calling: &str,
    progress: &mut Progress,
    reports: &mut commitment::Reports,
    pdv: PDataValue,
) -> Result<(), String> {
    let context = pdv.presentation_context_id;
    let value_type = pdv.value_type.clone();
    match (std::mem::replace(progress, Progress::Idle), value_type) {
        (Progress::Idle, PDataValueType::Command) => {
            *progress = Progress::Command {
                context,
                bytes: Vec::new(),
            };
            feed_command(association, shared, calling, progress, reports, pdv).await
        }
        (state @ Progress::Command { .. }, PDataValueType::Command) => {
            *progress = state;
            feed_command(association, shared, calling, progress, reports, pdv).await
        }
        (
            Progress::Data {
                context: expected,
                command,
                mut target,
            },
            PDataValueType::Data,
        ) => {
            if context != expected {
                return Err(format!(
                    "expected data on presentation context {expected}, found it on {context}"
                ));
            }
            target.write(&pdv.data).await?;
            if pdv.is_last {
                if let DataTarget::Identifier(identifier) = target {
                    let (_, transfer_syntax) = accepted_context(association, context)
                        .ok_or("internal: the context was accepted")?;
                    if command.field == CommandField::NActionRq {
                        return commitment::answer(
                            association,
                            reports,
                            calling,
                            context,
                            &transfer_syntax,
                            &command,
                            &identifier,
                        )
                        .await;
                    }
                    let ended = if command.field == CommandField::CFindRq {
                        find::answer(
                            association,
                            &shared.client,
                            shared.config.aet.trim(),
                            context,
                            &transfer_syntax,
                            &command,
                            &identifier,
                        )
                        .await?
                    } else {
                        retrieve::answer(
                            association,
                            shared,
                            context,
                            &transfer_syntax,
                            &command,
                            &identifier,
                        )
                        .await?
                    };
                    return match ended {
                        find::Ended::Answered => Ok(()),
                        find::Ended::Closed => {
                            Err("the peer left during a query or retrieve".into())
                        }
                    };
                }
                let response = finish_store(shared, &command, target)
                    .await
                    .ok_or("expected a request before a data set, found a response")?;
                send_response(association, context, &response).await
            } else {
                *progress = Progress::Data {
                    context,
                    command,
                    target,
                };
                Ok(())
            }
        }
        (Progress::Idle | Progress::Command { .. }, PDataValueType::Data) => {
            Err("expected a command fragment, found a data fragment".into())
        }
        (Progress::Data { .. }, PDataValueType::Command) => {
            Err("expected the data set's fragments, found a command fragment".into())
        }
    }
}

async fn feed_command<S: Stream>(
    association: &mut Association<S>,
    shared: &Arc<Shared>,
    calling: &str,
    progress: &mut Progress,
    reports: &mut commitment::Reports,
    pdv: PDataValue,
) -> Result<(), String> {
    let Progress::Command { context, bytes } = progress else {
        return Err("internal: no command in progress".into());
    };
    if *context != pdv.presentation_context_id {
        return Err(format!(
            "expected the command's fragments on presentation context {context}, found {}",
            pdv.presentation_context_id
        ));
    }
    if bytes.len() + pdv.data.len() > MAX_COMMAND_BYTES {
        return Err(format!(
            "expected a command set of at most {MAX_COMMAND_BYTES} bytes, found more"
        ));
    }
    bytes.extend_from_slice(&pdv.data);
    if !pdv.is_last {
        return Ok(());
    }
    let context = *context;
    let command = Box::new(Command::read(bytes).map_err(|e| e.to_string())?);
    *progress = Progress::Idle;
    let Some((abstract_syntax, transfer_syntax)) = accepted_context(association, context) else {
        return Err(format!(
            "expected a command on an accepted presentation context, found one on {context}"
        ));
    };
    tracing::debug!(calling, field = ?command.field, context, "command");
    match command.field {
        CommandField::CEchoRq => {
            tracing::info!(calling, "C-ECHO");
            let response = Response::to(&command, 0).ok_or("internal: C-ECHO has a response")?;
            if command.has_data_set {
                *progress = Progress::Data {
                    context,
                    command,
                    target: DataTarget::Discard(0),
                };
                return Ok(());
            }
            send_response(association, context, &response).await
        }
        CommandField::CStoreRq => {
            if !command.has_data_set {
                return Err("expected a data set after a C-STORE-RQ, found none".into());
            }
            let meta = InstanceMeta {
                sop_class_uid: command
                    .affected_sop_class_uid
                    .clone()
                    .unwrap_or(abstract_syntax),
                sop_instance_uid: command
                    .affected_sop_instance_uid
                    .clone()
                    .unwrap_or_default(),
                transfer_syntax_uid: transfer_syntax,
                source_aet: calling.to_owned(),
            };
            let target = start_store(shared, &command, &meta).await;
            *progress = Progress::Data {
                context,
                command,
                target,
            };
            Ok(())
        }
        CommandField::CFindRq | CommandField::CMoveRq | CommandField::CGetRq
            if command.has_data_set
                && match command.field {
                    CommandField::CFindRq => sop_classes::is_find(&abstract_syntax),
                    CommandField::CMoveRq => sop_classes::is_move(&abstract_syntax),
                    _ => sop_classes::is_get(&abstract_syntax),
                } =>
        {
            *progress = Progress::Data {
                context,
                command,
                target: DataTarget::Identifier(Vec::new()),
            };
            Ok(())
        }
        CommandField::NActionRq if sop_classes::is_storage_commitment(&abstract_syntax) => {
            if !command.has_data_set {
                // Refused (no Action Information) by the storage commitment SCP.
                return commitment::answer(
                    association,
                    reports,
                    calling,
                    context,
                    &transfer_syntax,
                    &command,
                    &[],
                )
                .await;
            }
            *progress = Progress::Data {
                context,
                command,
                target: DataTarget::Identifier(Vec::new()),
            };
            Ok(())
        }
        CommandField::NEventReportRsp if sop_classes::is_storage_commitment(&abstract_syntax) => {
            if command.has_data_set {
                return Err("expected an N-EVENT-REPORT-RSP without a data set, found one".into());
            }
            reports.answered(&command);
            Ok(())
        }
        CommandField::CCancelRq => {
            // Nothing runs asynchronously that a cancel could stop: ignored, as the standard
            // allows when the operation already ended.
            Ok(())
        }
        field => {
            tracing::info!(
                calling,
                ?field,
                sop_class = abstract_syntax,
                "service not supported"
            );
            let Some(response) = Response::to(&command, SOP_CLASS_NOT_SUPPORTED) else {
                return Err(format!(
                    "expected a C-service request, found command field {:04X}H",
                    field.code()
                ));
            };
            if command.has_data_set {
                // Answered once the data set has been read (and dropped).
                *progress = Progress::Data {
                    context,
                    command,
                    target: DataTarget::Discard(SOP_CLASS_NOT_SUPPORTED),
                };
                return Ok(());
            }
            send_response(association, context, &response).await
        }
    }
}

/// The abstract and transfer syntaxes of an accepted presentation context.
fn accepted_context<S: Stream>(association: &Association<S>, id: u8) -> Option<(String, String)> {
    association
        .presentation_contexts()
        .iter()
        .find(|pc| pc.id == id && pc.reason == PresentationContextResultReason::Acceptance)
        .map(|pc| {
            (
                pc.abstract_syntax.trim_end_matches(['\0', ' ']).to_owned(),
                pc.transfer_syntax.trim_end_matches(['\0', ' ']).to_owned(),
            )
        })
}

/// Sends a response command set (no data set) in one PDU.
async fn send_response<S: Stream>(
    association: &mut Association<S>,
    context: u8,
    response: &Response,
) -> Result<(), String> {
    send_message(association, context, &response.to_bytes(), None).await
}

/// Sends a message: its command set, then its data set if any, each cut into PDVs that fit the
/// peer's maximum PDU length.
pub(crate) async fn send_message<A, S: Stream>(
    association: &mut A,
    context: u8,
    command: &[u8],
    data: Option<&[u8]>,
) -> Result<(), String>
where
    A: AsyncAssociation<S> + Send,
{
    send_pdvs(association, context, PDataValueType::Command, command, true).await?;
    if let Some(data) = data {
        send_pdvs(association, context, PDataValueType::Data, data, true).await?;
    }
    Ok(())
}

/// Sends `bytes` as PDVs of one kind that fit the peer's maximum PDU length; the last one is
/// marked last when `last` is set.
pub(crate) async fn send_pdvs<A, S: Stream>(
    association: &mut A,
    context: u8,
    value_type: PDataValueType,
    bytes: &[u8],
    last: bool,
) -> Result<(), String>
where
    A: AsyncAssociation<S> + Send,
{
    // A PDV item adds 6 bytes (length, context, control header) to its data; fragments stay
    // even.
    let room = crate::scu::fragment_room(association.peer_max_pdu_length());
    let pieces: Vec<&[u8]> = if bytes.is_empty() {
        vec![bytes]
    } else {
        bytes.chunks(room).collect()
    };
    let final_piece = pieces.len() - 1;
    for (index, piece) in pieces.into_iter().enumerate() {
        let pdu = Pdu::PData {
            data: vec![PDataValue {
                presentation_context_id: context,
                value_type: value_type.clone(),
                is_last: last && index == final_piece,
                data: piece.to_vec(),
            }],
        };
        AsyncAssociation::send(association, &pdu)
            .await
            .map_err(|e| format!("cannot send to the peer: {e}"))?;
    }
    Ok(())
}

/// Whether a SOP class may be stored through this adapter.
pub(crate) fn storable(sop_class_uid: &str) -> bool {
    sop_classes::is_storage(sop_class_uid)
}
