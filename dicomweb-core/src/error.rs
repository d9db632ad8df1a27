//! The crate's one error type.

use std::fmt;

use crate::Tag;

/// Everything that can go wrong in dicomweb-core.
///
/// Messages say what was expected and what came, and where (the tag path inside the data set).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Text that should have been a tag.
    #[error("invalid tag {text:?}: expected eight hex digits or (gggg,eeee)")]
    InvalidTag {
        /// What came.
        text: String,
    },
    /// Text that should have been a VR code.
    #[error("invalid VR {text:?}: expected one of the two-letter codes of PS3.5 Table 6.2-1")]
    InvalidVr {
        /// What came.
        text: String,
    },
    /// Text that should have been a UID.
    #[error("invalid UID {text:?}: {reason}")]
    InvalidUid {
        /// What came.
        text: String,
        /// Why it is not a UID.
        reason: &'static str,
    },
    /// A keyword the data dictionary does not know.
    #[error("unknown attribute keyword {keyword:?}")]
    UnknownKeyword {
        /// What came.
        keyword: String,
    },
    /// Malformed DICOM JSON.
    #[error("invalid DICOM JSON at {path}: {message}")]
    Json {
        /// Where in the data set.
        path: TagPath,
        /// What was expected and what came.
        message: String,
    },
    /// Malformed Native DICOM Model XML.
    #[error("invalid DICOM XML at {path}: {message}")]
    Xml {
        /// Where in the data set.
        path: TagPath,
        /// What was expected and what came.
        message: String,
    },
    /// A configured limit was exceeded while reading.
    #[error("{what} exceeds the limit of {limit} at {path}")]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
        /// The configured limit.
        limit: usize,
        /// Where in the data set.
        path: TagPath,
    },
    /// A `Content-Type` or `Accept` value that is not a media type.
    #[error("invalid media type {text:?}: {message}")]
    MediaType {
        /// What came.
        text: String,
        /// What was expected and what came instead, and where.
        message: String,
    },
    /// A multipart boundary that RFC 2046 does not allow.
    #[error("invalid multipart boundary {text:?}: {reason}")]
    InvalidBoundary {
        /// What came.
        text: String,
        /// Why it is not a boundary.
        reason: &'static str,
    },
    /// A malformed or truncated multipart/related body.
    #[error("invalid multipart body at byte {offset}: {message}")]
    Multipart {
        /// Offset in the body where the problem was found.
        offset: u64,
        /// What was expected and what came.
        message: String,
    },
    /// A multipart body exceeded one of the decoder's limits.
    #[error("multipart {what} exceeds the limit of {limit} at byte {offset}")]
    MultipartLimit {
        /// Which limit.
        what: &'static str,
        /// The configured limit.
        limit: u64,
        /// Offset in the body where the limit was crossed.
        offset: u64,
    },
    /// A base URL or a URI that cannot be used for DICOMweb requests.
    #[error("invalid URL {text:?}: {reason}")]
    InvalidUrl {
        /// What came.
        text: String,
        /// What was expected instead.
        reason: String,
    },
    /// A request parameter that the standard does not allow (a frame number of 0, a quality
    /// above 100, a sequence path through an attribute that is not a sequence, …).
    #[error("invalid {what}: {message}")]
    InvalidRequest {
        /// Which parameter.
        what: &'static str,
        /// What was expected and what came.
        message: String,
    },
    /// The server answered with an error status (4xx, 5xx, or a status the request does not
    /// expect); the body text, `Retry-After` and `Warning` headers are kept.
    #[error(transparent)]
    Status(Box<crate::response::StatusError>),
    /// A response whose body cannot be what the request asked for.
    #[error("unexpected response: expected {expected}, found {found}")]
    UnexpectedResponse {
        /// What the request needed.
        expected: &'static str,
        /// What came (a media type, a status, a body excerpt).
        found: String,
    },
    /// A Part 10 file could not be read or written.
    #[error("Part 10: {message}")]
    Part10 {
        /// What went wrong.
        message: String,
    },
}

/// A location inside a data set: tags, with item indexes inside sequences.
///
/// Displays as `(0040,0275)[0].(0040,1001)`; the top level displays as `the top level`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagPath(pub Vec<PathStep>);

/// One step of a [`TagPath`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// A data element.
    Tag(Tag),
    /// An item of the sequence named by the step before.
    Item(usize),
    /// A data set of a top-level array (DICOM JSON arrays, multipart XML).
    DataSet(usize),
}

impl TagPath {
    /// The top level.
    pub fn root() -> TagPath {
        TagPath::default()
    }

    /// This path with one more step.
    pub fn push(&mut self, step: PathStep) {
        self.0.push(step);
    }

    /// Removes the last step.
    pub fn pop(&mut self) {
        self.0.pop();
    }
}

impl fmt::Display for TagPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the top level");
        }
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Tag(tag) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write!(f, "{tag:?}")?;
                }
                PathStep::Item(n) => write!(f, "[{n}]")?,
                PathStep::DataSet(n) => write!(f, "data set #{n}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_displays_like_a_sequence_path() {
        let mut path = TagPath::root();
        assert_eq!(path.to_string(), "the top level");
        path.push(PathStep::DataSet(2));
        path.push(PathStep::Tag(Tag(0x0040_0275)));
        path.push(PathStep::Item(0));
        path.push(PathStep::Tag(Tag(0x0040_1001)));
        assert_eq!(path.to_string(), "data set #2.(0040,0275)[0].(0040,1001)");
    }
}
