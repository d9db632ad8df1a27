//! Data element tags: `(gggg,eeee)` as one `u32`.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A DICOM data element tag, group in the high 16 bits and element in the low 16 bits.
///
/// Parses from the forms DICOMweb uses: eight hex digits (`00100010`, either case),
/// `(0010,0010)` and `0010,0010`. Displays as eight upper-case hex digits, the DICOM JSON key form.
///
/// ```
/// use dicomweb_core::Tag;
/// let tag: Tag = "0020000d".parse()?;
/// assert_eq!(tag, Tag::new(0x0020, 0x000D));
/// assert_eq!(tag.to_string(), "0020000D");
/// # Ok::<(), dicomweb_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(pub u32);

impl Tag {
    /// A tag from its group and element numbers.
    pub const fn new(group: u16, element: u16) -> Self {
        Tag(((group as u32) << 16) | element as u32)
    }

    /// The group number.
    pub const fn group(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The element number.
    pub const fn element(self) -> u16 {
        (self.0 & 0xFFFF) as u16
    }

    /// Whether the group is odd, the mark of a private data element or private creator.
    pub const fn is_private(self) -> bool {
        self.group() % 2 == 1
    }

    /// Whether this is a private creator element, `(gggg,0010)` to `(gggg,00FF)` in an odd group.
    pub const fn is_private_creator(self) -> bool {
        self.is_private() && self.element() >= 0x0010 && self.element() <= 0x00FF
    }

    /// For a private data element `(gggg,xxee)`, the tag of its private creator `(gggg,00xx)`.
    pub const fn private_creator_tag(self) -> Option<Tag> {
        if self.is_private() && self.element() >= 0x1000 {
            Some(Tag::new(self.group(), self.element() >> 8))
        } else {
            None
        }
    }

    /// Parses exactly eight hexadecimal digits, either case (the DICOM JSON key form).
    pub fn from_hex(text: &str) -> Option<Tag> {
        let bytes = text.as_bytes();
        if bytes.len() != 8 {
            return None;
        }
        let mut value = 0u32;
        for &b in bytes {
            let digit = (b as char).to_digit(16)?;
            value = (value << 4) | digit;
        }
        Some(Tag(value))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08X}", self.0)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:04X},{:04X})", self.group(), self.element())
    }
}

impl FromStr for Tag {
    type Err = Error;

    fn from_str(text: &str) -> Result<Tag, Error> {
        let invalid = || Error::InvalidTag {
            text: text.to_owned(),
        };
        let trimmed = text.trim();
        if let Some(tag) = Tag::from_hex(trimmed) {
            return Ok(tag);
        }
        let inner = trimmed
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(trimmed);
        let (group, element) = inner.split_once(',').ok_or_else(invalid)?;
        let parse = |part: &str| {
            let part = part.trim();
            if part.len() == 4 {
                u16::from_str_radix(part, 16).ok()
            } else {
                None
            }
        };
        match (parse(group), parse(element)) {
            (Some(g), Some(e)) => Ok(Tag::new(g, e)),
            _ => Err(invalid()),
        }
    }
}

impl From<u32> for Tag {
    fn from(value: u32) -> Tag {
        Tag(value)
    }
}

impl From<(u16, u16)> for Tag {
    fn from((group, element): (u16, u16)) -> Tag {
        Tag::new(group, element)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let want = Tag::new(0x0010, 0x0010);
        for text in ["00100010", "(0010,0010)", "0010,0010", " (0010, 0010) "] {
            assert_eq!(text.parse::<Tag>().unwrap(), want, "{text}");
        }
        assert_eq!("7fe00010".parse::<Tag>().unwrap(), Tag::new(0x7FE0, 0x0010));
    }

    #[test]
    fn rejects_garbage() {
        for text in [
            "",
            "0010001",
            "001000100",
            "g0100010",
            "(0010;0010)",
            "(10,10)",
            "+0100010",
        ] {
            let err = text.parse::<Tag>().unwrap_err();
            assert!(err.to_string().contains("tag"), "{err}");
        }
    }

    #[test]
    fn private_creator_of_private_element() {
        let element = Tag::new(0x0009, 0x1002);
        assert!(element.is_private());
        assert!(!element.is_private_creator());
        assert_eq!(
            element.private_creator_tag(),
            Some(Tag::new(0x0009, 0x0010))
        );
        assert!(Tag::new(0x0009, 0x0010).is_private_creator());
        assert_eq!(Tag::new(0x0010, 0x1002).private_creator_tag(), None);
    }

    #[test]
    fn displays_json_key_and_debug_pair() {
        let tag = Tag::new(0x7FE0, 0x0010);
        assert_eq!(tag.to_string(), "7FE00010");
        assert_eq!(format!("{tag:?}"), "(7FE0,0010)");
    }
}
