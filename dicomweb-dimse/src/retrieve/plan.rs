//! C-MOVE and C-GET as pure functions: which instances a retrieve identifier names (a QIDO-RS
//! instance search with its unique keys: [`instances_search`]), which WADO-RS requests fetch
//! them ([`targets`]), and the final status from the sub-operation counts ([`final_status`]).

use std::collections::HashSet;

use dicomweb_core::request::{Search, Target};
use dicomweb_core::tags::{
    PATIENT_ID, SERIES_INSTANCE_UID, SOP_CLASS_UID, SOP_INSTANCE_UID, STUDY_INSTANCE_UID,
};
use dicomweb_core::{DataSet, Tag, Uid};

use crate::command::SubOperations;
use crate::find::query::{FindError, QUERY_RETRIEVE_LEVEL, QueryLevel, matching_text};

/// Status B000: sub-operations complete, one or more failures or warnings.
pub const SOME_FAILED: u16 = 0xB000;
/// Status A702: out of resources, unable to perform sub-operations.
pub const NONE_PERFORMED: u16 = 0xA702;

/// The unique keys of a retrieve at its level, as a QIDO-RS instance search (UID lists become
/// comma lists): PATIENT needs a Patient ID, STUDY Study Instance UIDs, SERIES Series Instance
/// UIDs, IMAGE SOP Instance UIDs; higher-level UIDs given are matched too.
pub fn instances_search(identifier: &DataSet) -> Result<(QueryLevel, Search), FindError> {
    let level_text = identifier.string(QUERY_RETRIEVE_LEVEL).ok_or_else(|| {
        FindError("expected a Query/Retrieve Level (0008,0052), found none".into())
    })?;
    let level = match level_text.trim() {
        "PATIENT" => QueryLevel::Patient,
        "STUDY" => QueryLevel::Study,
        "SERIES" => QueryLevel::Series,
        "IMAGE" => QueryLevel::Image,
        other => {
            return Err(FindError(format!(
                "expected Query/Retrieve Level PATIENT, STUDY, SERIES or IMAGE, found {other:?}"
            )));
        }
    };
    let required = match level {
        QueryLevel::Patient => (PATIENT_ID, "Patient ID (0010,0020)"),
        QueryLevel::Study => (STUDY_INSTANCE_UID, "Study Instance UID (0020,000D)"),
        QueryLevel::Series => (SERIES_INSTANCE_UID, "Series Instance UID (0020,000E)"),
        QueryLevel::Image => (SOP_INSTANCE_UID, "SOP Instance UID (0008,0018)"),
    };
    let key = |tag: Tag| identifier.get(tag).and_then(matching_text);
    if key(required.0).is_none() {
        return Err(FindError(format!(
            "expected a {} to retrieve at {level_text} level, found none",
            required.1
        )));
    }
    let mut search = Search::instances()
        .include("00080016")
        .map_err(|e| FindError(e.to_string()))?;
    for tag in [
        PATIENT_ID,
        STUDY_INSTANCE_UID,
        SERIES_INSTANCE_UID,
        SOP_INSTANCE_UID,
    ] {
        if let Some(value) = key(tag) {
            if value.contains(['*', '?']) {
                return Err(FindError(format!(
                    "expected unique keys without wildcards in a retrieve, found {value:?} in {tag}"
                )));
            }
            search = search
                .matching(&tag.to_string(), value)
                .map_err(|e| FindError(format!("the key {tag} cannot be asked of QIDO-RS: {e}")))?;
        }
    }
    Ok((level, search))
}

/// One instance found by the search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Study Instance UID.
    pub study: Uid,
    /// Series Instance UID.
    pub series: Uid,
    /// SOP Instance UID.
    pub instance: Uid,
    /// SOP Class UID, when the server gave it.
    pub sop_class: Option<String>,
}

/// The instances of a QIDO-RS reply whose UIDs are valid; others are left out.
pub fn found(results: &[DataSet]) -> Vec<Found> {
    results
        .iter()
        .filter_map(|r| {
            Some(Found {
                study: r.uid(STUDY_INSTANCE_UID)?,
                series: r.uid(SERIES_INSTANCE_UID)?,
                instance: r.uid(SOP_INSTANCE_UID)?,
                sop_class: r
                    .string(SOP_CLASS_UID)
                    .map(|s| s.trim_end_matches(['\0', ' ']).to_owned()),
            })
        })
        .collect()
}

/// The fewest WADO-RS requests that fetch exactly the instances found at `level`: whole
/// studies at PATIENT and STUDY level, whole series at SERIES level, one per instance at IMAGE.
pub fn targets(level: QueryLevel, found: &[Found]) -> Vec<Target> {
    let mut seen = HashSet::new();
    found
        .iter()
        .map(|f| match level {
            QueryLevel::Patient | QueryLevel::Study => Target::study(f.study.clone()),
            QueryLevel::Series => Target::series(f.study.clone(), f.series.clone()),
            QueryLevel::Image => {
                Target::instance(f.study.clone(), f.series.clone(), f.instance.clone())
            }
        })
        .filter(|target| seen.insert(target.clone()))
        .collect()
}

/// The final status of a C-MOVE or C-GET: 0000 when every sub-operation succeeded, A702 when
/// there were some and none did, B000 otherwise.
pub fn final_status(counts: &SubOperations) -> u16 {
    if counts.failed == 0 && counts.warning == 0 {
        0
    } else if counts.completed == 0 && counts.warning == 0 {
        NONE_PERFORMED
    } else {
        SOME_FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicomweb_core::{Element, Vr};

    fn identifier(level: &str, keys: &[(u32, &str)]) -> DataSet {
        let mut data_set = DataSet::new();
        data_set.insert(QUERY_RETRIEVE_LEVEL, Element::string(Vr::CS, level));
        for &(tag, value) in keys {
            data_set.insert(Tag(tag), Element::strings(Vr::UI, value.split('\\')));
        }
        data_set
    }

    fn uri(search: &Search) -> String {
        let base = dicomweb_core::request::BaseUrl::parse("http://h/dw").unwrap();
        search.to_request(&base).unwrap().uri().to_string()
    }

    #[test]
    fn unique_keys_become_an_instance_search() {
        let (level, search) =
            instances_search(&identifier("STUDY", &[(0x0020_000D, "1.2.3\\1.2.4")])).unwrap();
        assert_eq!(level, QueryLevel::Study);
        let query = uri(&search);
        assert!(query.starts_with("http://h/dw/instances?"), "{query}");
        assert!(query.contains("0020000D=1.2.3,1.2.4"), "{query}");
        let (_, search) = instances_search(&identifier(
            "IMAGE",
            &[
                (0x0020_000D, "1.2.3"),
                (0x0020_000E, "1.2.3.1"),
                (0x0008_0018, "1.2.3.1.1"),
            ],
        ))
        .unwrap();
        assert!(uri(&search).contains("00080018=1.2.3.1.1"));
    }

    #[test]
    fn missing_or_wildcard_unique_keys_are_refused() {
        let error = instances_search(&identifier("SERIES", &[(0x0020_000D, "1.2.3")])).unwrap_err();
        assert!(error.0.contains("Series Instance UID"), "{error}");
        let error = instances_search(&identifier("STUDY", &[(0x0020_000D, "1.2.*")])).unwrap_err();
        assert!(error.0.contains("wildcards"), "{error}");
        assert!(instances_search(&DataSet::new()).is_err());
    }

    #[test]
    fn the_fewest_requests_for_the_level() {
        let uid = |s: &str| s.parse::<Uid>().unwrap();
        let f = |st: &str, se: &str, i: &str| Found {
            study: uid(st),
            series: uid(se),
            instance: uid(i),
            sop_class: None,
        };
        let found = vec![
            f("1", "1.1", "1.1.1"),
            f("1", "1.1", "1.1.2"),
            f("1", "1.2", "1.2.1"),
            f("2", "2.1", "2.1.1"),
        ];
        assert_eq!(targets(QueryLevel::Study, &found).len(), 2);
        assert_eq!(targets(QueryLevel::Series, &found).len(), 3);
        assert_eq!(targets(QueryLevel::Image, &found).len(), 4);
    }

    #[test]
    fn final_statuses() {
        let counts = |completed, failed, warning| SubOperations {
            remaining: 0,
            completed,
            failed,
            warning,
        };
        assert_eq!(final_status(&counts(3, 0, 0)), 0);
        assert_eq!(final_status(&counts(0, 0, 0)), 0);
        assert_eq!(final_status(&counts(2, 1, 0)), SOME_FAILED);
        assert_eq!(final_status(&counts(0, 0, 1)), SOME_FAILED);
        assert_eq!(final_status(&counts(0, 3, 0)), NONE_PERFORMED);
    }
}
