//! QIDO-RS and metadata results: data sets from DICOM JSON or Native DICOM Model XML.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::multipart::{MultipartDecoder, MultipartLimits};
use crate::response::{Format, Warning, check_status, format, warnings};
use crate::{DataSet, Error, ReadOptions, json, xml};

/// Data sets from a search or a metadata request, with the server's warnings (e.g. `299`
/// "the fuzzymatching parameter is not supported").
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct DataSets {
    /// The studies, series or instances found, or the instances' metadata.
    pub data_sets: Vec<DataSet>,
    /// `Warning` headers.
    pub warnings: Vec<Warning>,
}

/// Parses a QIDO-RS response. `204 No Content` (and an empty `200`) is an empty result; an
/// error status is [`Error::Status`].
///
/// The body is taken as [`Bytes`] (a `Vec<u8>` or an HTTP client's body converts without a
/// copy): the strings of the data sets share it instead of copying it
/// (see [`Text`](crate::Text)). A borrowed slice goes in as `Bytes::copy_from_slice(body)`.
pub fn parse_search(
    status: StatusCode,
    headers: &HeaderMap,
    body: impl Into<Bytes>,
    options: &ReadOptions,
) -> Result<DataSets, Error> {
    search(status, headers, body.into(), options)
}

fn search(
    status: StatusCode,
    headers: &HeaderMap,
    body: Bytes,
    options: &ReadOptions,
) -> Result<DataSets, Error> {
    check_status(status, headers, &body)?;
    let data_sets = if status == StatusCode::NO_CONTENT {
        Vec::new()
    } else {
        data_sets(headers, body, options)?
    };
    Ok(DataSets {
        data_sets,
        warnings: warnings(headers),
    })
}

/// Parses a WADO-RS metadata response (same shapes as a search, and the body taken the same
/// way as by [`parse_search`]).
pub fn parse_metadata(
    status: StatusCode,
    headers: &HeaderMap,
    body: impl Into<Bytes>,
    options: &ReadOptions,
) -> Result<DataSets, Error> {
    search(status, headers, body.into(), options)
}

/// The data sets of a successful body: a DICOM JSON array or object, one XML document, or a
/// multipart/related of XML documents. Chosen by `Content-Type`, or by the first byte when
/// the type is missing or generic. The body is taken as by [`parse_search`].
pub fn parse_data_sets(
    headers: &HeaderMap,
    body: impl Into<Bytes>,
    options: &ReadOptions,
) -> Result<Vec<DataSet>, Error> {
    data_sets(headers, body.into(), options)
}

fn data_sets(
    headers: &HeaderMap,
    body: Bytes,
    options: &ReadOptions,
) -> Result<Vec<DataSet>, Error> {
    match format(headers, &body)? {
        Format::Empty => Ok(Vec::new()),
        Format::Json => json::read_bytes(body, options).map(|doc| doc.into_data_sets()),
        Format::Xml => Ok(vec![xml::read(&body, options)?]),
        Format::Multipart(content_type) => {
            let decoder =
                MultipartDecoder::from_content_type(&content_type, MultipartLimits::default())?;
            let parts = decoder.decode_all(body)?;
            let mut data_sets = Vec::with_capacity(parts.len());
            for (head, part) in parts {
                match head.content_type()? {
                    Some(m) if m.subtype().ends_with("json") => {
                        data_sets.extend(json::read_bytes(part, options)?.into_data_sets());
                    }
                    Some(m) if !(m.subtype() == "xml" || m.subtype().ends_with("+xml")) => {
                        return Err(Error::UnexpectedResponse {
                            expected: "application/dicom+xml parts",
                            found: format!("a part #{} of type {m}", head.index() + 1),
                        });
                    }
                    _ => data_sets.push(xml::read(&part, options)?),
                }
            }
            Ok(data_sets)
        }
        Format::Other(media_type) => Err(Error::UnexpectedResponse {
            expected: "DICOM JSON or XML",
            found: format!("a body of type {media_type}"),
        }),
    }
}
