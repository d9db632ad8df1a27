//! WADO-RS responses held in memory: instances, frames, bulk data, rendered images.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::Error;
use crate::media_type::MediaType;
use crate::multipart::{BodyDecoder, MultipartLimits};
use crate::response::{Warning, check_status, warnings};

/// One part of a retrieve response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetrievedPart {
    /// The part's `Content-Type` (for a single-part response, the response's).
    pub content_type: Option<MediaType>,
    /// The part's `Content-Location`, when given (frames, bulk data).
    pub content_location: Option<String>,
    /// The part's bytes: a slice of the response body, not a copy.
    pub body: Bytes,
}

/// The parts of a retrieve response and the server's warnings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetrieveResult {
    /// 200, or 206 for a byte range or a partial result.
    pub status: StatusCode,
    /// The parts, in order.
    pub parts: Vec<RetrievedPart>,
    /// `Warning` headers.
    pub warnings: Vec<Warning>,
}

/// Splits a whole WADO-RS response body into its parts: a multipart/related body part by
/// part, any other body (plain `application/dicom`, `image/jpeg`, …) as one part. A truncated
/// multipart body is an error, never fewer parts. An error status is [`Error::Status`].
pub fn parse_retrieve(
    status: StatusCode,
    headers: &HeaderMap,
    body: Bytes,
    limits: MultipartLimits,
) -> Result<RetrieveResult, Error> {
    check_status(status, headers, &body)?;
    let decoded = BodyDecoder::from_headers(headers, limits)?.decode_all(body)?;
    let mut parts = Vec::with_capacity(decoded.len());
    for (head, body) in decoded {
        parts.push(RetrievedPart {
            content_type: head.content_type()?,
            content_location: head.content_location().map(str::to_owned),
            body,
        });
    }
    Ok(RetrieveResult {
        status,
        parts,
        warnings: warnings(headers),
    })
}
