//! A structural walk over a Part 10 file's element headers, before dicom-rs reads it.
//!
//! It checks only what keeps a reader safe on hostile bytes: every defined length fits inside
//! its container, sequences nest no deeper than the limit, and the element count stays within
//! the limit. Values are skipped, never copied.

use crate::{Error, Limits, PathStep, Tag, TagPath, Vr, dictionary};

const ITEM: u32 = 0xFFFE_E000;
const ITEM_END: u32 = 0xFFFE_E00D;
const SEQUENCE_END: u32 = 0xFFFE_E0DD;
const PIXEL_DATA: u32 = 0x7FE0_0010;
const UNDEFINED: u32 = 0xFFFF_FFFF;

/// How the data set is encoded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    ImplicitLittle,
    ExplicitLittle,
    ExplicitBig,
}

/// Checks the meta group and the data set that follow the `DICM` magic code.
///
/// `base` is the offset of `bytes` in the file, so that errors name file offsets.
/// Returns where every Specific Character Set (0008,0005) value lies in `bytes`, at any depth,
/// as (offset, length).
pub(super) fn check(
    bytes: &[u8],
    base: usize,
    limits: &Limits,
) -> Result<Vec<(usize, usize)>, Error> {
    let mut scanner = Scanner {
        bytes,
        pos: 0,
        base,
        limits,
        elements: 0,
        path: TagPath::root(),
        transfer_syntax: None,
        charsets: Vec::new(),
    };
    scanner.meta_group()?;
    let encoding = match scanner.transfer_syntax.as_deref() {
        None => {
            return Err(scanner
                .error("the file meta group has no Transfer Syntax UID (0002,0010)".to_owned()));
        }
        Some("1.2.840.10008.1.2") => Encoding::ImplicitLittle,
        Some("1.2.840.10008.1.2.2") => Encoding::ExplicitBig,
        // A deflated data set is checked once inflated (see `deflate`): Explicit VR LE.
        Some(ts) if super::deflate::is_deflated(ts) => Encoding::ExplicitLittle,
        Some(_) => Encoding::ExplicitLittle,
    };
    let end = bytes.len();
    scanner.data_set(encoding, Some(end), end, 0)?;
    Ok(scanner.charsets)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
    limits: &'a Limits,
    elements: usize,
    path: TagPath,
    transfer_syntax: Option<String>,
    charsets: Vec<(usize, usize)>,
}

struct Header {
    tag: u32,
    vr: Option<Vr>,
    length: u32,
}

impl Scanner<'_> {
    fn error(&self, what: String) -> Error {
        let at = if self.path.0.is_empty() {
            String::new()
        } else {
            format!(" in {}", self.path)
        };
        Error::Part10 {
            message: format!("{what} (at byte {}{at})", self.base + self.pos),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], Error> {
        match self.bytes.get(self.pos..self.pos.saturating_add(n)) {
            Some(slice) => {
                self.pos += n;
                Ok(slice)
            }
            None => Err(self.error(format!(
                "truncated: expected {n} bytes of {what}, found {}",
                self.bytes.len() - self.pos
            ))),
        }
    }

    fn u16(&mut self, encoding: Encoding, what: &str) -> Result<u16, Error> {
        let b = self.take(2, what)?;
        let pair = [b[0], b[1]];
        Ok(match encoding {
            Encoding::ExplicitBig => u16::from_be_bytes(pair),
            _ => u16::from_le_bytes(pair),
        })
    }

    fn u32(&mut self, encoding: Encoding, what: &str) -> Result<u32, Error> {
        let b = self.take(4, what)?;
        let quad = [b[0], b[1], b[2], b[3]];
        Ok(match encoding {
            Encoding::ExplicitBig => u32::from_be_bytes(quad),
            _ => u32::from_le_bytes(quad),
        })
    }

    fn tag(&mut self, encoding: Encoding) -> Result<u32, Error> {
        let group = self.u16(encoding, "a tag")?;
        let element = self.u16(encoding, "a tag")?;
        Ok((u32::from(group) << 16) | u32::from(element))
    }

    fn header(&mut self, encoding: Encoding) -> Result<Header, Error> {
        let tag = self.tag(encoding)?;
        if tag >> 16 == 0xFFFE {
            let length = self.u32(encoding, "an item length")?;
            return Ok(Header {
                tag,
                vr: None,
                length,
            });
        }
        if encoding == Encoding::ImplicitLittle {
            let length = self.u32(encoding, "an element length")?;
            return Ok(Header {
                tag,
                vr: dictionary::vr(Tag(tag)),
                length,
            });
        }
        let code = self.take(2, "a VR")?;
        let vr = std::str::from_utf8(code)
            .ok()
            .and_then(|c| c.parse::<Vr>().ok());
        let long = match vr {
            Some(vr) => matches!(
                vr,
                Vr::OB
                    | Vr::OD
                    | Vr::OF
                    | Vr::OL
                    | Vr::OV
                    | Vr::OW
                    | Vr::SQ
                    | Vr::UC
                    | Vr::UN
                    | Vr::UR
                    | Vr::UT
                    | Vr::SV
                    | Vr::UV
            ),
            // dicom-rs reads an unknown VR code as UN, with a 4-byte length.
            None => true,
        };
        let length = if long {
            self.take(2, "reserved bytes")?;
            self.u32(encoding, "an element length")?
        } else {
            u32::from(self.u16(encoding, "an element length")?)
        };
        Ok(Header { tag, vr, length })
    }

    fn skip(&mut self, length: u32, end: usize) -> Result<(), Error> {
        let length = length as usize;
        if length > end.saturating_sub(self.pos) {
            return Err(self.error(format!(
                "a value of {length} bytes runs past the end of its container ({} bytes left)",
                end.saturating_sub(self.pos)
            )));
        }
        self.pos += length;
        Ok(())
    }

    fn count(&mut self) -> Result<(), Error> {
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(Error::LimitExceeded {
                what: "the number of elements",
                limit: self.limits.max_elements,
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    fn meta_group(&mut self) -> Result<(), Error> {
        let end = self.bytes.len();
        let mut announced_end = None;
        loop {
            // dicom-rs ends the meta group where (0002,0000) says, whatever follows: a group
            // 0002 element after that end is the data set's, in the data set's encoding.
            if let Some(announced) = announced_end
                && self.pos >= announced
            {
                return if self.pos == announced {
                    Ok(())
                } else {
                    Err(self.error(format!(
                        "a file meta element crosses the end (0002,0000) announces, {} bytes \
                         before it",
                        self.pos - announced
                    )))
                };
            }
            let rest = &self.bytes[self.pos..];
            if rest.len() < 2 || u16::from_le_bytes([rest[0], rest[1]]) != 0x0002 {
                return match announced_end {
                    Some(announced) if announced > self.pos => Err(self.error(format!(
                        "truncated file meta group: (0002,0000) announces {} more bytes",
                        announced - self.pos
                    ))),
                    _ => Ok(()),
                };
            }
            let header = self.header(Encoding::ExplicitLittle)?;
            if header.length == UNDEFINED {
                return Err(self.error(format!(
                    "file meta element {:?} has an undefined length",
                    Tag(header.tag)
                )));
            }
            let start = self.pos;
            self.skip(header.length, end)?;
            self.count()?;
            if header.tag == 0x0002_0000 && header.length == 4 {
                let b = &self.bytes[start..self.pos];
                let length = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                announced_end = Some(self.pos.saturating_add(length));
            }
            if header.tag == 0x0002_0010 {
                let text = String::from_utf8_lossy(&self.bytes[start..self.pos]);
                self.transfer_syntax = Some(text.trim_end_matches(['\0', ' ']).to_owned());
            }
        }
    }

    /// Walks elements until `end` (a defined length) or an item delimiter (`end` is `None`),
    /// never past `limit`.
    fn data_set(
        &mut self,
        encoding: Encoding,
        end: Option<usize>,
        limit: usize,
        depth: usize,
    ) -> Result<(), Error> {
        let limit = end.unwrap_or(limit);
        while self.pos < limit {
            let header = self.header(encoding)?;
            if header.tag == ITEM_END && end.is_none() {
                return Ok(());
            }
            if header.tag >> 16 == 0xFFFE {
                return Err(self.error(format!(
                    "unexpected item tag {:?} among data elements",
                    Tag(header.tag)
                )));
            }
            self.count()?;
            self.path.push(PathStep::Tag(Tag(header.tag)));
            self.element(encoding, &header, limit, depth)?;
            self.path.pop();
        }
        if end.is_none() {
            return Err(self.error(
                "truncated: an item of undefined length has no item delimitation item".to_owned(),
            ));
        }
        Ok(())
    }

    fn element(
        &mut self,
        encoding: Encoding,
        header: &Header,
        limit: usize,
        depth: usize,
    ) -> Result<(), Error> {
        if header.length == UNDEFINED {
            if header.tag == PIXEL_DATA && header.vr != Some(Vr::SQ) {
                return self.fragments(encoding, limit);
            }
            if header.vr == Some(Vr::UN) && encoding != Encoding::ImplicitLittle {
                // PS3.5 6.2.2 (CP-246): such a UN holds Implicit VR Little Endian items, but
                // dicom-rs 0.10 reads them in the file's encoding and goes astray.
                return Err(self.error(
                    "a UN element of undefined length (a sequence in Implicit VR, CP-246) \
                     is not supported by the Part 10 reader"
                        .to_owned(),
                ));
            }
            return self.sequence(encoding, None, limit, depth + 1);
        }
        if header.vr == Some(Vr::SQ) {
            let end = self.pos.saturating_add(header.length as usize);
            if end > limit {
                return self.skip(header.length, limit);
            }
            return self.sequence(encoding, Some(end), limit, depth + 1);
        }
        if header.tag == 0x0008_0005 {
            self.charsets.push((self.pos, header.length as usize));
        }
        if let Some(size) = header.vr.and_then(fixed_size)
            && !(header.length as usize).is_multiple_of(size)
        {
            // dicom-rs reads whole values only and would lose its place in the stream.
            return Err(self.error(format!(
                "a {} value of {} bytes is not a whole number of {size}-byte values",
                header.vr.map_or("", Vr::as_str),
                header.length
            )));
        }
        self.skip(header.length, limit)
    }

    fn sequence(
        &mut self,
        encoding: Encoding,
        end: Option<usize>,
        limit: usize,
        depth: usize,
    ) -> Result<(), Error> {
        if depth > self.limits.max_depth {
            return Err(Error::LimitExceeded {
                what: "sequence nesting",
                limit: self.limits.max_depth,
                path: self.path.clone(),
            });
        }
        let limit = end.unwrap_or(limit);
        let mut index = 0;
        loop {
            if end.is_some() && self.pos >= limit {
                return Ok(());
            }
            let header = self.header(encoding)?;
            match header.tag {
                SEQUENCE_END if end.is_none() => return Ok(()),
                ITEM => {}
                other => {
                    return Err(self.error(format!(
                        "expected an item (FFFE,E000) in a sequence, found {:?}",
                        Tag(other)
                    )));
                }
            }
            self.path.push(PathStep::Item(index));
            if header.length == UNDEFINED {
                self.data_set(encoding, None, limit, depth)?;
            } else {
                let item_end = self.pos.saturating_add(header.length as usize);
                if item_end > limit {
                    return Err(self.error(format!(
                        "an item of {} bytes runs past the end of its sequence",
                        header.length
                    )));
                }
                self.data_set(encoding, Some(item_end), limit, depth)?;
            }
            self.path.pop();
            index += 1;
        }
    }

    /// Encapsulated pixel data: items of defined length up to the sequence delimiter.
    fn fragments(&mut self, encoding: Encoding, limit: usize) -> Result<(), Error> {
        loop {
            let header = self.header(encoding)?;
            match header.tag {
                SEQUENCE_END => return Ok(()),
                ITEM if header.length != UNDEFINED => self.skip(header.length, limit)?,
                other => {
                    return Err(self.error(format!(
                        "expected a pixel data fragment item (FFFE,E000) of defined length, \
                         found {:?} with length {:#X}",
                        Tag(other),
                        header.length
                    )));
                }
            }
        }
    }
}

/// The size of one value of a VR that dicom-rs reads value by value.
fn fixed_size(vr: Vr) -> Option<usize> {
    match vr {
        Vr::US | Vr::SS | Vr::OW => Some(2),
        Vr::UL | Vr::SL | Vr::FL | Vr::OF | Vr::OL | Vr::AT => Some(4),
        Vr::FD | Vr::OD | Vr::SV | Vr::UV | Vr::OV => Some(8),
        _ => None,
    }
}
