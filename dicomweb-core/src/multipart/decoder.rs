//! The incremental multipart/related decoder: feed chunks, pull events.

use std::collections::VecDeque;

use bytes::Bytes;
use memchr::memmem;

use super::boundary::check_decoder_boundary;
use super::headers::parse_header_block;
use super::{Event, MultipartLimits};
use crate::Error;
use crate::media_type::MediaType;

/// An incremental push decoder for `multipart/related` (RFC 2046 §5.1, RFC 2387) bodies.
///
/// Feed the body in chunks of any size with [`feed`](Self::feed), and pull [`Event`]s with
/// [`next_event`](Self::next_event) until it returns `Ok(None)` ("need more input", a state and
/// not an error); at the end of the input call [`finish`](Self::finish), which reports a body
/// that stops before its close delimiter as an error. The events are the same however the body
/// is cut into chunks (only the cuts between [`Event::Body`] pieces differ).
///
/// Body bytes are slices of the fed chunks (`Bytes::split_to`), never copies, and the decoder
/// keeps no more than the few bytes that could begin a delimiter: its memory does not grow with
/// the size of a part. A part's `Content-Length`, when present, is used to pass over its body
/// without scanning, and checked: the delimiter must follow right after.
///
/// ```
/// use bytes::Bytes;
/// use dicomweb_core::multipart::{Event, MultipartDecoder, MultipartLimits};
///
/// let body = "--b\r\nContent-Type: application/dicom\r\n\r\nDICM\r\n--b--";
/// let mut decoder = MultipartDecoder::new("b", MultipartLimits::default())?;
/// let mut parts = Vec::new();
/// for chunk in body.as_bytes().chunks(5) {
///     decoder.feed(Bytes::copy_from_slice(chunk));
///     while let Some(event) = decoder.next_event()? {
///         match event {
///             Event::Headers(head) => parts.push((head.content_type()?, Vec::new())),
///             Event::Body(bytes) => parts.last_mut().unwrap().1.extend_from_slice(&bytes),
///             Event::PartEnd | Event::End => {}
///         }
///     }
/// }
/// decoder.finish()?;
/// assert_eq!(parts.len(), 1);
/// assert_eq!(parts[0].1, b"DICM");
/// # Ok::<(), dicomweb_core::Error>(())
/// ```
#[derive(Debug)]
pub struct MultipartDecoder {
    /// `CRLF -- boundary`.
    delimiter: Vec<u8>,
    finder: memmem::Finder<'static>,
    limits: MultipartLimits,
    /// Fed input not yet decoded.
    chunks: VecDeque<Bytes>,
    /// Total length of `chunks`.
    buffered: usize,
    /// Offset in the body of `chunks[0][0]`.
    offset: u64,
    /// Bytes at the start of `chunks[0]` known not to begin a delimiter.
    known_data: usize,
    state: State,
    header_block: Vec<u8>,
    header_start: u64,
    /// Parts started so far.
    parts: usize,
    eof: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the first delimiter; `at_start` while the body may still open with one.
    Preamble { at_start: bool },
    /// In a part's header block.
    Headers,
    /// In a part's body; `length` is its Content-Length and `remaining` what is left of it.
    Body { length: Option<u64>, remaining: u64 },
    /// The close delimiter was read; `End` is still to be delivered.
    Closing,
    /// `End` was delivered; what follows is epilogue and is dropped.
    Done,
    /// An error was reported.
    Failed,
}

/// What comes at a position that might begin a delimiter.
enum Follow {
    /// Not enough input to tell.
    NeedMore,
    /// Not a delimiter: data. The count of bytes read to tell, the differing one included.
    Data(usize),
    /// A delimiter line of this many bytes, followed by a part.
    Next(usize),
    /// A close delimiter of this many bytes.
    Close(usize),
}

/// What a scan for the next delimiter found.
enum Scan {
    NeedMore,
    Data(Bytes),
    Delimiter { close: bool, len: usize },
}

impl MultipartDecoder {
    /// A decoder for a body with this boundary (without the leading `--`).
    ///
    /// Accepts every boundary RFC 2046 allows and, leniently, longer ones (up to 256 bytes)
    /// and other visible characters; refuses an empty boundary and control characters.
    pub fn new(boundary: &str, limits: MultipartLimits) -> Result<MultipartDecoder, Error> {
        check_decoder_boundary(boundary)?;
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        let finder = memmem::Finder::new(&delimiter).into_owned();
        Ok(MultipartDecoder {
            delimiter,
            finder,
            limits,
            chunks: VecDeque::new(),
            buffered: 0,
            offset: 0,
            known_data: 0,
            state: State::Preamble { at_start: true },
            header_block: Vec::new(),
            header_start: 0,
            parts: 0,
            eof: false,
        })
    }

    /// A decoder for a body of this `Content-Type`, which must be `multipart/*` with a
    /// `boundary` parameter.
    pub fn from_content_type(
        content_type: &MediaType,
        limits: MultipartLimits,
    ) -> Result<MultipartDecoder, Error> {
        if !content_type.is_multipart() {
            return Err(Error::MediaType {
                text: content_type.to_string(),
                message: "expected a multipart/* type".to_owned(),
            });
        }
        let Some(boundary) = content_type.boundary() else {
            return Err(Error::MediaType {
                text: content_type.to_string(),
                message: "expected a boundary parameter, found none".to_owned(),
            });
        };
        MultipartDecoder::new(boundary, limits)
    }

    /// The boundary, without the leading `--`.
    pub fn boundary(&self) -> &str {
        // The delimiter was built from a `&str` after a 4-byte ASCII prefix.
        std::str::from_utf8(&self.delimiter[4..]).unwrap_or_default()
    }

    /// Adds the next chunk of the body. Input after the close delimiter (epilogue) is dropped.
    pub fn feed(&mut self, chunk: Bytes) {
        if chunk.is_empty() || matches!(self.state, State::Closing | State::Done) {
            return;
        }
        self.buffered += chunk.len();
        self.chunks.push_back(chunk);
    }

    /// Declares the end of the input.
    ///
    /// Returns the truncation error when all input fed so far has been decoded and the close
    /// delimiter was not among it. When undecoded input remains, returns `Ok`: the remaining
    /// events then come from [`next_event`](Self::next_event), which reports a truncated body
    /// as an error instead of returning `Ok(None)`.
    pub fn finish(&mut self) -> Result<(), Error> {
        self.eof = true;
        match self.state {
            State::Closing | State::Done => Ok(()),
            _ if self.buffered == 0 => {
                let error = self.truncation_error();
                self.state = State::Failed;
                Err(error)
            }
            _ => Ok(()),
        }
    }

    /// Whether the close delimiter has been read.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Closing | State::Done)
    }

    /// Parts started so far.
    pub fn parts(&self) -> usize {
        self.parts
    }

    /// The next event, or `Ok(None)` when more input is needed (or after [`Event::End`]).
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        let result = self.step();
        match result {
            Ok(None) if self.eof && !matches!(self.state, State::Done) => {
                let error = self.truncation_error();
                self.state = State::Failed;
                Err(error)
            }
            Err(error) => {
                self.state = State::Failed;
                Err(error)
            }
            ok => ok,
        }
    }

    fn step(&mut self) -> Result<Option<Event>, Error> {
        loop {
            match self.state {
                State::Preamble { at_start } => {
                    if at_start {
                        match self.classify(0, 2)? {
                            Follow::NeedMore => return Ok(None),
                            Follow::Data(_) => self.state = State::Preamble { at_start: false },
                            Follow::Next(len) => self.start_part(len)?,
                            Follow::Close(len) => self.close(len),
                        }
                        continue;
                    }
                    match self.scan()? {
                        Scan::NeedMore => return Ok(None),
                        Scan::Data(_) => {
                            if self.offset > self.limits.max_preamble {
                                return Err(Error::MultipartLimit {
                                    what: "preamble",
                                    limit: self.limits.max_preamble,
                                    offset: self.limits.max_preamble,
                                });
                            }
                        }
                        Scan::Delimiter { close: false, len } => self.start_part(len)?,
                        Scan::Delimiter { close: true, len } => self.close(len),
                    }
                }
                State::Headers => return self.headers(),
                State::Body {
                    length: Some(length),
                    remaining,
                } => return self.counted_body(length, remaining),
                State::Body { length: None, .. } => {
                    return match self.scan()? {
                        Scan::NeedMore => Ok(None),
                        Scan::Data(bytes) => Ok(Some(Event::Body(bytes))),
                        Scan::Delimiter { close, len } => {
                            if close {
                                self.close(len);
                            } else {
                                self.start_part(len)?;
                            }
                            Ok(Some(Event::PartEnd))
                        }
                    };
                }
                State::Closing => {
                    self.state = State::Done;
                    return Ok(Some(Event::End));
                }
                State::Done => {
                    self.drop_input();
                    return Ok(None);
                }
                State::Failed => {
                    return Err(Error::Multipart {
                        offset: self.offset,
                        message: "decoding already stopped at an error".to_owned(),
                    });
                }
            }
        }
    }

    /// Consumes a delimiter line and begins a part's header block.
    fn start_part(&mut self, len: usize) -> Result<(), Error> {
        if self.parts == self.limits.max_parts {
            return Err(Error::MultipartLimit {
                what: "part count",
                limit: self.limits.max_parts as u64,
                offset: self.offset,
            });
        }
        self.advance(len);
        self.parts += 1;
        self.header_block.clear();
        self.header_start = self.offset;
        self.state = State::Headers;
        Ok(())
    }

    /// Consumes a close delimiter.
    fn close(&mut self, len: usize) {
        self.advance(len);
        self.drop_input();
        self.state = State::Closing;
    }

    fn drop_input(&mut self) {
        self.offset += self.buffered as u64;
        self.buffered = 0;
        self.known_data = 0;
        self.chunks.clear();
    }

    /// Reads header lines up to the empty line and delivers them.
    fn headers(&mut self) -> Result<Option<Event>, Error> {
        loop {
            let Some(front) = self.chunks.front() else {
                return Ok(None);
            };
            let (take, line_end) = match memchr::memchr(b'\n', front) {
                Some(p) => (p + 1, true),
                None => (front.len(), false),
            };
            if self.header_block.len() + take > self.limits.max_header_bytes {
                return Err(Error::MultipartLimit {
                    what: "header block of a part",
                    limit: self.limits.max_header_bytes as u64,
                    offset: self.header_start,
                });
            }
            let line_start = self
                .header_block
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            self.header_block.extend_from_slice(&front[..take]);
            self.advance(take);
            if line_end && matches!(&self.header_block[line_start..], b"\n" | b"\r\n") {
                let head = parse_header_block(
                    &self.header_block,
                    self.parts - 1,
                    self.header_start,
                    &self.limits,
                )?;
                let length = head.content_length();
                self.state = State::Body {
                    length,
                    remaining: length.unwrap_or(0),
                };
                return Ok(Some(Event::Headers(head)));
            }
        }
    }

    /// A body whose Content-Length is known: hand its bytes over, then expect a delimiter.
    fn counted_body(&mut self, length: u64, remaining: u64) -> Result<Option<Event>, Error> {
        if remaining > 0 {
            let Some(front) = self.chunks.front() else {
                return Ok(None);
            };
            let take = usize::try_from(remaining)
                .unwrap_or(usize::MAX)
                .min(front.len());
            let bytes = self.take_front(take);
            self.state = State::Body {
                length: Some(length),
                remaining: remaining - take as u64,
            };
            return Ok(Some(Event::Body(bytes)));
        }
        match self.classify(0, 0)? {
            Follow::NeedMore => Ok(None),
            Follow::Data(read) => Err(Error::Multipart {
                offset: self.offset,
                message: format!(
                    "part #{} declares Content-Length {length}: expected a delimiter \"--{}\" \
                     after that many bytes, found {}",
                    self.parts,
                    self.boundary(),
                    self.describe_next_bytes(read)
                ),
            }),
            Follow::Next(len) => {
                self.start_part(len)?;
                Ok(Some(Event::PartEnd))
            }
            Follow::Close(len) => {
                self.close(len);
                Ok(Some(Event::PartEnd))
            }
        }
    }

    /// Finds the next delimiter in the buffered input: data before it, the delimiter itself,
    /// or "need more" when the input ends in what may be the start of one.
    fn scan(&mut self) -> Result<Scan, Error> {
        loop {
            let Some(front) = self.chunks.front() else {
                return Ok(Scan::NeedMore);
            };
            let candidate = match self.finder.find(&front[self.known_data..]) {
                Some(p) => self.known_data + p,
                None => {
                    let start = partial_delimiter_start(front, self.known_data, &self.delimiter);
                    if start > 0 {
                        return Ok(Scan::Data(self.take_front(start)));
                    }
                    0
                }
            };
            let follow = match self.classify(candidate, 0) {
                Ok(follow) => follow,
                // Data before the candidate comes first, so that where an error is reported
                // does not depend on how the input was cut.
                Err(_) if candidate > 0 => return Ok(Scan::Data(self.take_front(candidate))),
                Err(error) => return Err(error),
            };
            match follow {
                Follow::Data(_) => self.known_data = candidate + 1,
                _ if candidate > 0 => return Ok(Scan::Data(self.take_front(candidate))),
                Follow::NeedMore => return Ok(Scan::NeedMore),
                Follow::Next(len) => return Ok(Scan::Delimiter { close: false, len }),
                Follow::Close(len) => return Ok(Scan::Delimiter { close: true, len }),
            }
        }
    }

    /// Whether a delimiter (from byte `skip` of `CRLF--boundary`) begins at `start` of the
    /// first chunk, reading on into later chunks as needed.
    fn classify(&self, start: usize, skip: usize) -> Result<Follow, Error> {
        let Some(front) = self.chunks.front() else {
            return Ok(Follow::NeedMore);
        };
        let mut bytes = front[start..]
            .iter()
            .chain(self.chunks.iter().skip(1).flat_map(|c| c.iter()))
            .copied();
        let mut read = 0;
        for &expected in &self.delimiter[skip..] {
            match bytes.next() {
                None => return Ok(Follow::NeedMore),
                Some(b) if b != expected => return Ok(Follow::Data(read + 1)),
                Some(_) => read += 1,
            }
        }
        let mut len = read;
        let mut padding = 0;
        loop {
            let Some(b) = bytes.next() else {
                return Ok(Follow::NeedMore);
            };
            len += 1;
            match b {
                b'-' if padding == 0 => {
                    return Ok(match bytes.next() {
                        None => Follow::NeedMore,
                        Some(b'-') => Follow::Close(len + 1),
                        Some(_) => Follow::Data(len + 1),
                    });
                }
                b' ' | b'\t' => {
                    padding += 1;
                    if padding > self.limits.max_padding {
                        return Err(Error::MultipartLimit {
                            what: "transport padding after a boundary",
                            limit: self.limits.max_padding as u64,
                            offset: self.offset + start as u64,
                        });
                    }
                }
                b'\r' => {
                    return Ok(match bytes.next() {
                        None => Follow::NeedMore,
                        Some(b'\n') => Follow::Next(len + 1),
                        Some(_) => Follow::Data(len + 1),
                    });
                }
                _ => return Ok(Follow::Data(len)),
            }
        }
    }

    /// Splits `n` bytes off the first chunk (`n` at most its length).
    fn take_front(&mut self, n: usize) -> Bytes {
        let Some(front) = self.chunks.front_mut() else {
            return Bytes::new();
        };
        let taken = front.split_to(n.min(front.len()));
        if front.is_empty() {
            self.chunks.pop_front();
        }
        self.offset += taken.len() as u64;
        self.buffered -= taken.len();
        self.known_data = 0;
        taken
    }

    /// Drops `n` bytes from the front of the input, across chunks.
    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.chunks.front() else {
                break;
            };
            let step = n.min(front.len());
            self.take_front(step);
            n -= step;
        }
        self.known_data = 0;
    }

    /// The next `n` buffered bytes, for error messages.
    fn describe_next_bytes(&self, n: usize) -> String {
        let next: Vec<u8> = self
            .chunks
            .iter()
            .flat_map(|c| c.iter())
            .take(n)
            .copied()
            .collect();
        format!("{:?}", String::from_utf8_lossy(&next))
    }

    fn truncation_error(&self) -> Error {
        let boundary = self.boundary();
        let part = self.parts;
        let expected = match self.state {
            State::Preamble { .. } => format!("expected the first delimiter \"--{boundary}\""),
            State::Headers => format!("expected the empty line that ends part #{part}'s headers"),
            State::Body {
                length: Some(length),
                remaining,
            } if remaining > 0 => {
                format!("expected {remaining} more bytes of part #{part} (Content-Length {length})")
            }
            State::Body { .. } => format!(
                "expected a delimiter \"--{boundary}\" or close delimiter \"--{boundary}--\" \
                 after part #{part}"
            ),
            State::Closing | State::Done | State::Failed => "expected nothing more".to_owned(),
        };
        Error::Multipart {
            offset: self.offset + self.buffered as u64,
            message: format!("{expected}, found the end of the body"),
        }
    }
}

/// Where a proper prefix of `delimiter` begins at the end of `chunk` (searching from
/// `from`), or the chunk's length when none does: the bytes before it are surely data.
fn partial_delimiter_start(chunk: &[u8], from: usize, delimiter: &[u8]) -> usize {
    let window = from.max(chunk.len().saturating_sub(delimiter.len() - 1));
    for p in memchr::memchr_iter(delimiter[0], &chunk[window..]) {
        let start = window + p;
        if delimiter.starts_with(&chunk[start..]) {
            return start;
        }
    }
    chunk.len()
}
