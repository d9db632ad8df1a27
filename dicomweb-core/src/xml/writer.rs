//! The writer: a data set as one Native DICOM Model document, in UTF-8.

use std::io::Write as _;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::NAMESPACE;
use super::private::Creators;
use super::text::escape_into;
use crate::{DataSet, Element, Number, PersonName, Tag, Value, dictionary};

const COMPONENTS: [&str; 5] = [
    "FamilyName",
    "GivenName",
    "MiddleName",
    "NamePrefix",
    "NameSuffix",
];

/// Writes a data set as a Native DICOM Model document (UTF-8, with the XML declaration, the
/// standard's namespace and `xml:space="preserve"`).
///
/// Keywords come from the data dictionary; private data elements whose creator is in the data
/// set are written as `gggg00ee` with `privateCreator`, as dcmtk and dcm4che do. A BulkDataURI
/// `urn:uuid:…` becomes `BulkData uuid=`. [`read`](super::read) gives the same data set back.
pub fn write(ds: &DataSet) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + ds.total_elements() * 96);
    write_to(ds, &mut out);
    out
}

/// Like [`write()`], appending to `out`.
pub fn write_to(ds: &DataSet, out: &mut Vec<u8>) {
    out.extend_from_slice(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<NativeDicomModel xml:space=\"preserve\" xmlns=\"",
    );
    out.extend_from_slice(NAMESPACE.as_bytes());
    out.extend_from_slice(b"\">\n");
    data_set(ds, out);
    out.extend_from_slice(b"</NativeDicomModel>\n");
}

fn data_set(ds: &DataSet, out: &mut Vec<u8>) {
    let creators = Creators::of(ds);
    for (&tag, element) in ds {
        attribute(tag, element, &creators, out);
    }
}

fn attribute(tag: Tag, element: &Element, creators: &Creators<'_>, out: &mut Vec<u8>) {
    let private = if creators.is_empty() {
        None
    } else {
        creators.of_element(tag)
    };
    let written = match private {
        Some((_, true)) => Tag(tag.0 & 0xFFFF_00FF),
        _ => tag,
    };
    out.extend_from_slice(b"<DicomAttribute tag=\"");
    hex8(written.0, out);
    out.extend_from_slice(b"\" vr=\"");
    out.extend_from_slice(element.vr.as_str().as_bytes());
    out.push(b'"');
    if let Some((creator, _)) = private {
        out.extend_from_slice(b" privateCreator=\"");
        escape_into(out, creator, true);
        out.push(b'"');
    } else if !tag.is_private()
        && let Some(keyword) = dictionary::keyword(tag)
    {
        out.extend_from_slice(b" keyword=\"");
        out.extend_from_slice(keyword.as_bytes());
        out.push(b'"');
    }
    if element.value.multiplicity() == 0 {
        out.extend_from_slice(b"/>\n");
        return;
    }
    out.extend_from_slice(b">\n");
    match &element.value {
        Value::Empty => {}
        Value::Strings(values) => {
            for (i, value) in values.iter().enumerate() {
                value_element(i + 1, value.as_deref(), out, |text, out| {
                    escape_into(out, text, false)
                });
            }
        }
        Value::Numbers(values) => {
            for (i, value) in values.iter().enumerate() {
                value_element(i + 1, value.as_ref(), out, number);
            }
        }
        Value::Tags(values) => {
            for (i, value) in values.iter().enumerate() {
                value_element(i + 1, value.as_ref(), out, |tag, out| hex8(tag.0, out));
            }
        }
        Value::PersonNames(values) => {
            for (i, value) in values.iter().enumerate() {
                person_name(i + 1, value.as_ref(), out);
            }
        }
        Value::Items(items) => {
            for (i, item) in items.iter().enumerate() {
                out.extend_from_slice(b"<Item number=\"");
                decimal(i + 1, out);
                out.extend_from_slice(b"\">\n");
                data_set(item, out);
                out.extend_from_slice(b"</Item>\n");
            }
        }
        Value::InlineBinary(bytes) => {
            out.extend_from_slice(b"<InlineBinary>");
            base64(bytes, out);
            out.extend_from_slice(b"</InlineBinary>\n");
        }
        Value::BulkDataUri(uri) => {
            let (name, value) = match uri.strip_prefix("urn:uuid:") {
                Some(uuid) => (&b"uuid"[..], uuid),
                None => (&b"uri"[..], uri.as_str()),
            };
            out.extend_from_slice(b"<BulkData ");
            out.extend_from_slice(name);
            out.extend_from_slice(b"=\"");
            escape_into(out, value, true);
            out.extend_from_slice(b"\"/>\n");
        }
    }
    out.extend_from_slice(b"</DicomAttribute>\n");
}

/// `<Value number="n">…</Value>`, or `<Value number="n"/>` for an empty value.
fn value_element<T: ?Sized>(
    number: usize,
    value: Option<&T>,
    out: &mut Vec<u8>,
    content: impl FnOnce(&T, &mut Vec<u8>),
) {
    out.extend_from_slice(b"<Value number=\"");
    decimal(number, out);
    match value {
        Some(value) => {
            out.extend_from_slice(b"\">");
            let start = out.len();
            content(value, out);
            if out.len() == start {
                // An empty string is an empty value in XML.
                out.truncate(start - 1);
                out.extend_from_slice(b"/>\n");
            } else {
                out.extend_from_slice(b"</Value>\n");
            }
        }
        None => out.extend_from_slice(b"\"/>\n"),
    }
}

fn number(value: &Number, out: &mut Vec<u8>) {
    match value {
        Number::Text(text) => escape_into(out, text, false),
        Number::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Number::UInt(v) => {
            let _ = write!(out, "{v}");
        }
        Number::Float(v) if v.is_nan() => out.extend_from_slice(b"NaN"),
        Number::Float(v) if *v == f64::INFINITY => out.extend_from_slice(b"INF"),
        Number::Float(v) if *v == f64::NEG_INFINITY => out.extend_from_slice(b"-INF"),
        // Debug is the shortest text that parses back to the same f64, with an exponent
        // for very large and very small magnitudes.
        Number::Float(v) => {
            let _ = write!(out, "{v:?}");
        }
    }
}

fn person_name(number: usize, name: Option<&PersonName>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<PersonName number=\"");
    decimal(number, out);
    let groups = name.map_or([None; 3], |n| {
        [
            n.alphabetic.as_deref(),
            n.ideographic.as_deref(),
            n.phonetic.as_deref(),
        ]
    });
    if groups.iter().all(Option::is_none) {
        out.extend_from_slice(b"\"/>\n");
        return;
    }
    out.extend_from_slice(b"\">\n");
    for (group, label) in groups.iter().zip(["Alphabetic", "Ideographic", "Phonetic"]) {
        let Some(group) = group else {
            continue;
        };
        out.push(b'<');
        out.extend_from_slice(label.as_bytes());
        out.extend_from_slice(b">\n");
        // Every component the text has, empty ones included, so that `^^^^` and
        // `Doe^John^` come back as they were.
        for (component, part) in COMPONENTS.iter().zip(group.splitn(5, '^')) {
            out.push(b'<');
            out.extend_from_slice(component.as_bytes());
            out.push(b'>');
            escape_into(out, part, false);
            out.extend_from_slice(b"</");
            out.extend_from_slice(component.as_bytes());
            out.extend_from_slice(b">\n");
        }
        out.extend_from_slice(b"</");
        out.extend_from_slice(label.as_bytes());
        out.extend_from_slice(b">\n");
    }
    out.extend_from_slice(b"</PersonName>\n");
}

fn base64(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    if let Some(len) = base64::encoded_len(bytes.len(), true) {
        out.resize(start + len, 0);
        if STANDARD.encode_slice(bytes, &mut out[start..]).is_ok() {
            return;
        }
        out.truncate(start);
    }
    out.extend_from_slice(STANDARD.encode(bytes).as_bytes());
}

fn hex8(value: u32, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for shift in (0..8).rev() {
        out.push(HEX[((value >> (shift * 4)) & 0xF) as usize]);
    }
}

fn decimal(value: usize, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = value;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}
