//! QIDO-RS: searching for studies, series and instances (PS3.18 §10.6).
//!
//! ```
//! use dicomweb_core::request::{BaseUrl, Search};
//!
//! let base: BaseUrl = "https://pacs.example/dicom-web".parse()?;
//! let study = "1.2.840.113619.2.55".parse()?;
//! let request = Search::series_of_study(study)
//!     .matching("Modality", "CT")?
//!     .matching("00400275.00401001", "RP*")? // a sequence path
//!     .include_all()
//!     .fuzzy_matching(true)
//!     .offset(20)
//!     .limit(10)
//!     .to_request(&base)?;
//! assert_eq!(
//!     request.uri().path_and_query().map(|p| p.as_str()),
//!     Some("/dicom-web/studies/1.2.840.113619.2.55/series?Modality=CT&00400275.00401001=RP*&includefield=all&fuzzymatching=true&limit=10&offset=20")
//! );
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

use http::Method;

use crate::request::AttributePath;
use crate::request::base::{Path, Query};
use crate::request::{Accept, BaseUrl, Body, bodiless};
use crate::{Error, Uid};

/// What a search looks for, and under which study or series.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SearchLevel {
    /// `/studies`.
    Studies,
    /// `/series`: series of every study.
    AllSeries,
    /// `/studies/{study}/series`.
    SeriesOfStudy(Uid),
    /// `/instances`: instances of every study.
    AllInstances,
    /// `/studies/{study}/instances`.
    InstancesOfStudy(Uid),
    /// `/studies/{study}/series/{series}/instances`.
    InstancesOfSeries(Uid, Uid),
}

impl SearchLevel {
    fn path(&self) -> Path {
        let studies = Path::new().word("studies");
        match self {
            SearchLevel::Studies => studies,
            SearchLevel::AllSeries => Path::new().word("series"),
            SearchLevel::SeriesOfStudy(s) => studies.uid(s).word("series"),
            SearchLevel::AllInstances => Path::new().word("instances"),
            SearchLevel::InstancesOfStudy(s) => studies.uid(s).word("instances"),
            SearchLevel::InstancesOfSeries(s, r) => {
                studies.uid(s).word("series").uid(r).word("instances")
            }
        }
    }
}

/// A value of `includefield`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IncludeField {
    /// `all`: every attribute the server has.
    All,
    /// One attribute.
    Attribute(AttributePath),
}

/// A QIDO-RS search: the level, matching attributes, `includefield`, `fuzzymatching`, `limit`
/// and `offset`. The `Accept` header defaults to `application/dicom+json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    level: SearchLevel,
    matches: Vec<(AttributePath, String)>,
    include: Vec<IncludeField>,
    fuzzy: Option<bool>,
    limit: Option<u64>,
    offset: Option<u64>,
    accept: Accept,
}

impl Search {
    /// A search at a level.
    pub fn new(level: SearchLevel) -> Search {
        Search {
            level,
            matches: Vec::new(),
            include: Vec::new(),
            fuzzy: None,
            limit: None,
            offset: None,
            accept: Accept::dicom_json(),
        }
    }

    /// `GET /studies`.
    pub fn studies() -> Search {
        Search::new(SearchLevel::Studies)
    }

    /// `GET /series`.
    pub fn series() -> Search {
        Search::new(SearchLevel::AllSeries)
    }

    /// `GET /studies/{study}/series`.
    pub fn series_of_study(study: Uid) -> Search {
        Search::new(SearchLevel::SeriesOfStudy(study))
    }

    /// `GET /instances`.
    pub fn instances() -> Search {
        Search::new(SearchLevel::AllInstances)
    }

    /// `GET /studies/{study}/instances`.
    pub fn instances_of_study(study: Uid) -> Search {
        Search::new(SearchLevel::InstancesOfStudy(study))
    }

    /// `GET /studies/{study}/series/{series}/instances`.
    pub fn instances_of_series(study: Uid, series: Uid) -> Search {
        Search::new(SearchLevel::InstancesOfSeries(study, series))
    }

    /// Matches `attribute` (a keyword, tag or sequence path) against `value`: a single value,
    /// a wildcard pattern (`*`, `?`), a range (`20240101-20240131`, `-1200`), or a UID list
    /// (`1.2.3,1.2.4`). The value is percent-encoded as it is.
    pub fn matching(self, attribute: &str, value: impl Into<String>) -> Result<Search, Error> {
        Ok(self.matching_path(AttributePath::parse(attribute)?, value))
    }

    /// Matches an attribute path (or a [`Tag`](crate::Tag), through `into`) against `value`.
    pub fn matching_path(
        mut self,
        path: impl Into<AttributePath>,
        value: impl Into<String>,
    ) -> Search {
        self.matches.push((path.into(), value.into()));
        self
    }

    /// Matches any of `uids` (UID list matching, written comma-separated).
    pub fn matching_uids(self, attribute: &str, uids: &[Uid]) -> Result<Search, Error> {
        if uids.is_empty() {
            return Err(Error::InvalidRequest {
                what: "UID list",
                message: format!("expected at least one UID to match {attribute}, found none"),
            });
        }
        let list: Vec<&str> = uids.iter().map(Uid::as_str).collect();
        self.matching(attribute, list.join(","))
    }

    /// Matches a date, time or date-time range; an open end is `None`. Both ends `None` is an
    /// error (it would match everything while looking like a filter).
    pub fn matching_range(
        self,
        attribute: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Search, Error> {
        if from.is_none() && to.is_none() {
            return Err(Error::InvalidRequest {
                what: "range",
                message: format!("expected at least one end of the range for {attribute}"),
            });
        }
        let value = format!("{}-{}", from.unwrap_or(""), to.unwrap_or(""));
        self.matching(attribute, value)
    }

    /// Asks for one more attribute (keyword, tag or path) in the results, or `all`.
    pub fn include(mut self, field: &str) -> Result<Search, Error> {
        let field = if field == "all" {
            IncludeField::All
        } else {
            IncludeField::Attribute(AttributePath::parse(field)?)
        };
        self.include.push(field);
        Ok(self)
    }

    /// `includefield=all`.
    pub fn include_all(mut self) -> Search {
        self.include.push(IncludeField::All);
        self
    }

    /// `fuzzymatching=true|false` (person names matched loosely, if the server supports it).
    pub fn fuzzy_matching(mut self, on: bool) -> Search {
        self.fuzzy = Some(on);
        self
    }

    /// `limit`: at most this many results.
    pub fn limit(mut self, limit: u64) -> Search {
        self.limit = Some(limit);
        self
    }

    /// `offset`: skip this many results (paging).
    pub fn offset(mut self, offset: u64) -> Search {
        self.offset = Some(offset);
        self
    }

    /// Another `Accept` header.
    pub fn accept(mut self, accept: Accept) -> Search {
        self.accept = accept;
        self
    }

    /// Asks for XML results: `multipart/related; type="application/dicom+xml"`.
    pub fn xml(self) -> Search {
        self.accept(Accept::dicom_xml())
    }

    /// The level searched.
    pub fn level(&self) -> &SearchLevel {
        &self.level
    }

    /// The `limit`, if any.
    pub fn limit_value(&self) -> Option<u64> {
        self.limit
    }

    /// The `offset`, if any.
    pub fn offset_value(&self) -> Option<u64> {
        self.offset
    }

    /// The search for the page after one that returned `results_in_page` results: the same
    /// search with `offset` advanced by that many. `None` when there can be no next page: no
    /// `limit` was set (the server's own limit is unknown; see its `Warning`), or the page held
    /// fewer results than the limit.
    ///
    /// ```
    /// use dicomweb_core::request::Search;
    ///
    /// let first = Search::studies().limit(100);
    /// let second = first.next_page(100).expect("a full page");
    /// assert_eq!(second.offset_value(), Some(100));
    /// assert!(second.next_page(42).is_none());
    /// ```
    pub fn next_page(&self, results_in_page: usize) -> Option<Search> {
        let limit = self.limit?;
        let got = u64::try_from(results_in_page).ok()?;
        if got == 0 || got < limit {
            return None;
        }
        let mut next = self.clone();
        next.offset = Some(self.offset.unwrap_or(0).checked_add(got)?);
        Some(next)
    }

    /// `GET {base}{level path}?{query}` with the `Accept` header.
    pub fn to_request(&self, base: &BaseUrl) -> Result<http::Request<Body>, Error> {
        let mut query = Query::new();
        for (path, value) in &self.matches {
            query.push(path.to_string(), value.clone());
        }
        for field in &self.include {
            let value = match field {
                IncludeField::All => "all".to_owned(),
                IncludeField::Attribute(path) => path.to_string(),
            };
            query.push("includefield", value);
        }
        if let Some(fuzzy) = self.fuzzy {
            query.push("fuzzymatching", fuzzy.to_string());
        }
        if let Some(limit) = self.limit {
            query.push("limit", limit.to_string());
        }
        if let Some(offset) = self.offset {
            query.push("offset", offset.to_string());
        }
        let uri = base.uri(self.level.path().as_str(), &query)?;
        bodiless(Method::GET, uri, Some(&self.accept))
    }
}
