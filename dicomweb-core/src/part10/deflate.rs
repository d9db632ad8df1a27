//! Deflated Explicit VR Little Endian (PS3.5 A.5): the data set after the file meta group is
//! one raw deflate stream (RFC 1951, no zlib header) of an Explicit VR Little Endian data set.
//!
//! The reader inflates it here, within [`Limits::max_inflated_bytes`], so that the structural
//! check and the character set handling see the same bytes as any other file; dicom-rs then
//! reads the inflated data set as Explicit VR Little Endian. The writer leaves deflating to
//! dicom-rs (its `deflate` feature).

use std::io::Read as _;

use crate::file_meta::FileMeta;
use crate::{Error, Limits};

/// Deflated Explicit VR Little Endian.
pub(super) const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1.99";

/// JPIP Referenced Deflate: a deflated data set whose pixel data lie elsewhere.
const JPIP_REFERENCED_DEFLATE: &str = "1.2.840.10008.1.2.4.95";

/// Whether a transfer syntax's data set is deflated.
pub(super) fn is_deflated(transfer_syntax: &str) -> bool {
    let uid = transfer_syntax.trim_end_matches(['\0', ' ']);
    uid == DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN || uid == JPIP_REFERENCED_DEFLATE
}

/// A file whose data set was inflated: the `DICM` magic, the meta group as it was, then the
/// inflated data set.
pub(super) struct Inflated {
    /// The file from `DICM` on, its data set inflated.
    pub bytes: Vec<u8>,
    /// Where the data set begins in `bytes`.
    pub data_set_offset: usize,
}

/// Inflates the data set of `body` (a file from its `DICM` magic on) when its meta group
/// names a deflated transfer syntax; `Ok(None)` for any other file (including one whose meta
/// group cannot be read: the structural check reports that).
pub(super) fn inflate(body: &[u8], limits: &Limits) -> Result<Option<Inflated>, Error> {
    let Ok(Some(meta)) = FileMeta::read(body) else {
        return Ok(None);
    };
    if !meta.transfer_syntax_uid.as_deref().is_some_and(is_deflated) {
        return Ok(None);
    }
    let transfer_syntax = meta
        .transfer_syntax_uid
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches(['\0', ' ']);
    let data_set_offset = meta.data_set_offset;
    let Some(deflated) = body.get(data_set_offset..) else {
        return Ok(None);
    };
    let mut bytes = body[..data_set_offset].to_vec();
    let limit = limits.max_inflated_bytes;
    let mut decoder = flate2::read::DeflateDecoder::new(deflated)
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1));
    decoder.read_to_end(&mut bytes).map_err(|e| Error::Part10 {
        message: format!(
            "expected a raw deflate stream (RFC 1951) after the file meta group, as transfer \
             syntax {transfer_syntax} requires; inflating failed after \
             {} bytes: {e}",
            bytes.len() - data_set_offset
        ),
    })?;
    if bytes.len() - data_set_offset > limit {
        return Err(Error::Part10 {
            message: format!(
                "the deflated data set inflates to more than {limit} bytes \
                 (Limits::max_inflated_bytes)"
            ),
        });
    }
    Ok(Some(Inflated {
        bytes,
        data_set_offset,
    }))
}
