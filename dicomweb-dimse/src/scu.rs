//! The C-STORE SCU of C-MOVE and C-GET: one instance of a WADO-RS reply sent as a C-STORE
//! sub-operation, its data set streamed from the reply's chunks into P-DATA PDVs (memory holds
//! a chunk or two, whatever the instance's size), then its response awaited.
//!
//! The instance's SOP class, SOP instance and transfer syntax come from its meta group (the
//! core's `FileMeta`); it goes out on the accepted presentation context of that SOP class and
//! transfer syntax, never transcoded. Without one, it is counted as failed.

use bytes::{Bytes, BytesMut};
use dicom_ul::Pdu;
use dicom_ul::association::AsyncAssociation;
use dicom_ul::pdu::{PDataValueType, PresentationContextResultReason};
use dicomweb_client::retrieve::PartStream;
use dicomweb_core::file_meta::FileMeta;
use tokio::net::TcpStream;

use crate::association::send_pdvs;
use crate::command::{Command, CommandField, StoreRequest};

/// The largest meta group read before giving up on a part.
const MAX_META_BYTES: usize = 1024 * 1024;

/// What one C-STORE sub-operation achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubOutcome {
    /// Stored (0000).
    Completed,
    /// Stored with a warning (B000, B006, B007).
    Warning,
    /// Not stored, and why.
    Failed(String),
}

/// The outcome of one sub-operation, and whether a C-CANCEL for the retrieve arrived while it
/// ran (on a C-GET's own association).
pub(crate) struct Sent {
    pub(crate) outcome: SubOutcome,
    pub(crate) canceled: bool,
}

/// Sends the current part of `parts` (its headers already read) as a C-STORE on `association`.
/// An error means the association can no longer be used (a message half sent, or the peer
/// gone).
pub(crate) async fn store_part<A>(
    association: &mut A,
    parts: &mut PartStream,
    message_id: u16,
    originator: Option<(String, u16)>,
) -> Result<Sent, String>
where
    A: AsyncAssociation<TcpStream> + Send,
{
    let mut prefix = BytesMut::new();
    let meta = loop {
        match FileMeta::read(&prefix) {
            Ok(Some(meta)) => break meta,
            Ok(None) => {}
            Err(error) => {
                return drained(
                    parts,
                    format!("the server sent no Part 10 instance: {error}"),
                )
                .await;
            }
        }
        if prefix.len() > MAX_META_BYTES {
            return drained(parts, "the server sent a meta group over 1 MiB".into()).await;
        }
        match parts.next_chunk().await {
            Ok(Some(chunk)) => prefix.extend_from_slice(&chunk),
            Ok(None) => {
                return Ok(failed(
                    "the server's part ended inside the meta group".into(),
                ));
            }
            Err(error) => return Err(format!("the WADO-RS reply broke: {error}")),
        }
    };
    let text = |value: &Option<String>| {
        value
            .as_deref()
            .unwrap_or_default()
            .trim_end_matches(['\0', ' '])
            .to_owned()
    };
    let (sop_class, sop_instance, syntax) = (
        text(&meta.sop_class_uid),
        text(&meta.sop_instance_uid),
        text(&meta.transfer_syntax_uid),
    );
    let Some(context) = association
        .presentation_contexts()
        .iter()
        .find(|pc| {
            pc.reason == PresentationContextResultReason::Acceptance
                && pc.abstract_syntax.trim_end_matches(['\0', ' ']) == sop_class
                && pc.transfer_syntax.trim_end_matches(['\0', ' ']) == syntax
        })
        .map(|pc| pc.id)
    else {
        return drained(
            parts,
            format!("no accepted presentation context for {sop_class} in {syntax}"),
        )
        .await;
    };
    let mut request = StoreRequest::new(message_id, &sop_class, &sop_instance);
    request.move_originator = originator;
    send_pdvs(
        association,
        context,
        PDataValueType::Command,
        &request.to_bytes(),
        true,
    )
    .await?;
    // Each chunk is sent once the next one shows it is not the last.
    let mut held: Bytes = prefix.freeze().slice(meta.data_set_offset..);
    loop {
        let next = parts
            .next_chunk()
            .await
            .map_err(|e| format!("the WADO-RS reply broke mid-instance: {e}"))?;
        match next {
            Some(chunk) => {
                if !held.is_empty() {
                    send_pdvs(association, context, PDataValueType::Data, &held, false).await?;
                }
                held = chunk;
            }
            None => {
                send_pdvs(association, context, PDataValueType::Data, &held, true).await?;
                break;
            }
        }
    }
    let (status, canceled) = response(association, message_id).await?;
    let outcome = match status {
        0x0000 => SubOutcome::Completed,
        0xB000 | 0xB006 | 0xB007 => SubOutcome::Warning,
        other => SubOutcome::Failed(format!(
            "{sop_instance}: the destination answered {other:04X}H"
        )),
    };
    tracing::debug!(
        uid = sop_instance,
        status = format_args!("{status:04X}"),
        "C-STORE sub-operation"
    );
    Ok(Sent { outcome, canceled })
}

fn failed(reason: String) -> Sent {
    Sent {
        outcome: SubOutcome::Failed(reason),
        canceled: false,
    }
}

/// Reads the rest of the part away and reports the sub-operation failed.
async fn drained(parts: &mut PartStream, reason: String) -> Result<Sent, String> {
    while parts
        .next_chunk()
        .await
        .map_err(|e| format!("the WADO-RS reply broke: {e}"))?
        .is_some()
    {}
    Ok(failed(reason))
}

/// Waits for the C-STORE-RSP to `message_id`; a C-CANCEL-RQ arriving meanwhile is noted.
async fn response<A>(association: &mut A, message_id: u16) -> Result<(u16, bool), String>
where
    A: AsyncAssociation<TcpStream> + Send,
{
    let mut canceled = false;
    let mut command = Vec::new();
    loop {
        let pdu = AsyncAssociation::receive(association)
            .await
            .map_err(|e| format!("no C-STORE response: {e}"))?;
        let Pdu::PData { data } = pdu else {
            return Err(format!(
                "expected a C-STORE response, found {}",
                pdu.short_description()
            ));
        };
        for pdv in data {
            if pdv.value_type != PDataValueType::Command {
                return Err("expected a C-STORE response, found a data set".into());
            }
            command.extend_from_slice(&pdv.data);
            if command.len() > crate::command::MAX_COMMAND_BYTES {
                return Err("expected a C-STORE response, found an oversized command set".into());
            }
            if !pdv.is_last {
                continue;
            }
            let read = Command::read(&command).map_err(|e| e.to_string())?;
            command.clear();
            match read.field {
                CommandField::CStoreRsp if read.message_id_responded_to == Some(message_id) => {
                    return Ok((read.status.unwrap_or(0xC000), canceled));
                }
                CommandField::CCancelRq => canceled = true,
                other => {
                    return Err(format!(
                        "expected the C-STORE response to message {message_id}, found {other:?}"
                    ));
                }
            }
        }
    }
}
