//! Bodies that are one part, and a decoder for any response body, multipart or not.

use std::collections::VecDeque;

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_TYPE;

use super::{Event, MultipartDecoder, MultipartLimits, PartHeaders, collect_parts};
use crate::Error;
use crate::media_type::MediaType;

/// A body that is a single part: what a server sends when it answers a multipart request with,
/// e.g., plain `application/dicom`. Gives the same [`Event`]s as a one-part multipart body:
/// `Headers` at once (the response's `Content-Type` and `Content-Length`), a `Body` per chunk,
/// and `PartEnd` and `End` after [`finish`](Self::finish).
#[derive(Debug)]
pub struct SinglePartDecoder {
    stage: Stage,
    content_length: Option<u64>,
    chunks: VecDeque<Bytes>,
    received: u64,
    eof: bool,
}

#[derive(Debug)]
enum Stage {
    Head(Box<PartHeaders>),
    Body,
    End,
    Done,
}

impl SinglePartDecoder {
    /// A decoder for a body described by these response header fields (the part keeps the
    /// `Content-*` fields).
    pub fn new(response_headers: &HeaderMap) -> Result<SinglePartDecoder, Error> {
        let mut part = HeaderMap::new();
        for (name, value) in response_headers {
            if name.as_str().starts_with("content-") {
                part.append(name.clone(), value.clone());
            }
        }
        let head = PartHeaders::new(0, part)?;
        Ok(SinglePartDecoder {
            content_length: head.content_length(),
            stage: Stage::Head(Box::new(head)),
            chunks: VecDeque::new(),
            received: 0,
            eof: false,
        })
    }

    /// Adds the next chunk of the body.
    pub fn feed(&mut self, chunk: Bytes) {
        if !chunk.is_empty() && !self.eof {
            self.received += chunk.len() as u64;
            self.chunks.push_back(chunk);
        }
    }

    /// Declares the end of the input; a body shorter than its `Content-Length` is an error.
    pub fn finish(&mut self) -> Result<(), Error> {
        self.eof = true;
        self.check_length()
    }

    fn check_length(&self) -> Result<(), Error> {
        match self.content_length {
            Some(length) if self.received > length => Err(Error::Multipart {
                offset: length,
                message: format!(
                    "expected {length} bytes (Content-Length), found more ({} so far)",
                    self.received
                ),
            }),
            Some(length) if self.eof && self.received < length => Err(Error::Multipart {
                offset: self.received,
                message: format!(
                    "expected {length} bytes (Content-Length), found the end of the body"
                ),
            }),
            _ => Ok(()),
        }
    }

    /// The next event, or `Ok(None)` when more input is needed (or after [`Event::End`]).
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        match std::mem::replace(&mut self.stage, Stage::Body) {
            Stage::Head(head) => Ok(Some(Event::Headers(*head))),
            Stage::Body => {
                self.check_length()?;
                if let Some(chunk) = self.chunks.pop_front() {
                    Ok(Some(Event::Body(chunk)))
                } else if self.eof {
                    self.stage = Stage::End;
                    Ok(Some(Event::PartEnd))
                } else {
                    Ok(None)
                }
            }
            Stage::End => {
                self.stage = Stage::Done;
                Ok(Some(Event::End))
            }
            Stage::Done => {
                self.stage = Stage::Done;
                Ok(None)
            }
        }
    }
}

/// A decoder for any response body where parts are expected: multipart when the
/// `Content-Type` says `multipart/*`, otherwise one part.
///
/// ```
/// use bytes::Bytes;
/// use http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};
/// use dicomweb_core::multipart::{BodyDecoder, MultipartLimits};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/dicom"));
/// let decoder = BodyDecoder::from_headers(&headers, MultipartLimits::default())?;
/// let parts = decoder.decode_all(Bytes::from_static(b"DICM..."))?;
/// assert_eq!(parts.len(), 1);
/// assert_eq!(parts[0].1, "DICM...");
/// # Ok::<(), dicomweb_core::Error>(())
/// ```
#[derive(Debug)]
pub enum BodyDecoder {
    /// A `multipart/*` body.
    Multipart(Box<MultipartDecoder>),
    /// Any other body, as one part.
    Single(SinglePartDecoder),
}

impl BodyDecoder {
    /// Chooses by the response's `Content-Type`. A multipart type without a boundary is an
    /// error; a missing `Content-Type` means one part.
    pub fn from_headers(
        response_headers: &HeaderMap,
        limits: MultipartLimits,
    ) -> Result<BodyDecoder, Error> {
        if let Some(value) = response_headers.get(CONTENT_TYPE) {
            let text = value.to_str().map_err(|_| Error::MediaType {
                text: String::from_utf8_lossy(value.as_bytes()).into_owned(),
                message: "expected ASCII text in Content-Type".to_owned(),
            })?;
            let content_type = MediaType::parse(text)?;
            if content_type.is_multipart() {
                return MultipartDecoder::from_content_type(&content_type, limits)
                    .map(|decoder| BodyDecoder::Multipart(Box::new(decoder)));
            }
        }
        SinglePartDecoder::new(response_headers).map(BodyDecoder::Single)
    }

    /// Adds the next chunk of the body.
    pub fn feed(&mut self, chunk: Bytes) {
        match self {
            BodyDecoder::Multipart(d) => d.feed(chunk),
            BodyDecoder::Single(d) => d.feed(chunk),
        }
    }

    /// Declares the end of the input; see [`MultipartDecoder::finish`].
    pub fn finish(&mut self) -> Result<(), Error> {
        match self {
            BodyDecoder::Multipart(d) => d.finish(),
            BodyDecoder::Single(d) => d.finish(),
        }
    }

    /// The next event, or `Ok(None)` when more input is needed (or after [`Event::End`]).
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        match self {
            BodyDecoder::Multipart(d) => d.next_event(),
            BodyDecoder::Single(d) => d.next_event(),
        }
    }

    /// Decodes a whole body held in memory into its parts.
    pub fn decode_all(mut self, body: Bytes) -> Result<Vec<(PartHeaders, Bytes)>, Error> {
        self.feed(body);
        self.finish()?;
        collect_parts(|| self.next_event())
    }
}
