//! A Storage Commitment Request (PS3.4 J.3.2) as a pure function: the N-ACTION-RQ's command
//! set checked ([`check_action`]) and its Action Information read ([`read_action_information`],
//! or [`parse`] from the bytes on the wire) into a [`CommitmentRequest`]. What is wrong comes
//! back as a [`Refusal`]: the N-ACTION status (PS3.7 §10.1.4.1.10) and a reason.

use dicomweb_core::{DataSet, Tag, Uid, Value};

use crate::command::{Command, CommandField};
use crate::sop_classes::{STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE, is_storage_commitment};

/// Action Type ID 1: Request Storage Commitment.
pub const REQUEST_STORAGE_COMMITMENT: u16 = 1;
/// The most instances one request may reference; beyond, it is refused with 0213. (The
/// adapter reads Action Information of at most 1 MiB, which holds fewer.)
pub const MAX_REFERENCES: usize = 10_000;

/// N-ACTION status 0110: processing failure.
pub const PROCESSING_FAILURE: u16 = 0x0110;
/// N-ACTION status 0112: no such SOP instance.
pub const NO_SUCH_SOP_INSTANCE: u16 = 0x0112;
/// N-ACTION status 0115: invalid argument value.
pub const INVALID_ARGUMENT_VALUE: u16 = 0x0115;
/// N-ACTION status 0118: no such SOP class.
pub const NO_SUCH_SOP_CLASS: u16 = 0x0118;
/// N-ACTION status 0123: no such action.
pub const NO_SUCH_ACTION: u16 = 0x0123;
/// N-ACTION status 0213: resource limitation.
pub const RESOURCE_LIMITATION: u16 = 0x0213;

/// Transaction UID (0008,1195).
pub const TRANSACTION_UID: Tag = Tag(0x0008_1195);
// The others this module reads and writes, as the core names them (re-exported for the
// report's readers).
pub use dicomweb_core::tags::{
    FAILED_SOP_SEQUENCE, FAILURE_REASON, REFERENCED_SOP_CLASS_UID, REFERENCED_SOP_INSTANCE_UID,
    REFERENCED_SOP_SEQUENCE,
};

/// One instance whose storage is to be committed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// Referenced SOP Class UID.
    pub sop_class_uid: Uid,
    /// Referenced SOP Instance UID.
    pub sop_instance_uid: Uid,
}

/// A Storage Commitment Request: its transaction and the instances it names, in the order
/// named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitmentRequest {
    /// Transaction UID, which the result repeats.
    pub transaction_uid: Uid,
    /// Referenced SOP Sequence.
    pub references: Vec<Reference>,
}

/// Why an N-ACTION is refused: its response's status, and a reason (for the log and the Error
/// Comment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The N-ACTION-RSP status.
    pub status: u16,
    /// What was expected and what came.
    pub reason: String,
}

impl Refusal {
    fn new(status: u16, reason: impl Into<String>) -> Refusal {
        Refusal {
            status,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04X}H: {}", self.status, self.reason)
    }
}

/// Checks an N-ACTION-RQ's command set: the Storage Commitment Push Model class and its
/// well-known instance are requested (0118, 0112 otherwise), with Action Type ID 1 (0123)
/// and a data set (0115).
pub fn check_action(command: &Command) -> Result<(), Refusal> {
    if command.field != CommandField::NActionRq {
        return Err(Refusal::new(
            PROCESSING_FAILURE,
            format!(
                "expected an N-ACTION-RQ, found command field {:04X}H",
                command.field.code()
            ),
        ));
    }
    let class = command.requested_sop_class_uid.as_deref().unwrap_or("");
    if !is_storage_commitment(class) {
        return Err(Refusal::new(
            NO_SUCH_SOP_CLASS,
            format!("expected the Storage Commitment Push Model SOP class, found {class:?}"),
        ));
    }
    let instance = command.requested_sop_instance_uid.as_deref().unwrap_or("");
    if instance != STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE {
        return Err(Refusal::new(
            NO_SUCH_SOP_INSTANCE,
            format!(
                "expected the well-known instance {STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE}, found {instance:?}"
            ),
        ));
    }
    match command.action_type_id {
        Some(REQUEST_STORAGE_COMMITMENT) => {}
        other => {
            return Err(Refusal::new(
                NO_SUCH_ACTION,
                format!("expected Action Type ID 1, found {other:?}"),
            ));
        }
    }
    if !command.has_data_set {
        return Err(Refusal::new(
            INVALID_ARGUMENT_VALUE,
            "expected Action Information after the N-ACTION-RQ, found no data set",
        ));
    }
    Ok(())
}

/// Reads the Action Information of a Storage Commitment Request: a valid Transaction UID and
/// a Referenced SOP Sequence of at least one item, each with a valid Referenced SOP Class UID
/// and Referenced SOP Instance UID (0115 otherwise), at most [`MAX_REFERENCES`] (0213).
pub fn read_action_information(data_set: &DataSet) -> Result<CommitmentRequest, Refusal> {
    let transaction_uid = uid(data_set, TRANSACTION_UID, "Transaction UID (0008,1195)")?;
    let items = match data_set.get(REFERENCED_SOP_SEQUENCE).map(|e| &e.value) {
        Some(Value::Items(items)) if !items.is_empty() => items,
        Some(Value::Items(_) | Value::Empty) => {
            return Err(Refusal::new(
                INVALID_ARGUMENT_VALUE,
                "expected at least one item in the Referenced SOP Sequence (0008,1199), found none",
            ));
        }
        Some(_) => {
            return Err(Refusal::new(
                INVALID_ARGUMENT_VALUE,
                "expected the Referenced SOP Sequence (0008,1199) to be a sequence, found another value",
            ));
        }
        None => {
            return Err(Refusal::new(
                INVALID_ARGUMENT_VALUE,
                "expected a Referenced SOP Sequence (0008,1199), found none",
            ));
        }
    };
    if items.len() > MAX_REFERENCES {
        return Err(Refusal::new(
            RESOURCE_LIMITATION,
            format!(
                "expected at most {MAX_REFERENCES} referenced instances, found {}",
                items.len()
            ),
        ));
    }
    let mut references = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let at = |what: &str| {
            format!(
                "{what} in item {} of the Referenced SOP Sequence",
                index + 1
            )
        };
        references.push(Reference {
            sop_class_uid: uid(
                item,
                REFERENCED_SOP_CLASS_UID,
                &at("Referenced SOP Class UID (0008,1150)"),
            )?,
            sop_instance_uid: uid(
                item,
                REFERENCED_SOP_INSTANCE_UID,
                &at("Referenced SOP Instance UID (0008,1155)"),
            )?,
        });
    }
    Ok(CommitmentRequest {
        transaction_uid,
        references,
    })
}

/// Reads the Action Information from its bytes in the presentation context's transfer syntax:
/// a data set that does not parse is refused with 0110, one that parses with
/// [`read_action_information`].
pub fn parse(bytes: &[u8], transfer_syntax: &str) -> Result<CommitmentRequest, Refusal> {
    let data_set = crate::find::read_identifier(
        bytes,
        crate::sop_classes::STORAGE_COMMITMENT_PUSH_MODEL,
        transfer_syntax,
    )
    .map_err(|e| {
        Refusal::new(
            PROCESSING_FAILURE,
            format!("expected Action Information that parses, found: {e}"),
        )
    })?;
    read_action_information(&data_set)
}

fn uid(data_set: &DataSet, tag: Tag, what: &str) -> Result<Uid, Refusal> {
    let Some(text) = data_set.string(tag) else {
        return Err(Refusal::new(
            INVALID_ARGUMENT_VALUE,
            format!("expected a {what}, found none"),
        ));
    };
    let text = text.trim_end_matches(['\0', ' ']);
    Uid::new(text).map_err(|_| {
        Refusal::new(
            INVALID_ARGUMENT_VALUE,
            format!("expected a valid UID as {what}, found {text:?}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use dicomweb_core::{Element, Vr};

    use super::*;
    use crate::command::NormalizedRequest;
    use crate::sop_classes::STORAGE_COMMITMENT_PUSH_MODEL;

    const CT: &str = "1.2.840.10008.5.1.4.1.1.2";

    fn item(class: &str, instance: &str) -> DataSet {
        let mut item = DataSet::new();
        item.insert(REFERENCED_SOP_CLASS_UID, Element::string(Vr::UI, class));
        item.insert(
            REFERENCED_SOP_INSTANCE_UID,
            Element::string(Vr::UI, instance),
        );
        item
    }

    fn information(items: Vec<DataSet>) -> DataSet {
        let mut data_set = DataSet::new();
        data_set.insert(TRANSACTION_UID, Element::string(Vr::UI, "2.25.77"));
        data_set.insert(REFERENCED_SOP_SEQUENCE, Element::sequence(items));
        data_set
    }

    fn action(class: &str, instance: &str, action_type: u16) -> Command {
        Command::read(&NormalizedRequest::action(1, class, instance, action_type).to_bytes())
            .unwrap()
    }

    #[test]
    fn reads_a_request_in_both_little_endian_syntaxes() {
        let data_set = information(vec![item(CT, "1.2.3.1"), item(CT, "1.2.3.2")]);
        for syntax in ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"] {
            let bytes =
                crate::find::write_identifier(&data_set, STORAGE_COMMITMENT_PUSH_MODEL, syntax)
                    .unwrap();
            let request = parse(&bytes, syntax).unwrap();
            assert_eq!(request.transaction_uid.as_str(), "2.25.77");
            let instances: Vec<&str> = request
                .references
                .iter()
                .map(|r| r.sop_instance_uid.as_str())
                .collect();
            assert_eq!(instances, ["1.2.3.1", "1.2.3.2"]);
            assert_eq!(request.references[0].sop_class_uid.as_str(), CT);
        }
    }

    #[test]
    fn malformed_information_is_refused_with_invalid_argument_value() {
        let mut no_transaction = information(vec![item(CT, "1.2.3")]);
        no_transaction.remove(TRANSACTION_UID);
        let mut bad_transaction = information(vec![item(CT, "1.2.3")]);
        bad_transaction.insert(TRANSACTION_UID, Element::string(Vr::UI, "not a uid"));
        let mut no_sequence = information(vec![]);
        no_sequence.remove(REFERENCED_SOP_SEQUENCE);
        let mut not_a_sequence = information(vec![]);
        not_a_sequence.insert(REFERENCED_SOP_SEQUENCE, Element::string(Vr::UI, "1.2"));
        let mut no_instance = item(CT, "1.2.3");
        no_instance.remove(REFERENCED_SOP_INSTANCE_UID);
        for (data_set, says) in [
            (no_transaction, "Transaction UID"),
            (bad_transaction, "valid UID as Transaction UID"),
            (no_sequence, "found none"),
            (information(vec![]), "at least one item"),
            (not_a_sequence, "to be a sequence"),
            (information(vec![item(CT, "1.2.3"), no_instance]), "item 2"),
            (
                information(vec![item("", "1.2.3")]),
                "Referenced SOP Class UID",
            ),
        ] {
            let refusal = read_action_information(&data_set).unwrap_err();
            assert_eq!(refusal.status, INVALID_ARGUMENT_VALUE, "{refusal}");
            assert!(refusal.reason.contains(says), "{refusal} should say {says}");
        }
    }

    #[test]
    fn too_many_references_is_a_resource_limitation() {
        let items = vec![item(CT, "1.2.3"); MAX_REFERENCES + 1];
        let refusal = read_action_information(&information(items)).unwrap_err();
        assert_eq!(refusal.status, RESOURCE_LIMITATION);
    }

    #[test]
    fn unreadable_information_is_a_processing_failure() {
        for bytes in [&b"\x08\x00\x95\x11\xff\xff\xff\x7f"[..], b"\x01"] {
            let refusal = parse(bytes, "1.2.840.10008.1.2").unwrap_err();
            assert!(
                [PROCESSING_FAILURE, INVALID_ARGUMENT_VALUE].contains(&refusal.status),
                "{refusal}"
            );
        }
    }

    #[test]
    fn the_command_names_the_service_its_instance_and_action_1() {
        let instance = STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE;
        assert_eq!(
            check_action(&action(STORAGE_COMMITMENT_PUSH_MODEL, instance, 1)),
            Ok(())
        );
        for (command, status) in [
            (action(CT, instance, 1), NO_SUCH_SOP_CLASS),
            (
                action(STORAGE_COMMITMENT_PUSH_MODEL, "1.2.3", 1),
                NO_SUCH_SOP_INSTANCE,
            ),
            (
                action(STORAGE_COMMITMENT_PUSH_MODEL, instance, 2),
                NO_SUCH_ACTION,
            ),
        ] {
            assert_eq!(check_action(&command).unwrap_err().status, status);
        }
        let mut no_data = action(STORAGE_COMMITMENT_PUSH_MODEL, instance, 1);
        no_data.has_data_set = false;
        assert_eq!(
            check_action(&no_data).unwrap_err().status,
            INVALID_ARGUMENT_VALUE
        );
    }
}
