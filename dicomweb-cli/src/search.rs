//! `dicomweb search`: QIDO-RS for studies, series or instances, printed as a DICOM JSON array.

use dicomweb_client::Client;
use dicomweb_core::Uid;
use dicomweb_core::request::Search;
use dicomweb_core::tags::{SERIES_INSTANCE_UID, STUDY_INSTANCE_UID};

use crate::Failure;
use crate::output::{print_data_sets, print_warnings};

/// The page size of `--all-pages` when no `--limit` is given.
pub const DEFAULT_PAGE_SIZE: u64 = 1000;

/// The most results `--all-pages` collects before it gives up on a runaway server.
pub const MAX_RESULTS: usize = 10_000_000;

/// Arguments of `dicomweb search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to search for.
    #[arg(value_enum)]
    level: Level,
    /// Only in this study (for series and instances), or this study (for studies).
    #[arg(long, value_name = "UID")]
    study: Option<Uid>,
    /// Only in this series (for instances), or this series (for series).
    #[arg(long, value_name = "UID")]
    series: Option<Uid>,
    /// Match an attribute: a keyword, a tag (0010,0010 or 00100010) or a sequence path,
    /// '=' and a value, a wildcard pattern (DOE*), a range (20200101-20201231) or a UID
    /// list (repeatable).
    #[arg(short = 'm', long = "match", value_name = "KEY=VALUE")]
    matches: Vec<String>,
    /// Include this attribute in the results, or `all` (repeatable).
    #[arg(short = 'i', long = "include", value_name = "FIELD")]
    include: Vec<String>,
    /// Ask for fuzzy matching of person names.
    #[arg(long)]
    fuzzy: bool,
    /// At most this many results (the page size with --all-pages).
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Skip this many results.
    #[arg(long, value_name = "N")]
    offset: Option<u64>,
    /// Follow pages until the last one (pages of --limit results, 1000 by default).
    #[arg(long)]
    all_pages: bool,
    /// Ask the server for XML (the output stays DICOM JSON).
    #[arg(long)]
    xml: bool,
}

/// A search level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    /// Studies.
    Studies,
    /// Series.
    Series,
    /// Instances.
    Instances,
}

impl Args {
    /// The QIDO-RS request the arguments describe.
    pub fn search(&self) -> Result<Search, Failure> {
        let study = self.study.clone();
        let series = self.series.clone();
        let mut search = match (self.level, study, series) {
            (Level::Studies, study, None) => {
                let search = Search::studies();
                match study {
                    Some(study) => search.matching_path(STUDY_INSTANCE_UID, study.as_str()),
                    None => search,
                }
            }
            (Level::Studies, _, Some(_)) => {
                return Err(Failure(
                    "--series does not narrow a search for studies; search series or instances"
                        .to_owned(),
                ));
            }
            (Level::Series, study, series) => {
                let search = match study {
                    Some(study) => Search::series_of_study(study),
                    None => Search::series(),
                };
                match series {
                    Some(series) => search.matching_path(SERIES_INSTANCE_UID, series.as_str()),
                    None => search,
                }
            }
            (Level::Instances, Some(study), Some(series)) => {
                Search::instances_of_series(study, series)
            }
            (Level::Instances, Some(study), None) => Search::instances_of_study(study),
            (Level::Instances, None, Some(series)) => {
                Search::instances().matching_path(SERIES_INSTANCE_UID, series.as_str())
            }
            (Level::Instances, None, None) => Search::instances(),
        };
        for text in &self.matches {
            let (key, value) = parse_match(text)?;
            search = search.matching(&key, value)?;
        }
        for field in &self.include {
            search = search.include(&attribute(field))?;
        }
        if self.fuzzy {
            search = search.fuzzy_matching(true);
        }
        match (self.limit, self.all_pages) {
            (Some(limit), _) => search = search.limit(limit),
            (None, true) => search = search.limit(DEFAULT_PAGE_SIZE),
            (None, false) => {}
        }
        if let Some(offset) = self.offset {
            search = search.offset(offset);
        }
        if self.xml {
            search = search.xml();
        }
        Ok(search)
    }
}

/// Runs the search and prints the results.
pub async fn run(args: &Args, client: &Client) -> Result<(), Failure> {
    let search = args.search()?;
    let found = if args.all_pages {
        client.search_all(search, MAX_RESULTS).await?
    } else {
        client.search(&search).await?
    };
    print_warnings(&found.warnings);
    print_data_sets(found.data_sets)
}

/// `KEY=VALUE`, the key normalised by [`attribute`]; the value may be empty (universal
/// matching: the attribute is returned, whatever its value).
pub(crate) fn parse_match(text: &str) -> Result<(String, &str), Failure> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok((attribute(key.trim()), value)),
        _ => Err(Failure(format!(
            "expected -m KEY=VALUE (e.g. PatientID=12345 or 0010,0020=12345), got {text:?}"
        ))),
    }
}

/// An attribute path as the core parses it: each `gggg,eeee` step is written `(gggg,eeee)`.
fn attribute(text: &str) -> String {
    text.split('.')
        .map(|step| {
            if step.contains(',') && !step.starts_with('(') {
                format!("({step})")
            } else {
                step.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicomweb_core::request::BaseUrl;

    fn query(args: &[&str]) -> Result<String, String> {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: Args,
        }
        let wrapper =
            Wrapper::try_parse_from(std::iter::once("search").chain(args.iter().copied()))
                .map_err(|e| e.to_string())?;
        let base: BaseUrl = "http://h/dw".parse().map_err(|e| format!("{e}"))?;
        let search = wrapper.args.search().map_err(|e| e.0)?;
        let request = search.to_request(&base).map_err(|e| e.to_string())?;
        Ok(request
            .uri()
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default())
    }

    #[test]
    fn arguments_become_queries() {
        assert_eq!(
            query(&["studies", "-m", "PatientID=P1", "-m", "0010,0010=DOE*", "-m", "00080020=20200101-20201231", "-i", "all", "--fuzzy", "--limit", "5", "--offset", "10"]),
            Ok("/dw/studies?PatientID=P1&00100010=DOE*&00080020=20200101-20201231&includefield=all&fuzzymatching=true&limit=5&offset=10".to_owned())
        );
        assert_eq!(
            query(&[
                "instances",
                "--study",
                "1.2",
                "--series",
                "1.3",
                "-m",
                "ReferencedStudySequence.(0008,1150)="
            ]),
            Ok("/dw/studies/1.2/series/1.3/instances?ReferencedStudySequence.00081150=".to_owned())
        );
        assert_eq!(
            query(&["instances", "--series", "1.3"]),
            Ok("/dw/instances?0020000E=1.3".to_owned())
        );
        assert_eq!(
            query(&["series", "--study", "1.2", "--all-pages"]),
            Ok("/dw/studies/1.2/series?limit=1000".to_owned())
        );
    }

    #[test]
    fn bad_arguments_are_refused() {
        let error = query(&["studies", "-m", "PatientID"]).unwrap_err();
        assert!(error.contains("expected -m KEY=VALUE"), "{error}");
        let error = query(&["studies", "-m", "=x"]).unwrap_err();
        assert!(error.contains("expected -m KEY=VALUE"), "{error}");
        let error = query(&["studies", "-m", "NoSuchKeyword=1"]).unwrap_err();
        assert!(error.contains("NoSuchKeyword"), "{error}");
        let error = query(&["studies", "--series", "1.2"]).unwrap_err();
        assert!(error.contains("--series"), "{error}");
        let error = query(&["studies", "--study", "1.2.x"]).unwrap_err();
        assert!(error.contains("1.2.x"), "{error}");
    }
}
