//! The Storage Commitment Push Model SCP (PS3.4 Annex J): a modality asks, by N-ACTION, whether
//! the adapter takes responsibility for instances it sent; the adapter answers the N-ACTION at
//! once, decides each instance, and reports by N-EVENT-REPORT.
//!
//! - The request is checked and read by the pure [`request`] module; a malformed one is
//!   answered with an N-ACTION failure status (0110, 0112, 0115, 0118, 0123, 0213) and nothing
//!   more. A request understood is answered 0000.
//! - Each instance is then decided (`check.rs`): committed when the DICOMweb server has it
//!   (QIDO-RS by SOP Instance UID, in batches); an instance still in the upload queue (the
//!   adapter acknowledged it and will upload it) is waited for, up to
//!   [`AdapterConfig::commitment_wait`](crate::AdapterConfig::commitment_wait); failures carry
//!   Failure Reason 0112 (no such object instance), 0119 (held under another SOP class) or 0110
//!   (the server could not be asked, or the instance is still queued when the wait ends). The
//!   pure [`report`] module holds these rules and builds the Event Information.
//! - The N-EVENT-REPORT (Event Type 1 when all are committed, 2 when failures exist) goes out
//!   on the requester's association while it is open; once it is released or aborted, on a
//!   new association to the requester, found by its calling AE title among the known
//!   modalities (`notify.rs`, SCP/SCU role selection as PS3.4 J.3 asks). A report sent on the
//!   requester's association that gets no response before it ends is sent again on a new one.

mod check;
mod notify;
pub mod report;
pub mod request;

use std::sync::Arc;

use dicom_ul::association::AsyncAssociation;
use dicomweb_core::Uid;
use tokio::sync::mpsc;

use crate::adapter::Shared;
use crate::association::Stream;
use crate::command::{Command, NormalizedRequest, Response};
use crate::sop_classes::{STORAGE_COMMITMENT_PUSH_MODEL, STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE};
use report::EventReport;

/// A Storage Commitment Result ready to be sent.
#[derive(Debug)]
pub(crate) struct Ready {
    /// The request's Transaction UID.
    pub(crate) transaction_uid: Uid,
    /// The requester's AE title.
    pub(crate) calling: String,
    /// The presentation context the N-ACTION came on, and its transfer syntax.
    pub(crate) context: u8,
    pub(crate) transfer_syntax: String,
    /// The report.
    pub(crate) report: EventReport,
}

/// The Event Information of `ready` in `transfer_syntax`.
pub(crate) fn encode(ready: &Ready, transfer_syntax: &str) -> Result<Vec<u8>, String> {
    crate::find::write_identifier(
        &ready.report.information,
        STORAGE_COMMITMENT_PUSH_MODEL,
        transfer_syntax,
    )
    .map_err(|e| format!("the storage commitment result cannot be encoded: {e}"))
}

/// The storage commitment results of one association: those being decided send themselves
/// here when ready; those sent on the association wait here for their response. Dropped when
/// the association ends, it hands every result not answered to a new association.
pub(crate) struct Reports {
    shared: Arc<Shared>,
    sender: mpsc::UnboundedSender<Ready>,
    receiver: mpsc::UnboundedReceiver<Ready>,
    awaiting: Vec<(u16, Ready)>,
    next_message_id: u16,
}

impl Reports {
    /// No results yet.
    pub(crate) fn new(shared: Arc<Shared>) -> Reports {
        let (sender, receiver) = mpsc::unbounded_channel();
        Reports {
            shared,
            sender,
            receiver,
            awaiting: Vec::new(),
            next_message_id: 1,
        }
    }

    /// The next result ready to be sent (pending for ever while there is none).
    pub(crate) async fn next(&mut self) -> Ready {
        match self.receiver.recv().await {
            Some(ready) => ready,
            // `self.sender` lives as long as `self`.
            None => std::future::pending().await,
        }
    }

    /// Sends a result on the requester's own association; it is sent again on a new one if
    /// the association ends before its response comes.
    pub(crate) async fn send_on<A, S: Stream>(
        &mut self,
        association: &mut A,
        ready: Ready,
    ) -> Result<(), String>
    where
        A: AsyncAssociation<S> + Send,
    {
        let message_id = self.next_message_id;
        self.next_message_id = self.next_message_id.wrapping_add(1).max(1);
        let data = match encode(&ready, &ready.transfer_syntax) {
            Ok(data) => data,
            Err(reason) => {
                tracing::error!(transaction = %ready.transaction_uid, %reason, "storage commitment: the result is not sent");
                return Ok(());
            }
        };
        let command = NormalizedRequest::event_report(
            message_id,
            STORAGE_COMMITMENT_PUSH_MODEL,
            STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE,
            ready.report.event_type_id,
        );
        let context = ready.context;
        tracing::info!(transaction = %ready.transaction_uid, calling = ready.calling, "storage commitment: sending the result on the requester's association");
        self.awaiting.push((message_id, ready));
        crate::association::send_message(association, context, &command.to_bytes(), Some(&data))
            .await
    }

    /// Notes an N-EVENT-REPORT-RSP from the requester.
    pub(crate) fn answered(&mut self, response: &Command) {
        let id = response.message_id_responded_to;
        let Some(at) = self.awaiting.iter().position(|(sent, _)| Some(*sent) == id) else {
            tracing::warn!(
                ?id,
                "storage commitment: a response to no result sent: ignored"
            );
            return;
        };
        let (_, ready) = self.awaiting.remove(at);
        let status = response.status.unwrap_or(0xFFFF);
        if status == 0 {
            tracing::info!(transaction = %ready.transaction_uid, "storage commitment: the requester took the result");
        } else {
            tracing::warn!(transaction = %ready.transaction_uid, status = format_args!("{status:04X}"), "storage commitment: the requester answered the result with a failure");
        }
    }
}

impl Drop for Reports {
    fn drop(&mut self) {
        self.receiver.close();
        let mut left: Vec<Ready> = self.awaiting.drain(..).map(|(_, ready)| ready).collect();
        while let Ok(ready) = self.receiver.try_recv() {
            left.push(ready);
        }
        for ready in left {
            tracing::info!(transaction = %ready.transaction_uid, calling = ready.calling, "storage commitment: the requester's association ended: the result goes on a new association");
            self.shared
                .commitments
                .spawn(notify::deliver(self.shared.clone(), ready));
        }
    }
}

/// Answers an N-ACTION-RQ whose Action Information is `information`: a refusal at once, or
/// success, then the instances decided in a task of their own, whose result comes back
/// through `reports` (or, once the association is gone, goes on a new one).
pub(crate) async fn answer<A, S: Stream>(
    association: &mut A,
    reports: &Reports,
    calling: &str,
    context: u8,
    transfer_syntax: &str,
    command: &Command,
    information: &[u8],
) -> Result<(), String>
where
    A: AsyncAssociation<S> + Send,
{
    let parsed =
        request::check_action(command).and_then(|()| request::parse(information, transfer_syntax));
    let mut response = Response::to(command, 0).ok_or("internal: an N-ACTION has a response")?;
    let request = match parsed {
        Ok(request) => request,
        Err(refusal) => {
            tracing::warn!(calling, %refusal, "storage commitment request refused");
            response.status = refusal.status;
            let response = response.with_comment(&refusal.reason);
            return crate::association::send_message(
                association,
                context,
                &response.to_bytes(),
                None,
            )
            .await;
        }
    };
    tracing::info!(
        calling,
        transaction = %request.transaction_uid,
        instances = request.references.len(),
        "storage commitment requested"
    );
    crate::association::send_message(association, context, &response.to_bytes(), None).await?;
    let sender = reports.sender.clone();
    let shared = &reports.shared;
    let task_shared = shared.clone();
    let calling = calling.to_owned();
    let transfer_syntax = transfer_syntax.to_owned();
    shared.commitments.spawn(async move {
        let outcomes = check::outcomes(&task_shared, &request).await;
        let report = report::event_report(
            &request.transaction_uid,
            &outcomes,
            Some(task_shared.config.aet.as_str()),
        );
        let (committed, failed) = report.counts();
        tracing::info!(
            transaction = %request.transaction_uid,
            committed,
            failed,
            "storage commitment decided"
        );
        let ready = Ready {
            transaction_uid: request.transaction_uid,
            calling,
            context,
            transfer_syntax,
            report,
        };
        if let Err(mpsc::error::SendError(ready)) = sender.send(ready) {
            notify::deliver(task_shared, ready).await;
        }
    });
    Ok(())
}
