//! DICOM JSON (PS3.18 Annex F), read and written losslessly.
//!
//! # Reading
//!
//! [`read`] parses one data set (a JSON object) or an array of them straight into the typed
//! model; nothing goes through `serde_json::Value`. Documents shaped the way servers write them
//! (keys in tag order, `vr` and one value member per element, in either order) are read by a
//! byte-level fast path: strings are stored inline when short and as slices of the document's
//! buffer when long (see [`Text`](crate::Text)), so reading costs about one allocation per data
//! set. Anything else goes to a general reader built on serde_json's streaming deserializer,
//! which gives the same result for every document the fast path reads, and every error.
//! It accepts what servers really send:
//!
//! - members of an element in any order (Orthanc sends `Value` before `vr`);
//! - `null` inside `Value` as an empty value, for every VR, and `"Value": []` as no value;
//! - IS, DS, FL, FD, SL, SS, UL, US, SV, UV as JSON numbers or strings; IS and DS keep their
//!   exact text ([`Number::Text`](crate::Number::Text): `338.671600` stays `338.671600`);
//!   `"NaN"`, `"Infinity"` and `"-Infinity"` for floats;
//! - InlineBinary as a string or a one-element array, base64 with or without padding;
//!   BulkDataURI on any VR;
//! - PN as an object of `Alphabetic`/`Ideographic`/`Phonetic` groups or as a plain string;
//! - lower-case hex keys, private tags, AT values such as `"00100010"`;
//! - a missing `vr` looked up in the data dictionary (unknown tags become `UN`), or an error with
//!   [`ReadOptions::strict`].
//!
//! Malformed input is an [`Error::Json`] that says where (the [`TagPath`](crate::TagPath)), what
//! was expected and what came; the limits of [`ReadOptions::limits`](crate::ReadOptions) give
//! [`Error::LimitExceeded`]. No input makes the reader panic.
//!
//! The reader recurses once per sequence nesting level, with serde_json's own recursion limit
//! replaced by [`Limits::max_depth`](crate::Limits): about 8 KiB of stack per level in debug
//! builds and less in release builds, so the default of 64 levels fits easily in a 2 MiB thread
//! stack. Raise the limit only as far as your threads' stacks allow. Values that are skipped
//! (unknown members) or held back (a `Value` before its `vr`) are scanned without recursion.
//!
//! # Writing
//!
//! [`write()`] writes canonical, compact JSON: upper-case keys in tag order, `vr` first, then
//! `Value`, `InlineBinary` or `BulkDataURI`. IS and DS text is written as a JSON number when it is
//! a valid JSON number token and as a string otherwise, so no text is lost; NaN and the
//! infinities are written as strings; an empty value inside a multi-valued element as `null`.
//!
//! ```
//! use dicomweb_core::{json, Number, ReadOptions, Tag, Value};
//!
//! let body = br#"{"00280030": {"Value": [0.390625, "0.3906250"], "vr": "DS"}}"#;
//! let doc = json::read(body, &ReadOptions::default())?;
//! let spacing = &doc.data_sets()[0].get(Tag(0x0028_0030)).unwrap().value;
//! assert_eq!(
//!     spacing,
//!     &Value::Numbers(vec![
//!         Some(Number::Text("0.390625".into())),
//!         Some(Number::Text("0.3906250".into())),
//!     ].into())
//! );
//! assert_eq!(
//!     json::write(&doc),
//!     br#"{"00280030":{"vr":"DS","Value":[0.390625,0.3906250]}}"#
//! );
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

mod binary;
mod element;
mod fast;
mod pretty;
mod read;
mod values;
mod write;

use bytes::Bytes;

use crate::{DataSet, Document, Error, ReadOptions};

pub use write::{write, write_data_set, write_data_sets, write_pretty};

/// Reads a DICOM JSON document: one data set (an object) gives [`Document::Single`], an array
/// of them gives [`Document::Array`].
///
/// The input is copied once into a buffer that the strings of the result share; when the
/// document is already in a [`Bytes`] (an HTTP body), [`read_bytes`] skips that copy.
pub fn read(bytes: &[u8], options: &ReadOptions) -> Result<Document, Error> {
    read::document(Bytes::copy_from_slice(bytes), options, true)
}

/// Reads a DICOM JSON document from a buffer that the strings of the result share without
/// copying (see [`Text`](crate::Text)).
pub fn read_bytes(bytes: Bytes, options: &ReadOptions) -> Result<Document, Error> {
    read::document(bytes, options, true)
}

/// Reads a DICOM JSON document, one data set or an array of them, as a list of data sets.
pub fn read_data_sets(bytes: &[u8], options: &ReadOptions) -> Result<Vec<DataSet>, Error> {
    read(bytes, options).map(Document::into_data_sets)
}

/// Reads a document with the general reader alone, never the fast path that [`read`] tries
/// first: the reference the fast path is tested and fuzzed against. Not part of the API.
#[doc(hidden)]
pub fn read_reference(bytes: &[u8], options: &ReadOptions) -> Result<Document, Error> {
    read::document(Bytes::copy_from_slice(bytes), options, false)
}

/// Reads a document with the fast path alone: `None` where [`read`] would hand it to the
/// general reader. For tests; not part of the API.
#[doc(hidden)]
pub fn read_fast_path(bytes: &[u8], options: &ReadOptions) -> Option<Document> {
    let source = crate::Text::from_utf8(Bytes::copy_from_slice(bytes)).ok()?;
    fast::document(&source, options)
}
