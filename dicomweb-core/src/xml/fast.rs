//! The fast path of the Native DICOM Model reader: a byte-level scanner for documents shaped
//! the way servers and this crate write them.
//!
//! It reads an optional XML declaration, the `NativeDicomModel` root (its attributes are not
//! read), and `DicomAttribute`s in ascending tag order whose start tags are the usual
//! ` tag="gggggggg" vr="VR"` with an optional ` keyword="…"`, holding `<Value number="n">`,
//! `<PersonName number="n">` with its groups and components, `<Item number="n">`,
//! `<InlineBinary>` or `<BulkData uri="…"/>` (Orthanc's `URI` too), separated by whitespace.
//! The document is checked to be UTF-8 once, and each value's text is taken from it as it
//! stands (references resolved): no event objects, no per-name UTF-8 checks, no allocation but
//! the data sets and what the values keep.
//!
//! Anything else (a comment, CDATA, a carriage return in text, a namespace
//! prefix, other attributes or spellings, a private creator, tags out of order, a limit
//! reached, malformed markup) makes it give up with `None`, and the general reader (quick-xml
//! events) reads the document instead. Values go through the same [`OpenAttribute`] as there,
//! so the fast path decides nothing on its own: for every document it reads, its result equals
//! the general reader's (a property test and the `xml_read` fuzz target check this), and every
//! error comes from the general reader.

use std::borrow::Cow;

use super::scan::{is_xml_space, small_decimal, usual_header};
use super::text::{attribute_value, resolve_reference};
use super::values::OpenAttribute;
use crate::{DataSet, Element, PersonName, ReadOptions, Tag, Text};

/// Nesting deeper than this is left to the general reader, which nests on the heap: the fast
/// path recurses once per sequence item.
const MAX_FAST_DEPTH: usize = 32;

/// The name components of a `PersonName` group, in the order their `^`-joined text has them.
const COMPONENTS: [&[u8]; 5] = [
    b"FamilyName",
    b"GivenName",
    b"MiddleName",
    b"NamePrefix",
    b"NameSuffix",
];

/// Reads the document `utf8` (its encoding already settled), or `None` when the general reader
/// has to.
pub(super) fn data_set(utf8: &[u8], options: &ReadOptions) -> Option<DataSet> {
    let text = std::str::from_utf8(utf8).ok()?;
    let mut scanner = Scanner {
        text,
        bytes: utf8,
        pos: 0,
        options,
        max_number: utf8.len().max(1),
        elements: 0,
    };
    scanner.prolog()?;
    let ds = scanner.data_set(1, b"</NativeDicomModel>")?;
    scanner.skip_space();
    (scanner.pos == utf8.len()).then_some(ds)
}

struct Scanner<'a, 'o> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    options: &'o ReadOptions,
    /// The largest `number=` the general reader accepts.
    max_number: usize,
    /// `DicomAttribute`s read so far, at every depth.
    elements: usize,
}

impl<'a> Scanner<'a, '_> {
    fn skip_space(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if !is_xml_space(b) {
                return;
            }
            self.pos += 1;
        }
    }

    /// Reads `literal` when it comes next.
    #[inline]
    fn eat(&mut self, literal: &[u8]) -> bool {
        let found = self
            .bytes
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(literal));
        if found {
            self.pos += literal.len();
        }
        found
    }

    /// The XML declaration, if any, and the root's start tag.
    fn prolog(&mut self) -> Option<()> {
        if self.eat(b"<?xml ") {
            let rest = self.bytes.get(self.pos..)?;
            let end = memchr::memmem::find(rest, b"?>")?;
            let plain = rest[..end].iter().all(|&b| {
                b.is_ascii_alphanumeric() || matches!(b, b' ' | b'=' | b'"' | b'\'' | b'.' | b'-')
            });
            if !plain {
                return None;
            }
            self.pos += end + 2;
        }
        self.skip_space();
        if !self.eat(b"<NativeDicomModel") {
            return None;
        }
        if !matches!(self.bytes.get(self.pos), Some(&b) if b == b'>' || is_xml_space(b)) {
            return None;
        }
        // Up to the `>` that ends the start tag, outside quoted attribute values.
        let mut quote = None;
        loop {
            let b = *self.bytes.get(self.pos)?;
            self.pos += 1;
            match quote {
                None if b == b'>' => break,
                None if b == b'<' => return None,
                None if b == b'"' || b == b'\'' => quote = Some(b),
                Some(q) if b == q => quote = None,
                _ => {}
            }
        }
        // `<NativeDicomModel … />`, an empty document, is rare: the general reader's.
        (self.bytes.get(self.pos - 2) != Some(&b'/')).then_some(())
    }

    /// An element name after its `<`.
    fn name(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b'>' || b == b'/' || is_xml_space(b) {
                break;
            }
            self.pos += 1;
        }
        &self.bytes[start..self.pos]
    }

    /// The rest of a start tag after its name: the attribute text without the whitespace that
    /// may end it (Orthanc writes `<DicomAttribute … />`), and whether the element is empty
    /// (`/>`).
    fn start_tag_rest(&mut self) -> Option<(&'a str, bool)> {
        let rest = self.bytes.get(self.pos..)?;
        let end = memchr::memchr2(b'>', b'<', rest)?;
        if rest[end] != b'>' {
            return None;
        }
        let inner = self.text.get(self.pos..self.pos + end)?;
        self.pos += end + 1;
        let (attrs, empty) = match inner.strip_suffix('/') {
            Some(attrs) => (attrs, true),
            None => (inner, false),
        };
        Some((attrs.trim_end_matches([' ', '\t', '\n', '\r']), empty))
    }

    /// The text content of the element `name` just opened, through its end tag; references
    /// resolved as the general reader resolves them.
    #[inline]
    fn text(&mut self, name: &[u8]) -> Option<Cow<'a, str>> {
        let rest = self.bytes.get(self.pos..)?;
        let len = memchr::memchr(b'<', rest)?;
        let close = &rest[len..];
        let closed = close.get(..2) == Some(b"</")
            && close.get(2..2 + name.len()) == Some(name)
            && close.get(2 + name.len()) == Some(&b'>');
        if !closed {
            return None;
        }
        let text = self.text.get(self.pos..self.pos + len)?;
        self.pos += len + 3 + name.len();
        match memchr::memchr2(b'&', b'\r', text.as_bytes()) {
            None => Some(Cow::Borrowed(text)),
            Some(_) => resolve_references(text).map(Cow::Owned),
        }
    }

    /// The usual ` number="n"` of `Value`, `PersonName` and `Item`.
    fn number(&self, attrs: &str) -> Option<usize> {
        let digits = attrs.strip_prefix(" number=\"")?.strip_suffix('"')?;
        small_decimal(digits.as_bytes()).filter(|n| (1..=self.max_number).contains(n))
    }

    /// The `DicomAttribute`s of a data set at nesting `level` (1 for the root), through the
    /// end tag `close`.
    fn data_set(&mut self, level: usize, close: &[u8]) -> Option<DataSet> {
        if level > MAX_FAST_DEPTH {
            return None;
        }
        let limits = self.options.limits;
        let mut elements: Vec<(Tag, Element)> = Vec::new();
        loop {
            self.skip_space();
            if self.eat(close) {
                break;
            }
            if !self.eat(b"<DicomAttribute") {
                return None;
            }
            let (attrs, empty) = self.start_tag_rest()?;
            let (tag, vr, None) = usual_header(attrs)? else {
                return None;
            };
            self.elements += 1;
            if self.elements > limits.max_elements || level > limits.max_depth {
                return None;
            }
            if elements.last().is_some_and(|(last, _)| *last >= tag) {
                return None;
            }
            let mut open = OpenAttribute::new(tag, vr, None);
            if !empty {
                self.attribute_body(&mut open, level)?;
            }
            elements.push((tag, open.finish()));
        }
        Some(DataSet::from_sorted(elements))
    }

    /// The children of a `DicomAttribute`, through `</DicomAttribute>`.
    fn attribute_body(&mut self, open: &mut OpenAttribute, level: usize) -> Option<()> {
        let strict = self.options.strict;
        loop {
            self.skip_space();
            if self.eat(b"</DicomAttribute>") {
                return Some(());
            }
            if !self.eat(b"<") {
                return None;
            }
            let name = self.name();
            let (attrs, empty) = self.start_tag_rest()?;
            match name {
                b"Value" => {
                    let number = self.number(attrs)?;
                    let text = match empty {
                        true => None,
                        false => Some(self.text(b"Value")?),
                    };
                    open.add_value(number, text, strict).ok()?;
                }
                b"PersonName" => {
                    let number = self.number(attrs)?;
                    let name = match empty {
                        true => None,
                        false => self.person_name()?,
                    };
                    open.add_name(number, name).ok()?;
                }
                b"Item" => {
                    let number = self.number(attrs)?;
                    if !open.accepts_items(strict) {
                        return None;
                    }
                    let item = match empty {
                        true => DataSet::new(),
                        false => self.data_set(level + 1, b"</Item>")?,
                    };
                    open.add_item(number, item).ok()?;
                }
                b"InlineBinary" if attrs.is_empty() => {
                    let text = match empty {
                        true => Cow::Borrowed(""),
                        false => self.text(b"InlineBinary")?,
                    };
                    open.add_inline_binary(&text).ok()?;
                }
                b"BulkData" if empty => {
                    // ` uri="…"`, or Orthanc's ` URI="…"`.
                    let value = attrs
                        .strip_prefix(" uri=\"")
                        .or_else(|| attrs.strip_prefix(" URI=\""));
                    let uri = value?.strip_suffix('"')?;
                    if uri.bytes().any(|b| b == b'"' || b == b'<') {
                        return None;
                    }
                    let uri = attribute_value(Cow::Borrowed(uri)).ok()?;
                    open.add_bulk_data(uri.into_owned()).ok()?;
                }
                _ => return None,
            }
        }
    }

    /// A `PersonName`'s groups through `</PersonName>`; `None` inside when all are absent.
    fn person_name(&mut self) -> Option<Option<PersonName>> {
        let mut name = PersonName::default();
        loop {
            self.skip_space();
            if self.eat(b"</PersonName>") {
                return Some((!name.is_empty()).then_some(name));
            }
            if !self.eat(b"<") {
                return None;
            }
            let group = self.name();
            let (attrs, empty) = self.start_tag_rest()?;
            if !attrs.is_empty() {
                return None;
            }
            let slot = match group {
                b"Alphabetic" => &mut name.alphabetic,
                b"Ideographic" => &mut name.ideographic,
                b"Phonetic" => &mut name.phonetic,
                _ => return None,
            };
            *slot = Some(match empty {
                true => Text::new(),
                false => self.name_group(group)?,
            });
        }
    }

    /// One component group through its end tag `</group>`: the `^`-joined text of its
    /// components up to the last one present, as the general reader joins them.
    fn name_group(&mut self, group: &[u8]) -> Option<Text> {
        let mut parts: [Option<Cow<'a, str>>; 5] = Default::default();
        loop {
            self.skip_space();
            if self.eat(b"</") {
                let closed = self.eat(group) && self.eat(b">");
                if !closed {
                    return None;
                }
                break;
            }
            if !self.eat(b"<") {
                return None;
            }
            let component = self.name();
            let (attrs, empty) = self.start_tag_rest()?;
            let index = COMPONENTS.iter().position(|c| *c == component)?;
            if !attrs.is_empty() {
                return None;
            }
            parts[index] = Some(match empty {
                true => Cow::Borrowed(""),
                false => self.text(component)?,
            });
        }
        let Some(last) = parts.iter().rposition(Option::is_some) else {
            return Some(Text::new());
        };
        let mut joined = String::new();
        for (i, part) in parts[..=last].iter().enumerate() {
            if i > 0 {
                joined.push('^');
            }
            joined.push_str(part.as_deref().unwrap_or(""));
        }
        Some(Text::from(joined))
    }
}

/// Text with its references (`&amp;`, `&#x41;`) resolved; `None` for a carriage return (which
/// XML's end-of-line handling changes) or a reference the general reader refuses.
#[cold]
fn resolve_references(text: &str) -> Option<String> {
    if text.contains('\r') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut pieces = text.split('&');
    out.push_str(pieces.next()?);
    for piece in pieces {
        let (name, after) = piece.split_once(';')?;
        out.push(resolve_reference(name).ok()?);
        out.push_str(after);
    }
    Some(out)
}
