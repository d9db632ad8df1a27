//! Part 10 files ⇄ [`DataSet`], through dicom-rs's `dicom-object` (feature `part10`).
//!
//! [`read()`] turns the bytes of a DICOM file (PS3.10) into its file meta group and its data set;
//! [`write()`] turns them back into a file when every value is inline.
//!
//! # How values map
//!
//! - Text is decoded from the declared Specific Character Set (0008,0005) into UTF-8, ISO 2022
//!   code extensions (Japanese, Korean, Chinese) and per-item declarations included; the
//!   element keeps its declared value, as DICOM JSON and XML do. Padding (spaces, NUL) is
//!   removed: leading and trailing for most VRs, trailing only for LT, ST, UT, UR and PN.
//!   An empty value inside a multi-valued element becomes `None` (JSON `null`); an element
//!   whose only value is empty becomes [`Value::Empty`](crate::Value::Empty).
//! - IS and DS keep their exact text ([`Number::Text`](crate::Number::Text)), padding removed.
//! - US SS UL SL SV UV FL FD become numbers; AT becomes tags; PN is split into its
//!   alphabetic, ideographic and phonetic groups.
//! - OB OD OF OL OV OW UN become [`Value::InlineBinary`](crate::Value::InlineBinary): the
//!   value's bytes in little-endian order, as DICOM JSON expects, whatever the file's byte order.
//! - Encapsulated (compressed) Pixel Data becomes `InlineBinary` of the encapsulated stream
//!   exactly as PS3.5 A.4 lays it out after the element header: the Basic Offset Table item,
//!   one item per fragment, and the sequence delimitation item. Nothing is lost, and
//!   [`write()`] turns it back into fragments when the transfer syntax is encapsulated.
//!
//! Before dicom-rs sees the bytes, a structural check walks every element header: a length
//! that runs past the end of its container, nesting deeper than
//! [`Limits::max_depth`](crate::Limits) or more elements than
//! [`Limits::max_elements`](crate::Limits) is an error naming the byte offset and tag path,
//! so hostile input can neither make the reader allocate what the file does not hold nor
//! exhaust the stack.
//!
//! Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99) is read and written: the reader
//! inflates the data set first, within [`Limits::max_inflated_bytes`](crate::Limits), so the
//! check above and the character set handling see the inflated bytes (error offsets inside a
//! deflated data set count in those bytes); the writer deflates through dicom-rs when the meta
//! group names that transfer syntax.
//!
//! ```
//! use dicomweb_core::{part10, DataSet, Element, Tag, Vr};
//!
//! let mut ds = DataSet::new();
//! ds.insert(Tag(0x0008_0016), Element::string(Vr::UI, "1.2.840.10008.5.1.4.1.1.7"));
//! ds.insert(Tag(0x0008_0018), Element::string(Vr::UI, "1.2.3.4"));
//! ds.insert(Tag(0x0010_0010), Element::string(Vr::PN, "Doe^Jane"));
//! let file = part10::write(&DataSet::new(), &ds)?;
//! assert_eq!(&file[128..132], b"DICM");
//! let (meta, back) = part10::read(&file)?;
//! assert_eq!(meta.string(Tag(0x0002_0010)), Some("1.2.840.10008.1.2.1"));
//! assert_eq!(back.get(Tag(0x0008_0018)), ds.get(Tag(0x0008_0018)));
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

mod charset;
mod deflate;
mod from_dicom;
mod scan;
mod to_dicom;

use crate::{DataSet, Error, Limits};

/// Explicit VR Little Endian, the transfer syntax [`write()`] uses when the meta group names none.
pub const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";

/// Whether `bytes` look like a Part 10 file: `DICM` at offset 128 (after the preamble) or at 0.
pub fn is_part10(bytes: &[u8]) -> bool {
    magic_offset(bytes).is_some()
}

/// Reads a Part 10 file, with or without its 128-byte preamble, with the default [`Limits`].
///
/// Returns the file meta group (0002,xxxx) and the data set, apart.
pub fn read(bytes: &[u8]) -> Result<(DataSet, DataSet), Error> {
    read_with_limits(bytes, &Limits::default())
}

/// Reads a Part 10 file, with or without its 128-byte preamble, within these limits.
pub fn read_with_limits(bytes: &[u8], limits: &Limits) -> Result<(DataSet, DataSet), Error> {
    let start = magic_offset(bytes).ok_or_else(|| {
        part10_error(format!(
            "not a DICOM file: expected \"DICM\" at byte 128 (after the preamble) or at byte 0, \
             found {} bytes without it",
            bytes.len()
        ))
    })?;
    let inflated = deflate::inflate(&bytes[start..], limits)?;
    let body = match &inflated {
        Some(inflated) => &inflated.bytes[..],
        None => &bytes[start..],
    };
    let charset_values = scan::check(&body[4..], start + 4, limits)?;
    // Hide each Specific Character Set from dicom-rs behind a numbered marker, so that it
    // decodes all text as ISO 8859-1 (bytes back, losslessly) and `charset` decodes it right.
    let mut hidden = body.to_vec();
    let mut declared = Vec::with_capacity(charset_values.len());
    for (index, &(offset, length)) in charset_values.iter().enumerate() {
        let at = offset + 4;
        declared.push(charset::Charset::from_bytes(&body[at..at + length]));
        let marker = format!("#{index}");
        if length == 0 {
            continue;
        }
        if marker.len() > length {
            return Err(part10_error(format!(
                "too many Specific Character Set (0008,0005) elements ({})",
                charset_values.len()
            )));
        }
        let slot = &mut hidden[at..at + length];
        slot.fill(b' ');
        slot[..marker.len()].copy_from_slice(marker.as_bytes());
    }
    let data_set_offset = inflated.as_ref().map(|i| i.data_set_offset);
    let file = std::panic::catch_unwind(|| open(&hidden, data_set_offset))
        .map_err(|_| part10_error("dicom-rs failed on this file (it panicked)".into()))??;
    let meta = from_dicom::meta(file.meta())?;
    let context = from_dicom::Context { declared };
    let data_set = from_dicom::object(
        &file,
        &context,
        &charset::Charset::default(),
        &mut crate::TagPath::root(),
    )?;
    Ok((meta, data_set))
}

/// Writes a Part 10 file: preamble, `DICM`, file meta group, data set.
///
/// `meta` may be empty or partial: the transfer syntax defaults to
/// [`EXPLICIT_VR_LITTLE_ENDIAN`], the media storage SOP class and instance UIDs default to the
/// data set's SOP Class UID and SOP Instance UID, and the implementation class UID to dicom-rs's.
/// Every value must be inline: a BulkDataURI is an error naming its tag path.
///
/// Text is encoded in the declared Specific Character Set, except where it uses ISO 2022 code
/// extensions (several values, or an `ISO 2022 …` term), which dicom-rs cannot encode: that
/// data set's text is written as UTF-8 and its (0008,0005) becomes `ISO_IR 192`.
pub fn write(meta: &DataSet, data_set: &DataSet) -> Result<Vec<u8>, Error> {
    to_dicom::write(meta, data_set)
}

/// Has dicom-rs read a file from its `DICM` magic on; `inflated_at` is where the data set
/// begins when it was inflated (see [`deflate`]): dicom-rs then reads the meta group and the
/// inflated data set apart, the latter as Explicit VR Little Endian.
fn open(
    body: &[u8],
    inflated_at: Option<usize>,
) -> Result<dicom_object::DefaultDicomObject, Error> {
    let could_not = |e: &dyn std::error::Error| {
        part10_error(format!(
            "dicom-rs could not read the file: {}",
            error_chain(e)
        ))
    };
    let Some(offset) = inflated_at else {
        return dicom_object::OpenFileOptions::new()
            .read_preamble(dicom_object::file::ReadPreamble::Never)
            .from_reader(body)
            .map_err(|e| could_not(&e));
    };
    let meta =
        dicom_object::FileMetaTable::from_reader(&body[..offset]).map_err(|e| could_not(&e))?;
    let explicit = dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased();
    dicom_object::InMemDicomObject::read_dataset_with_ts(&body[offset..], &explicit)
        .map(|data_set| data_set.with_exact_meta(meta))
        .map_err(|e| could_not(&e))
}

fn magic_offset(bytes: &[u8]) -> Option<usize> {
    if bytes.get(128..132) == Some(b"DICM") {
        Some(128)
    } else if bytes.get(..4) == Some(b"DICM") {
        Some(0)
    } else {
        None
    }
}

fn part10_error(message: String) -> Error {
    Error::Part10 { message }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
