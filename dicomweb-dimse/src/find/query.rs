//! The DIMSE C-FIND ⇄ QIDO-RS mapping as pure functions: a C-FIND identifier becomes a QIDO-RS
//! [`Search`] ([`plan`]), and each QIDO-RS result becomes the identifier of a pending response
//! ([`FindPlan::response`]).
//!
//! - Query/Retrieve Level (0008,0052) picks the resource: STUDY → `/studies`, SERIES →
//!   `/studies/{uid}/series` when the identifier names one study (hierarchical), else
//!   `/series`; IMAGE → `/studies/{uid}/series/{uid}/instances`, `/studies/{uid}/instances` or
//!   `/instances`; PATIENT → `/studies`, one response per distinct Patient ID.
//! - A key with a value is a matching key: a QIDO-RS parameter with the same text (`*` and `?`
//!   wildcards and `a-b` date/time ranges mean the same in both), except that a UID list's
//!   backslashes become commas. A key that is empty, or only `*`, is a return key: an
//!   `includefield`. Sequence keys are returned when the server gives them, never matched.
//! - Every key asked for is in each response, empty when the server did not give it; the
//!   level is echoed, Retrieve AE Title is the adapter's own, and a response with non-ASCII
//!   text says `ISO_IR 192` (the server's JSON is UTF-8).

use std::collections::HashSet;

use dicomweb_core::request::Search;
pub use dicomweb_core::tags::SPECIFIC_CHARACTER_SET;
use dicomweb_core::tags::{PATIENT_ID, SERIES_INSTANCE_UID, STUDY_INSTANCE_UID};
use dicomweb_core::{DataSet, Element, Tag, Uid, Value, Vr};

/// (0008,0052) Query/Retrieve Level.
pub const QUERY_RETRIEVE_LEVEL: Tag = Tag(0x0008_0052);
/// (0008,0054) Retrieve AE Title.
pub const RETRIEVE_AE_TITLE: Tag = Tag(0x0008_0054);

/// The level of a C-FIND.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryLevel {
    /// PATIENT.
    Patient,
    /// STUDY.
    Study,
    /// SERIES.
    Series,
    /// IMAGE.
    Image,
}

impl QueryLevel {
    fn parse(text: &str) -> Option<QueryLevel> {
        match text.trim() {
            "PATIENT" => Some(QueryLevel::Patient),
            "STUDY" => Some(QueryLevel::Study),
            "SERIES" => Some(QueryLevel::Series),
            "IMAGE" => Some(QueryLevel::Image),
            _ => None,
        }
    }

    fn code(self) -> &'static str {
        match self {
            QueryLevel::Patient => "PATIENT",
            QueryLevel::Study => "STUDY",
            QueryLevel::Series => "SERIES",
            QueryLevel::Image => "IMAGE",
        }
    }
}

/// Why an identifier cannot be answered (status A900: identifier does not match SOP class).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindError(pub String);

impl std::fmt::Display for FindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A C-FIND turned into a QIDO-RS search, and what its responses must hold.
#[derive(Clone, Debug)]
pub struct FindPlan {
    /// The QIDO-RS search.
    pub search: Search,
    /// The level asked for.
    pub level: QueryLevel,
    /// The keys asked for, in the identifier's order, with their VRs.
    pub keys: Vec<(Tag, Vr)>,
    /// The adapter's AE title, for Retrieve AE Title.
    pub retrieve_aet: String,
}

/// Turns a C-FIND identifier into a QIDO-RS search.
pub fn plan(identifier: &DataSet, retrieve_aet: &str) -> Result<FindPlan, FindError> {
    let level_text = identifier.string(QUERY_RETRIEVE_LEVEL).ok_or_else(|| {
        FindError("expected a Query/Retrieve Level (0008,0052), found none".into())
    })?;
    let level = QueryLevel::parse(level_text).ok_or_else(|| {
        FindError(format!(
            "expected Query/Retrieve Level PATIENT, STUDY, SERIES or IMAGE, found {level_text:?}"
        ))
    })?;
    let single_uid = |tag: Tag| -> Option<Uid> {
        match matching_text(identifier.get(tag)?)? {
            text if !text.contains(['\\', ',', '*', '?']) => text.parse().ok(),
            _ => None,
        }
    };
    let study = single_uid(STUDY_INSTANCE_UID);
    let series = single_uid(SERIES_INSTANCE_UID);
    let mut search = match (level, study.clone(), series.clone()) {
        (QueryLevel::Patient | QueryLevel::Study, _, _) => Search::studies(),
        (QueryLevel::Series, Some(study), _) => Search::series_of_study(study),
        (QueryLevel::Series, None, _) => Search::series(),
        (QueryLevel::Image, Some(study), Some(series)) => {
            Search::instances_of_series(study, series)
        }
        (QueryLevel::Image, Some(study), None) => Search::instances_of_study(study),
        (QueryLevel::Image, None, _) => Search::instances(),
    };
    let mut keys = Vec::new();
    for (tag, element) in identifier.iter() {
        let tag = *tag;
        if tag == QUERY_RETRIEVE_LEVEL || tag == SPECIFIC_CHARACTER_SET || tag.0 >> 16 == 0x0002 {
            continue;
        }
        keys.push((tag, element.vr));
        // In the path already.
        let in_path = (tag == STUDY_INSTANCE_UID && study.is_some() && level > QueryLevel::Study)
            || (tag == SERIES_INSTANCE_UID && series.is_some() && level == QueryLevel::Image);
        let matching = if element.vr == Vr::SQ || tag == RETRIEVE_AE_TITLE {
            None
        } else {
            matching_text(element)
        };
        let attribute = tag.to_string();
        let added = match matching {
            Some(_) if in_path => Ok(search.clone()),
            Some(value) => search.clone().matching(&attribute, value),
            None => search.clone().include(&attribute),
        };
        search = added
            .map_err(|e| FindError(format!("the key {tag} cannot be asked of QIDO-RS: {e}")))?;
    }
    Ok(FindPlan {
        search,
        level,
        keys,
        retrieve_aet: retrieve_aet.to_owned(),
    })
}

impl PartialOrd for QueryLevel {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for QueryLevel {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |level: &QueryLevel| match level {
            QueryLevel::Patient => 0,
            QueryLevel::Study => 1,
            QueryLevel::Series => 2,
            QueryLevel::Image => 3,
        };
        rank(self).cmp(&rank(other))
    }
}

/// A matching key's QIDO-RS value, or `None` for universal matching (empty, or only `*`).
pub fn matching_text(element: &Element) -> Option<String> {
    let text = match &element.value {
        Value::Strings(values) => values
            .into_iter()
            .map(|v| v.as_ref().map(|t| t.as_str().trim()).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(if element.vr == Vr::UI { "," } else { "\\" }),
        Value::PersonNames(names) => names
            .iter()
            .flatten()
            .next()
            .map(|n| n.to_dicom_string())
            .unwrap_or_default(),
        Value::Numbers(numbers) => numbers
            .into_iter()
            .flatten()
            .next()
            .map(|n| match n {
                dicomweb_core::Number::Text(text) => text.as_str().to_owned(),
                dicomweb_core::Number::Int(v) => v.to_string(),
                dicomweb_core::Number::UInt(v) => v.to_string(),
                dicomweb_core::Number::Float(v) => v.to_string(),
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    let text = text
        .trim_matches(|c: char| c == ' ' || c == '\0')
        .to_owned();
    (!text.is_empty() && text != "*").then_some(text)
}

impl FindPlan {
    /// The pending response's identifier for one QIDO-RS result: every key asked for, the
    /// server's value or empty.
    pub fn response(&self, result: &DataSet) -> DataSet {
        let mut out = DataSet::new();
        out.insert(
            QUERY_RETRIEVE_LEVEL,
            Element::string(Vr::CS, self.level.code()),
        );
        for &(tag, vr) in &self.keys {
            let element = if tag == RETRIEVE_AE_TITLE {
                Element::string(Vr::AE, self.retrieve_aet.as_str())
            } else {
                result
                    .get(tag)
                    .cloned()
                    .unwrap_or_else(|| Element::empty(vr))
            };
            out.insert(tag, element);
        }
        if !is_ascii(&out) {
            out.insert(
                SPECIFIC_CHARACTER_SET,
                Element::string(Vr::CS, "ISO_IR 192"),
            );
        }
        out
    }

    /// The QIDO-RS results to answer with: at PATIENT level one per distinct Patient ID (as
    /// servers count patients), otherwise all of them.
    pub fn distinct<'a>(&self, results: &'a [DataSet]) -> Vec<&'a DataSet> {
        if self.level != QueryLevel::Patient {
            return results.iter().collect();
        }
        let mut seen = HashSet::new();
        results
            .iter()
            .filter(|r| seen.insert(r.string(PATIENT_ID).map(|id| id.trim().to_owned())))
            .collect()
    }
}

fn is_ascii(data_set: &DataSet) -> bool {
    data_set.iter().all(|(_, element)| match &element.value {
        Value::Strings(values) => values.into_iter().flatten().all(|t| t.as_str().is_ascii()),
        Value::PersonNames(names) => names
            .iter()
            .flatten()
            .all(|n| n.to_dicom_string().is_ascii()),
        Value::Items(items) => items.iter().all(is_ascii),
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicomweb_core::PersonName;

    fn identifier(level: &str, keys: &[(u32, Vr, &str)]) -> DataSet {
        let mut data_set = DataSet::new();
        data_set.insert(QUERY_RETRIEVE_LEVEL, Element::string(Vr::CS, level));
        for &(tag, vr, value) in keys {
            let element = match (vr, value) {
                (_, "") => Element::empty(vr),
                (Vr::PN, v) => Element::person_name(PersonName::alphabetic(v)),
                (vr, v) => Element::strings(vr, v.split('\\')),
            };
            data_set.insert(Tag(tag), element);
        }
        data_set
    }

    fn query(plan: &FindPlan) -> String {
        let base = dicomweb_core::request::BaseUrl::parse("http://h/dw").unwrap();
        plan.search.to_request(&base).unwrap().uri().to_string()
    }

    #[test]
    fn study_level_matching_and_return_keys() {
        let id = identifier(
            "STUDY",
            &[
                (0x0008_0020, Vr::DA, "20200101-20201231"),
                (0x0008_0050, Vr::SH, ""),
                (0x0010_0010, Vr::PN, "DOE^J*"),
                (0x0020_000D, Vr::UI, "1.2.3\\1.2.4"),
                (0x0008_0061, Vr::CS, "*"),
            ],
        );
        let plan = plan(&id, "ADAPTER").unwrap();
        assert_eq!(plan.level, QueryLevel::Study);
        let uri = query(&plan);
        assert!(uri.starts_with("http://h/dw/studies?"), "{uri}");
        for part in [
            "00080020=20200101-20201231",
            "includefield=00080050",
            "00100010=DOE%5EJ*",
            "0020000D=1.2.3,1.2.4",
            "includefield=00080061",
        ] {
            assert!(uri.contains(part), "{part} missing from {uri}");
        }
        assert_eq!(plan.keys.len(), 5);
    }

    #[test]
    fn lower_levels_are_hierarchical() {
        let id = identifier(
            "SERIES",
            &[(0x0020_000D, Vr::UI, "1.2.3"), (0x0008_0060, Vr::CS, "CT")],
        );
        let uri = query(&plan(&id, "A").unwrap());
        assert!(
            uri.starts_with("http://h/dw/studies/1.2.3/series?"),
            "{uri}"
        );
        assert!(uri.contains("00080060=CT"), "{uri}");
        assert!(!uri.contains("0020000D="), "{uri}");
        let id = identifier(
            "IMAGE",
            &[
                (0x0020_000D, Vr::UI, "1.2.3"),
                (0x0020_000E, Vr::UI, "1.2.3.4"),
                (0x0008_0018, Vr::UI, ""),
            ],
        );
        let uri = query(&plan(&id, "A").unwrap());
        assert!(
            uri.starts_with("http://h/dw/studies/1.2.3/series/1.2.3.4/instances?"),
            "{uri}"
        );
        assert!(uri.contains("includefield=00080018"), "{uri}");
        let id = identifier("IMAGE", &[(0x0020_000D, Vr::UI, "1.2.*")]);
        assert!(query(&plan(&id, "A").unwrap()).starts_with("http://h/dw/instances?"));
    }

    #[test]
    fn bad_levels_are_refused() {
        let mut id = DataSet::new();
        assert!(plan(&id, "A").unwrap_err().0.contains("found none"));
        id.insert(QUERY_RETRIEVE_LEVEL, Element::string(Vr::CS, "FRAME"));
        assert!(plan(&id, "A").unwrap_err().0.contains("\"FRAME\""));
    }

    #[test]
    fn responses_hold_every_key_asked_for() {
        let id = identifier(
            "STUDY",
            &[
                (0x0010_0010, Vr::PN, ""),
                (0x0008_0050, Vr::SH, ""),
                (0x0008_0054, Vr::AE, ""),
            ],
        );
        let plan = plan(&id, "ADAPTER").unwrap();
        let mut result = DataSet::new();
        result.insert(
            Tag(0x0010_0010),
            Element::person_name(PersonName::alphabetic("Müller^Hans")),
        );
        result.insert(Tag(0x0008_0090), Element::string(Vr::PN, "not asked"));
        let response = plan.response(&result);
        assert_eq!(response.string(QUERY_RETRIEVE_LEVEL), Some("STUDY"));
        assert_eq!(
            response.get(Tag(0x0008_0050)),
            Some(&Element::empty(Vr::SH))
        );
        assert_eq!(response.string(RETRIEVE_AE_TITLE), Some("ADAPTER"));
        assert!(!response.contains(Tag(0x0008_0090)));
        assert_eq!(response.string(SPECIFIC_CHARACTER_SET), Some("ISO_IR 192"));
    }

    #[test]
    fn patients_are_answered_once() {
        let id = identifier("PATIENT", &[(0x0010_0020, Vr::LO, "")]);
        let plan = plan(&id, "A").unwrap();
        let study = |pid: &str| {
            let mut d = DataSet::new();
            d.insert(PATIENT_ID, Element::string(Vr::LO, pid));
            d
        };
        let results = vec![study("P1"), study("P2"), study("P1")];
        assert_eq!(plan.distinct(&results).len(), 2);
    }
}
