//! `multipart/related` (RFC 2046 §5.1, RFC 2387): a streaming, sans-IO codec.
//!
//! - [`MultipartDecoder`]: feed body chunks as they arrive, pull [`Event`]s. Body bytes are
//!   [`Bytes`] slices of the input; memory does not grow with part size; any cut of the input
//!   into chunks gives the same parts.
//! - [`BodyDecoder`]: the same events for any response body: multipart, or a single part where a
//!   server answered a multipart request with, say, plain `application/dicom`.
//! - [`MultipartEncoder`]: part heads written around caller-owned [`Bytes`], so instance bytes
//!   are never copied; a [`Boundary`] from caller-supplied randomness.
//! - [`MultipartFraming`]: the framing alone (part heads with `Content-Length`, close delimiter,
//!   total length) for a caller that streams the part bodies itself, e.g. from files.
//!
//! ```
//! use bytes::Bytes;
//! use dicomweb_core::media_type::MediaType;
//! use dicomweb_core::multipart::{Boundary, MultipartDecoder, MultipartEncoder, MultipartLimits, Part};
//!
//! let dicom = MediaType::new("application", "dicom");
//! let mut encoder = MultipartEncoder::new(Boundary::from_random_bytes([42; 24]));
//! let content_type = encoder.content_type(&dicom);
//! let parts = [
//!     Part::new(dicom.clone(), Bytes::from_static(b"first")),
//!     Part::new(dicom, Bytes::from_static(b"second")).with_content_length(),
//! ];
//! let segments = encoder.encode_all(&parts)?;
//! let body: Vec<u8> = segments.concat();
//!
//! let decoder = MultipartDecoder::from_content_type(&content_type, MultipartLimits::default())?;
//! let decoded = decoder.decode_all(Bytes::from(body))?;
//! assert_eq!(decoded[1].1, "second");
//! assert_eq!(decoded[1].0.content_length(), Some(6));
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

mod boundary;
mod decoder;
mod encoder;
mod framing;
mod headers;
mod limits;
mod single;

use bytes::Bytes;

pub use boundary::{Boundary, MAX_BOUNDARY_LEN};
pub use decoder::MultipartDecoder;
pub use encoder::{MultipartEncoder, Part};
pub use framing::{FramedBody, MultipartFraming};
pub use headers::PartHeaders;
pub use limits::MultipartLimits;
pub use single::{BodyDecoder, SinglePartDecoder};

/// What a decoder reports. Each part gives `Headers`, zero or more `Body`, then `PartEnd`;
/// the body gives `End` after its last part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A part begins: its header fields.
    Headers(PartHeaders),
    /// The next bytes of the current part's body: a slice of the fed input, never empty.
    Body(Bytes),
    /// The current part is complete.
    PartEnd,
    /// The close delimiter was reached: the body is complete.
    End,
}

/// Pulls every event from a decoder fed one whole body, gathering each part's body.
/// A part whose body arrived in one piece is not copied.
fn collect_parts(
    mut next_event: impl FnMut() -> Result<Option<Event>, crate::Error>,
) -> Result<Vec<(PartHeaders, Bytes)>, crate::Error> {
    let mut parts: Vec<(PartHeaders, Vec<Bytes>)> = Vec::new();
    while let Some(event) = next_event()? {
        match event {
            Event::Headers(head) => parts.push((head, Vec::new())),
            Event::Body(bytes) => {
                if let Some((_, pieces)) = parts.last_mut() {
                    pieces.push(bytes);
                }
            }
            Event::PartEnd => {}
            Event::End => break,
        }
    }
    Ok(parts
        .into_iter()
        .map(|(head, mut pieces)| {
            let body = if pieces.len() == 1 {
                pieces.pop().unwrap_or_default()
            } else {
                Bytes::from(pieces.concat())
            };
            (head, body)
        })
        .collect())
}

impl MultipartDecoder {
    /// Decodes a whole body held in memory into its parts (headers and body). Each body is a
    /// slice of `body`, not a copy.
    pub fn decode_all(mut self, body: Bytes) -> Result<Vec<(PartHeaders, Bytes)>, crate::Error> {
        self.feed(body);
        self.finish()?;
        collect_parts(|| self.next_event())
    }
}
