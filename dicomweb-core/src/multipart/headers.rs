//! A part's header block: parsing (RFC 2045/2046 header fields) and typed access.

use http::header::{CONTENT_LENGTH, CONTENT_LOCATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::MultipartLimits;
use crate::Error;
use crate::media_type::MediaType;

/// The header fields of one part, as [`Event::Headers`](super::Event::Headers) delivers them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartHeaders {
    index: usize,
    headers: HeaderMap,
    content_length: Option<u64>,
}

impl PartHeaders {
    /// Header fields for a part, e.g. to describe a single-part response as a part.
    pub fn new(index: usize, headers: HeaderMap) -> Result<PartHeaders, Error> {
        let content_length = content_length(&headers).map_err(|message| Error::Multipart {
            offset: 0,
            message: format!("part #{}: {message}", index + 1),
        })?;
        Ok(PartHeaders {
            index,
            headers,
            content_length,
        })
    }

    /// The part's position in the body, counting from 0.
    pub fn index(&self) -> usize {
        self.index
    }

    /// All header fields (names are case-insensitive).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The parsed `Content-Type`, if the part has one (RFC 2046 says `text/plain` otherwise).
    pub fn content_type(&self) -> Result<Option<MediaType>, Error> {
        let Some(value) = self.headers.get(CONTENT_TYPE) else {
            return Ok(None);
        };
        let text = value.to_str().map_err(|_| Error::MediaType {
            text: String::from_utf8_lossy(value.as_bytes()).into_owned(),
            message: "expected ASCII text in a part's Content-Type".to_owned(),
        })?;
        MediaType::parse(text).map(Some)
    }

    /// The declared `Content-Length` of the body, checked by the decoder.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The `Content-Location` (in DICOMweb, the BulkDataURI a bulk data part answers), if it is
    /// valid UTF-8.
    pub fn content_location(&self) -> Option<&str> {
        let value = self.headers.get(CONTENT_LOCATION)?;
        std::str::from_utf8(value.as_bytes()).ok()
    }
}

/// Parses a header block that ends with its empty line. `start` is its offset in the body,
/// for error messages.
pub(crate) fn parse_header_block(
    block: &[u8],
    index: usize,
    start: u64,
    limits: &MultipartLimits,
) -> Result<PartHeaders, Error> {
    let error = |at: usize, message: String| Error::Multipart {
        offset: start + at as u64,
        message: format!("part #{}: {message}", index + 1),
    };
    // Unfold first: (offset, name, value) with continuation lines joined by a space.
    let mut fields: Vec<(usize, &[u8], Vec<u8>)> = Vec::new();
    let mut line_start = 0;
    for line in block.split_inclusive(|&b| b == b'\n') {
        let at = line_start;
        line_start += line.len();
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break; // the empty line that ends the block
        }
        if matches!(line[0], b' ' | b'\t') {
            let Some((_, _, value)) = fields.last_mut() else {
                return Err(error(
                    at,
                    "expected a header field, found a continuation line".to_owned(),
                ));
            };
            value.push(b' ');
            value.extend_from_slice(line.trim_ascii());
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(error(
                at,
                format!(
                    "expected a header field 'name: value', found {:?}",
                    String::from_utf8_lossy(line)
                ),
            ));
        };
        if fields.len() == limits.max_headers {
            return Err(Error::MultipartLimit {
                what: "header count of a part",
                limit: limits.max_headers as u64,
                offset: start + at as u64,
            });
        }
        let name = line[..colon].trim_ascii();
        fields.push((at, name, line[colon + 1..].trim_ascii().to_vec()));
    }
    let mut headers = HeaderMap::with_capacity(fields.len());
    for (at, name, value) in fields {
        let name = HeaderName::from_bytes(name).map_err(|_| {
            error(
                at,
                format!(
                    "expected a header name (a token), found {:?}",
                    String::from_utf8_lossy(name)
                ),
            )
        })?;
        let value = HeaderValue::from_bytes(&value).map_err(|_| {
            error(
                at,
                format!(
                    "expected a header value without control characters, found {:?}",
                    String::from_utf8_lossy(&value)
                ),
            )
        })?;
        headers.append(name, value);
    }
    let content_length = content_length(&headers).map_err(|message| error(0, message))?;
    Ok(PartHeaders {
        index,
        headers,
        content_length,
    })
}

/// The `Content-Length`: decimal digits; repeated fields must agree.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, String> {
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let bytes = value.as_bytes();
        let parsed = std::str::from_utf8(bytes)
            .ok()
            .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|text| text.parse::<u64>().ok());
        let Some(parsed) = parsed else {
            return Err(format!(
                "expected Content-Length to be a decimal number, found {:?}",
                String::from_utf8_lossy(bytes)
            ));
        };
        match length {
            Some(earlier) if earlier != parsed => {
                return Err(format!(
                    "expected one Content-Length, found {earlier} and {parsed}"
                ));
            }
            _ => length = Some(parsed),
        }
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(block: &[u8]) -> Result<PartHeaders, Error> {
        parse_header_block(block, 0, 100, &MultipartLimits::default())
    }

    #[test]
    fn names_in_any_case_with_optional_whitespace() {
        let head = parse(
            b"content-TYPE:application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n\
              Content-Length :  12 \r\n\
              CONTENT-LOCATION:\thttp://x/bulk/1\r\n\r\n",
        )
        .unwrap();
        let ct = head.content_type().unwrap().unwrap();
        assert!(ct.is("application", "dicom"));
        assert_eq!(ct.param("transfer-syntax"), Some("1.2.840.10008.1.2.1"));
        assert_eq!(head.content_length(), Some(12));
        assert_eq!(head.content_location(), Some("http://x/bulk/1"));
        assert_eq!(head.index(), 0);
    }

    #[test]
    fn empty_block_bare_lf_and_folding() {
        let head = parse(b"\r\n").unwrap();
        assert!(head.headers().is_empty());
        assert_eq!(head.content_type().unwrap(), None);
        let head =
            parse(b"Content-Type: multipart/related;\n\t type=\"application/dicom\"\n\n").unwrap();
        assert_eq!(
            head.content_type().unwrap().unwrap().param("type"),
            Some("application/dicom")
        );
    }

    #[test]
    fn bad_fields_are_errors_with_offsets() {
        let err = parse(b"A: b\r\nno colon here\r\n\r\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("at byte 106"), "{err}");
        assert!(
            err.contains("expected a header field 'name: value'"),
            "{err}"
        );
        let err = parse(b" folded first\r\n\r\n").unwrap_err().to_string();
        assert!(err.contains("continuation line"), "{err}");
        let err = parse(b"Bad Name: x\r\n\r\n").unwrap_err().to_string();
        assert!(err.contains("expected a header name"), "{err}");
        let err = parse(b"Content-Length: 12a\r\n\r\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("decimal number"), "{err}");
        let err = parse(b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("found 1 and 2"), "{err}");
        assert_eq!(
            parse(b"Content-Length: 7\r\ncontent-length: 7\r\n\r\n")
                .unwrap()
                .content_length(),
            Some(7)
        );
    }

    #[test]
    fn header_count_limit() {
        let limits = MultipartLimits::default().with_max_headers(2);
        let block = b"A: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        let err = parse_header_block(block, 0, 0, &limits).unwrap_err();
        assert!(
            matches!(
                err,
                Error::MultipartLimit {
                    limit: 2,
                    offset: 12,
                    ..
                }
            ),
            "{err}"
        );
        assert!(parse_header_block(&block[6..], 0, 0, &limits).is_ok());
    }
}
