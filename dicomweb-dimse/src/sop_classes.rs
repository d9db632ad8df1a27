//! The SOP classes the adapter serves: Verification, every storage SOP class of the standard
//! dictionary (dicom-rs's `dicom-dictionary-std`, not a hand-kept list), the Query/Retrieve
//! information models, and the Storage Commitment Push Model.
//!
//! The dictionary answers lookups by UID but cannot be listed, so negotiation accepts every
//! proposed abstract syntax whose transfer syntax is supported, and each command is then
//! checked here: a C-STORE of a SOP class the dictionary does not call a storage SOP class,
//! or any other service on an abstract syntax it does not belong to, is answered 0122 (SOP
//! class not supported).

use dicom_core::dictionary::{UidDictionary, UidType};
use dicom_dictionary_std::{StandardSopClassDictionary, uids};

/// Verification SOP Class (C-ECHO).
pub const VERIFICATION: &str = uids::VERIFICATION;
/// Patient Root Query/Retrieve Information Model – FIND.
pub const PATIENT_ROOT_FIND: &str = uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND;
/// Study Root Query/Retrieve Information Model – FIND.
pub const STUDY_ROOT_FIND: &str = uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND;
/// Patient Root Query/Retrieve Information Model – MOVE.
pub const PATIENT_ROOT_MOVE: &str = uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE;
/// Study Root Query/Retrieve Information Model – MOVE.
pub const STUDY_ROOT_MOVE: &str = uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE;
/// Patient Root Query/Retrieve Information Model – GET.
pub const PATIENT_ROOT_GET: &str = uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET;
/// Study Root Query/Retrieve Information Model – GET.
pub const STUDY_ROOT_GET: &str = uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET;

/// Storage Commitment Push Model SOP Class (N-ACTION, N-EVENT-REPORT).
pub const STORAGE_COMMITMENT_PUSH_MODEL: &str = uids::STORAGE_COMMITMENT_PUSH_MODEL;
/// The Storage Commitment Push Model's well-known SOP Instance, which every N-ACTION and
/// N-EVENT-REPORT of the service names.
pub const STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE: &str =
    uids::STORAGE_COMMITMENT_PUSH_MODEL_INSTANCE;

/// Whether `uid` is the Storage Commitment Push Model SOP Class.
pub fn is_storage_commitment(uid: &str) -> bool {
    uid.trim_end_matches(['\0', ' ']) == STORAGE_COMMITMENT_PUSH_MODEL
}

/// Whether the standard dictionary names `uid` a storage SOP class, retired ones included
/// (old modalities still send them): a SOP class whose keyword says "Storage", except Storage
/// Commitment, storage management and the Media Storage Directory, which are not stored by
/// C-STORE.
pub fn is_storage(uid: &str) -> bool {
    let uid = uid.trim_end_matches(['\0', ' ']);
    let Some(entry) = StandardSopClassDictionary.by_uid(uid) else {
        return false;
    };
    entry.r#type == UidType::SopClass
        && entry.alias.contains("Storage")
        && !entry.alias.contains("StorageCommitment")
        && !entry.alias.contains("StorageManagement")
        && entry.uid != uids::MEDIA_STORAGE_DIRECTORY_STORAGE
}

/// Whether `uid` is a FIND information model the adapter answers.
pub fn is_find(uid: &str) -> bool {
    let uid = uid.trim_end_matches(['\0', ' ']);
    uid == PATIENT_ROOT_FIND || uid == STUDY_ROOT_FIND
}

/// Whether `uid` is a MOVE information model the adapter answers.
pub fn is_move(uid: &str) -> bool {
    let uid = uid.trim_end_matches(['\0', ' ']);
    uid == PATIENT_ROOT_MOVE || uid == STUDY_ROOT_MOVE
}

/// Whether `uid` is a GET information model the adapter answers.
pub fn is_get(uid: &str) -> bool {
    let uid = uid.trim_end_matches(['\0', ' ']);
    uid == PATIENT_ROOT_GET || uid == STUDY_ROOT_GET
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_sop_classes_come_from_the_dictionary() {
        for uid in [
            uids::CT_IMAGE_STORAGE,
            uids::ENHANCED_SR_STORAGE,
            uids::RT_PLAN_STORAGE,
            uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION,
            uids::HANGING_PROTOCOL_STORAGE,
            "1.2.840.10008.5.1.4.1.1.6", // Ultrasound Image Storage (Retired)
            uids::ENCAPSULATED_PDF_STORAGE,
            uids::MULTI_FRAME_GRAYSCALE_WORD_SECONDARY_CAPTURE_IMAGE_STORAGE,
        ] {
            assert!(is_storage(uid), "{uid} should be a storage SOP class");
        }
        assert!(is_storage("1.2.840.10008.5.1.4.1.1.2\0"));
        for uid in [
            VERIFICATION,
            STUDY_ROOT_FIND,
            uids::STORAGE_COMMITMENT_PUSH_MODEL,
            uids::MEDIA_STORAGE_DIRECTORY_STORAGE,
            "1.2.3.4",
            "",
        ] {
            assert!(!is_storage(uid), "{uid} is no storage SOP class");
        }
    }

    #[test]
    fn find_models() {
        assert!(is_find(STUDY_ROOT_FIND));
        assert!(is_find(PATIENT_ROOT_FIND));
        assert!(!is_find(
            uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE
        ));
    }
}
