//! Association policy as pure functions: who may associate, and when the adapter is full.

use dicom_ul::association::server::{AccessControl, Negotiation};
use dicom_ul::pdu::{AssociationRJServiceUserReason, RequestorRoles, UserIdentity};

/// Why an association request is refused, or that it is accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Go on with negotiation.
    Accept,
    /// As many associations as allowed are open: A-ASSOCIATE-RJ transient, temporary
    /// congestion.
    Congested,
    /// The called AE title is not the adapter's.
    CalledAeNotRecognized,
    /// The calling AE title is not among the allowed ones.
    CallingAeNotRecognized,
}

/// Whether a new connection may proceed, given how many associations are open.
pub fn admit_connection(open: usize, max_associations: usize) -> Admission {
    if open >= max_associations {
        Admission::Congested
    } else {
        Admission::Accept
    }
}

/// Whether an association request's AE titles pass: the called AE must be ours; the calling
/// AE any, or one of `allowed` when that list is not empty. Titles compare without their
/// padding spaces.
pub fn check_ae_titles(ours: &str, allowed: &[String], calling: &str, called: &str) -> Admission {
    if called.trim() != ours.trim() {
        return Admission::CalledAeNotRecognized;
    }
    if !allowed.is_empty() && !allowed.iter().any(|aet| aet.trim() == calling.trim()) {
        return Admission::CallingAeNotRecognized;
    }
    Admission::Accept
}

/// [`check_ae_titles`] as dicom-ul's access control.
#[derive(Clone, Debug)]
pub(crate) struct AeTitles {
    pub(crate) allowed: Vec<String>,
}

impl AccessControl for AeTitles {
    fn check_access(
        &self,
        this_ae_title: &str,
        calling_ae_title: &str,
        called_ae_title: &str,
        _user_identity: Option<&UserIdentity>,
    ) -> Result<(), AssociationRJServiceUserReason> {
        match check_ae_titles(
            this_ae_title,
            &self.allowed,
            calling_ae_title,
            called_ae_title,
        ) {
            Admission::CalledAeNotRecognized => {
                tracing::warn!(
                    calling = calling_ae_title,
                    called = called_ae_title,
                    "association refused: the called AE title is not ours"
                );
                Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized)
            }
            Admission::CallingAeNotRecognized => {
                tracing::warn!(
                    calling = calling_ae_title,
                    "association refused: the calling AE title is not allowed"
                );
                Err(AssociationRJServiceUserReason::CallingAETitleNotRecognized)
            }
            Admission::Accept | Admission::Congested => Ok(()),
        }
    }
}

/// Role selection as C-GET needs it: the roles a requester proposes are accepted (it takes
/// the SCP role for the storage SOP classes its C-GET brings back).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AcceptProposedRoles;

impl Negotiation for AcceptProposedRoles {
    fn negotiate_roles(
        &self,
        _sop_class_uid: &str,
        scu_role: bool,
        scp_role: bool,
    ) -> Option<RequestorRoles> {
        Some(RequestorRoles {
            scu: scu_role,
            scp: scp_role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn called_must_be_ours_calling_any_or_allowed() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            check_ae_titles("ADAPTER", &none, "X", "ADAPTER "),
            Admission::Accept
        );
        assert_eq!(
            check_ae_titles("ADAPTER", &none, "X", "OTHER"),
            Admission::CalledAeNotRecognized
        );
        let allowed = vec!["CT01".to_owned()];
        assert_eq!(
            check_ae_titles("ADAPTER", &allowed, "CT01", "ADAPTER"),
            Admission::Accept
        );
        assert_eq!(
            check_ae_titles("ADAPTER", &allowed, "MR01", "ADAPTER"),
            Admission::CallingAeNotRecognized
        );
    }

    #[test]
    fn congestion_at_the_limit() {
        assert_eq!(admit_connection(0, 1), Admission::Accept);
        assert_eq!(admit_connection(1, 1), Admission::Congested);
        assert_eq!(admit_connection(5, 1), Admission::Congested);
    }
}
