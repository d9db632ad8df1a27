//! [`Scope`]: the part of a study a [`TransferJob`](super::TransferJob) copies when it is not
//! the whole study — some of its series, or one instance. Saved with the job's state.

use dicomweb_core::Uid;
use dicomweb_core::request::Search;
use serde::{Deserialize, Serialize};

use crate::Error;

/// A narrower selection than a whole study (UIDs checked when the scope is made, and again
/// before they enter a URL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Scope {
    /// These series of the study (Series Instance UIDs).
    Series(Vec<String>),
    /// One instance of the study.
    Instance {
        /// Its Series Instance UID.
        series: String,
        /// Its SOP Instance UID.
        sop: String,
    },
}

impl Scope {
    /// Some series of the study; at least one.
    pub fn series(series: Vec<Uid>) -> Result<Scope, Error> {
        if series.is_empty() {
            return Err(Error::config(
                "expected at least one series in a transfer's scope, got none",
            ));
        }
        Ok(Scope::Series(
            series.into_iter().map(Uid::into_string).collect(),
        ))
    }

    /// One instance of the study, in `series`.
    pub fn instance(series: Uid, sop: Uid) -> Scope {
        Scope::Instance {
            series: series.into_string(),
            sop: sop.into_string(),
        }
    }

    /// The instance-level searches that list the scope's instances in `study` (none for a
    /// single instance, which needs no search).
    pub fn searches(&self, study: &Uid) -> Result<Vec<Search>, Error> {
        match self {
            Scope::Series(series) => {
                let mut searches = Vec::with_capacity(series.len());
                for uid in series {
                    searches.push(Search::instances_of_series(
                        study.clone(),
                        Uid::new(uid.clone())?,
                    ));
                }
                Ok(searches)
            }
            Scope::Instance { .. } => Ok(Vec::new()),
        }
    }

    /// The scope as a job's content shows it.
    pub(super) fn content(&self) -> serde_json::Value {
        match self {
            Scope::Series(series) => serde_json::json!({ "Series": series }),
            Scope::Instance { series, sop } => {
                serde_json::json!({ "Series": [series], "SOPInstanceUID": sop })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_json() {
        let scope =
            Scope::series(vec!["1.2.3".parse().unwrap(), "1.2.4".parse().unwrap()]).unwrap();
        let text = serde_json::to_string(&scope).unwrap();
        assert_eq!(text, r#"{"Series":["1.2.3","1.2.4"]}"#);
        assert_eq!(serde_json::from_str::<Scope>(&text).unwrap(), scope);
        let one = Scope::instance("1.2".parse().unwrap(), "1.2.9".parse().unwrap());
        let text = serde_json::to_string(&one).unwrap();
        assert_eq!(serde_json::from_str::<Scope>(&text).unwrap(), one);
        assert!(Scope::series(Vec::new()).is_err());
    }
}
