//! Multipart boundaries: RFC 2046 §5.1.1 validation and random generation.

use std::fmt;

use base64::Engine as _;

use crate::Error;

/// The longest boundary RFC 2046 allows.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// A multipart boundary as RFC 2046 §5.1.1 defines it: 1 to 70 characters from `bchars`
/// (letters, digits, space and `'()+_,-./:=?`), not ending with a space.
///
/// The core has no source of randomness: a fresh boundary is made from random bytes the caller
/// supplies ([`Boundary::from_random_bytes`]), or a caller's own text is checked
/// ([`Boundary::new`]).
///
/// ```
/// use dicomweb_core::multipart::Boundary;
/// let b = Boundary::from_random_bytes([7; 24]);
/// assert_eq!(b.as_str().len(), 32);
/// assert!(Boundary::new("simple boundary").is_ok());
/// assert!(Boundary::new("ends with space ").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Boundary(String);

impl Boundary {
    /// Checks a caller-supplied boundary against RFC 2046.
    pub fn new(text: impl Into<String>) -> Result<Boundary, Error> {
        let text = text.into();
        let reason = if text.is_empty() {
            Some("expected 1 to 70 characters, found none")
        } else if text.len() > MAX_BOUNDARY_LEN {
            Some("expected at most 70 characters")
        } else if !text.bytes().all(is_bchar) {
            Some("expected only letters, digits, space and '()+_,-./:=?")
        } else if text.ends_with(' ') {
            Some("a boundary must not end with a space")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidBoundary { text, reason }),
            None => Ok(Boundary(text)),
        }
    }

    /// A boundary of 32 characters (URL-safe base64 of 192 random bits) made from random bytes
    /// the caller supplies, e.g. from `getrandom` or `rand`.
    pub fn from_random_bytes(random: [u8; 24]) -> Boundary {
        Boundary(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random))
    }

    /// The boundary text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Boundary({:?})", self.0)
    }
}

impl AsRef<str> for Boundary {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// RFC 2046 `bchars`.
fn is_bchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b)
}

/// The longest boundary the decoder accepts: longer than RFC 2046's 70, to read what lenient
/// servers send.
pub(crate) const MAX_DECODER_BOUNDARY_LEN: usize = 256;

/// The decoder's check: lenient about the character set (anything visible, and space), strict
/// about what would make delimiter recognition ambiguous.
pub(crate) fn check_decoder_boundary(text: &str) -> Result<(), Error> {
    let reason = if text.is_empty() {
        Some("expected 1 to 70 characters, found none")
    } else if text.len() > MAX_DECODER_BOUNDARY_LEN {
        Some("expected at most 70 characters (256 tolerated)")
    } else if text.bytes().any(|b| b < b' ' || b == 0x7F) {
        Some("a boundary must not hold control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidBoundary {
            text: text.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2046_boundaries() {
        for ok in [
            "a",
            "gc0pJq0M:08jU534c0p",
            "Ab '()+_,-./:=?Z",
            &"x".repeat(70),
        ] {
            assert_eq!(Boundary::new(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            " trailing ",
            "semi;colon",
            "quote\"",
            &"x".repeat(71),
            "tab\t",
        ] {
            assert!(Boundary::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn random_boundaries_are_valid_and_differ() {
        let a = Boundary::from_random_bytes([0; 24]);
        let b = Boundary::from_random_bytes([0xFF; 24]);
        assert_ne!(a, b);
        for boundary in [a, b] {
            assert_eq!(boundary.as_str().len(), 32);
            assert!(Boundary::new(boundary.as_str()).is_ok());
        }
    }

    #[test]
    fn decoder_is_lenient_but_not_about_line_breaks() {
        assert!(check_decoder_boundary("{uuid-with-braces}").is_ok());
        assert!(check_decoder_boundary(&"x".repeat(100)).is_ok());
        assert!(check_decoder_boundary("a\r\nb").is_err());
        assert!(check_decoder_boundary("").is_err());
    }
}
