//! Parsing DICOMweb responses: pure functions from a response's status, headers and body to
//! typed results or typed errors.
//!
//! - [`check_status`]: 2xx or a typed [`StatusError`] (inside [`crate::Error::Status`]) with the
//!   body text, `Retry-After` ([`RetryAfter`], an HTTP-date read by [`parse_http_date`] without
//!   a clock) and [`Warning`]s; [`is_retryable_status`] is the one list of statuses worth
//!   retrying.
//! - [`parse_search`] and [`parse_metadata`]: QIDO-RS and metadata results from DICOM JSON, a
//!   single XML document, or a multipart/related of XML documents; `204 No Content` is an empty
//!   result; `Warning: 299` headers are surfaced.
//! - [`parse_store`]: the STOW-RS response (JSON or XML), also on 202, 400 and 409;
//!   [`StoreResult::classify`] says what it means for each instance sent ([`StowOutcome`]).
//! - [`parse_retrieve`]: the parts of a WADO-RS response held in memory (instances, frames,
//!   bulk data, rendered); a single-part answer to a multipart request is one part. To stream
//!   instead, call [`check_status`] on the head and feed the body to
//!   [`crate::multipart::BodyDecoder`].
//!
//! ```
//! use dicomweb_core::response::parse_store;
//! use dicomweb_core::ReadOptions;
//! use http::{HeaderMap, HeaderValue, StatusCode, header::CONTENT_TYPE};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/dicom+json"));
//! let body = br#"{
//!   "00081199": {"vr": "SQ", "Value": [{
//!     "00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]},
//!     "00081155": {"vr": "UI", "Value": ["1.2.3.4"]},
//!     "00081190": {"vr": "UR", "Value": ["http://pacs/dicom-web/studies/1.2/series/1.3/instances/1.2.3.4"]}
//!   }]},
//!   "00081198": {"vr": "SQ", "Value": [{
//!     "00081155": {"vr": "UI", "Value": ["1.2.3.5"]},
//!     "00081197": {"vr": "US", "Value": [49442]}
//!   }]}
//! }"#;
//! let result = parse_store(StatusCode::ACCEPTED, &headers, body, &ReadOptions::default())?;
//! assert_eq!(result.stored[0].sop_instance_uid.as_deref(), Some("1.2.3.4"));
//! assert_eq!(result.failed[0].failure_reason.map(|r| r.0), Some(0xC122));
//! assert!(!result.is_complete_success());
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

mod http_date;
mod retrieve;
mod search;
mod status;
mod stow_outcome;
mod stow_result;
mod warning;

pub use http_date::parse_http_date;
pub use retrieve::{RetrieveResult, RetrievedPart, parse_retrieve};
pub use search::{DataSets, parse_data_sets, parse_metadata, parse_search};
pub use status::{
    MAX_ERROR_BODY, RetryAfter, StatusError, StatusKind, check_status, is_retryable_status,
    parse_retry_after,
};
pub use stow_outcome::StowOutcome;
pub use stow_result::{
    FailedInstance, FailureReason, InstanceOutcome, StoreResult, StoredInstance, WarningReason,
    parse_store,
};
pub use warning::{Warning, warnings};

use http::HeaderMap;
use http::header::CONTENT_TYPE;

use crate::Error;
use crate::media_type::MediaType;

/// The response's `Content-Type`, parsed; `None` when absent.
pub(crate) fn content_type(headers: &HeaderMap) -> Result<Option<MediaType>, Error> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| Error::MediaType {
        text: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        message: "expected ASCII text in Content-Type".to_owned(),
    })?;
    MediaType::parse(text).map(Some)
}

/// What a body holds, by its media type or, without one, by its first byte.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Format {
    Json,
    Xml,
    Multipart(MediaType),
    Other(MediaType),
    Empty,
}

pub(crate) fn format(headers: &HeaderMap, body: &[u8]) -> Result<Format, Error> {
    let first = body
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(body)
        .iter()
        .find(|b| !b.is_ascii_whitespace());
    let Some(&first) = first else {
        return Ok(Format::Empty);
    };
    Ok(match content_type(headers)? {
        Some(m) if m.is_multipart() => Format::Multipart(m),
        Some(m) if m.subtype() == "json" || m.subtype().ends_with("+json") => Format::Json,
        Some(m) if m.subtype() == "xml" || m.subtype().ends_with("+xml") => Format::Xml,
        Some(m) if !(m.is("application", "octet-stream") || m.is("text", "plain")) => {
            Format::Other(m)
        }
        // No type, or a generic one: look at the body.
        other => match first {
            b'[' | b'{' => Format::Json,
            b'<' => Format::Xml,
            _ => Format::Other(
                other.unwrap_or_else(|| MediaType::new("application", "octet-stream")),
            ),
        },
    })
}
