//! DICOMweb operations on a [`Client`], each three steps: the request is built by
//! [`dicomweb_core::request`], sent by [`Client::execute`], and the response parsed by
//! [`dicomweb_core::response`].

use bytes::Bytes;
use dicomweb_core::Uid;
use dicomweb_core::request::{Capabilities, Delete, RetrieveMetadata, Search, SearchLevel, Target};
use dicomweb_core::response::{
    DataSets, Warning, check_status, parse_metadata, parse_search, warnings,
};
use http::{HeaderMap, StatusCode};

use crate::{Client, Error, RequestBody};

impl Client {
    /// QIDO-RS at any level: the data sets found, with the server's warnings.
    ///
    /// `204 No Content` is an empty result; an error status is
    /// [`dicomweb_core::Error::Status`] inside [`Error::Protocol`].
    pub async fn search(&self, search: &Search) -> Result<DataSets, Error> {
        let (status, headers, body) = self.fetch(search.to_request(self.base_url())?).await?;
        Ok(parse_search(status, &headers, body, self.read_options())?)
    }

    /// QIDO-RS for studies (`GET {base}/studies?…`). `search` must be study-level
    /// ([`Search::studies`]).
    ///
    /// ```no_run
    /// # async fn run(client: dicomweb_client::Client) -> Result<(), dicomweb_client::Error> {
    /// use dicomweb_core::request::Search;
    ///
    /// let found = client
    ///     .search_for_studies(Search::studies().matching("PatientID", "P-001")?.limit(10))
    ///     .await?;
    /// for study in &found.data_sets {
    ///     println!("{:?}", study.string(dicomweb_core::tags::STUDY_INSTANCE_UID));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn search_for_studies(&self, search: Search) -> Result<DataSets, Error> {
        if *search.level() != SearchLevel::Studies {
            return Err(Error::config(format!(
                "search_for_studies expects a study-level search (Search::studies()), got {:?}",
                search.level()
            )));
        }
        self.search(&search).await
    }

    /// QIDO-RS for series (`/series` or `/studies/{study}/series`).
    pub async fn search_for_series(&self, search: Search) -> Result<DataSets, Error> {
        match search.level() {
            SearchLevel::AllSeries | SearchLevel::SeriesOfStudy(_) => self.search(&search).await,
            other => Err(Error::config(format!(
                "search_for_series expects a series-level search, got {other:?}"
            ))),
        }
    }

    /// QIDO-RS for instances (`/instances`, `/studies/{study}/instances` or
    /// `/studies/{study}/series/{series}/instances`).
    pub async fn search_for_instances(&self, search: Search) -> Result<DataSets, Error> {
        match search.level() {
            SearchLevel::AllInstances
            | SearchLevel::InstancesOfStudy(_)
            | SearchLevel::InstancesOfSeries(..) => self.search(&search).await,
            other => Err(Error::config(format!(
                "search_for_instances expects an instance-level search, got {other:?}"
            ))),
        }
    }

    /// QIDO-RS, every page: follows `offset` until a page comes back shorter than the
    /// search's `limit` (or empty), and returns all results with every page's warnings.
    /// Without a `limit` it is one request, as the server pages nothing it was not asked to.
    /// `max_results` stops a runaway server: more results than that is an error.
    pub async fn search_all(&self, search: Search, max_results: usize) -> Result<DataSets, Error> {
        let mut all = self.search(&search).await?;
        let mut page = search;
        let mut last = all.data_sets.len();
        while let Some(next) = page.next_page(last) {
            let found = self.search(&next).await?;
            last = found.data_sets.len();
            all.data_sets.extend(found.data_sets);
            all.warnings.extend(found.warnings);
            if all.data_sets.len() > max_results {
                return Err(Error::config(format!(
                    "search_all found more than {max_results} results; raise the limit or narrow the search"
                )));
            }
            page = next;
        }
        Ok(all)
    }

    /// Deletes a study, series or instance (Google, dcm4chee and Orthanc with `HasDelete`
    /// support it), returning the server's warnings. Refused before sending when the server
    /// is configured with `HasDelete: false`.
    pub async fn delete(&self, target: Target) -> Result<Vec<Warning>, Error> {
        if self.has_delete() == Some(false) {
            return Err(Error::config(
                "this server is configured without DELETE support (HasDelete: false)",
            ));
        }
        let (status, headers, body) = self
            .fetch(Delete::new(target).to_request(self.base_url())?)
            .await?;
        check_status(status, &headers, &body)?;
        Ok(warnings(&headers))
    }

    /// The server's capabilities (`OPTIONS {base}`): its status, headers and body as sent
    /// (servers answer with WADL, JSON or nothing).
    pub async fn capabilities(&self) -> Result<(StatusCode, HeaderMap, Bytes), Error> {
        let (status, headers, body) = self
            .fetch(Capabilities::new().to_request(self.base_url())?)
            .await?;
        check_status(status, &headers, &body)?;
        Ok((status, headers, body))
    }

    /// WADO-RS metadata of a study, series or instance, as DICOM JSON or XML (by the request's
    /// `Accept`).
    pub async fn retrieve_metadata(&self, request: &RetrieveMetadata) -> Result<DataSets, Error> {
        let (status, headers, body) = self.fetch(request.to_request(self.base_url())?).await?;
        Ok(parse_metadata(status, &headers, body, self.read_options())?)
    }

    /// WADO-RS metadata of every instance of a study (`GET {base}/studies/{study}/metadata`).
    pub async fn retrieve_study_metadata(&self, study: &Uid) -> Result<DataSets, Error> {
        self.retrieve_metadata(&RetrieveMetadata::new(Target::study(study.clone())))
            .await
    }

    /// Sends a request built by dicomweb-core and reads its whole body, up to
    /// [`max_response_bytes`](Client::max_response_bytes).
    async fn fetch(
        &self,
        request: http::Request<dicomweb_core::request::Body>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), Error> {
        self.fetch_body(request.map(RequestBody::from)).await
    }

    /// Sends a request and reads its whole body, up to
    /// [`max_response_bytes`](Client::max_response_bytes).
    pub(crate) async fn fetch_body(
        &self,
        request: http::Request<RequestBody>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), Error> {
        let label = format!("{} {}", request.method(), request.uri());
        let response = self.execute(request).await?;
        let (head, body) = response.into_parts();
        let body = body
            .bytes_limited(self.max_response_bytes())
            .await
            .map_err(|source| Error::Transport {
                request: label,
                source,
            })?;
        Ok((head.status, head.headers, body))
    }
}
