//! DIMSE command sets (PS3.7 §9.3, §10.3 and Annex E): reading a request's command set and
//! writing a response's, always in Implicit VR Little Endian, through dicom-rs's `dicom-object`.
//! The C-services, and the N-ACTION and N-EVENT-REPORT of storage commitment.
//!
//! Pure functions on bytes: the association loop gathers a command set's fragments (bounded by
//! [`MAX_COMMAND_BYTES`]) and hands them here; nothing here does IO.

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;
use dicomweb_core::Vr;

use crate::Error;

/// The largest command set accepted: real ones are a few hundred bytes.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// Command Data Set Type (0000,0800) meaning "no data set follows".
const NO_DATA_SET: u16 = 0x0101;

/// The DIMSE-C operations, by their Command Field (0000,0100) values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandField {
    /// C-STORE-RQ.
    CStoreRq,
    /// C-STORE-RSP.
    CStoreRsp,
    /// C-GET-RQ.
    CGetRq,
    /// C-GET-RSP.
    CGetRsp,
    /// C-FIND-RQ.
    CFindRq,
    /// C-FIND-RSP.
    CFindRsp,
    /// C-MOVE-RQ.
    CMoveRq,
    /// C-MOVE-RSP.
    CMoveRsp,
    /// C-ECHO-RQ.
    CEchoRq,
    /// C-ECHO-RSP.
    CEchoRsp,
    /// C-CANCEL-RQ.
    CCancelRq,
    /// N-EVENT-REPORT-RQ.
    NEventReportRq,
    /// N-EVENT-REPORT-RSP.
    NEventReportRsp,
    /// N-ACTION-RQ.
    NActionRq,
    /// N-ACTION-RSP.
    NActionRsp,
    /// Any other value (other N-services, or nonsense).
    Other(u16),
}

impl CommandField {
    /// The field's value on the wire.
    pub fn code(self) -> u16 {
        match self {
            CommandField::CStoreRq => 0x0001,
            CommandField::CStoreRsp => 0x8001,
            CommandField::CGetRq => 0x0010,
            CommandField::CGetRsp => 0x8010,
            CommandField::CFindRq => 0x0020,
            CommandField::CFindRsp => 0x8020,
            CommandField::CMoveRq => 0x0021,
            CommandField::CMoveRsp => 0x8021,
            CommandField::CEchoRq => 0x0030,
            CommandField::CEchoRsp => 0x8030,
            CommandField::CCancelRq => 0x0FFF,
            CommandField::NEventReportRq => 0x0100,
            CommandField::NEventReportRsp => 0x8100,
            CommandField::NActionRq => 0x0130,
            CommandField::NActionRsp => 0x8130,
            CommandField::Other(code) => code,
        }
    }

    /// The field with this value.
    pub fn from_code(code: u16) -> CommandField {
        [
            CommandField::CStoreRq,
            CommandField::CStoreRsp,
            CommandField::CGetRq,
            CommandField::CGetRsp,
            CommandField::CFindRq,
            CommandField::CFindRsp,
            CommandField::CMoveRq,
            CommandField::CMoveRsp,
            CommandField::CEchoRq,
            CommandField::CEchoRsp,
            CommandField::CCancelRq,
            CommandField::NEventReportRq,
            CommandField::NEventReportRsp,
            CommandField::NActionRq,
            CommandField::NActionRsp,
        ]
        .into_iter()
        .find(|field| field.code() == code)
        .unwrap_or(CommandField::Other(code))
    }

    /// The response to this request, if it is a request of the C-services, N-ACTION or
    /// N-EVENT-REPORT.
    pub fn response(self) -> Option<CommandField> {
        match self {
            CommandField::NEventReportRq => Some(CommandField::NEventReportRsp),
            CommandField::NActionRq => Some(CommandField::NActionRsp),
            CommandField::CStoreRq => Some(CommandField::CStoreRsp),
            CommandField::CGetRq => Some(CommandField::CGetRsp),
            CommandField::CFindRq => Some(CommandField::CFindRsp),
            CommandField::CMoveRq => Some(CommandField::CMoveRsp),
            CommandField::CEchoRq => Some(CommandField::CEchoRsp),
            _ => None,
        }
    }
}

/// A command set as read from the wire: the fields the C-services, N-ACTION and
/// N-EVENT-REPORT use.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Command {
    /// Command Field (0000,0100).
    pub field: CommandField,
    /// Message ID (0000,0110), in requests.
    pub message_id: Option<u16>,
    /// Message ID Being Responded To (0000,0120), in responses and C-CANCEL.
    pub message_id_responded_to: Option<u16>,
    /// Affected SOP Class UID (0000,0002).
    pub affected_sop_class_uid: Option<String>,
    /// Affected SOP Instance UID (0000,1000).
    pub affected_sop_instance_uid: Option<String>,
    /// Move Destination (0000,0600), in C-MOVE-RQ.
    pub move_destination: Option<String>,
    /// Requested SOP Class UID (0000,0003), in N-ACTION-RQ.
    pub requested_sop_class_uid: Option<String>,
    /// Requested SOP Instance UID (0000,1001), in N-ACTION-RQ.
    pub requested_sop_instance_uid: Option<String>,
    /// Action Type ID (0000,1008), in N-ACTION.
    pub action_type_id: Option<u16>,
    /// Event Type ID (0000,1002), in N-EVENT-REPORT.
    pub event_type_id: Option<u16>,
    /// Status (0000,0900), in responses.
    pub status: Option<u16>,
    /// Whether a data set follows (Command Data Set Type other than 0101H).
    pub has_data_set: bool,
}

impl Command {
    /// Reads a command set (Implicit VR Little Endian, group 0000 only).
    pub fn read(bytes: &[u8]) -> Result<Command, Error> {
        if bytes.len() > MAX_COMMAND_BYTES {
            return Err(Error::command(
                format!("at most {MAX_COMMAND_BYTES} bytes"),
                format!("{} bytes", bytes.len()),
            ));
        }
        check_lengths(bytes)?;
        let object =
            InMemDicomObject::read_dataset_with_ts(bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
                .map_err(|e| {
                    Error::command("an Implicit VR Little Endian command set", e.to_string())
                })?;
        let field = uint16(&object, tags::COMMAND_FIELD)?
            .ok_or_else(|| Error::command("a Command Field (0000,0100)", "none"))?;
        let data_set_type = uint16(&object, tags::COMMAND_DATA_SET_TYPE)?
            .ok_or_else(|| Error::command("a Command Data Set Type (0000,0800)", "none"))?;
        Ok(Command {
            field: CommandField::from_code(field),
            message_id: uint16(&object, tags::MESSAGE_ID)?,
            message_id_responded_to: uint16(&object, tags::MESSAGE_ID_BEING_RESPONDED_TO)?,
            affected_sop_class_uid: text(&object, tags::AFFECTED_SOP_CLASS_UID)?,
            affected_sop_instance_uid: text(&object, tags::AFFECTED_SOP_INSTANCE_UID)?,
            move_destination: text(&object, tags::MOVE_DESTINATION)?,
            requested_sop_class_uid: text(&object, tags::REQUESTED_SOP_CLASS_UID)?,
            requested_sop_instance_uid: text(&object, tags::REQUESTED_SOP_INSTANCE_UID)?,
            action_type_id: uint16(&object, tags::ACTION_TYPE_ID)?,
            event_type_id: uint16(&object, tags::EVENT_TYPE_ID)?,
            status: uint16(&object, tags::STATUS)?,
            has_data_set: data_set_type != NO_DATA_SET,
        })
    }
}

/// Checks, before the decoder sees them, that every element of an Implicit VR Little Endian
/// command set is of group 0000 and declares an even length, a whole number of its VR's
/// values, within the bytes there are: a decoder
/// trusting a declared length of nearly 4 GiB would allocate it, and an element of another
/// group could be a sequence whose items declare such lengths (group 0000 holds no sequence,
/// so no element may have an undefined length either).
fn check_lengths(bytes: &[u8]) -> Result<(), Error> {
    let mut at = 0usize;
    while at < bytes.len() {
        let Some(header) = bytes.get(at..at + 8) else {
            return Err(Error::command(
                "whole elements (8 header bytes each)",
                format!("{} trailing bytes at offset {at}", bytes.len() - at),
            ));
        };
        let group = u16::from_le_bytes([header[0], header[1]]);
        if group != 0x0000 {
            return Err(Error::command(
                "only group 0000 elements in a command set",
                format!("group {group:04X} at offset {at}"),
            ));
        }
        let element = u16::from_le_bytes([header[2], header[3]]);
        let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        // The decoder reads binary values whole: a length that is not a multiple of the
        // value's size would leave it out of step with these headers.
        let unit = match dicomweb_core::dictionary::vr(dicomweb_core::Tag(u32::from(element))) {
            Some(Vr::US | Vr::SS) => 2,
            Some(Vr::UL | Vr::SL | Vr::AT | Vr::FL) => 4,
            Some(Vr::FD) => 8,
            _ => 2,
        };
        if !length.is_multiple_of(unit) {
            return Err(Error::command(
                format!("a length that is a multiple of {unit} for (0000,{element:04X})"),
                format!("{length} bytes at offset {at}"),
            ));
        }
        let end = at + 8 + length;
        if end > bytes.len() {
            return Err(Error::command(
                format!(
                    "an element within the {} bytes of the command set",
                    bytes.len()
                ),
                format!("one of {length} bytes at offset {at}"),
            ));
        }
        at = end;
    }
    Ok(())
}

/// Number of Remaining, Completed, Failed and Warning Sub-operations (0000,1020–1023) of a
/// C-MOVE or C-GET response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubOperations {
    /// Remaining.
    pub remaining: u16,
    /// Completed.
    pub completed: u16,
    /// Failed.
    pub failed: u16,
    /// Warning.
    pub warning: u16,
}

/// A response's command set, to be written with [`Response::to_bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The response's Command Field.
    pub field: CommandField,
    /// The request's Message ID.
    pub message_id_responded_to: u16,
    /// Affected SOP Class UID.
    pub affected_sop_class_uid: Option<String>,
    /// Affected SOP Instance UID (C-STORE, N-ACTION, N-EVENT-REPORT).
    pub affected_sop_instance_uid: Option<String>,
    /// Action Type ID (N-ACTION) or Event Type ID (N-EVENT-REPORT), written in the tag of the
    /// response's kind.
    pub type_id: Option<u16>,
    /// Status.
    pub status: u16,
    /// Whether a data set (an identifier) follows.
    pub has_data_set: bool,
    /// Sub-operation counts (C-MOVE, C-GET).
    pub sub_operations: Option<SubOperations>,
    /// Error Comment (0000,0902): a short text for a failure, at most 64 characters.
    pub error_comment: Option<String>,
}

impl Response {
    /// The response to `request` with `status`, without a data set; `None` when the request
    /// is not one of the C-services', N-ACTION's or N-EVENT-REPORT's requests. An N-ACTION's
    /// response names as affected the SOP class and instance the request names as requested,
    /// and repeats its Action Type ID; an N-EVENT-REPORT's repeats its Event Type ID.
    pub fn to(request: &Command, status: u16) -> Option<Response> {
        let field = request.field.response()?;
        let (class, instance, type_id) = match request.field {
            CommandField::NActionRq => (
                &request.requested_sop_class_uid,
                &request.requested_sop_instance_uid,
                request.action_type_id,
            ),
            CommandField::NEventReportRq => (
                &request.affected_sop_class_uid,
                &request.affected_sop_instance_uid,
                request.event_type_id,
            ),
            _ => (
                &request.affected_sop_class_uid,
                &request.affected_sop_instance_uid,
                None,
            ),
        };
        Some(Response {
            field,
            message_id_responded_to: request.message_id.unwrap_or(0),
            affected_sop_class_uid: class.clone(),
            affected_sop_instance_uid: instance.clone(),
            type_id,
            status,
            has_data_set: false,
            sub_operations: None,
            error_comment: None,
        })
    }

    /// With an Error Comment (cut to the 64 characters the VR allows).
    pub fn with_comment(mut self, comment: &str) -> Response {
        self.error_comment = Some(
            comment
                .chars()
                .filter(|c| c.is_ascii() && !c.is_ascii_control())
                .take(64)
                .collect(),
        );
        self
    }

    /// The command set, encoded in Implicit VR Little Endian with its group length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut elements = vec![
            DataElement::new(
                tags::COMMAND_FIELD,
                VR::US,
                PrimitiveValue::from(self.field.code()),
            ),
            DataElement::new(
                tags::MESSAGE_ID_BEING_RESPONDED_TO,
                VR::US,
                PrimitiveValue::from(self.message_id_responded_to),
            ),
            DataElement::new(
                tags::COMMAND_DATA_SET_TYPE,
                VR::US,
                PrimitiveValue::from(if self.has_data_set {
                    0x0001u16
                } else {
                    NO_DATA_SET
                }),
            ),
            DataElement::new(tags::STATUS, VR::US, PrimitiveValue::from(self.status)),
        ];
        if let Some(uid) = &self.affected_sop_class_uid {
            elements.push(DataElement::new(
                tags::AFFECTED_SOP_CLASS_UID,
                VR::UI,
                uid_value(uid),
            ));
        }
        if let Some(uid) = &self.affected_sop_instance_uid {
            elements.push(DataElement::new(
                tags::AFFECTED_SOP_INSTANCE_UID,
                VR::UI,
                uid_value(uid),
            ));
        }
        if let Some(id) = self.type_id {
            let tag = if self.field == CommandField::NEventReportRsp {
                tags::EVENT_TYPE_ID
            } else {
                tags::ACTION_TYPE_ID
            };
            elements.push(DataElement::new(tag, VR::US, PrimitiveValue::from(id)));
        }
        if let Some(comment) = &self.error_comment {
            elements.push(DataElement::new(
                tags::ERROR_COMMENT,
                VR::LO,
                PrimitiveValue::from(comment.as_str()),
            ));
        }
        if let Some(counts) = self.sub_operations {
            for (element, count) in [
                (0x1020, counts.remaining),
                (0x1021, counts.completed),
                (0x1022, counts.failed),
                (0x1023, counts.warning),
            ] {
                elements.push(DataElement::new(
                    Tag(0x0000, element),
                    VR::US,
                    PrimitiveValue::from(count),
                ));
            }
        }
        let object = InMemDicomObject::command_from_element_iter(elements);
        let mut bytes = Vec::with_capacity(256);
        // Writing to a Vec fails only on values the encoder cannot represent, which the
        // elements above never are.
        if let Err(error) =
            object.write_dataset_with_ts(&mut bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        {
            tracing::error!(%error, "a response command set could not be encoded");
        }
        bytes
    }
}

/// A C-STORE-RQ's command set, as the C-STORE SCU of C-MOVE and C-GET sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreRequest {
    /// Message ID.
    pub message_id: u16,
    /// Affected SOP Class UID.
    pub sop_class_uid: String,
    /// Affected SOP Instance UID.
    pub sop_instance_uid: String,
    /// Move Originator AE Title and Message ID, for the sub-operations of a C-MOVE.
    pub move_originator: Option<(String, u16)>,
}

impl StoreRequest {
    /// A request for one instance, medium priority.
    pub fn new(message_id: u16, sop_class_uid: &str, sop_instance_uid: &str) -> StoreRequest {
        StoreRequest {
            message_id,
            sop_class_uid: sop_class_uid.to_owned(),
            sop_instance_uid: sop_instance_uid.to_owned(),
            move_originator: None,
        }
    }

    /// The command set, encoded in Implicit VR Little Endian with its group length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut elements = vec![
            DataElement::new(
                tags::AFFECTED_SOP_CLASS_UID,
                VR::UI,
                uid_value(&self.sop_class_uid),
            ),
            DataElement::new(
                tags::COMMAND_FIELD,
                VR::US,
                PrimitiveValue::from(CommandField::CStoreRq.code()),
            ),
            DataElement::new(
                tags::MESSAGE_ID,
                VR::US,
                PrimitiveValue::from(self.message_id),
            ),
            DataElement::new(tags::PRIORITY, VR::US, PrimitiveValue::from(0u16)),
            DataElement::new(
                tags::COMMAND_DATA_SET_TYPE,
                VR::US,
                PrimitiveValue::from(0x0001u16),
            ),
            DataElement::new(
                tags::AFFECTED_SOP_INSTANCE_UID,
                VR::UI,
                uid_value(&self.sop_instance_uid),
            ),
        ];
        if let Some((aet, id)) = &self.move_originator {
            elements.push(DataElement::new(
                tags::MOVE_ORIGINATOR_APPLICATION_ENTITY_TITLE,
                VR::AE,
                PrimitiveValue::from(aet.as_str()),
            ));
            elements.push(DataElement::new(
                tags::MOVE_ORIGINATOR_MESSAGE_ID,
                VR::US,
                PrimitiveValue::from(*id),
            ));
        }
        let object = InMemDicomObject::command_from_element_iter(elements);
        let mut bytes = Vec::with_capacity(256);
        if let Err(error) =
            object.write_dataset_with_ts(&mut bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        {
            tracing::error!(%error, "a C-STORE request could not be encoded");
        }
        bytes
    }
}

/// The command set of an N-ACTION-RQ or N-EVENT-REPORT-RQ, a data set following: what the
/// storage commitment SCP sends (N-EVENT-REPORT) and its SCU sends (N-ACTION).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NormalizedRequest {
    /// [`CommandField::NActionRq`] or [`CommandField::NEventReportRq`].
    pub field: CommandField,
    /// Message ID.
    pub message_id: u16,
    /// The SOP class: Requested (N-ACTION) or Affected (N-EVENT-REPORT) SOP Class UID.
    pub sop_class_uid: String,
    /// The SOP instance: Requested or Affected SOP Instance UID.
    pub sop_instance_uid: String,
    /// Action Type ID (N-ACTION) or Event Type ID (N-EVENT-REPORT).
    pub type_id: u16,
}

impl NormalizedRequest {
    /// An N-ACTION-RQ with a data set (the Action Information).
    pub fn action(
        message_id: u16,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        action_type_id: u16,
    ) -> NormalizedRequest {
        NormalizedRequest {
            field: CommandField::NActionRq,
            message_id,
            sop_class_uid: sop_class_uid.to_owned(),
            sop_instance_uid: sop_instance_uid.to_owned(),
            type_id: action_type_id,
        }
    }

    /// An N-EVENT-REPORT-RQ with a data set (the Event Information).
    pub fn event_report(
        message_id: u16,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        event_type_id: u16,
    ) -> NormalizedRequest {
        NormalizedRequest {
            field: CommandField::NEventReportRq,
            message_id,
            sop_class_uid: sop_class_uid.to_owned(),
            sop_instance_uid: sop_instance_uid.to_owned(),
            type_id: event_type_id,
        }
    }

    /// The command set, encoded in Implicit VR Little Endian with its group length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let action = self.field == CommandField::NActionRq;
        let (class_tag, instance_tag, type_tag) = if action {
            (
                tags::REQUESTED_SOP_CLASS_UID,
                tags::REQUESTED_SOP_INSTANCE_UID,
                tags::ACTION_TYPE_ID,
            )
        } else {
            (
                tags::AFFECTED_SOP_CLASS_UID,
                tags::AFFECTED_SOP_INSTANCE_UID,
                tags::EVENT_TYPE_ID,
            )
        };
        let elements = vec![
            DataElement::new(class_tag, VR::UI, uid_value(&self.sop_class_uid)),
            DataElement::new(
                tags::COMMAND_FIELD,
                VR::US,
                PrimitiveValue::from(self.field.code()),
            ),
            DataElement::new(
                tags::MESSAGE_ID,
                VR::US,
                PrimitiveValue::from(self.message_id),
            ),
            DataElement::new(
                tags::COMMAND_DATA_SET_TYPE,
                VR::US,
                PrimitiveValue::from(0x0001u16),
            ),
            DataElement::new(instance_tag, VR::UI, uid_value(&self.sop_instance_uid)),
            DataElement::new(type_tag, VR::US, PrimitiveValue::from(self.type_id)),
        ];
        let object = InMemDicomObject::command_from_element_iter(elements);
        let mut bytes = Vec::with_capacity(256);
        if let Err(error) =
            object.write_dataset_with_ts(&mut bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        {
            tracing::error!(%error, "an N-service request could not be encoded");
        }
        bytes
    }
}

/// A UI value: padded to even length with NUL by the encoder.
fn uid_value(uid: &str) -> PrimitiveValue {
    PrimitiveValue::from(uid)
}

fn uint16(object: &InMemDicomObject, tag: Tag) -> Result<Option<u16>, Error> {
    let Some(element) = object.element_opt(tag).ok().flatten() else {
        return Ok(None);
    };
    element
        .to_int::<u16>()
        .map(Some)
        .map_err(|e| Error::command(format!("a US value in {tag}"), e.to_string()))
}

fn text(object: &InMemDicomObject, tag: Tag) -> Result<Option<String>, Error> {
    let Some(element) = object.element_opt(tag).ok().flatten() else {
        return Ok(None);
    };
    let value = element
        .to_str()
        .map_err(|e| Error::command(format!("a text value in {tag}"), e.to_string()))?;
    let value = value.trim_matches(|c: char| c == '\0' || c == ' ');
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(field: CommandField, data: bool) -> Vec<u8> {
        let elements = vec![
            DataElement::new(
                tags::AFFECTED_SOP_CLASS_UID,
                VR::UI,
                PrimitiveValue::from("1.2.840.10008.5.1.4.1.1.2"),
            ),
            DataElement::new(
                tags::COMMAND_FIELD,
                VR::US,
                PrimitiveValue::from(field.code()),
            ),
            DataElement::new(tags::MESSAGE_ID, VR::US, PrimitiveValue::from(7u16)),
            DataElement::new(tags::PRIORITY, VR::US, PrimitiveValue::from(0u16)),
            DataElement::new(
                tags::COMMAND_DATA_SET_TYPE,
                VR::US,
                PrimitiveValue::from(if data { 0u16 } else { NO_DATA_SET }),
            ),
            DataElement::new(
                tags::AFFECTED_SOP_INSTANCE_UID,
                VR::UI,
                PrimitiveValue::from("1.2.3.4"),
            ),
        ];
        let mut bytes = Vec::new();
        InMemDicomObject::command_from_element_iter(elements)
            .write_dataset_with_ts(&mut bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
            .unwrap();
        bytes
    }

    #[test]
    fn reads_a_store_request() {
        let command = Command::read(&request(CommandField::CStoreRq, true)).unwrap();
        assert_eq!(command.field, CommandField::CStoreRq);
        assert_eq!(command.message_id, Some(7));
        assert_eq!(
            command.affected_sop_class_uid.as_deref(),
            Some("1.2.840.10008.5.1.4.1.1.2")
        );
        assert_eq!(
            command.affected_sop_instance_uid.as_deref(),
            Some("1.2.3.4")
        );
        assert!(command.has_data_set);
    }

    #[test]
    fn a_response_reads_back() {
        let request = Command::read(&request(CommandField::CEchoRq, false)).unwrap();
        let mut response = Response::to(&request, 0xA700)
            .unwrap()
            .with_comment("disk full\u{7}");
        response.sub_operations = Some(SubOperations {
            remaining: 1,
            completed: 2,
            failed: 3,
            warning: 4,
        });
        let read = Command::read(&response.to_bytes()).unwrap();
        assert_eq!(read.field, CommandField::CEchoRsp);
        assert_eq!(read.message_id_responded_to, Some(7));
        assert_eq!(read.status, Some(0xA700));
        assert!(!read.has_data_set);
        assert_eq!(response.error_comment.as_deref(), Some("disk full"));
    }

    #[test]
    fn huge_declared_lengths_are_errors_not_allocations() {
        // (0000,0002) claiming almost 4 GiB, then (0000,0100) claiming 2 GiB, in 16 bytes.
        for bytes in [
            &b"\x00\x00\x02\x00\xf0\xff\xff\xff1.2"[..],
            b"\x00\x00\x00\x01\x00\x00\x00\x80\x01\x00",
            b"\x00\x00\x00\x08\xff\xff\xff\xff\xfe\xff\x00\xe0",
            // Found by the dimse_command fuzz target: a US of 3 bytes, which the decoder read
            // as one value, then out of step.
            b"\x00\x00\x00\x01\x03\x00\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x00\x00\xb6\x59\x01\x00",
            // Found by the dimse_command fuzz target: a (0052,0011) whose value the decoder
            // read as a sequence holding an OB of nearly 4 GiB.
            b"\x52\x00\x11\x00\x17\x00\x00\x00\x00\xfc\xff\x00\xff\xff\xff\xff\xff\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x83\x00\xff\x00\x00\x01\x00\x00\x00\x00",
        ] {
            assert!(Command::read(bytes).is_err());
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b""[..], b"\x00\x00\x00\x01\xff\xff\xff\xff", &[0u8; 3]] {
            assert!(Command::read(bytes).is_err());
        }
        assert!(Command::read(&vec![0u8; MAX_COMMAND_BYTES + 1]).is_err());
    }

    #[test]
    fn a_store_request_reads_back() {
        let mut request = StoreRequest::new(9, "1.2.840.10008.5.1.4.1.1.2", "1.2.3");
        request.move_originator = Some(("MOVER".into(), 4));
        let read = Command::read(&request.to_bytes()).unwrap();
        assert_eq!(read.field, CommandField::CStoreRq);
        assert_eq!(read.message_id, Some(9));
        assert_eq!(read.affected_sop_instance_uid.as_deref(), Some("1.2.3"));
        assert!(read.has_data_set);
    }

    #[test]
    fn an_action_and_its_response_read_back() {
        let request =
            NormalizedRequest::action(3, "1.2.840.10008.1.20.1", "1.2.840.10008.1.20.1.1", 1);
        let read = Command::read(&request.to_bytes()).unwrap();
        assert_eq!(read.field, CommandField::NActionRq);
        assert_eq!(read.message_id, Some(3));
        assert_eq!(
            read.requested_sop_class_uid.as_deref(),
            Some("1.2.840.10008.1.20.1")
        );
        assert_eq!(
            read.requested_sop_instance_uid.as_deref(),
            Some("1.2.840.10008.1.20.1.1")
        );
        assert_eq!(read.action_type_id, Some(1));
        assert!(read.has_data_set);
        let response = Command::read(&Response::to(&read, 0).unwrap().to_bytes()).unwrap();
        assert_eq!(response.field, CommandField::NActionRsp);
        assert_eq!(response.message_id_responded_to, Some(3));
        assert_eq!(
            response.affected_sop_class_uid.as_deref(),
            Some("1.2.840.10008.1.20.1")
        );
        assert_eq!(
            response.affected_sop_instance_uid.as_deref(),
            Some("1.2.840.10008.1.20.1.1")
        );
        assert_eq!(response.action_type_id, Some(1));
        assert_eq!(response.status, Some(0));
        assert!(!response.has_data_set);
    }

    #[test]
    fn an_event_report_and_its_response_read_back() {
        let request =
            NormalizedRequest::event_report(5, "1.2.840.10008.1.20.1", "1.2.840.10008.1.20.1.1", 2);
        let read = Command::read(&request.to_bytes()).unwrap();
        assert_eq!(read.field, CommandField::NEventReportRq);
        assert_eq!(
            read.affected_sop_instance_uid.as_deref(),
            Some("1.2.840.10008.1.20.1.1")
        );
        assert_eq!(read.event_type_id, Some(2));
        let response = Command::read(&Response::to(&read, 0).unwrap().to_bytes()).unwrap();
        assert_eq!(response.field, CommandField::NEventReportRsp);
        assert_eq!(response.event_type_id, Some(2));
        assert_eq!(response.action_type_id, None);
    }

    #[test]
    fn only_requests_have_responses() {
        assert_eq!(
            CommandField::from_code(0x0030).response(),
            Some(CommandField::CEchoRsp)
        );
        assert_eq!(CommandField::from_code(0x8001).response(), None);
        assert_eq!(CommandField::from_code(0x0140), CommandField::Other(0x0140));
    }
}
