//! Framing for a `multipart/related` body whose part bodies the caller sends itself: instances
//! streamed from files, or from another server's response, while the request is being sent.
//!
//! The caller knows each part's media type and length before sending; [`MultipartFraming`]
//! writes everything else: each part's head (its delimiter and header fields, `Content-Length`
//! included), the close delimiter, and the body's total length for the request's
//! `Content-Length`. [`FramedBody`] holds all of it for a list of parts.

use bytes::{BufMut, Bytes, BytesMut};

use super::Boundary;
use crate::Error;
use crate::media_type::MediaType;

/// The framing of a `multipart/related` body with this boundary, for parts whose bodies the
/// caller sends (RFC 2046 §5.1.1).
///
/// A body is: [`part_head`](Self::part_head) of part 0, its body, `part_head` of part 1, its
/// body, …, then the [`close_delimiter`](Self::close_delimiter). Every head after the first
/// starts with the [`delimiter`](Self::delimiter) that ends the part before it.
///
/// The bodies are not scanned for the boundary (they are not here to scan): the boundary must
/// be random ([`Boundary::from_random_bytes`]).
///
/// ```
/// use bytes::Bytes;
/// use dicomweb_core::media_type::MediaType;
/// use dicomweb_core::multipart::{Boundary, MultipartDecoder, MultipartFraming, MultipartLimits};
///
/// let dicom = MediaType::new("application", "dicom");
/// let instances = [Bytes::from_static(b"first"), Bytes::from_static(b"second")];
/// let framing = MultipartFraming::new(Boundary::from_random_bytes([3; 24]));
/// let framed = framing.frame(instances.iter().map(|i| (&dicom, i.len() as u64)))?;
///
/// let mut body = Vec::new();
/// for (head, instance) in framed.part_heads().iter().zip(&instances) {
///     body.extend_from_slice(head);
///     body.extend_from_slice(instance); // in real use, streamed from its source
/// }
/// body.extend_from_slice(framed.close_delimiter());
/// assert_eq!(framed.content_length(), body.len() as u64);
///
/// let content_type = framing.content_type(&dicom);
/// let decoder = MultipartDecoder::from_content_type(&content_type, MultipartLimits::default())?;
/// let parts = decoder.decode_all(Bytes::from(body))?;
/// assert_eq!(parts[1].0.content_length(), Some(6));
/// assert_eq!(parts[1].1, "second");
/// # Ok::<(), dicomweb_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartFraming {
    boundary: Boundary,
}

/// The framing of one body: each part's head in order, the close delimiter, and the body's
/// length given the parts' lengths. Made by [`MultipartFraming::frame`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramedBody {
    part_heads: Vec<Bytes>,
    close_delimiter: Bytes,
    content_length: u64,
}

impl MultipartFraming {
    /// The framing for this boundary.
    pub fn new(boundary: Boundary) -> MultipartFraming {
        MultipartFraming { boundary }
    }

    /// The boundary.
    pub fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// The body's `Content-Type`: `multipart/related; type="<related_type>"; boundary=...`.
    pub fn content_type(&self, related_type: &MediaType) -> MediaType {
        MediaType::new("multipart", "related")
            .with_param("type", related_type.to_string())
            .with_param("boundary", self.boundary.as_str())
    }

    /// The head of the part at `index` (from 0), whose body has this media type and `length`
    /// bytes: the delimiter (for the first part without the CRLF that would end a part before
    /// it), `Content-Type`, `Content-Length`, and the empty line that ends the header fields.
    ///
    /// Fails when the media type would not be a valid header value (control characters).
    pub fn part_head(
        &self,
        index: usize,
        content_type: &MediaType,
        length: u64,
    ) -> Result<Bytes, Error> {
        let content_type = content_type.to_string();
        check_field(index, "Content-Type", &content_type)?;
        Ok(write_head(
            &self.boundary,
            index,
            &content_type,
            Some(length),
            &[],
        ))
    }

    /// The head of the part at `index` like [`part_head`](Self::part_head), but without
    /// `Content-Length`: for a part whose length is not known before its bytes are sent (the
    /// next delimiter ends it).
    ///
    /// Fails when the media type would not be a valid header value (control characters).
    pub fn part_head_unsized(
        &self,
        index: usize,
        content_type: &MediaType,
    ) -> Result<Bytes, Error> {
        let content_type = content_type.to_string();
        check_field(index, "Content-Type", &content_type)?;
        Ok(write_head(&self.boundary, index, &content_type, None, &[]))
    }

    /// The delimiter that ends a part's body when another part follows: CRLF, `--`, the
    /// boundary. [`part_head`](Self::part_head) starts with it for every part but the first.
    pub fn delimiter(&self) -> Bytes {
        Bytes::from(format!("\r\n--{}", self.boundary))
    }

    /// The close delimiter that ends the last part's body and the whole body:
    /// CRLF, `--`, the boundary, `--`, CRLF.
    pub fn close_delimiter(&self) -> Bytes {
        Bytes::from(format!("\r\n--{}--\r\n", self.boundary))
    }

    /// The framing of a body of these parts (media type and body length of each, in order):
    /// the heads, the close delimiter, and the body's total length.
    ///
    /// Fails when there is no part (a multipart body has at least one) or when a media type
    /// would not be a valid header value.
    pub fn frame<'a>(
        &self,
        parts: impl IntoIterator<Item = (&'a MediaType, u64)>,
    ) -> Result<FramedBody, Error> {
        let mut part_heads = Vec::new();
        let mut content_length = 0u64;
        for (index, (content_type, length)) in parts.into_iter().enumerate() {
            let head = self.part_head(index, content_type, length)?;
            content_length = content_length
                .saturating_add(head.len() as u64)
                .saturating_add(length);
            part_heads.push(head);
        }
        if part_heads.is_empty() {
            return Err(Error::InvalidRequest {
                what: "multipart body",
                message: "expected at least one part, found none".into(),
            });
        }
        let close_delimiter = self.close_delimiter();
        content_length = content_length.saturating_add(close_delimiter.len() as u64);
        Ok(FramedBody {
            part_heads,
            close_delimiter,
            content_length,
        })
    }
}

impl FramedBody {
    /// Each part's head, in order: send it, then that part's body.
    pub fn part_heads(&self) -> &[Bytes] {
        &self.part_heads
    }

    /// The close delimiter: send it after the last part's body.
    pub fn close_delimiter(&self) -> &Bytes {
        &self.close_delimiter
    }

    /// The body's length in bytes, framing and part bodies together: the request's
    /// `Content-Length` when the parts are exactly as long as given.
    pub fn content_length(&self) -> u64 {
        self.content_length
    }
}

/// A part head: the delimiter (CRLF first unless it is the first part), `Content-Type`,
/// `Content-Length` when given, other header fields, and the empty line. The caller has
/// checked every value (no control characters).
pub(super) fn write_head(
    boundary: &Boundary,
    index: usize,
    content_type: &str,
    length: Option<u64>,
    fields: &[(&str, &[u8])],
) -> Bytes {
    let mut head = BytesMut::with_capacity(128 + content_type.len());
    if index > 0 {
        head.put_slice(b"\r\n");
    }
    head.put_slice(b"--");
    head.put_slice(boundary.as_str().as_bytes());
    head.put_slice(b"\r\nContent-Type: ");
    head.put_slice(content_type.as_bytes());
    head.put_slice(b"\r\n");
    if let Some(length) = length {
        head.put_slice(format!("Content-Length: {length}\r\n").as_bytes());
    }
    for (name, value) in fields {
        head.put_slice(name.as_bytes());
        head.put_slice(b": ");
        head.put_slice(value);
        head.put_slice(b"\r\n");
    }
    head.put_slice(b"\r\n");
    head.freeze()
}

/// Refuses a header value with control characters (CR or LF would end the field).
fn check_field(index: usize, field: &str, value: &str) -> Result<(), Error> {
    match value
        .bytes()
        .position(|b| (b < b' ' && b != b'\t') || b == 0x7F)
    {
        None => Ok(()),
        Some(_) => Err(Error::InvalidRequest {
            what: "multipart part header",
            message: format!(
                "part #{}: expected a {field} without control characters, found {value:?}",
                index + 1
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multipart::{MultipartDecoder, MultipartLimits};

    fn framing() -> MultipartFraming {
        MultipartFraming::new(Boundary::from_random_bytes([11; 24]))
    }

    /// The body a caller would send: each head, then its part's body, then the close.
    fn assemble(framed: &FramedBody, bodies: &[Bytes]) -> Vec<u8> {
        let mut body = Vec::new();
        for (head, part) in framed.part_heads().iter().zip(bodies) {
            body.extend_from_slice(head);
            body.extend_from_slice(part);
        }
        body.extend_from_slice(framed.close_delimiter());
        body
    }

    #[test]
    fn an_unsized_head_has_no_content_length() {
        let framing = MultipartFraming::new(Boundary::new("B").unwrap());
        let dicom = MediaType::new("application", "dicom");
        let first = framing.part_head_unsized(0, &dicom).unwrap();
        assert_eq!(
            &first[..],
            b"--B\r\nContent-Type: application/dicom\r\n\r\n"
        );
        let second = framing.part_head_unsized(1, &dicom).unwrap();
        assert_eq!(
            &second[..],
            b"\r\n--B\r\nContent-Type: application/dicom\r\n\r\n"
        );
    }

    #[test]
    fn writes_the_exact_rfc_2046_form() {
        let framing = MultipartFraming::new(Boundary::new("B").unwrap());
        let dicom = MediaType::new("application", "dicom");
        let framed = framing.frame([(&dicom, 3), (&dicom, 0)]).unwrap();
        let body = assemble(&framed, &[Bytes::from_static(b"abc"), Bytes::new()]);
        assert_eq!(
            body,
            b"--B\r\nContent-Type: application/dicom\r\nContent-Length: 3\r\n\r\nabc\
              \r\n--B\r\nContent-Type: application/dicom\r\nContent-Length: 0\r\n\r\n\
              \r\n--B--\r\n"
        );
        assert_eq!(framed.content_length(), body.len() as u64);
        assert!(framed.part_heads()[1].starts_with(&framing.delimiter()));
        assert!(framed.close_delimiter().starts_with(&framing.delimiter()));
    }

    #[test]
    fn n_parts_decode_to_the_same_parts_and_the_length_is_the_bytes() {
        let types = [
            MediaType::new("application", "dicom"),
            MediaType::new("application", "dicom+json"),
            MediaType::new("image", "jpeg").with_param("transfer-syntax", "1.2.840.10008.1.2.4.50"),
        ];
        for n in 1..=7usize {
            let bodies: Vec<Bytes> = (0..n)
                .map(|i| Bytes::from(vec![b'a' + i as u8; i * 37 % 101]))
                .collect();
            let kinds: Vec<&MediaType> = (0..n).map(|i| &types[i % types.len()]).collect();
            let framing = framing();
            let framed = framing
                .frame(kinds.iter().zip(&bodies).map(|(t, b)| (*t, b.len() as u64)))
                .unwrap();
            let body = assemble(&framed, &bodies);
            assert_eq!(framed.content_length(), body.len() as u64, "{n} parts");

            let content_type = framing.content_type(&types[0]);
            let decoder =
                MultipartDecoder::from_content_type(&content_type, MultipartLimits::default())
                    .unwrap();
            let parts = decoder.decode_all(Bytes::from(body)).unwrap();
            assert_eq!(parts.len(), n);
            for (i, (headers, decoded)) in parts.iter().enumerate() {
                assert_eq!(decoded, &bodies[i], "part {i} of {n}");
                assert_eq!(headers.content_type().unwrap().as_ref(), Some(kinds[i]));
                assert_eq!(headers.content_length(), Some(bodies[i].len() as u64));
            }
        }
    }

    #[test]
    fn refuses_no_part_and_control_characters() {
        let none: [(&MediaType, u64); 0] = [];
        let err = framing().frame(none).unwrap_err().to_string();
        assert!(err.contains("expected at least one part"), "{err}");

        let bad = MediaType::new("application", "dicom").with_param("x", "a\r\nInjected: 1");
        let err = framing().part_head(2, &bad, 1).unwrap_err().to_string();
        assert!(err.contains("part #3") && err.contains("control"), "{err}");
    }
}
