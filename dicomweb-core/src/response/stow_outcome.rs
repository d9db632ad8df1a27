//! What a STOW-RS reply means for each instance sent: stored, stored with a warning, failed
//! with a reason, or not mentioned at all (which counts as not stored).
//!
//! A client that sends several instances in one request checks each against the reply with
//! [`StoreResult::classify`] and reports them one by one; a client that trusted the status
//! alone would call an instance stored that the server silently dropped.

use std::fmt;

use crate::Uid;
use crate::response::{FailureReason, InstanceOutcome, StoreResult, WarningReason};

/// What a STOW-RS reply says about one instance sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StowOutcome {
    /// Listed in the ReferencedSOPSequence without a WarningReason.
    Stored {
        /// The UID the server lists it under: the one sent, or the one the reply gives for the
        /// only instance of a one-instance request (see [`StoreResult::classify`]).
        sop_instance_uid: Uid,
    },
    /// Listed in the ReferencedSOPSequence with a WarningReason: stored, but not exactly as
    /// sent (elements coerced or discarded).
    StoredWithWarning {
        /// The UID the server lists it under, as for [`StowOutcome::Stored`].
        sop_instance_uid: Uid,
        /// The WarningReason.
        reason: WarningReason,
    },
    /// Listed in the FailedSOPSequence: not stored.
    Failed {
        /// The FailureReason, when the server gave one.
        reason: Option<FailureReason>,
    },
    /// Listed in neither sequence: the reply does not match the request, and the instance is
    /// to be treated as not stored.
    NotMentioned,
}

impl StowOutcome {
    /// Whether the instance was stored (with or without a warning).
    pub fn is_stored(&self) -> bool {
        matches!(
            self,
            StowOutcome::Stored { .. } | StowOutcome::StoredWithWarning { .. }
        )
    }

    /// The UID the server stored the instance under, when it stored it.
    pub fn stored_uid(&self) -> Option<&Uid> {
        match self {
            StowOutcome::Stored { sop_instance_uid }
            | StowOutcome::StoredWithWarning {
                sop_instance_uid, ..
            } => Some(sop_instance_uid),
            _ => None,
        }
    }

    /// The WarningReason of an instance stored with a warning.
    pub fn warning_reason(&self) -> Option<WarningReason> {
        match self {
            StowOutcome::StoredWithWarning { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    /// The FailureReason of an instance the server listed as failed, when it gave one.
    pub fn failure_reason(&self) -> Option<FailureReason> {
        match self {
            StowOutcome::Failed { reason } => *reason,
            _ => None,
        }
    }
}

impl fmt::Display for StowOutcome {
    /// Stored; stored with `WarningReason B000H: coercion of data elements`;
    /// `FailureReason C122H: referenced transfer syntax not supported`; …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StowOutcome::Stored { .. } => f.write_str("stored"),
            StowOutcome::StoredWithWarning { reason, .. } => {
                write!(f, "stored with WarningReason {:04X}H", reason.0)?;
                match reason.description() {
                    Some(text) => write!(f, ": {text}"),
                    None => Ok(()),
                }
            }
            StowOutcome::Failed {
                reason: Some(reason),
            } => {
                write!(f, "FailureReason {:04X}H", reason.0)?;
                match reason.description() {
                    Some(text) => write!(f, ": {text}"),
                    None => Ok(()),
                }
            }
            StowOutcome::Failed { reason: None } => {
                f.write_str("listed in the FailedSOPSequence without a reason")
            }
            StowOutcome::NotMentioned => f.write_str("not mentioned in the server's reply"),
        }
    }
}

impl StoreResult {
    /// What the reply says about each instance of the request, given their SOP Instance UIDs
    /// in the order they were sent: one outcome each, in the same order.
    ///
    /// An instance listed in both sequences is failed. One exception to matching by UID: when
    /// one instance was sent and the reply lists exactly one instance (stored, or failed) under
    /// another UID, that entry is about the instance sent. Real files whose meta group's
    /// Media Storage SOP Instance UID disagrees with their data set's SOP Instance UID are
    /// reported under the data set's UID; the outcome then carries the UID the server gives.
    ///
    /// ```
    /// use dicomweb_core::response::{StoreResult, StowOutcome};
    /// use dicomweb_core::{DataSet, Uid, json, ReadOptions};
    /// use http::StatusCode;
    ///
    /// let reply = br#"{
    ///   "00081199": {"vr": "SQ", "Value": [
    ///     {"00081155": {"vr": "UI", "Value": ["1.2.1"]}},
    ///     {"00081155": {"vr": "UI", "Value": ["1.2.2"]}, "00081196": {"vr": "US", "Value": [45056]}}
    ///   ]},
    ///   "00081198": {"vr": "SQ", "Value": [
    ///     {"00081155": {"vr": "UI", "Value": ["1.2.3"]}, "00081197": {"vr": "US", "Value": [272]}}
    ///   ]}
    /// }"#;
    /// let data_set = &json::read(reply, &ReadOptions::default())?.into_data_sets()[0];
    /// let result = StoreResult::from_data_set(StatusCode::ACCEPTED, data_set);
    /// let sent: Vec<Uid> = ["1.2.1", "1.2.2", "1.2.3", "1.2.4"]
    ///     .iter().map(|u| Uid::new(*u)).collect::<Result<_, _>>()?;
    /// let outcomes = result.classify(&sent);
    /// assert!(matches!(outcomes[0], StowOutcome::Stored { .. }));
    /// assert_eq!(outcomes[1].warning_reason().map(|w| w.0), Some(0xB000));
    /// assert_eq!(outcomes[2].to_string(), "FailureReason 0110H: processing failure");
    /// assert_eq!(outcomes[3], StowOutcome::NotMentioned);
    /// # Ok::<(), dicomweb_core::Error>(())
    /// ```
    pub fn classify(&self, sent: &[Uid]) -> Vec<StowOutcome> {
        let only_one_sent = sent.len() == 1;
        sent.iter()
            .map(|uid| {
                let mut outcome = self.outcome(uid);
                if only_one_sent && outcome == InstanceOutcome::Unreported {
                    match (&self.stored[..], &self.failed[..]) {
                        ([only], []) => outcome = InstanceOutcome::Stored(only),
                        ([], [only]) => outcome = InstanceOutcome::Failed(only),
                        _ => {}
                    }
                }
                match outcome {
                    InstanceOutcome::Stored(stored) => {
                        // The UID the server reports, when it is one; otherwise the one sent.
                        let sop_instance_uid = stored
                            .sop_instance_uid
                            .as_ref()
                            .and_then(|text| Uid::new(text.clone()).ok())
                            .unwrap_or_else(|| uid.clone());
                        match stored.warning_reason {
                            Some(reason) => StowOutcome::StoredWithWarning {
                                sop_instance_uid,
                                reason,
                            },
                            None => StowOutcome::Stored { sop_instance_uid },
                        }
                    }
                    InstanceOutcome::Failed(failed) => StowOutcome::Failed {
                        reason: failed.failure_reason,
                    },
                    InstanceOutcome::Unreported => StowOutcome::NotMentioned,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::response::{FailedInstance, StoredInstance};

    fn uid(text: &str) -> Uid {
        Uid::new(text).unwrap()
    }

    fn stored(uid: &str, warning: Option<u16>) -> StoredInstance {
        StoredInstance {
            sop_instance_uid: Some(uid.to_owned()),
            warning_reason: warning.map(WarningReason),
            ..StoredInstance::default()
        }
    }

    fn failed(uid: &str, reason: Option<u16>) -> FailedInstance {
        FailedInstance {
            sop_instance_uid: Some(uid.to_owned()),
            failure_reason: reason.map(FailureReason),
            ..FailedInstance::default()
        }
    }

    fn result(stored: Vec<StoredInstance>, failed: Vec<FailedInstance>) -> StoreResult {
        StoreResult {
            status: StatusCode::ACCEPTED,
            retrieve_url: None,
            stored,
            failed,
            other_failures: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn each_instance_sent_gets_its_outcome_in_order() {
        let reply = result(
            vec![stored("1.1", None), stored("1.2", Some(0xB006))],
            vec![failed("1.3", Some(0xA700)), failed("1.4", None)],
        );
        let sent = [uid("1.4"), uid("1.1"), uid("1.5"), uid("1.2"), uid("1.3")];
        let outcomes = reply.classify(&sent);
        assert_eq!(
            outcomes,
            [
                StowOutcome::Failed { reason: None },
                StowOutcome::Stored {
                    sop_instance_uid: uid("1.1")
                },
                StowOutcome::NotMentioned,
                StowOutcome::StoredWithWarning {
                    sop_instance_uid: uid("1.2"),
                    reason: WarningReason(0xB006)
                },
                StowOutcome::Failed {
                    reason: Some(FailureReason(0xA700))
                },
            ]
        );
        let stored: Vec<bool> = outcomes.iter().map(StowOutcome::is_stored).collect();
        assert_eq!(stored, [false, true, false, true, false]);
        assert_eq!(
            outcomes[0].to_string(),
            "listed in the FailedSOPSequence without a reason"
        );
        assert_eq!(
            outcomes[3].to_string(),
            "stored with WarningReason B006H: elements discarded"
        );
        assert_eq!(
            outcomes[4].to_string(),
            "FailureReason A700H: out of resources"
        );
        assert_eq!(outcomes[4].failure_reason(), Some(FailureReason(0xA700)));
        assert_eq!(outcomes[2].stored_uid(), None);
    }

    #[test]
    fn listed_in_both_sequences_is_failed() {
        let reply = result(vec![stored("1.1", None)], vec![failed("1.1", Some(0x0110))]);
        assert!(!reply.classify(&[uid("1.1")])[0].is_stored());
    }

    #[test]
    fn the_only_instance_of_a_one_instance_request_is_the_one_sent() {
        let reply = result(vec![stored("9.9", Some(0xB000))], vec![]);
        assert_eq!(
            reply.classify(&[uid("1.1")]),
            [StowOutcome::StoredWithWarning {
                sop_instance_uid: uid("9.9"),
                reason: WarningReason(0xB000)
            }]
        );
        let reply = result(vec![], vec![failed("9.9", Some(0xC000))]);
        assert_eq!(
            reply.classify(&[uid("1.1")]),
            [StowOutcome::Failed {
                reason: Some(FailureReason(0xC000))
            }]
        );
        // A stored entry without a usable UID still means the instance sent.
        let mut nameless = stored("9.9", None);
        nameless.sop_instance_uid = Some("not a uid".to_owned());
        let reply = result(vec![nameless], vec![]);
        assert_eq!(
            reply.classify(&[uid("1.1")])[0].stored_uid(),
            Some(&uid("1.1"))
        );
    }

    #[test]
    fn the_exception_needs_one_instance_each_way() {
        // Two sent: matched by UID only.
        let reply = result(vec![stored("9.9", None)], vec![]);
        assert_eq!(
            reply.classify(&[uid("1.1"), uid("1.2")]),
            [StowOutcome::NotMentioned, StowOutcome::NotMentioned]
        );
        // One sent, the reply lists two (or one of each): not about it.
        let reply = result(vec![stored("9.8", None), stored("9.9", None)], vec![]);
        assert_eq!(reply.classify(&[uid("1.1")]), [StowOutcome::NotMentioned]);
        let reply = result(vec![stored("9.8", None)], vec![failed("9.9", None)]);
        assert_eq!(reply.classify(&[uid("1.1")]), [StowOutcome::NotMentioned]);
        // Nothing listed.
        assert_eq!(
            result(vec![], vec![]).classify(&[uid("1.1")]),
            [StowOutcome::NotMentioned]
        );
    }
}
