//! Named tag constants for the attributes DICOMweb deals with, as this crate's [`Tag`].
//!
//! Their values come from dicom-rs's standard dictionary (`dicom-dictionary-std`), by the same
//! names, so a constant cannot drift from the standard, and code moving between dicom-rs and this
//! crate reads the same. The list covers what DICOMweb services name: QIDO-RS matching and return
//! keys at each level, the STOW-RS response, the pixel attributes frames and rendered requests
//! concern, and the file meta group.
//!
//! For any other attribute, look its keyword up at run time with
//! [`dictionary::tag_by_keyword`](crate::dictionary::tag_by_keyword), or, as a constant,
//! write its tag: [`Tag::new`] is `const`.
//!
//! ```
//! use dicomweb_core::{Tag, tags};
//!
//! assert_eq!(tags::STUDY_INSTANCE_UID, Tag::new(0x0020, 0x000D));
//! assert_eq!(tags::PATIENT_NAME.to_string(), "00100010");
//! // An attribute not listed here, as a constant of your own:
//! const BODY_PART_EXAMINED: Tag = Tag::new(0x0018, 0x0015);
//! assert_eq!(dicomweb_core::dictionary::keyword(BODY_PART_EXAMINED), Some("BodyPartExamined"));
//! ```

use dicom_dictionary_std::tags as standard;

use crate::Tag;

/// Declares each constant from dicom-rs's constant of the same name, documented with its
/// keyword, tag and VR (a unit test checks these against the dictionary).
macro_rules! standard_tags {
    ($($name:ident: $keyword:literal, $tag:literal, $vr:literal;)*) => {
        $(
            #[doc = concat!("`", $keyword, "` ", $tag, ", VR ", $vr, ".")]
            pub const $name: Tag = Tag::new(standard::$name.0, standard::$name.1);
        )*

        /// Every constant with the keyword and tag its documentation gives.
        #[cfg(test)]
        const ALL: &[(Tag, &str, &str)] = &[$(($name, $keyword, $tag)),*];
    };
}

standard_tags! {
    // Patient and study level (QIDO-RS study matching and return keys).
    PATIENT_NAME: "PatientName", "(0010,0010)", "PN";
    PATIENT_ID: "PatientID", "(0010,0020)", "LO";
    ISSUER_OF_PATIENT_ID: "IssuerOfPatientID", "(0010,0021)", "LO";
    PATIENT_BIRTH_DATE: "PatientBirthDate", "(0010,0030)", "DA";
    PATIENT_SEX: "PatientSex", "(0010,0040)", "CS";
    STUDY_INSTANCE_UID: "StudyInstanceUID", "(0020,000D)", "UI";
    STUDY_DATE: "StudyDate", "(0008,0020)", "DA";
    STUDY_TIME: "StudyTime", "(0008,0030)", "TM";
    ACCESSION_NUMBER: "AccessionNumber", "(0008,0050)", "SH";
    REFERRING_PHYSICIAN_NAME: "ReferringPhysicianName", "(0008,0090)", "PN";
    STUDY_ID: "StudyID", "(0020,0010)", "SH";
    STUDY_DESCRIPTION: "StudyDescription", "(0008,1030)", "LO";
    MODALITIES_IN_STUDY: "ModalitiesInStudy", "(0008,0061)", "CS";
    NUMBER_OF_STUDY_RELATED_SERIES: "NumberOfStudyRelatedSeries", "(0020,1206)", "IS";
    NUMBER_OF_STUDY_RELATED_INSTANCES: "NumberOfStudyRelatedInstances", "(0020,1208)", "IS";
    STUDY_UPDATE_DATE_TIME: "StudyUpdateDateTime", "(0008,041F)", "DT";
    // Series level, and the request attributes QIDO-RS matches through sequences.
    SERIES_INSTANCE_UID: "SeriesInstanceUID", "(0020,000E)", "UI";
    MODALITY: "Modality", "(0008,0060)", "CS";
    SERIES_NUMBER: "SeriesNumber", "(0020,0011)", "IS";
    SERIES_DESCRIPTION: "SeriesDescription", "(0008,103E)", "LO";
    SERIES_DATE: "SeriesDate", "(0008,0021)", "DA";
    SERIES_TIME: "SeriesTime", "(0008,0031)", "TM";
    NUMBER_OF_SERIES_RELATED_INSTANCES: "NumberOfSeriesRelatedInstances", "(0020,1209)", "IS";
    PERFORMED_PROCEDURE_STEP_START_DATE: "PerformedProcedureStepStartDate", "(0040,0244)", "DA";
    PERFORMED_PROCEDURE_STEP_START_TIME: "PerformedProcedureStepStartTime", "(0040,0245)", "TM";
    REQUEST_ATTRIBUTES_SEQUENCE: "RequestAttributesSequence", "(0040,0275)", "SQ";
    REQUESTED_PROCEDURE_ID: "RequestedProcedureID", "(0040,1001)", "SH";
    SCHEDULED_PROCEDURE_STEP_ID: "ScheduledProcedureStepID", "(0040,0009)", "SH";
    SCHEDULED_PROCEDURE_STEP_SEQUENCE: "ScheduledProcedureStepSequence", "(0040,0100)", "SQ";
    // Instance level, and what every QIDO-RS and metadata answer may carry.
    SOP_CLASS_UID: "SOPClassUID", "(0008,0016)", "UI";
    SOP_INSTANCE_UID: "SOPInstanceUID", "(0008,0018)", "UI";
    INSTANCE_NUMBER: "InstanceNumber", "(0020,0013)", "IS";
    CONTENT_DATE: "ContentDate", "(0008,0023)", "DA";
    CONTENT_TIME: "ContentTime", "(0008,0033)", "TM";
    SPECIFIC_CHARACTER_SET: "SpecificCharacterSet", "(0008,0005)", "CS";
    TIMEZONE_OFFSET_FROM_UTC: "TimezoneOffsetFromUTC", "(0008,0201)", "SH";
    INSTANCE_AVAILABILITY: "InstanceAvailability", "(0008,0056)", "CS";
    RETRIEVE_URL: "RetrieveURL", "(0008,1190)", "UR";
    AVAILABLE_TRANSFER_SYNTAX_UID: "AvailableTransferSyntaxUID", "(0008,3002)", "UI";
    // Image pixel module: what frames, rendered and bulk data requests concern.
    ROWS: "Rows", "(0028,0010)", "US";
    COLUMNS: "Columns", "(0028,0011)", "US";
    NUMBER_OF_FRAMES: "NumberOfFrames", "(0028,0008)", "IS";
    SAMPLES_PER_PIXEL: "SamplesPerPixel", "(0028,0002)", "US";
    PHOTOMETRIC_INTERPRETATION: "PhotometricInterpretation", "(0028,0004)", "CS";
    BITS_ALLOCATED: "BitsAllocated", "(0028,0100)", "US";
    BITS_STORED: "BitsStored", "(0028,0101)", "US";
    HIGH_BIT: "HighBit", "(0028,0102)", "US";
    PIXEL_REPRESENTATION: "PixelRepresentation", "(0028,0103)", "US";
    PIXEL_DATA: "PixelData", "(7FE0,0010)", "OB or OW";
    FLOAT_PIXEL_DATA: "FloatPixelData", "(7FE0,0008)", "OF";
    DOUBLE_FLOAT_PIXEL_DATA: "DoubleFloatPixelData", "(7FE0,0009)", "OD";
    // The STOW-RS response (PS3.18 §10.5.3).
    REFERENCED_SOP_SEQUENCE: "ReferencedSOPSequence", "(0008,1199)", "SQ";
    FAILED_SOP_SEQUENCE: "FailedSOPSequence", "(0008,1198)", "SQ";
    OTHER_FAILURES_SEQUENCE: "OtherFailuresSequence", "(0008,119A)", "SQ";
    REFERENCED_SOP_CLASS_UID: "ReferencedSOPClassUID", "(0008,1150)", "UI";
    REFERENCED_SOP_INSTANCE_UID: "ReferencedSOPInstanceUID", "(0008,1155)", "UI";
    FAILURE_REASON: "FailureReason", "(0008,1197)", "US";
    WARNING_REASON: "WarningReason", "(0008,1196)", "US";
    // The Part 10 file meta group.
    MEDIA_STORAGE_SOP_CLASS_UID: "MediaStorageSOPClassUID", "(0002,0002)", "UI";
    MEDIA_STORAGE_SOP_INSTANCE_UID: "MediaStorageSOPInstanceUID", "(0002,0003)", "UI";
    TRANSFER_SYNTAX_UID: "TransferSyntaxUID", "(0002,0010)", "UI";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dictionary;

    #[test]
    fn every_constant_is_the_dictionary_entry_its_documentation_names() {
        for &(tag, keyword, text) in ALL {
            assert_eq!(dictionary::tag_by_keyword(keyword), Some(tag), "{keyword}");
            assert_eq!(dictionary::keyword(tag), Some(keyword), "{text}");
            assert_eq!(format!("{tag:?}"), text, "{keyword}");
        }
        assert_eq!(STUDY_INSTANCE_UID, Tag(0x0020_000D));
        assert_eq!(PIXEL_DATA, Tag(0x7FE0_0010));
    }
}
