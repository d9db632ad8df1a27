//! Sending a Storage Commitment Result on an association of its own (PS3.4 J.3.3): the
//! requester is found by its calling AE title among the known modalities, and the adapter
//! associates with it proposing the Storage Commitment Push Model with the SCP role only (its
//! role selection item says SCU 0, SCP 1: the adapter, association requester, is the SCP of
//! the service, and the modality accepts the SCU role for the report), over TLS when the
//! modality is marked `UseDicomTls` (the adapter's TLS settings, as for C-STOREs to devices).
//! The N-EVENT-REPORT-RQ
//! goes out, its response is awaited, the association released. Failures are retried
//! [`RETRY_DELAYS`] later; during shutdown, one attempt only.

use std::sync::Arc;
use std::time::Duration;

use dicom_ul::association::{AsyncAssociation, AsyncClientAssociation};
use dicom_ul::pdu::PresentationContextResultReason;
use dicom_ul::{ClientAssociationOptions, Pdu};

use super::Ready;
use crate::adapter::Shared;
use crate::association::{Stream, send_message};
use crate::command::{Command, CommandField, NormalizedRequest};
use crate::sop_classes::{STORAGE_COMMITMENT_PUSH_MODEL, STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE};
use crate::tls::DicomTls;

/// How long to wait before each new attempt to deliver a report.
pub const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(2),
    Duration::from_secs(10),
    Duration::from_secs(30),
];

/// The transfer syntaxes proposed for the report: Explicit, then Implicit VR Little Endian.
const TRANSFER_SYNTAXES: [&str; 2] = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"];

/// Delivers a report on a new association to its requester, retrying as [`RETRY_DELAYS`] say.
pub(crate) async fn deliver(shared: Arc<Shared>, ready: Ready) {
    let Some((name, modality)) = shared.config.modalities.by_aet(&ready.calling) else {
        tracing::error!(
            transaction = %ready.transaction_uid,
            calling = ready.calling,
            "storage commitment: the requester left before its result was ready and is not among the known modalities: the result cannot be sent"
        );
        return;
    };
    let modality = modality.clone();
    let name = name.to_owned();
    let mut delays = RETRY_DELAYS.iter();
    loop {
        match send(&shared, &modality, &ready).await {
            Ok(status) => {
                tracing::info!(
                    transaction = %ready.transaction_uid,
                    modality = name,
                    status = format_args!("{status:04X}"),
                    "storage commitment: result sent on a new association"
                );
                return;
            }
            Err(reason) => {
                let next = if shared.shutdown.is_cancelled() {
                    None
                } else {
                    delays.next()
                };
                let Some(delay) = next else {
                    tracing::error!(
                        transaction = %ready.transaction_uid,
                        modality = name,
                        %reason,
                        "storage commitment: the result could not be sent; giving up"
                    );
                    return;
                };
                tracing::warn!(
                    transaction = %ready.transaction_uid,
                    modality = name,
                    %reason,
                    retry_in = ?delay,
                    "storage commitment: the result could not be sent"
                );
                tokio::select! {
                    () = tokio::time::sleep(*delay) => {}
                    () = shared.shutdown.cancelled() => {}
                }
            }
        }
    }
}

/// One attempt: associate (over TLS with a requester marked `UseDicomTls`, with the adapter's
/// TLS settings), send the N-EVENT-REPORT, read its response's status, release.
async fn send(
    shared: &Arc<Shared>,
    modality: &crate::Modality,
    ready: &Ready,
) -> Result<u16, String> {
    let options = ClientAssociationOptions::new()
        .calling_ae_title(shared.config.aet.trim().to_owned())
        .called_ae_title(modality.aet.trim().to_owned())
        .max_pdu_length(shared.config.max_pdu_length)
        .read_timeout(shared.config.idle_timeout)
        .with_presentation_context(STORAGE_COMMITMENT_PUSH_MODEL, TRANSFER_SYNTAXES.to_vec())
        .with_role_selection(STORAGE_COMMITMENT_PUSH_MODEL, false, true);
    let address = format!("{}:{}", modality.host, modality.port);
    let refused = |e: dicom_ul::association::Error| {
        format!("cannot associate with {} at {address}: {e}", modality.aet)
    };
    if !modality.tls {
        let association = options
            .establish_async(address.as_str())
            .await
            .map_err(refused)?;
        return report_on(association, modality, ready).await;
    }
    let Some(config) = shared.config.tls.as_ref().and_then(DicomTls::client_config) else {
        return Err(format!(
            "{} wants DICOM over TLS (UseDicomTls): expected the adapter's TLS settings with \
             trusted CA certificates to verify its certificate, found none",
            modality.aet
        ));
    };
    let establish = options
        .tls_config(config)
        .server_name(&modality.host)
        .establish_tls_async(address.as_str());
    let association = tokio::time::timeout(shared.config.idle_timeout, establish)
        .await
        .map_err(|_| format!("{address}: no TLS handshake and association in time"))?
        .map_err(refused)?;
    report_on(association, modality, ready).await
}

/// Sends the report on `association` and releases it; the response's status.
async fn report_on<S: Stream>(
    mut association: AsyncClientAssociation<S>,
    modality: &crate::Modality,
    ready: &Ready,
) -> Result<u16, String> {
    let Some(context) = association
        .presentation_contexts()
        .iter()
        .find(|pc| pc.reason == PresentationContextResultReason::Acceptance)
        .map(|pc| {
            (
                pc.id,
                pc.transfer_syntax.trim_end_matches(['\0', ' ']).to_owned(),
            )
        })
    else {
        let _ = association.abort().await;
        return Err(format!(
            "{} accepted no presentation context for storage commitment",
            modality.aet
        ));
    };
    let (id, transfer_syntax) = context;
    let data = super::encode(ready, &transfer_syntax)?;
    let command = NormalizedRequest::event_report(
        1,
        STORAGE_COMMITMENT_PUSH_MODEL,
        STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
        ready.report.event_type_id,
    );
    send_message(&mut association, id, &command.to_bytes(), Some(&data)).await?;
    let status = read_response(&mut association).await;
    let _ = association.release().await;
    status
}

/// Reads the N-EVENT-REPORT-RSP (one command set, possibly in several PDVs).
async fn read_response<A, S: Stream>(association: &mut A) -> Result<u16, String>
where
    A: AsyncAssociation<S> + Send,
{
    let mut bytes = Vec::new();
    loop {
        match AsyncAssociation::receive(association).await {
            Ok(Pdu::PData { data }) => {
                for pdv in data {
                    bytes.extend_from_slice(&pdv.data);
                    if bytes.len() > crate::command::MAX_COMMAND_BYTES {
                        return Err("expected a short N-EVENT-REPORT-RSP, found more".into());
                    }
                    if pdv.is_last {
                        let response = Command::read(&bytes).map_err(|e| e.to_string())?;
                        if response.field != CommandField::NEventReportRsp {
                            return Err(format!(
                                "expected an N-EVENT-REPORT-RSP, found command field {:04X}H",
                                response.field.code()
                            ));
                        }
                        return response.status.ok_or_else(|| {
                            "expected a Status in the N-EVENT-REPORT-RSP, found none".into()
                        });
                    }
                }
            }
            Ok(pdu) => {
                return Err(format!(
                    "expected the N-EVENT-REPORT-RSP, found {}",
                    pdu.short_description()
                ));
            }
            Err(error) => return Err(format!("no N-EVENT-REPORT-RSP: {error}")),
        }
    }
}
