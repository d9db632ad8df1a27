//! The C-FIND SCP (Study Root and Patient Root; PATIENT, STUDY, SERIES and IMAGE levels),
//! answered with QIDO-RS through the client.
//!
//! The identifier is read in the presentation context's transfer syntax (through the core's
//! Part 10 reader), mapped to a QIDO-RS search by the pure [`query`] module, and each result
//! sent back as one pending (FF00) response with its identifier, then 0000. Between two
//! responses a C-CANCEL is looked for without waiting; one ends the answer with FE00.
//! Statuses: A900 when the identifier cannot be mapped, C000 when the DICOMweb server fails.

pub mod query;

use std::time::Duration;

use dicom_ul::Pdu;
use dicom_ul::association::AsyncServerAssociation;
use dicom_ul::pdu::{PDataValue, PDataValueType};
use dicomweb_core::file_meta::FileMeta;
use dicomweb_core::{DataSet, Element, Tag, Vr, part10};

use crate::association::Stream;
use crate::command::{Command, CommandField, Response};
use crate::spool::{InstanceMeta, part10_head};

/// Status FF00: pending, a match follows.
pub const PENDING: u16 = 0xFF00;
/// Status FE00: canceled.
pub const CANCELED: u16 = 0xFE00;
/// Status A900: identifier does not match SOP class.
pub const IDENTIFIER_DOES_NOT_MATCH: u16 = 0xA900;
/// Status C000: unable to process.
pub const UNABLE_TO_PROCESS: u16 = 0xC000;
/// At most this many matches are returned.
pub const MAX_MATCHES: usize = 10_000;

/// How the answer to a C-FIND ended.
pub(crate) enum Ended {
    /// Answered (success, failure or cancel); the association goes on.
    Answered,
    /// The peer released or aborted, or sent something out of place: the association ends.
    Closed,
}

/// Reads a C-FIND identifier encoded in `transfer_syntax` into a data set (through the core's
/// Part 10 reader); the error says what could not be read.
pub fn read_identifier(
    bytes: &[u8],
    sop_class: &str,
    transfer_syntax: &str,
) -> Result<DataSet, String> {
    let meta = InstanceMeta {
        sop_class_uid: sop_class.to_owned(),
        sop_instance_uid: "2.25.0".to_owned(),
        transfer_syntax_uid: transfer_syntax.to_owned(),
        source_aet: String::new(),
    };
    let mut file = part10_head(&meta).map_err(|e| e.to_string())?;
    file.extend_from_slice(bytes);
    part10::read(&file)
        .map(|(_, data_set)| data_set)
        .map_err(|e| e.to_string())
}

/// Encodes an identifier in `transfer_syntax` (through the core's Part 10 writer).
pub fn write_identifier(
    data_set: &DataSet,
    sop_class: &str,
    transfer_syntax: &str,
) -> Result<Vec<u8>, String> {
    let mut meta = DataSet::new();
    meta.insert(Tag(0x0002_0002), Element::string(Vr::UI, sop_class));
    meta.insert(Tag(0x0002_0003), Element::string(Vr::UI, "2.25.0"));
    meta.insert(Tag(0x0002_0010), Element::string(Vr::UI, transfer_syntax));
    let file = part10::write(&meta, data_set).map_err(|e| e.to_string())?;
    let offset = FileMeta::read(&file)
        .map_err(|e| e.to_string())?
        .map(|m| m.data_set_offset)
        .ok_or("the written identifier has no meta group")?;
    Ok(file[offset..].to_vec())
}

/// Answers one C-FIND whose identifier is `identifier`; an error aborts the association.
pub(crate) async fn answer<S: Stream>(
    association: &mut AsyncServerAssociation<S>,
    client: &dicomweb_client::Client,
    our_aet: &str,
    context: u8,
    transfer_syntax: &str,
    command: &Command,
    identifier: &[u8],
) -> Result<Ended, String> {
    let sop_class = command
        .affected_sop_class_uid
        .as_deref()
        .unwrap_or_default();
    let data_set = match read_identifier(identifier, sop_class, transfer_syntax) {
        Ok(data_set) => data_set,
        Err(reason) => {
            tracing::warn!(%reason, "C-FIND identifier unreadable: A900");
            return finish(
                association,
                context,
                command,
                IDENTIFIER_DOES_NOT_MATCH,
                &reason,
            )
            .await;
        }
    };
    let plan = match query::plan(&data_set, our_aet) {
        Ok(plan) => plan,
        Err(reason) => {
            tracing::warn!(%reason, "C-FIND identifier refused: A900");
            return finish(
                association,
                context,
                command,
                IDENTIFIER_DOES_NOT_MATCH,
                &reason.0,
            )
            .await;
        }
    };
    let results = match client.search_all(plan.search.clone(), MAX_MATCHES).await {
        Ok(found) => found.data_sets,
        Err(error) => {
            tracing::warn!(%error, "C-FIND: the QIDO-RS search failed: C000");
            return finish(
                association,
                context,
                command,
                UNABLE_TO_PROCESS,
                &error.to_string(),
            )
            .await;
        }
    };
    let matches = plan.distinct(&results);
    tracing::info!(level = ?plan.level, matches = matches.len(), "C-FIND");
    for result in matches {
        match tokio::time::timeout(Duration::ZERO, association.receive()).await {
            // Nothing waiting.
            Err(_) => {}
            Ok(Ok(Pdu::PData { data })) => {
                if is_cancel(&data) {
                    tracing::info!("C-FIND canceled");
                    return finish(association, context, command, CANCELED, "").await;
                }
                return Err("expected nothing or a C-CANCEL while answering a C-FIND, found another message".into());
            }
            Ok(Ok(Pdu::AbortRQ { .. })) | Ok(Err(_)) => return Ok(Ended::Closed),
            Ok(Ok(other)) => {
                return Err(format!(
                    "expected nothing or a C-CANCEL while answering a C-FIND, found {}",
                    other.short_description()
                ));
            }
        }
        let bytes = match write_identifier(&plan.response(result), sop_class, transfer_syntax) {
            Ok(bytes) => bytes,
            Err(reason) => {
                tracing::warn!(%reason, "C-FIND: a match cannot be encoded: C000");
                return finish(association, context, command, UNABLE_TO_PROCESS, &reason).await;
            }
        };
        let mut pending =
            Response::to(command, PENDING).ok_or("internal: C-FIND has a response")?;
        pending.has_data_set = true;
        crate::association::send_message(association, context, &pending.to_bytes(), Some(&bytes))
            .await?;
    }
    finish(association, context, command, 0, "").await
}

/// Sends the final response.
async fn finish<S: Stream>(
    association: &mut AsyncServerAssociation<S>,
    context: u8,
    command: &Command,
    status: u16,
    comment: &str,
) -> Result<Ended, String> {
    let mut response = Response::to(command, status).ok_or("internal: C-FIND has a response")?;
    if !comment.is_empty() {
        response = response.with_comment(comment);
    }
    crate::association::send_message(association, context, &response.to_bytes(), None).await?;
    Ok(Ended::Answered)
}

/// Whether these PDVs hold a whole C-CANCEL-RQ command set.
fn is_cancel(pdvs: &[PDataValue]) -> bool {
    let mut bytes = Vec::new();
    for pdv in pdvs {
        if pdv.value_type != PDataValueType::Command {
            return false;
        }
        bytes.extend_from_slice(&pdv.data);
    }
    Command::read(&bytes).is_ok_and(|c| c.field == CommandField::CCancelRq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip_in_native_syntaxes() {
        let mut id = DataSet::new();
        id.insert(
            query::QUERY_RETRIEVE_LEVEL,
            Element::string(Vr::CS, "STUDY"),
        );
        id.insert(Tag(0x0010_0010), Element::empty(Vr::PN));
        id.insert(Tag(0x0020_000D), Element::string(Vr::UI, "1.2.3"));
        for ts in [
            "1.2.840.10008.1.2",
            "1.2.840.10008.1.2.1",
            "1.2.840.10008.1.2.2",
        ] {
            let bytes = write_identifier(&id, crate::sop_classes::STUDY_ROOT_FIND, ts).unwrap();
            let read = read_identifier(&bytes, crate::sop_classes::STUDY_ROOT_FIND, ts).unwrap();
            assert_eq!(
                read.string(query::QUERY_RETRIEVE_LEVEL),
                Some("STUDY"),
                "{ts}"
            );
            assert_eq!(read.string(Tag(0x0020_000D)), Some("1.2.3"), "{ts}");
            assert!(read.contains(Tag(0x0010_0010)), "{ts}");
        }
        let hostile = b"\x08\x00\x52\x00\xf0\xff\xff\xffSTUDY";
        let started = std::time::Instant::now();
        assert!(read_identifier(hostile, "1.2", "1.2.840.10008.1.2").is_err());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(read_identifier(b"\x08\x00\x52\x00garbage", "1.2", "1.2.840.10008.1.2").is_err());
    }
}
