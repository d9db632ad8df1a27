//! Validated unique identifiers (PS3.5 §9).

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A DICOM UID: 1 to 64 characters of digits and dots, no empty component.
///
/// A leading zero inside a component is accepted although the standard forbids it: such UIDs
/// exist in real archives and must stay retrievable, and they cannot change a path.
///
/// Only a validated `Uid` enters a request path, so nothing a caller or a server supplies can
/// change which resource a request names.
///
/// ```
/// use dicomweb_core::Uid;
/// let uid: Uid = "1.2.840.10008.1.2.1".parse()?;
/// assert_eq!(uid.as_str(), "1.2.840.10008.1.2.1");
/// assert!("1.2.3/../4".parse::<Uid>().is_err());
/// # Ok::<(), dicomweb_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uid(String);

/// The longest UID the standard allows.
pub const MAX_UID_LEN: usize = 64;

impl Uid {
    /// Validates `text` as a UID. A single trailing NUL (Part 10 padding) is removed first.
    pub fn new(text: impl Into<String>) -> Result<Uid, Error> {
        let mut text = text.into();
        if text.ends_with('\0') {
            text.pop();
        }
        match check(&text) {
            Ok(()) => Ok(Uid(text)),
            Err(reason) => Err(Error::InvalidUid { text, reason }),
        }
    }

    /// The UID's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The UID's text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

fn check(text: &str) -> Result<(), &'static str> {
    if text.is_empty() {
        return Err("it is empty");
    }
    if text.len() > MAX_UID_LEN {
        return Err("it is longer than 64 characters");
    }
    for component in text.split('.') {
        if component.is_empty() {
            return Err("it has an empty component");
        }
        if !component.bytes().all(|b| b.is_ascii_digit()) {
            return Err("only digits and dots are allowed");
        }
    }
    Ok(())
}

impl FromStr for Uid {
    type Err = Error;

    fn from_str(text: &str) -> Result<Uid, Error> {
        Uid::new(text)
    }
}

impl TryFrom<String> for Uid {
    type Error = Error;

    fn try_from(text: String) -> Result<Uid, Error> {
        Uid::new(text)
    }
}

impl TryFrom<&str> for Uid {
    type Error = Error;

    fn try_from(text: &str) -> Result<Uid, Error> {
        Uid::new(text)
    }
}

impl AsRef<str> for Uid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uid({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_uids() {
        for text in [
            "1.2.840.10008.5.1.4.1.1.2",
            "2.25.0",
            "0",
            "1.2.3\0",
            "1.02",
        ] {
            assert!(Uid::new(text).is_ok(), "{text:?}");
        }
        let longest = format!("1.{}", "2".repeat(62));
        assert!(Uid::new(longest).is_ok());
    }

    #[test]
    fn rejects_what_could_change_a_path() {
        for text in [
            "", "1..2", ".1", "1.", "1.2/3", "../1", "1.2?x=1", "1.2 ", "1.2%2F3",
        ] {
            let err = Uid::new(text).unwrap_err();
            assert!(err.to_string().contains("UID"), "{err}");
        }
        assert!(Uid::new(format!("1.{}", "2".repeat(63))).is_err());
    }
}
