//! The document's character encoding: UTF-8 is parsed in place, anything else is decoded first.

use std::borrow::Cow;

use quick_xml::encoding::{DetectedEncoding, decode, detect_encoding};
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::{Error, TagPath};

/// The document as UTF-8: borrowed when it already was UTF-8 (BOM removed), decoded otherwise.
pub(super) fn to_utf8(bytes: &[u8]) -> Result<Cow<'_, [u8]>, Error> {
    let detected = detect_encoding(bytes);
    match detected {
        Some(
            found @ (DetectedEncoding::Utf16BeBom
            | DetectedEncoding::Utf16LeBom
            | DetectedEncoding::Utf16BeLike
            | DetectedEncoding::Utf16LeLike),
        ) => {
            let body = &bytes[found.bom_len()..];
            let text = decode(body, found.encoding()).map_err(|_| {
                error(format!(
                    "the document is not valid {}",
                    found.encoding().name()
                ))
            })?;
            Ok(Cow::Owned(text.into_owned().into_bytes()))
        }
        Some(DetectedEncoding::Utf8Bom) => declared(&bytes[3..]),
        _ => declared(bytes),
    }
}

/// Decodes an ASCII-compatible document according to its XML declaration.
fn declared(bytes: &[u8]) -> Result<Cow<'_, [u8]>, Error> {
    if !bytes.starts_with(b"<?xml") || declares_utf8(bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut probe = Reader::from_reader(bytes);
    let decl = match probe.read_event() {
        Ok(Event::Decl(decl)) => decl,
        // Not a declaration after all (`<?xml-stylesheet …?>`), or a broken one that the real
        // parse will report with its position.
        _ => return Ok(Cow::Borrowed(bytes)),
    };
    let label = match decl.encoding() {
        None => return Ok(Cow::Borrowed(bytes)),
        Some(Ok(label)) => label.into_owned(),
        Some(Err(e)) => return Err(error(format!("unreadable XML declaration: {e}"))),
    };
    let Some(encoding) = decl.encoder() else {
        return Err(error(format!(
            "unsupported encoding {label:?} in the XML declaration"
        )));
    };
    let name = encoding.name();
    if name == "UTF-8" || name.starts_with("UTF-16") {
        // A document that declares UTF-16 but has no UTF-16 bytes is read as what it is.
        return Ok(Cow::Borrowed(bytes));
    }
    if name == "windows-1252" && !label.contains("1252") {
        // WHATWG maps ISO-8859-1 and US-ASCII to windows-1252; DICOM's ISO_IR 100 is the real
        // Latin-1, where every byte is the code point of the same number.
        return Ok(Cow::Owned(latin1(bytes)));
    }
    let text = decode(bytes, encoding).map_err(|_| {
        error(format!(
            "the document is not valid {label} (declared encoding)"
        ))
    })?;
    Ok(Cow::Owned(text.into_owned().into_bytes()))
}

/// Whether the declaration is the usual `<?xml version="1.0" encoding="UTF-8"?>` (any case,
/// either quote), recognised without a full parse.
fn declares_utf8(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(100)];
    let Some(end) = memchr::memmem::find(head, b"?>") else {
        return false;
    };
    let decl = &head[..end];
    let Some(at) = memchr::memmem::find(decl, b"encoding") else {
        return true; // no encoding named: UTF-8
    };
    let value = decl[at + 8..].trim_ascii_start();
    let Some(value) = value.strip_prefix(b"=").map(<[u8]>::trim_ascii_start) else {
        return false;
    };
    matches!(value.get(..7), Some(v) if v[0] == v[6] && matches!(v[0], b'"' | b'\'') && v[1..6].eq_ignore_ascii_case(b"utf-8"))
}

/// ISO-8859-1 to UTF-8.
fn latin1(bytes: &[u8]) -> Vec<u8> {
    let high = bytes.iter().filter(|&&b| b >= 0x80).count();
    let mut out = Vec::with_capacity(bytes.len() + high);
    for &b in bytes {
        if b < 0x80 {
            out.push(b);
        } else {
            out.push(0xC0 | (b >> 6));
            out.push(0x80 | (b & 0x3F));
        }
    }
    out
}

fn error(message: String) -> Error {
    Error::Xml {
        path: TagPath::root(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_borrowed_and_bom_dropped() {
        let doc = b"\xEF\xBB\xBF<?xml version=\"1.0\"?><a/>";
        assert!(matches!(to_utf8(doc).unwrap(), Cow::Borrowed(b) if b.starts_with(b"<?xml")));
        let plain = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><a/>";
        assert!(matches!(to_utf8(plain).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn usual_declarations_are_recognised_quickly() {
        assert!(declares_utf8(
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>"
        ));
        assert!(declares_utf8(
            b"<?xml version='1.0' encoding = 'utf-8' ?><a/>"
        ));
        assert!(declares_utf8(b"<?xml version=\"1.0\"?><a/>"));
        assert!(!declares_utf8(
            b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>"
        ));
        assert!(!declares_utf8(
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>"
        ));
        assert!(!declares_utf8(
            b"<?xml version=\"1.0\" encoding=\"UTF-8'?><a/>"
        ));
        assert!(!declares_utf8(b"<?xml version=\"1.0\" encoding="));
    }

    #[test]
    fn latin1_is_true_latin1() {
        let doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>J\xF6rg \x80</a>";
        let utf8 = to_utf8(doc).unwrap();
        let text = std::str::from_utf8(&utf8).unwrap();
        assert!(text.ends_with("<a>J\u{f6}rg \u{80}</a>"), "{text}");
    }

    #[test]
    fn other_declared_encodings_decode() {
        let doc = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x80</a>";
        let text = String::from_utf8(to_utf8(doc).unwrap().into_owned()).unwrap();
        assert!(text.ends_with("<a>\u{20ac}</a>"), "{text}");
    }

    #[test]
    fn utf16_with_bom_decodes() {
        let mut doc = vec![0xFF, 0xFE];
        for unit in "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>é</a>".encode_utf16() {
            doc.extend_from_slice(&unit.to_le_bytes());
        }
        let text = String::from_utf8(to_utf8(&doc).unwrap().into_owned()).unwrap();
        assert!(text.ends_with("<a>é</a>"), "{text}");
    }

    #[test]
    fn unknown_encoding_is_an_error() {
        let doc = b"<?xml version=\"1.0\" encoding=\"x-klingon\"?><a/>";
        let err = to_utf8(doc).unwrap_err().to_string();
        assert!(err.contains("x-klingon"), "{err}");
    }
}
