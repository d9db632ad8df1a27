//! The file meta group of a Part 10 file, read from the first bytes of the file.
//!
//! Storing and retrieving instances needs three facts about each file — its SOP Class UID,
//! SOP Instance UID and transfer syntax — long before (or without ever) reading the whole
//! file. [`FileMeta::read`] takes any prefix of a file: it answers `Ok(None)` while the group
//! is not complete yet, so a caller can feed it the first chunk of a download or the first
//! block of a file and ask again with more.
//!
//! Only the meta group is read (always explicit VR little endian, PS3.10 §7.1); this module
//! needs no feature and does not use dicom-rs.
//!
//! ```
//! use dicomweb_core::file_meta::FileMeta;
//!
//! let mut file = vec![0u8; 128];
//! file.extend_from_slice(b"DICM");
//! for (element, value) in [(0x0002u16, &b"1.2.840.10008.5.1.4.1.1.7\0"[..]),
//!                          (0x0003, b"1.2.3.4\0"), (0x0010, b"1.2.840.10008.1.2.1\0")] {
//!     file.extend_from_slice(&0x0002u16.to_le_bytes());
//!     file.extend_from_slice(&element.to_le_bytes());
//!     file.extend_from_slice(b"UI");
//!     file.extend_from_slice(&(value.len() as u16).to_le_bytes());
//!     file.extend_from_slice(value);
//! }
//! file.extend_from_slice(&[0x08, 0x00, 0x18, 0x00, b'U', b'I', 0, 0]); // the data set begins
//!
//! // Without a group length (0002,0000), the first tag of another group ends the meta group.
//! assert_eq!(FileMeta::read(&file[..140])?, None); // not enough yet
//! let meta = FileMeta::read(&file)?.expect("complete");
//! assert_eq!(meta.sop_instance_uid.as_deref(), Some("1.2.3.4"));
//! assert_eq!(meta.transfer_syntax_uid.as_deref(), Some("1.2.840.10008.1.2.1"));
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

use crate::Error;

/// The largest meta group accepted; real ones are a few hundred bytes.
pub const MAX_META_BYTES: usize = 64 * 1024;

const PREAMBLE: usize = 128;

/// What the file meta group says about a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileMeta {
    /// Media Storage SOP Class UID (0002,0002).
    pub sop_class_uid: Option<String>,
    /// Media Storage SOP Instance UID (0002,0003).
    pub sop_instance_uid: Option<String>,
    /// Transfer Syntax UID (0002,0010).
    pub transfer_syntax_uid: Option<String>,
    /// Where the data set begins: the byte offset just after the meta group.
    pub data_set_offset: usize,
}

impl FileMeta {
    /// Reads the meta group from the first bytes of a Part 10 file (with or without its
    /// 128-byte preamble). `Ok(None)` means more bytes are needed; an error means this is not
    /// a Part 10 file, or its meta group is malformed, and says where.
    pub fn read(prefix: &[u8]) -> Result<Option<FileMeta>, Error> {
        let start = if prefix.get(..4) == Some(b"DICM") {
            4
        } else if prefix.len() < PREAMBLE + 4 {
            return Ok(None);
        } else if &prefix[PREAMBLE..PREAMBLE + 4] == b"DICM" {
            PREAMBLE + 4
        } else {
            return Err(meta_error(
                "not a DICOM Part 10 file: expected \"DICM\" at byte 128 (after the preamble) \
                 or at byte 0"
                    .into(),
            ));
        };
        let mut meta = FileMeta::default();
        let mut at = start;
        let mut group_end: Option<usize> = None;
        loop {
            if group_end.is_some_and(|end| at >= end) {
                break;
            }
            if at - start > MAX_META_BYTES {
                return Err(meta_error(format!(
                    "the file meta group is longer than {MAX_META_BYTES} bytes"
                )));
            }
            let Some(head) = prefix.get(at..at + 8) else {
                return Ok(None);
            };
            let group = u16::from_le_bytes([head[0], head[1]]);
            let element = u16::from_le_bytes([head[2], head[3]]);
            if group != 0x0002 {
                if at == start {
                    return Err(meta_error(format!(
                        "expected the file meta group (0002,xxxx) after \"DICM\", found \
                         ({group:04X},{element:04X}) at byte {at}"
                    )));
                }
                break;
            }
            let vr = [head[4], head[5]];
            if !vr.iter().all(u8::is_ascii_uppercase) {
                return Err(meta_error(format!(
                    "expected an explicit VR for (0002,{element:04X}) at byte {at}, found bytes \
                     {:02X} {:02X}",
                    vr[0], vr[1]
                )));
            }
            let (length, value_at) = if long_length(vr) {
                let Some(l) = prefix.get(at + 8..at + 12) else {
                    return Ok(None);
                };
                (
                    u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize,
                    at + 12,
                )
            } else {
                (u16::from_le_bytes([head[6], head[7]]) as usize, at + 8)
            };
            if length > MAX_META_BYTES {
                return Err(meta_error(format!(
                    "(0002,{element:04X}) at byte {at} declares {length} bytes, more than a \
                     meta group holds"
                )));
            }
            let Some(value) = prefix.get(value_at..value_at + length) else {
                return Ok(None);
            };
            let text = || {
                let end = value
                    .iter()
                    .rposition(|&b| b != 0 && b != b' ')
                    .map_or(0, |i| i + 1);
                String::from_utf8_lossy(&value[..end]).into_owned()
            };
            match element {
                0x0000 if length == 4 => {
                    let declared =
                        u32::from_le_bytes([value[0], value[1], value[2], value[3]]) as usize;
                    group_end = Some(value_at + 4 + declared);
                }
                0x0002 => meta.sop_class_uid = Some(text()),
                0x0003 => meta.sop_instance_uid = Some(text()),
                0x0010 => meta.transfer_syntax_uid = Some(text()),
                _ => {}
            }
            at = value_at + length;
        }
        meta.data_set_offset = at;
        Ok(Some(meta))
    }
}

fn long_length(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"SV"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"UV"
    )
}

fn meta_error(message: String) -> Error {
    Error::Part10 { message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(out: &mut Vec<u8>, element: u16, vr: &[u8; 2], value: &[u8]) {
        out.extend_from_slice(&0x0002u16.to_le_bytes());
        out.extend_from_slice(&element.to_le_bytes());
        out.extend_from_slice(vr);
        if long_length(*vr) {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        out.extend_from_slice(value);
    }

    fn file(with_group_length: bool) -> Vec<u8> {
        let mut group = Vec::new();
        element(&mut group, 0x0001, b"OB", &[0, 1]);
        element(&mut group, 0x0002, b"UI", b"1.2.840.10008.5.1.4.1.1.7\0");
        element(&mut group, 0x0003, b"UI", b"1.2.3.44");
        element(&mut group, 0x0010, b"UI", b"1.2.840.10008.1.2\0");
        let mut out = vec![0; PREAMBLE];
        out.extend_from_slice(b"DICM");
        if with_group_length {
            element(&mut out, 0x0000, b"UL", &(group.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(&group);
        // Implicit VR data set: (0008,0016) length 4.
        out.extend_from_slice(&[0x08, 0x00, 0x16, 0x00, 4, 0, 0, 0, b'1', b'.', b'2', 0]);
        out
    }

    #[test]
    fn every_prefix_is_incomplete_until_the_group_ends() -> Result<(), Error> {
        for with_length in [true, false] {
            let bytes = file(with_length);
            let whole = FileMeta::read(&bytes)?.ok_or_else(|| meta_error("incomplete".into()))?;
            assert_eq!(whole.sop_instance_uid.as_deref(), Some("1.2.3.44"));
            assert_eq!(
                whole.sop_class_uid.as_deref(),
                Some("1.2.840.10008.5.1.4.1.1.7")
            );
            assert_eq!(
                whole.transfer_syntax_uid.as_deref(),
                Some("1.2.840.10008.1.2")
            );
            assert_eq!(whole.data_set_offset, bytes.len() - 12);
            // With a group length the group ends where it says; without one the first
            // non-0002 tag ends it, so 8 bytes of the data set must be there.
            let needed = if with_length {
                whole.data_set_offset
            } else {
                whole.data_set_offset + 8
            };
            for n in 0..needed {
                assert_eq!(FileMeta::read(&bytes[..n])?, None, "prefix of {n} bytes");
            }
            assert_eq!(FileMeta::read(&bytes[..needed])?, Some(whole));
        }
        Ok(())
    }

    #[test]
    fn without_preamble() -> Result<(), Error> {
        let bytes = file(true);
        let meta = FileMeta::read(&bytes[PREAMBLE..])?;
        assert_eq!(
            meta.and_then(|m| m.sop_instance_uid).as_deref(),
            Some("1.2.3.44")
        );
        Ok(())
    }

    #[test]
    fn refuses_what_is_not_part10() {
        let error = FileMeta::read(&[b'x'; 200]).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("expected \"DICM\"")));
        let mut bytes = file(true);
        bytes[132] = 0x08; // group 0008 right after DICM
        let error = FileMeta::read(&bytes).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("found (0008,0000) at byte 132")));
        let mut bytes = file(false);
        bytes[136] = 0x01; // VR bytes that are not a VR
        let error = FileMeta::read(&bytes).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("expected an explicit VR")));
    }

    #[test]
    fn refuses_huge_lengths_without_waiting_for_them() {
        let mut bytes = vec![0; PREAMBLE];
        bytes.extend_from_slice(b"DICM");
        bytes.extend_from_slice(&[0x02, 0x00, 0x01, 0x00, b'O', b'B', 0, 0]);
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        let error = FileMeta::read(&bytes).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("declares 4294967295 bytes")));
    }
}
