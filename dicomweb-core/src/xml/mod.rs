//! The Native DICOM Model (PS3.19 Annex A), read and written losslessly.
//!
//! ```
//! use dicomweb_core::{xml, Element, ReadOptions, Tag, Vr};
//!
//! let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">
//!   <DicomAttribute tag="00100020" vr="LO" keyword="PatientID">
//!     <Value number="1">P-42</Value>
//!   </DicomAttribute>
//! </NativeDicomModel>"#;
//! let ds = xml::read(doc, &ReadOptions::default())?;
//! assert_eq!(ds.string(Tag(0x0010_0020)), Some("P-42"));
//!
//! let again = xml::read(&xml::write(&ds), &ReadOptions::strict())?;
//! assert_eq!(again, ds);
//! # Ok::<(), dicomweb_core::Error>(())
//! ```
//!
//! # Reading
//!
//! [`read`] takes one `NativeDicomModel` document in any encoding its XML declaration names
//! (dcmtk's `dcm2xml` declares `ISO-8859-1`; UTF-16 is recognised by its byte order mark).
//! It understands `DicomAttribute` (`tag`, `vr`, `keyword`, `privateCreator`), `Value number=`
//! (out of order and with gaps, a gap or an empty `Value` being an empty value), `PersonName`
//! with its component groups, `Item`, `InlineBinary` and `BulkData` (`uri`, `uuid`, and the
//! `URI` spelling Orthanc writes). A group's components are joined with `^` up to the last
//! component element present: components left out at the end add nothing (`Doe^John`, as
//! dcmtk writes it), components written empty are kept (`^^^^`, as Orthanc writes it).
//!
//! Private data elements written the way dcmtk and dcm4che write them, `gggg00ee` with a
//! `privateCreator`, are placed in the block their creator reserves in the same data set
//! (`gggg,xxee`); when the data set lacks that creator element, the reader reserves the first
//! free block and adds the creator element, so the data set stays complete and converts to
//! DICOM JSON without loss.
//!
//! Documents shaped the way servers and this crate write them (`DicomAttribute`s in tag order
//! with the usual ` tag="…" vr="…"` start tags, `Value number="n"` and the other children
//! written plainly) are read by a byte-level fast path that takes each value's text straight
//! from the document. Anything else goes to the general reader built on quick-xml's events,
//! which gives the same result for every document the fast path reads, and every error.
//!
//! A document type declaration (DTD) is refused, never processed: no entity is ever expanded,
//! only the five predefined entities and character references are understood. Nesting depth
//! and the element count are bounded by [`ReadOptions::limits`](crate::ReadOptions).
//!
//! # Writing
//!
//! [`write()`] produces UTF-8 with the namespace and `xml:space="preserve"` the standard asks
//! for, keywords from the data dictionary, and private data elements in the `gggg00ee` +
//! `privateCreator` form whenever the data set holds their creator, and every component of a
//! person name group, empty ones included. A BulkDataURI of the form
//! `urn:uuid:…` is written as `BulkData uuid=`, which the reader turns back into the same URI.
//!
//! # What the XML cannot carry
//!
//! An empty string and an absent value are the same thing in XML (an empty `Value`), so both
//! read back as `None`; an empty sequence and an empty element both read back as
//! [`Value::Empty`](crate::Value::Empty). Control characters, which XML 1.0 cannot hold, are
//! written as character references (`&#x0;`), which this reader accepts.

mod fast;
mod input;
mod private;
mod reader;
mod scan;
mod text;
mod values;
mod writer;

pub use reader::read;
pub use writer::{write, write_to};

/// Reads a document with the general reader alone, never the fast path that [`read`] tries
/// first: the reference the fast path is tested and fuzzed against. Not part of the API.
#[doc(hidden)]
pub fn read_reference(
    bytes: &[u8],
    options: &crate::ReadOptions,
) -> Result<crate::DataSet, crate::Error> {
    reader::read_reference(bytes, options)
}

/// Reads a document with the fast path alone: `None` where [`read`] would hand it to the
/// general reader. For tests; not part of the API.
#[doc(hidden)]
pub fn read_fast_path(bytes: &[u8], options: &crate::ReadOptions) -> Option<crate::DataSet> {
    reader::read_fast_path(bytes, options)
}

/// The XML namespace of the Native DICOM Model.
pub const NAMESPACE: &str = "http://dicom.nema.org/PS3.19/models/NativeDICOM";
