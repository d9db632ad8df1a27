//! The Storage Commitment Result (PS3.4 J.3.3) as pure functions: what each referenced
//! instance's fate is, given what the DICOMweb server and the upload queue say ([`verdict`]),
//! and the N-EVENT-REPORT's Event Information built from the fates ([`event_report`]) or
//! read back ([`read_event_information`]).

use dicomweb_core::{DataSet, Element, Number, Uid, Value, Vr};

use super::request::{
    FAILED_SOP_SEQUENCE, FAILURE_REASON, REFERENCED_SOP_CLASS_UID, REFERENCED_SOP_INSTANCE_UID,
    REFERENCED_SOP_SEQUENCE, Reference, TRANSACTION_UID,
};

/// Event Type ID 1: Storage Commitment Request Successful (every instance committed).
pub const ALL_COMMITTED: u16 = 1;
/// Event Type ID 2: Storage Commitment Request Complete – Failures Exist.
pub const FAILURES_EXIST: u16 = 2;

/// Failure Reason 0110: processing failure (the server could not be asked, or the instance
/// is still waiting in the upload queue).
pub const PROCESSING_FAILURE: u16 = 0x0110;
/// Failure Reason 0112: no such object instance.
pub const NO_SUCH_OBJECT_INSTANCE: u16 = 0x0112;
/// Failure Reason 0119: class / instance conflict (the server holds the instance under
/// another SOP class).
pub const CLASS_INSTANCE_CONFLICT: u16 = 0x0119;

/// Retrieve AE Title (0008,0054).
const RETRIEVE_AE_TITLE: dicomweb_core::Tag = dicomweb_core::Tag(0x0008_0054);

/// What became of one referenced instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// On the DICOMweb server: the adapter commits to it.
    Committed,
    /// Not committed, with its Failure Reason (0008,1197).
    Failed(u16),
}

/// The fate of a referenced instance at one look, or that it is worth looking again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Decided.
    Decided(Outcome),
    /// Look again later: the instance waits in the upload queue, or the server could not
    /// be asked.
    Wait,
}

/// What one look found about an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnServer<'a> {
    /// The server could not be asked.
    Unknown,
    /// The server does not have it.
    Absent,
    /// The server has it, under this SOP class when its answer named one.
    Present(Option<&'a str>),
}

/// The fate of `reference`: committed when the server has it under the same SOP class
/// (0119 under another); when it does not, the instance is waited for while it is in the
/// upload queue (`queued`, looked at before the server was asked) and `may_wait`, else fails
/// 0110 (still queued) or 0112 (the adapter never got it, or the server refused it); when
/// the server cannot be asked, waited for while `may_wait`, else 0110.
pub fn verdict(
    reference: &Reference,
    on_server: OnServer<'_>,
    queued: bool,
    may_wait: bool,
) -> Verdict {
    match on_server {
        OnServer::Present(class) => match class.map(|c| c.trim_end_matches(['\0', ' '])) {
            Some(class) if !class.is_empty() && class != reference.sop_class_uid.as_str() => {
                Verdict::Decided(Outcome::Failed(CLASS_INSTANCE_CONFLICT))
            }
            _ => Verdict::Decided(Outcome::Committed),
        },
        OnServer::Absent if queued && may_wait => Verdict::Wait,
        OnServer::Absent if queued => Verdict::Decided(Outcome::Failed(PROCESSING_FAILURE)),
        OnServer::Absent => Verdict::Decided(Outcome::Failed(NO_SUCH_OBJECT_INSTANCE)),
        OnServer::Unknown if may_wait => Verdict::Wait,
        OnServer::Unknown => Verdict::Decided(Outcome::Failed(PROCESSING_FAILURE)),
    }
}

/// An N-EVENT-REPORT's Event Type ID and Event Information.
#[derive(Clone, Debug, PartialEq)]
pub struct EventReport {
    /// [`ALL_COMMITTED`] or [`FAILURES_EXIST`].
    pub event_type_id: u16,
    /// Transaction UID, Retrieve AE Title, Referenced SOP Sequence (the committed instances,
    /// left out when none is) and Failed SOP Sequence (with each Failure Reason, left out
    /// when none failed).
    pub information: DataSet,
}

impl EventReport {
    /// How many instances are reported committed and failed.
    pub fn counts(&self) -> (usize, usize) {
        let count = |tag| match self.information.get(tag).map(|e| &e.value) {
            Some(Value::Items(items)) => items.len(),
            _ => 0,
        };
        (count(REFERENCED_SOP_SEQUENCE), count(FAILED_SOP_SEQUENCE))
    }
}

/// The Storage Commitment Result for `transaction_uid`: each instance in the order given,
/// committed ones in the Referenced SOP Sequence, failed ones in the Failed SOP Sequence.
/// `retrieve_aet`, when given, says where the committed instances can be retrieved.
pub fn event_report(
    transaction_uid: &Uid,
    outcomes: &[(Reference, Outcome)],
    retrieve_aet: Option<&str>,
) -> EventReport {
    let mut committed = Vec::new();
    let mut failed = Vec::new();
    for (reference, outcome) in outcomes {
        let mut item = DataSet::new();
        item.insert(
            REFERENCED_SOP_CLASS_UID,
            Element::string(Vr::UI, reference.sop_class_uid.as_str()),
        );
        item.insert(
            REFERENCED_SOP_INSTANCE_UID,
            Element::string(Vr::UI, reference.sop_instance_uid.as_str()),
        );
        match outcome {
            Outcome::Committed => committed.push(item),
            Outcome::Failed(reason) => {
                item.insert(
                    FAILURE_REASON,
                    Element::numbers(Vr::US, [Number::Int(i64::from(*reason))]),
                );
                failed.push(item);
            }
        }
    }
    let mut information = DataSet::new();
    information.insert(
        TRANSACTION_UID,
        Element::string(Vr::UI, transaction_uid.as_str()),
    );
    if let Some(aet) = retrieve_aet.map(str::trim).filter(|aet| !aet.is_empty()) {
        information.insert(RETRIEVE_AE_TITLE, Element::string(Vr::AE, aet));
    }
    let event_type_id = if failed.is_empty() {
        ALL_COMMITTED
    } else {
        FAILURES_EXIST
    };
    if !committed.is_empty() {
        information.insert(REFERENCED_SOP_SEQUENCE, Element::sequence(committed));
    }
    if !failed.is_empty() {
        information.insert(FAILED_SOP_SEQUENCE, Element::sequence(failed));
    }
    EventReport {
        event_type_id,
        information,
    }
}

/// Reads a Storage Commitment Result's Event Information back: the Transaction UID and each
/// instance's outcome, committed ones first. The error says what was expected and found.
pub fn read_event_information(
    information: &DataSet,
) -> Result<(Uid, Vec<(Reference, Outcome)>), String> {
    let transaction_uid = information
        .uid(TRANSACTION_UID)
        .ok_or("expected a valid Transaction UID (0008,1195), found none")?;
    let mut outcomes = Vec::new();
    for (tag, failed) in [
        (REFERENCED_SOP_SEQUENCE, false),
        (FAILED_SOP_SEQUENCE, true),
    ] {
        let items = match information.get(tag).map(|e| &e.value) {
            None | Some(Value::Empty) => continue,
            Some(Value::Items(items)) => items,
            Some(_) => {
                return Err(format!(
                    "expected {tag} to be a sequence, found another value"
                ));
            }
        };
        for item in items {
            let reference = Reference {
                sop_class_uid: item.uid(REFERENCED_SOP_CLASS_UID).ok_or_else(|| {
                    format!("expected a Referenced SOP Class UID in each item of {tag}")
                })?,
                sop_instance_uid: item.uid(REFERENCED_SOP_INSTANCE_UID).ok_or_else(|| {
                    format!("expected a Referenced SOP Instance UID in each item of {tag}")
                })?,
            };
            let outcome = if failed {
                let reason = match item.get(FAILURE_REASON).map(|e| &e.value) {
                    Some(Value::Numbers(values)) => values
                        .first()
                        .and_then(|v| v.as_ref())
                        .and_then(Number::to_i64)
                        .and_then(|n| u16::try_from(n).ok()),
                    _ => None,
                };
                Outcome::Failed(reason.ok_or_else(|| {
                    format!("expected a Failure Reason (0008,1197) in each item of {tag}")
                })?)
            } else {
                Outcome::Committed
            };
            outcomes.push((reference, outcome));
        }
    }
    Ok((transaction_uid, outcomes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sop_classes::STORAGE_COMMITMENT_PUSH_MODEL;

    const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
    const MR: &str = "1.2.840.10008.5.1.4.1.1.4";

    fn reference(instance: &str) -> Reference {
        Reference {
            sop_class_uid: Uid::new(CT).unwrap(),
            sop_instance_uid: Uid::new(instance).unwrap(),
        }
    }

    #[test]
    fn verdicts() {
        let r = reference("1.2.3");
        let decided = |o| Verdict::Decided(o);
        for (on_server, queued, may_wait, expected) in [
            (
                OnServer::Present(Some(CT)),
                false,
                true,
                decided(Outcome::Committed),
            ),
            (
                OnServer::Present(Some("1.2.840.10008.5.1.4.1.1.2\0")),
                true,
                false,
                decided(Outcome::Committed),
            ),
            (
                OnServer::Present(None),
                false,
                false,
                decided(Outcome::Committed),
            ),
            (
                OnServer::Present(Some(MR)),
                false,
                true,
                decided(Outcome::Failed(CLASS_INSTANCE_CONFLICT)),
            ),
            (OnServer::Absent, true, true, Verdict::Wait),
            (
                OnServer::Absent,
                true,
                false,
                decided(Outcome::Failed(PROCESSING_FAILURE)),
            ),
            (
                OnServer::Absent,
                false,
                true,
                decided(Outcome::Failed(NO_SUCH_OBJECT_INSTANCE)),
            ),
            (
                OnServer::Absent,
                false,
                false,
                decided(Outcome::Failed(NO_SUCH_OBJECT_INSTANCE)),
            ),
            (OnServer::Unknown, false, true, Verdict::Wait),
            (
                OnServer::Unknown,
                true,
                false,
                decided(Outcome::Failed(PROCESSING_FAILURE)),
            ),
        ] {
            assert_eq!(
                verdict(&r, on_server, queued, may_wait),
                expected,
                "{on_server:?} queued {queued} may wait {may_wait}"
            );
        }
    }

    #[test]
    fn all_committed_is_event_1_without_a_failed_sequence() {
        let transaction = Uid::new("2.25.9").unwrap();
        let outcomes = vec![
            (reference("1.2.3.1"), Outcome::Committed),
            (reference("1.2.3.2"), Outcome::Committed),
        ];
        let report = event_report(&transaction, &outcomes, Some("ADAPTER "));
        assert_eq!(report.event_type_id, ALL_COMMITTED);
        assert_eq!(report.counts(), (2, 0));
        assert!(!report.information.contains(FAILED_SOP_SEQUENCE));
        assert_eq!(
            report.information.string(RETRIEVE_AE_TITLE),
            Some("ADAPTER")
        );
        assert_eq!(
            read_event_information(&report.information).unwrap(),
            (transaction, outcomes)
        );
    }

    #[test]
    fn failures_are_event_2_with_their_reasons_and_read_back_from_the_wire() {
        let transaction = Uid::new("2.25.10").unwrap();
        let outcomes = vec![
            (reference("1.2.3.1"), Outcome::Committed),
            (
                reference("1.2.3.2"),
                Outcome::Failed(NO_SUCH_OBJECT_INSTANCE),
            ),
            (reference("1.2.3.3"), Outcome::Failed(PROCESSING_FAILURE)),
        ];
        let report = event_report(&transaction, &outcomes, None);
        assert_eq!(report.event_type_id, FAILURES_EXIST);
        assert_eq!(report.counts(), (1, 2));
        assert!(!report.information.contains(RETRIEVE_AE_TITLE));
        for syntax in ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"] {
            let bytes = crate::find::write_identifier(
                &report.information,
                STORAGE_COMMITMENT_PUSH_MODEL,
                syntax,
            )
            .unwrap();
            let read = crate::find::read_identifier(&bytes, STORAGE_COMMITMENT_PUSH_MODEL, syntax)
                .unwrap();
            assert_eq!(
                read_event_information(&read).unwrap(),
                (transaction.clone(), outcomes.clone())
            );
        }
        let none_committed = event_report(&transaction, &outcomes[1..], None);
        assert!(!none_committed.information.contains(REFERENCED_SOP_SEQUENCE));
        assert_eq!(none_committed.counts(), (0, 2));
    }
}
