//! `Text`: an immutable UTF-8 string that can share the buffer it was read from.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use arrayvec::ArrayString;
use bytes::Bytes;
use bytestring::ByteString;

/// Strings up to this many bytes are stored inline (a date, a time, a code, a number).
const INLINE: usize = 20;

/// An immutable UTF-8 string value, cheap to clone.
///
/// It dereferences to `str`, so it is read like one. Short strings (up to 20 bytes) are stored
/// inline. Longer ones live in a shared [`Bytes`] buffer: the JSON reader makes them slices of
/// the document it reads instead of copies ([`json::read_bytes`](crate::json::read_bytes) shares
/// the caller's buffer), so reading allocates nothing per string, and that buffer stays in
/// memory as long as one of its strings does. Call [`Text::detach`] on a value kept long after
/// its document is gone to hold only its own bytes.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Inline(ArrayString<INLINE>),
    Shared(ByteString),
}

impl Text {
    /// The empty string.
    pub const fn new() -> Text {
        Text(Repr::Inline(ArrayString::new_const()))
    }

    /// A string that points at static text, without copying it.
    pub const fn from_static(text: &'static str) -> Text {
        Text(Repr::Shared(ByteString::from_static(text)))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(text) => text,
            Repr::Shared(text) => text,
        }
    }

    /// A short string inline, a long one in a buffer of its own.
    fn copied(text: &str) -> Text {
        match ArrayString::from(text) {
            Ok(inline) => Text(Repr::Inline(inline)),
            Err(_) => Text(Repr::Shared(ByteString::from(text))),
        }
    }

    /// This text as a slice of `whole` when it lies inside it, without copying.
    ///
    /// `part` must point into `whole`'s bytes; any other `part` is copied.
    #[inline]
    pub(crate) fn slice_of(whole: &Text, part: &str) -> Text {
        let outer = whole.as_str().as_bytes().as_ptr_range();
        let inner = part.as_bytes().as_ptr_range();
        match &whole.0 {
            Repr::Shared(buffer)
                if part.len() > INLINE && outer.start <= inner.start && inner.end <= outer.end =>
            {
                Text(Repr::Shared(buffer.slice_ref(part)))
            }
            _ => Text::copied(part),
        }
    }

    /// Makes `slot` what [`Text::slice_of`] would return, writing a short string's bytes
    /// straight into `slot` instead of building it aside and moving it there.
    ///
    /// The difference is the reader's hot path: a short string is copied in at its own length,
    /// and moving it whole soon after (16 bytes at a time) would read those narrower stores
    /// back before they reach the cache, which the processor cannot forward and waits out.
    #[inline]
    pub(crate) fn set_slice_of(slot: &mut Text, whole: &Text, part: &str) {
        if part.len() <= INLINE {
            *slot = Text::new();
            if let Repr::Inline(inline) = &mut slot.0 {
                inline.push_str(part);
            }
        } else {
            *slot = Text::slice_of(whole, part);
        }
    }

    /// Text from a buffer, checked once to be UTF-8.
    pub(crate) fn from_utf8(bytes: Bytes) -> Result<Text, std::str::Utf8Error> {
        ByteString::try_from(bytes).map(|text| Text(Repr::Shared(text)))
    }

    /// The same string in a buffer of its own, so that it no longer keeps the buffer it was
    /// read from in memory.
    pub fn detach(&self) -> Text {
        Text::copied(self.as_str())
    }

    /// The UTF-8 bytes, sharing this text's buffer when it has one.
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline(text) => Bytes::copy_from_slice(text.as_bytes()),
            Repr::Shared(text) => text.into_bytes(),
        }
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::new()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::copied(text)
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Text {
        Text::from(text.as_str())
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        match ArrayString::from(&text) {
            Ok(inline) => Text(Repr::Inline(inline)),
            Err(_) => Text(Repr::Shared(ByteString::from(text))),
        }
    }
}

impl From<Box<str>> for Text {
    fn from(text: Box<str>) -> Text {
        Text::from(String::from(text))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.as_str().to_owned()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_share_and_foreign_text_is_copied() {
        let whole = Text::from_utf8(Bytes::from_static(
            b"[\"1.2.840.10008.5.1.4.1.1.2\", \"CT\"]",
        ))
        .unwrap();
        let part = &whole.as_str()[2..27];
        let shared = Text::slice_of(&whole, part);
        assert_eq!(shared, "1.2.840.10008.5.1.4.1.1.2");
        assert_eq!(shared.as_ptr(), part.as_ptr());
        let short = Text::slice_of(&whole, &whole.as_str()[31..33]);
        assert_eq!(short, "CT");
        assert!(matches!(short.0, Repr::Inline(_)));
        let foreign = Text::slice_of(&whole, "abc");
        assert_eq!(foreign, "abc");
        assert_ne!(foreign.as_ptr(), "abc".as_ptr());
        assert_eq!(shared.detach(), shared);
        assert_ne!(shared.detach().as_ptr(), part.as_ptr());
        assert!(Text::from_utf8(Bytes::from_static(b"\xC3")).is_err());
        assert_eq!(String::from(shared.clone()), "1.2.840.10008.5.1.4.1.1.2");
        assert_eq!(Text::from("x".repeat(30)), "x".repeat(30));
        assert_eq!(Text::from_static("ISO_IR 192"), Text::from("ISO_IR 192"));
        assert!(Text::new() < shared && shared.into_bytes().len() == 25);
    }

    #[test]
    fn set_in_place_is_slice_of() {
        let whole = Text::from_utf8(Bytes::from_static(
            b"[\"1.2.840.10008.5.1.4.1.1.2\", \"CT\", \"12345678901234567890\"]",
        ))
        .unwrap();
        // A slot holding a long shared text first, so that each write replaces something.
        let mut slot = Text::from("y".repeat(40));
        for part in [
            &whole.as_str()[2..27],
            &whole.as_str()[31..33],
            &whole.as_str()[37..57],
            "abc",
            "",
            &"z".repeat(21),
        ] {
            Text::set_slice_of(&mut slot, &whole, part);
            let made = Text::slice_of(&whole, part);
            assert_eq!(slot, made);
            assert_eq!(
                matches!(slot.0, Repr::Inline(_)),
                matches!(made.0, Repr::Inline(_)),
                "{part:?}"
            );
            assert_eq!(
                slot.as_ptr() == part.as_ptr(),
                made.as_ptr() == part.as_ptr()
            );
        }
    }
}
