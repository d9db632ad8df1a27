//! The canonical DICOM JSON writer.

use std::io::Write as _;

use super::binary::encode_into;
use crate::{DataSet, Document, Element, Number, PersonName, Tag, Value};

/// Writes a document: a data set as an object, an array as an array. Compact, canonical.
pub fn write(doc: &Document) -> Vec<u8> {
    let mut out = Vec::new();
    match doc {
        Document::Single(ds) => write_data_set(ds, &mut out),
        Document::Array(all) => write_data_sets(all, &mut out),
    }
    out
}

/// Appends one data set as a JSON object: upper-case keys in tag order, `vr` first.
pub fn write_data_set(ds: &DataSet, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (tag, element)) in ds.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_key(*tag, out);
        write_element(element, out);
    }
    out.push(b'}');
}

/// Appends data sets as a JSON array (a QIDO-RS or metadata response body).
pub fn write_data_sets(all: &[DataSet], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, ds) in all.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_data_set(ds, out);
    }
    out.push(b']');
}

/// Writes a document as indented JSON (two spaces), for people to read. Same content as
/// [`write()`].
pub fn write_pretty(doc: &Document) -> Vec<u8> {
    super::pretty::indent(&write(doc))
}

fn write_key(tag: Tag, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'"');
    for shift in (0..8).rev() {
        out.push(HEX[((tag.0 >> (shift * 4)) & 0xF) as usize]);
    }
    out.extend_from_slice(b"\":");
}

fn write_element(element: &Element, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"vr\":\"");
    out.extend_from_slice(element.vr.as_str().as_bytes());
    out.push(b'"');
    match &element.value {
        Value::Empty => {}
        Value::Strings(values) => write_values(values, out, |s, out| write_str(s, out)),
        Value::Numbers(values) => write_values(values, out, write_number),
        Value::Tags(values) => write_values(values, out, |tag, out| {
            write_key(*tag, out);
            out.pop(); // the key writer's ':'
        }),
        Value::PersonNames(values) => write_values(values, out, write_person_name),
        Value::Items(items) if items.is_empty() => {}
        Value::Items(items) => {
            out.extend_from_slice(b",\"Value\":");
            write_data_sets(items, out);
        }
        Value::InlineBinary(bytes) => {
            out.extend_from_slice(b",\"InlineBinary\":\"");
            encode_into(bytes, out);
            out.push(b'"');
        }
        Value::BulkDataUri(uri) => {
            out.extend_from_slice(b",\"BulkDataURI\":");
            write_str(uri, out);
        }
    }
    out.push(b'}');
}

fn write_values<T>(
    values: &[Option<T>],
    out: &mut Vec<u8>,
    mut write_one: impl FnMut(&T, &mut Vec<u8>),
) {
    if values.is_empty() {
        return;
    }
    out.extend_from_slice(b",\"Value\":[");
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match value {
            Some(value) => write_one(value, out),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b']');
}

fn write_number(number: &Number, out: &mut Vec<u8>) {
    match number {
        Number::Text(text) if is_json_number(text) => out.extend_from_slice(text.as_bytes()),
        Number::Text(text) => write_str(text, out),
        Number::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Number::UInt(v) => {
            let _ = write!(out, "{v}");
        }
        Number::Float(v) if v.is_nan() => out.extend_from_slice(b"\"NaN\""),
        Number::Float(v) if v.is_infinite() && *v > 0.0 => out.extend_from_slice(b"\"Infinity\""),
        Number::Float(v) if v.is_infinite() => out.extend_from_slice(b"\"-Infinity\""),
        Number::Float(v) => {
            // serde_json writes a finite f64 in its shortest exact form (ryu); writing to a
            // Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, v);
        }
    }
}

fn write_person_name(name: &PersonName, out: &mut Vec<u8>) {
    out.push(b'{');
    let groups = [
        ("Alphabetic", &name.alphabetic),
        ("Ideographic", &name.ideographic),
        ("Phonetic", &name.phonetic),
    ];
    let mut first = true;
    for (key, group) in groups {
        if let Some(text) = group {
            if !first {
                out.push(b',');
            }
            first = false;
            out.push(b'"');
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            write_str(text, out);
        }
    }
    out.push(b'}');
}

/// Whether `text` is one JSON number token (RFC 8259 §6), so it can be written bare.
pub(super) fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Writes a JSON string with the escapes RFC 8259 requires (and no others).
pub(super) fn write_str(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0x00..=0x1F => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xF)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_json_number_tokens() {
        for ok in ["0", "-0", "12", "338.671600", "-1.5e-3", "1E+10", "0.0"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "", "-", "+1", "01", ".5", "1.", "1e", "1e+", " 1", "1 ", "NaN", "1.5.2", "0x1",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn escapes_what_json_requires() {
        let mut out = Vec::new();
        write_str("a\"b\\c\n\u{1}é山", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\n\\u0001é山\""
        );
    }
}
