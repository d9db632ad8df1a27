//! What `dicomweb transfer` copies: whole studies (`--study`, `--all`), some series
//! (`--series`), single instances (`--instance`), or the series a QIDO-RS search matches
//! (`--all -m KEY=VALUE`, the matching syntax of `dicomweb search`). A series or an instance
//! without its `--study` is looked up at the source. The result is one job per study, each
//! with the [`Scope`] it copies.

use std::collections::BTreeMap;

use dicomweb_client::Client;
use dicomweb_client::jobs::Scope;
use dicomweb_core::request::Search;
use dicomweb_core::tags::{SERIES_INSTANCE_UID, SOP_INSTANCE_UID, STUDY_INSTANCE_UID};
use dicomweb_core::{DataSet, Uid};

use crate::Failure;
use crate::search::{DEFAULT_PAGE_SIZE, MAX_RESULTS, parse_match};

/// The selection options of `dicomweb transfer`.
#[derive(Debug, clap::Args)]
#[group(skip)]
#[command(group(
    clap::ArgGroup::new("what")
        .required(true)
        .multiple(true)
        .args(["studies", "series", "instances", "all"])
))]
pub struct Args {
    /// A study to copy (repeatable); with --series or --instance, the study they are in.
    #[arg(long = "study", value_name = "UID")]
    studies: Vec<Uid>,
    /// A series to copy (repeatable); its study is --study, else found at the source.
    #[arg(long = "series", value_name = "UID", conflicts_with_all = ["all", "instances"])]
    series: Vec<Uid>,
    /// An instance to copy (repeatable); its study and series are found at the source.
    #[arg(long = "instance", value_name = "UID", conflicts_with = "all")]
    instances: Vec<Uid>,
    /// Copy every study of the source (with -m: every series that matches).
    #[arg(long, conflicts_with = "studies")]
    all: bool,
    /// With --all, copy only the series that match: KEY=VALUE as in `dicomweb search`, e.g.
    /// Modality=CT or StudyDate=20250101- (repeatable).
    #[arg(
        short = 'm',
        long = "match",
        value_name = "KEY=VALUE",
        requires = "all"
    )]
    matches: Vec<String>,
}

/// One job's worth: a study, and the part of it to copy (`None`: all of it).
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    /// The study.
    pub study: Uid,
    /// The part of it.
    pub scope: Option<Scope>,
}

impl Args {
    /// The studies and scopes selected, asking `source` (named `from` in messages) where the
    /// options do not say.
    pub async fn resolve(&self, source: &Client, from: &str) -> Result<Vec<Selected>, Failure> {
        if self.all && self.matches.is_empty() {
            let found = source
                .search_all(Search::studies().limit(DEFAULT_PAGE_SIZE), MAX_RESULTS)
                .await?;
            let studies = uids(&found.data_sets, STUDY_INSTANCE_UID)?;
            if studies.is_empty() {
                return Err(Failure(format!("the source {from} holds no study")));
            }
            return Ok(studies.into_iter().map(whole).collect());
        }
        if self.all {
            let mut search = Search::series();
            for text in &self.matches {
                let (key, value) = parse_match(text)?;
                search = search.matching(&key, value)?;
            }
            let found = self.found_series(source, search).await?;
            if found.is_empty() {
                return Err(Failure(format!(
                    "no series at {from} matches {}",
                    self.matches.join(" ")
                )));
            }
            return Ok(found);
        }
        let study = match self.studies.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            _ if self.series.is_empty() && self.instances.is_empty() => {
                return Ok(self.studies.iter().cloned().map(whole).collect());
            }
            _ => {
                return Err(Failure(
                    "--series and --instance take at most one --study (the one they are in)"
                        .to_owned(),
                ));
            }
        };
        if !self.series.is_empty() {
            if let Some(study) = study {
                return Ok(vec![Selected {
                    study,
                    scope: Some(Scope::series(self.series.clone())?),
                }]);
            }
            let mut selected = Vec::new();
            for uid in &self.series {
                let search = Search::series().matching_path(SERIES_INSTANCE_UID, uid.as_str());
                let found = self.found_series(source, search).await?;
                if found.is_empty() {
                    return Err(Failure(format!("no series {uid} at {from}")));
                }
                selected.extend(found);
            }
            return Ok(merge(selected));
        }
        if !self.instances.is_empty() {
            let mut selected = Vec::new();
            for uid in &self.instances {
                let search = match &study {
                    Some(study) => Search::instances_of_study(study.clone()),
                    None => Search::instances(),
                }
                .matching_path(SOP_INSTANCE_UID, uid.as_str())
                .include("StudyInstanceUID")?
                .include("SeriesInstanceUID")?;
                let found = source.search(&search).await?;
                let Some(data_set) = found.data_sets.first() else {
                    return Err(Failure(format!("no instance {uid} at {from}")));
                };
                selected.push(Selected {
                    study: uid_of(data_set, STUDY_INSTANCE_UID)?,
                    scope: Some(Scope::instance(
                        uid_of(data_set, SERIES_INSTANCE_UID)?,
                        uid.clone(),
                    )),
                });
            }
            return Ok(selected);
        }
        Ok(self.studies.iter().cloned().map(whole).collect())
    }

    /// The series `search` finds (every page), as one selection per study.
    async fn found_series(
        &self,
        source: &Client,
        search: Search,
    ) -> Result<Vec<Selected>, Failure> {
        let search = search
            .include("StudyInstanceUID")?
            .include("SeriesInstanceUID")?
            .limit(DEFAULT_PAGE_SIZE);
        let found = source.search_all(search, MAX_RESULTS).await?;
        let mut selected = Vec::with_capacity(found.data_sets.len());
        for data_set in &found.data_sets {
            selected.push(Selected {
                study: uid_of(data_set, STUDY_INSTANCE_UID)?,
                scope: Some(Scope::series(vec![uid_of(data_set, SERIES_INSTANCE_UID)?])?),
            });
        }
        Ok(merge(selected))
    }
}

fn whole(study: Uid) -> Selected {
    Selected { study, scope: None }
}

/// Series selections of the same study as one selection (one job per study), studies in
/// UID order, series in the order found.
fn merge(selected: Vec<Selected>) -> Vec<Selected> {
    let mut by_study: BTreeMap<Uid, Vec<String>> = BTreeMap::new();
    for one in selected {
        if let Some(Scope::Series(series)) = one.scope {
            let list = by_study.entry(one.study).or_default();
            for uid in series {
                if !list.contains(&uid) {
                    list.push(uid);
                }
            }
        }
    }
    by_study
        .into_iter()
        .map(|(study, series)| Selected {
            study,
            scope: Some(Scope::Series(series)),
        })
        .collect()
}

/// The UID `tag` of a search result, checked.
fn uid_of(data_set: &DataSet, tag: dicomweb_core::Tag) -> Result<Uid, Failure> {
    let Some(text) = data_set.string(tag) else {
        return Err(Failure(format!(
            "expected {tag} in every search result of the source, found a result without it"
        )));
    };
    Ok(Uid::new(text.to_owned())?)
}

/// The UID `tag` of every search result.
fn uids(data_sets: &[DataSet], tag: dicomweb_core::Tag) -> Result<Vec<Uid>, Failure> {
    data_sets.iter().map(|d| uid_of(d, tag)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(study: &str, series: &[&str]) -> Selected {
        Selected {
            study: study.parse().unwrap(),
            scope: Some(Scope::Series(
                series.iter().map(|s| (*s).to_owned()).collect(),
            )),
        }
    }

    #[test]
    fn series_of_one_study_make_one_selection() {
        let merged = merge(vec![
            series("1.2", &["1.2.1"]),
            series("1.3", &["1.3.1"]),
            series("1.2", &["1.2.2", "1.2.1"]),
        ]);
        assert_eq!(
            merged,
            vec![
                series("1.2", &["1.2.1", "1.2.2"]),
                series("1.3", &["1.3.1"])
            ]
        );
    }
}
