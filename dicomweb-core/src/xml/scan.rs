//! Reading start tags without quick-xml's general machinery: the usual `DicomAttribute` and
//! `Value` headers, a light attribute scanner, and small text helpers for the reader.

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::events::BytesStart;

use super::text::attribute_value;
use crate::{Tag, Vr};

/// XML 1.0 end-of-line handling: CR LF and a lone CR become LF (a `&#xD;` reference is not
/// touched: it arrives as a reference, not as text).
pub(super) fn line_ends(text: Cow<'_, str>) -> Cow<'_, str> {
    if memchr::memchr(b'\r', text.as_bytes()).is_none() {
        return text;
    }
    Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// The distinct private creators of one data set, numbered in order of appearance.
#[derive(Default)]
pub(super) struct Creators {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Creators {
    /// The number of `name`, added if new.
    pub(super) fn intern(&mut self, name: &str) -> usize {
        // Private elements come in blocks: the creator of the last one is the likeliest.
        if self.names.last().is_some_and(|c| c == name) {
            return self.names.len() - 1;
        }
        if let Some(&number) = self.index.get(name) {
            return number;
        }
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), self.names.len() - 1);
        self.names.len() - 1
    }

    /// The creators, by number.
    pub(super) fn names(&self) -> &[String] {
        &self.names
    }
}

/// An element's local name (any namespace prefix dropped).
#[inline]
pub(super) fn local<'e>(e: &'e BytesStart<'_>) -> &'e str {
    let name = e.name().into_inner();
    match name.bytes().rposition(|b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

/// The tag and VR of a `DicomAttribute` whose attribute text (`attrs`, everything after the
/// element name) begins ` tag="gggggggg" vr="VR"`, the
/// way dcmtk, Orthanc and this crate write them, read without the general attribute scan; with
/// the creator when the only other attribute is ` privateCreator="…"` (without references).
/// `None` sends the element through the general path.
pub(super) fn usual_header(attrs: &str) -> Option<(Tag, Vr, Option<&str>)> {
    let raw = attrs.as_bytes();
    if raw.len() < 23
        || !raw.starts_with(b" tag=\"")
        || &raw[14..20] != b"\" vr=\""
        || raw[22] != b'"'
    {
        return None;
    }
    let rest = &raw[23..];
    // One more attribute at most: ` keyword="…"` (ignored) or ` privateCreator="…"`.
    let last = |name: &[u8]| {
        rest.strip_prefix(name)
            .and_then(|v| v.strip_suffix(b"\""))
            .filter(|v| {
                !v.iter()
                    .any(|b| matches!(b, b'"' | b'&' | b'\t' | b'\n' | b'\r'))
            })
    };
    let creator = if rest.is_empty() || last(b" keyword=\"").is_some() {
        None
    } else if let Some(value) = last(b" privateCreator=\"") {
        Some(&attrs[raw.len() - 1 - value.len()..raw.len() - 1])
    } else {
        return None;
    };
    let mut tag = 0u32;
    for &b in &raw[6..14] {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'F' => b - b'A' + 10,
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        tag = (tag << 4) | u32::from(digit);
    }
    let vr = Vr::from_code([raw[20], raw[21]])?;
    Some((Tag(tag), vr, creator))
}

/// Up to 19 ASCII digits as a number.
pub(super) fn small_decimal(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0usize, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + usize::from(b - b'0'))
    })
}

/// An element's attributes as (local name, unescaped value).
///
/// A direct scan of the start tag's attribute text, lighter than quick-xml's attribute
/// iterator: every name must be followed by `=` and a quoted value.
pub(super) fn attributes<'e>(
    e: &'e BytesStart<'_>,
) -> impl Iterator<Item = Result<(&'e str, Cow<'e, str>), String>> {
    let raw = e.attributes_raw();
    let mut at = 0;
    std::iter::from_fn(move || {
        let bytes = raw.as_bytes();
        while at < bytes.len() && is_xml_space(bytes[at]) {
            at += 1;
        }
        if at == bytes.len() || &raw[at..] == "/" {
            return None;
        }
        let start = at;
        let parsed = scan_attribute(bytes, start);
        let Some((name_end, value_start, value_end)) = parsed else {
            at = bytes.len();
            return Some(Err(format!(
                "malformed attribute {:?}",
                shorten(&raw[start..])
            )));
        };
        at = value_end + 1;
        let name = &raw[start..name_end];
        let local = match name.bytes().rposition(|b| b == b':') {
            Some(colon) => &name[colon + 1..],
            None => name,
        };
        let value = &raw[value_start..value_end];
        Some(attribute_value(Cow::Borrowed(value)).map(|value| (local, value)))
    })
}

/// One `name = "value"` from `start`: the end of the name and the bounds of the value.
fn scan_attribute(bytes: &[u8], start: usize) -> Option<(usize, usize, usize)> {
    let mut i = start;
    while i < bytes.len() && bytes[i] != b'=' && !is_xml_space(bytes[i]) {
        i += 1;
    }
    let name_end = i;
    while i < bytes.len() && is_xml_space(bytes[i]) {
        i += 1;
    }
    if name_end == start || bytes.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    while i < bytes.len() && is_xml_space(bytes[i]) {
        i += 1;
    }
    let quote = *bytes.get(i).filter(|q| matches!(q, b'"' | b'\''))?;
    let value_start = i + 1;
    let len = memchr::memchr(quote, &bytes[value_start..])?;
    Some((name_end, value_start, value_start + len))
}

pub(super) fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

pub(super) fn shorten(text: &str) -> &str {
    let trimmed = text.trim();
    match trimmed.char_indices().nth(40) {
        Some((i, _)) => &trimmed[..i],
        None => trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(content: &str) -> Vec<Result<(String, String), String>> {
        let name_len = content.find(' ').unwrap_or(content.len());
        let e = BytesStart::from_content(content, name_len);
        attributes(&e)
            .map(|a| a.map(|(k, v)| (k.to_owned(), v.into_owned())))
            .collect()
    }

    #[test]
    fn scans_attributes() {
        let ok = |k: &str, v: &str| Ok((k.to_owned(), v.to_owned()));
        assert_eq!(
            scan(
                "DicomAttribute tag='00100010'  vr = \"PN\"\n xml:space=\"preserve\" x=\"a&amp;b\""
            ),
            [
                ok("tag", "00100010"),
                ok("vr", "PN"),
                ok("space", "preserve"),
                ok("x", "a&b")
            ]
        );
        assert_eq!(scan("BulkData uri=\"u\"/"), [ok("uri", "u")]);
        assert!(scan("Value number=1").iter().all(Result::is_err));
        assert!(scan("Value number").iter().all(Result::is_err));
        assert!(scan("Value number=\"1").iter().all(Result::is_err));
        assert!(scan("Value =\"1\"").iter().all(Result::is_err));
        assert!(scan("Value x=\"&lol;\"").iter().all(Result::is_err));
        assert!(scan("Value").is_empty());
    }
}
