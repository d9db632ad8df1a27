//! The Cloud Healthcare API as a DICOMweb server: DICOM store names and their DICOMweb root.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The Healthcare API's base URL, version included.
pub const DEFAULT_HEALTHCARE_BASE_URL: &str = "https://healthcare.googleapis.com/v1";

/// The Healthcare API's base URL for another API version, e.g. `v1beta1`.
pub fn healthcare_base_url(version: &str) -> String {
    format!("https://healthcare.googleapis.com/{version}")
}

/// A Healthcare API DICOM store: `projects/P/locations/L/datasets/D/dicomStores/S`.
///
/// Each segment is validated (1 to 1024 characters of ASCII letters, digits, `-`, `_`, `.` and
/// `:`, and not `.` or `..`), so a store name can never change the path of a URL built from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HealthcareStore {
    project: String,
    location: String,
    dataset: String,
    dicom_store: String,
}

impl HealthcareStore {
    /// A store from its four IDs, each validated.
    pub fn new(project: &str, location: &str, dataset: &str, dicom_store: &str) -> Result<Self> {
        let input = format!(
            "projects/{project}/locations/{location}/datasets/{dataset}/dicomStores/{dicom_store}"
        );
        for (what, value) in [
            ("project", project),
            ("location", location),
            ("dataset", dataset),
            ("DICOM store", dicom_store),
        ] {
            check_segment(&input, what, value)?;
        }
        Ok(Self {
            project: project.to_owned(),
            location: location.to_owned(),
            dataset: dataset.to_owned(),
            dicom_store: dicom_store.to_owned(),
        })
    }

    /// The project ID.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The location, e.g. `us-central1`.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The dataset ID.
    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    /// The DICOM store ID.
    pub fn dicom_store(&self) -> &str {
        &self.dicom_store
    }

    /// The DICOMweb root under `base_url` (e.g. [`DEFAULT_HEALTHCARE_BASE_URL`]):
    /// `BASE/projects/P/locations/L/datasets/D/dicomStores/S/dicomWeb`, without a final slash.
    pub fn dicomweb_root(&self, base_url: &str) -> String {
        format!("{}/{self}/dicomWeb", base_url.trim_end_matches('/'))
    }
}

impl fmt::Display for HealthcareStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "projects/{}/locations/{}/datasets/{}/dicomStores/{}",
            self.project, self.location, self.dataset, self.dicom_store
        )
    }
}

impl FromStr for HealthcareStore {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidStoreName {
            input: input.to_owned(),
            reason,
        };
        let parts: Vec<&str> = input.split('/').collect();
        if parts.len() != 8 {
            return Err(invalid(format!(
                "expected 8 segments (projects/P/locations/L/datasets/D/dicomStores/S), found {}",
                parts.len()
            )));
        }
        for (index, keyword) in [
            (0, "projects"),
            (2, "locations"),
            (4, "datasets"),
            (6, "dicomStores"),
        ] {
            if parts[index] != keyword {
                return Err(invalid(format!(
                    "expected {keyword:?} at segment {}, found {:?}",
                    index + 1,
                    parts[index]
                )));
            }
        }
        Self::new(parts[1], parts[3], parts[5], parts[7])
    }
}

fn check_segment(input: &str, what: &str, value: &str) -> Result<()> {
    let reason = if value.is_empty() {
        Some(format!("the {what} ID is empty"))
    } else if value.len() > 1024 {
        Some(format!(
            "the {what} ID has {} characters, at most 1024 allowed",
            value.len()
        ))
    } else if value == "." || value == ".." {
        Some(format!("the {what} ID {value:?} is not allowed"))
    } else {
        value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
            .map(|c| {
                format!(
                    "the {what} ID may hold only ASCII letters, digits, '-', '_', '.' and ':', found {c:?}"
                )
            })
    };
    match reason {
        Some(reason) => Err(Error::InvalidStoreName {
            input: input.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_formats_and_builds_root() {
        let name = "projects/my-proj/locations/us-central1/datasets/ds_1/dicomStores/store.a";
        let store: HealthcareStore = name.parse().unwrap();
        assert_eq!(store.project(), "my-proj");
        assert_eq!(store.location(), "us-central1");
        assert_eq!(store.dataset(), "ds_1");
        assert_eq!(store.dicom_store(), "store.a");
        assert_eq!(store.to_string(), name);
        assert_eq!(
            store.dicomweb_root(DEFAULT_HEALTHCARE_BASE_URL),
            format!("https://healthcare.googleapis.com/v1/{name}/dicomWeb")
        );
        assert_eq!(
            store.dicomweb_root(&(healthcare_base_url("v1beta1") + "/")),
            format!("https://healthcare.googleapis.com/v1beta1/{name}/dicomWeb")
        );
        let scoped: HealthcareStore = "projects/example.com:p/locations/l/datasets/d/dicomStores/s"
            .parse()
            .unwrap();
        assert_eq!(scoped.project(), "example.com:p");
    }

    #[test]
    fn rejects_malformed_names() {
        for (bad, expect) in [
            ("projects/p/locations/l/datasets/d", "expected 8 segments"),
            (
                "projects/p/locations/l/datasets/d/dicomStores/s/",
                "found 9",
            ),
            (
                "project/p/locations/l/datasets/d/dicomStores/s",
                "expected \"projects\"",
            ),
            (
                "projects/p/locations/l/datasets/d/fhirStores/s",
                "expected \"dicomStores\"",
            ),
            (
                "projects//locations/l/datasets/d/dicomStores/s",
                "project ID is empty",
            ),
            (
                "projects/p/locations/l/datasets/../dicomStores/s",
                "not allowed",
            ),
            (
                "projects/p/locations/l/datasets/d/dicomStores/s?x=1",
                "found '?'",
            ),
            (
                "projects/p/locations/l%2F/datasets/d/dicomStores/s",
                "found '%'",
            ),
        ] {
            let err = bad.parse::<HealthcareStore>().unwrap_err().to_string();
            assert!(err.contains(expect), "{bad}: {err}");
            assert!(err.contains(bad), "{err}");
        }
        assert!(HealthcareStore::new("p", "l", "d", "a/b").is_err());
    }
}
