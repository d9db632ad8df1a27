//! Sans-IO DICOMweb: the DICOM data model in its web encodings, and the protocol's requests and
//! responses, for any HTTP stack.
//!
//! # What it does
//!
//! - **Data model**: [`DataSet`], [`Element`], [`Value`], [`Tag`], [`Vr`], [`Uid`], read and written
//!   losslessly as DICOM JSON (PS3.18 Annex F, [`json`]) and as the Native DICOM Model XML
//!   (PS3.19 Annex A, [`xml`]); Part 10 files through dicom-rs behind the `part10` feature, and
//!   a Part 10 file's meta group (its UIDs) from its first bytes without it ([`file_meta`]);
//!   named constants for the attributes DICOMweb deals with ([`tags`]).
//! - **Protocol**: typed operations for every DICOMweb service that become `http::Request`s
//!   ([`request`]: QIDO-RS, WADO-RS, rendered, WADO-URI, STOW-RS, DELETE, capabilities), a
//!   streaming multipart/related codec ([`multipart`]), and pure functions from a response's
//!   status, headers and body to typed results or typed errors ([`response`]). The [`request`]
//!   module shows a blocking and an async client driving them: build, send, parse.
//!
//! ```
//! use dicomweb_core::{json, ReadOptions, Tag};
//!
//! let body = br#"[{"0020000D": {"vr": "UI", "Value": ["1.2.3"]}}]"#;
//! let doc = json::read(body, &ReadOptions::default())?;
//! let study = &doc.data_sets()[0];
//! assert_eq!(study.string(Tag(0x0020_000D)), Some("1.2.3"));
//! # Ok::<(), dicomweb_core::Error>(())
//! ```
//!
//! # What it does not do
//!
//! No IO: no sockets, files, clock, environment, threads or async runtime. Time enters as a `now`
//! argument, bytes enter as slices or [`bytes::Bytes`]. A CI check keeps tokio, hyper and reqwest out
//! of this crate's dependency tree.

#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's examples compile and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod dataset;
pub mod dictionary;
mod error;
pub mod file_meta;
pub mod json;
mod limits;
pub mod media_type;
pub mod multipart;
#[cfg(feature = "part10")]
pub mod part10;
pub mod request;
pub mod response;
mod tag;
pub mod tags;
mod text;
mod uid;
mod value;
mod vr;
pub mod xml;

pub use dataset::{DataSet, Element, Iter};
pub use error::{Error, PathStep, TagPath};
pub use limits::{Limits, ReadOptions};
pub use tag::Tag;
pub use text::Text;
pub use uid::{MAX_UID_LEN, Uid};
pub use value::{Number, PersonName, Value, Values, ValuesIntoIter};
pub use vr::{ValueKind, Vr};

/// A document of DICOM data sets as it was read: one data set, or an array of them.
///
/// Keeping the distinction lets a converter write an array back as an array.
#[derive(Clone, Debug, PartialEq)]
pub enum Document {
    /// A single data set (a JSON object, or one `NativeDicomModel`).
    Single(DataSet),
    /// An array of data sets (a JSON array, e.g. a QIDO-RS or metadata response).
    Array(Vec<DataSet>),
}

impl Document {
    /// The data sets, one or many.
    pub fn data_sets(&self) -> &[DataSet] {
        match self {
            Document::Single(ds) => std::slice::from_ref(ds),
            Document::Array(all) => all,
        }
    }

    /// The data sets, owned.
    pub fn into_data_sets(self) -> Vec<DataSet> {
        match self {
            Document::Single(ds) => vec![ds],
            Document::Array(all) => all,
        }
    }
}
