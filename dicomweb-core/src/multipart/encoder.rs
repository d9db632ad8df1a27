//! The multipart/related encoder: part heads written around caller-owned bytes (the heads as
//! [`MultipartFraming`](super::MultipartFraming) writes them).

use bytes::Bytes;
use http::{HeaderName, HeaderValue};

use super::Boundary;
use super::framing::{MultipartFraming, write_head};
use crate::Error;
use crate::media_type::MediaType;

/// One part to encode: its `Content-Type`, optional `Content-Location` and `Content-Length`,
/// other header fields, and its body, which the encoder never copies.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    content_type: MediaType,
    content_location: Option<String>,
    content_length: bool,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Part {
    /// A part of this media type.
    pub fn new(content_type: MediaType, body: Bytes) -> Part {
        Part {
            content_type,
            content_location: None,
            content_length: false,
            headers: Vec::new(),
            body,
        }
    }

    /// This part with a `Content-Location` (in STOW-RS, the BulkDataURI that metadata refers to).
    pub fn with_content_location(mut self, location: impl Into<String>) -> Part {
        self.content_location = Some(location.into());
        self
    }

    /// This part with a `Content-Length` field, which lets a decoder skip scanning its body.
    pub fn with_content_length(mut self) -> Part {
        self.content_length = true;
        self
    }

    /// This part with one more header field.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Part {
        self.headers.push((name, value));
        self
    }

    /// The media type.
    pub fn content_type(&self) -> &MediaType {
        &self.content_type
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

/// Writes a `multipart/related` body as a sequence of [`Bytes`] segments: for each part a
/// small head (delimiter and header fields) and the part's own body, then the close delimiter.
/// Send the segments in order, e.g. as a streaming request body.
///
/// The boundary should be random (see [`Boundary::from_random_bytes`]) so that it cannot occur
/// in a body; the encoder does not scan bodies for it.
#[derive(Clone, Debug)]
pub struct MultipartEncoder {
    framing: MultipartFraming,
    parts: usize,
    written: u64,
}

impl MultipartEncoder {
    /// An encoder with this boundary.
    pub fn new(boundary: Boundary) -> MultipartEncoder {
        MultipartEncoder {
            framing: MultipartFraming::new(boundary),
            parts: 0,
            written: 0,
        }
    }

    /// The boundary.
    pub fn boundary(&self) -> &Boundary {
        self.framing.boundary()
    }

    /// The body's `Content-Type`: `multipart/related; type="<related_type>"; boundary=...`.
    pub fn content_type(&self, related_type: &MediaType) -> MediaType {
        self.framing.content_type(related_type)
    }

    /// The head of the next part, then its body: two segments.
    ///
    /// Fails, writing nothing, when the content type or location would not be a valid header
    /// value (control characters such as CR or LF).
    pub fn encode_part(&mut self, part: &Part) -> Result<[Bytes; 2], Error> {
        let content_type = part.content_type.to_string();
        self.check("Content-Type", &content_type)?;
        if let Some(location) = &part.content_location {
            self.check("Content-Location", location)?;
        }
        let length = part.content_length.then_some(part.body.len() as u64);
        let mut fields: Vec<(&str, &[u8])> = Vec::with_capacity(part.headers.len() + 1);
        if let Some(location) = &part.content_location {
            fields.push(("Content-Location", location.as_bytes()));
        }
        for (name, value) in &part.headers {
            fields.push((name.as_str(), value.as_bytes()));
        }
        let head = write_head(self.boundary(), self.parts, &content_type, length, &fields);
        self.parts += 1;
        self.written += (head.len() + part.body.len()) as u64;
        Ok([head, part.body.clone()])
    }

    /// The close delimiter, which ends the body.
    pub fn close(&mut self) -> Bytes {
        let lead = if self.parts > 0 { "\r\n" } else { "" };
        let close = Bytes::from(format!("{lead}--{}--\r\n", self.boundary()));
        self.written += close.len() as u64;
        close
    }

    /// Every segment of a body of these parts, close delimiter included.
    pub fn encode_all(&mut self, parts: &[Part]) -> Result<Vec<Bytes>, Error> {
        let mut segments = Vec::with_capacity(parts.len() * 2 + 1);
        for part in parts {
            segments.extend(self.encode_part(part)?);
        }
        segments.push(self.close());
        Ok(segments)
    }

    /// Bytes written so far: after [`close`](Self::close), the body's length.
    pub fn written(&self) -> u64 {
        self.written
    }

    fn check(&self, field: &str, value: &str) -> Result<(), Error> {
        match value
            .bytes()
            .position(|b| (b < b' ' && b != b'\t') || b == 0x7F)
        {
            None => Ok(()),
            Some(_) => Err(Error::Multipart {
                offset: self.written,
                message: format!(
                    "part #{}: expected a {field} without control characters, found {value:?}",
                    self.parts + 1
                ),
            }),
        }
    }
}
