//! DICOMweb operations on a [`Client`], each three steps: the request is built by
//! [`dicomweb_core::request`], sent by [`Client::execute`], and the response parsed by
//! [`dicomweb_core::response`].

use bytes::Bytes;
use dicomweb_core::Uid;
use dicomweb_core::request::{RetrieveMetadata, Search, SearchLevel, Target};
use dicomweb_core::response::{DataSets, parse_metadata, parse_search};
use http::{HeaderMap, StatusCode};

use crate::{Client, Error, RequestBody};

impl Client {
    /// QIDO-RS at any level: the data sets found, with the server's warnings.
    ///
    /// `204 No Content` is an empty result; an error status is
    /// [`dicomweb_core::Error::Status`] inside [`Error::Protocol`].
    pub async fn search(&self, search: &Search) -> Result<DataSets, Error> {
        let (status, headers, body) = self.fetch(search.to_request(self.base_url())?).await?;
        Ok(parse_search(status, &headers, &body, self.read_options())?)
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
    ///     println!("{:?}", study.string(dicomweb_core::Tag(0x0020_000D)));
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

    /// WADO-RS metadata of a study, series or instance, as DICOM JSON or XML (by the request's
    /// `Accept`).
    pub async fn retrieve_metadata(&self, request: &RetrieveMetadata) -> Result<DataSets, Error> {
        let (status, headers, body) = self.fetch(request.to_request(self.base_url())?).await?;
        Ok(parse_metadata(
            status,
            &headers,
            &body,
            self.read_options(),
        )?)
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
        let label = format!("{} {}", request.method(), request.uri());
        let response = self.execute(request.map(RequestBody::from)).await?;
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
