//! Request bodies made of [`Bytes`] segments.

use bytes::{Bytes, BytesMut};

/// A request body: a list of [`Bytes`] segments sent one after the other.
///
/// A STOW-RS body is the multipart framing around the caller's instance bytes; the instances
/// stay the caller's `Bytes` (reference-counted, never copied). A transport sends the segments
/// in order (e.g. as a stream of frames); [`Body::len`] gives the `Content-Length` for those
/// that do not send chunked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    segments: Vec<Bytes>,
    len: u64,
}

impl Body {
    /// No body (GET, DELETE, OPTIONS).
    pub fn empty() -> Body {
        Body::default()
    }

    /// A body of these segments, in order; empty segments are dropped.
    pub fn from_segments(segments: impl IntoIterator<Item = Bytes>) -> Body {
        let segments: Vec<Bytes> = segments.into_iter().filter(|s| !s.is_empty()).collect();
        let len = segments.iter().map(|s| s.len() as u64).sum();
        Body { segments, len }
    }

    /// The segments, in order.
    pub fn segments(&self) -> &[Bytes] {
        &self.segments
    }

    /// The segments, owned.
    pub fn into_segments(self) -> Vec<Bytes> {
        self.segments
    }

    /// The total length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the body has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole body as one buffer: free for zero or one segment, a copy otherwise (for
    /// transports that need a contiguous body; prefer sending the segments).
    pub fn to_bytes(&self) -> Bytes {
        match self.segments.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            many => {
                let mut all = BytesMut::with_capacity(usize::try_from(self.len).unwrap_or(0));
                for segment in many {
                    all.extend_from_slice(segment);
                }
                all.freeze()
            }
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body::from_segments([bytes])
    }
}

impl From<Vec<Bytes>> for Body {
    fn from(segments: Vec<Bytes>) -> Body {
        Body::from_segments(segments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_shared_not_copied() {
        let instance = Bytes::from(vec![7u8; 1000]);
        let body =
            Body::from_segments([Bytes::from_static(b"head"), instance.clone(), Bytes::new()]);
        assert_eq!(body.segments().len(), 2);
        assert_eq!(body.len(), 1004);
        assert_eq!(body.segments()[1].as_ptr(), instance.as_ptr());
        assert_eq!(&body.to_bytes()[..4], b"head");
        assert!(Body::empty().is_empty());
        assert_eq!(
            Body::from(instance.clone()).to_bytes().as_ptr(),
            instance.as_ptr()
        );
    }
}
