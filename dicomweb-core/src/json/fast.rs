//! The fast path of the DICOM JSON reader: a byte-level parser for documents shaped the way
//! servers write them.
//!
//! It reads data sets with keys in ascending tag order, elements whose members are `vr` and at
//! most one of `Value`, `InlineBinary` or `BulkDataURI` (in either order), and the value shapes
//! each VR usually carries. Strings without escapes become slices of the document's buffer, so
//! reading allocates once per data set and once per multi-valued or person-name element, not
//! once per string.
//!
//! Anything else (an unknown member, a missing `vr`, keys out of order, a number where a string
//! belongs, a limit reached, malformed JSON) makes it give up with `None`, and the general
//! serde-based reader reads the document instead: it accepts every variation the module docs list
//! and says exactly where and what is wrong. So the fast path decides nothing on its own; for every
//! document it reads, its result equals the general reader's (a property test and a fuzz target
//! check this), and every error comes from the general reader.

use bytes::Bytes;

use super::binary;
use super::read::hex_tag;
use crate::{
    DataSet, Document, Element, Number, PersonName, ReadOptions, Tag, Text, Value, ValueKind,
    Values, Vr,
};

/// Reads `source`, or `None` when the general reader has to.
pub(super) fn document(source: &Text, options: &ReadOptions) -> Option<Document> {
    let mut reader = Reader {
        text: source.as_str(),
        bytes: source.as_bytes(),
        pos: 0,
        source,
        options,
        depth: 0,
        elements: 0,
        sizes: Vec::new(),
    };
    let document = match reader.peek()? {
        b'{' => Document::Single(reader.data_set()?),
        b'[' => {
            reader.pos += 1;
            let mut all = Vec::new();
            reader.list(|r| {
                if r.peek()? != b'{' {
                    return None;
                }
                let start = r.pos;
                all.push(r.data_set()?);
                if all.len() == 1 {
                    // The data sets of one answer are alike: room for as many as the first
                    // one's length fits in the rest, so that the list is not copied as it
                    // grows (a QIDO-RS answer holds thousands).
                    let rest = r.bytes.len().saturating_sub(r.pos);
                    all.reserve(rest / (r.pos - start).max(64) + 1);
                }
                Some(())
            })?;
            if all.capacity() > all.len() + all.len() / 4 {
                all.shrink_to_fit();
            }
            Document::Array(all)
        }
        _ => return None,
    };
    reader.skip_whitespace();
    (reader.pos == reader.bytes.len()).then_some(document)
}

/// A JSON string's text: borrowed from the document, or unescaped into a string of its own.
enum JsonStr<'a> {
    Plain(&'a str),
    Unescaped(String),
}

impl JsonStr<'_> {
    fn as_str(&self) -> &str {
        match self {
            JsonStr::Plain(text) => text,
            JsonStr::Unescaped(text) => text,
        }
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    source: &'a Text,
    options: &'a ReadOptions,
    /// Nesting depth of the data set being read (a top-level data set is 1).
    depth: usize,
    /// Elements read so far, at every depth.
    elements: usize,
    /// The element count of the last data set read at each depth.
    sizes: Vec<usize>,
}

impl<'a> Reader<'a> {
    // Inlined, with one comparison for the usual case: servers write compact JSON, and this
    // runs before every token.
    #[inline(always)]
    fn skip_whitespace(&mut self) {
        while let Some(&byte) = self.bytes.get(self.pos) {
            if byte > b' ' || !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return;
            }
            self.pos += 1;
        }
    }

    /// The next byte that is not whitespace, left unread.
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes.get(self.pos).copied()
    }

    /// Reads the byte `expected` after any whitespace.
    // Inlined, like `item_end`: this runs about three times per element.
    #[inline(always)]
    fn expect(&mut self, expected: u8) -> Option<()> {
        (self.peek()? == expected).then(|| self.pos += 1)
    }

    /// Reads `null`.
    fn null(&mut self) -> Option<()> {
        let end = self.pos + 4;
        (self.bytes.get(self.pos..end)? == b"null").then(|| self.pos = end)
    }

    /// Reads what follows an item of an array or object: `,` gives `false` (more to come),
    /// the closing byte `close` gives `true`.
    // Inlined so that `close` is a constant at each call: this runs once per value.
    #[inline(always)]
    fn item_end(&mut self, close: u8) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.pos += 1;
                Some(false)
            }
            next if next == close => {
                self.pos += 1;
                Some(true)
            }
            _ => None,
        }
    }

    /// Reads the items of an array whose `[` was read, calling `each` at the start of each item,
    /// through the closing `]`.
    fn list(&mut self, mut each: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(());
        }
        loop {
            each(self)?;
            if self.item_end(b']')? {
                return Some(());
            }
        }
    }

    /// Reads the members of an object whose `{` was read, calling `each` with each key (a
    /// string without escapes) after its `:`, through the closing `}`.
    fn members(&mut self, mut each: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.skip_whitespace();
            let JsonStr::Plain(key) = self.string()? else {
                return None;
            };
            self.expect(b':')?;
            self.skip_whitespace();
            each(self, key)?;
            if self.item_end(b'}')? {
                return Some(());
            }
        }
    }

    /// Reads the string that starts here.
    // Inlined: strings are most of a document, and most have no escape.
    #[inline(always)]
    fn string(&mut self) -> Option<JsonStr<'a>> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let stop = string_stop(self.bytes, start);
        if self.bytes.get(stop) == Some(&b'"') {
            self.pos = stop + 1;
            return self.text.get(start..stop).map(JsonStr::Plain);
        }
        self.escaped(stop)
    }

    /// Reads the rest of the string that starts here, whose content stops at `stop` on something
    /// other than its closing quote: an escape, or a control character that JSON forbids.
    #[cold]
    #[inline(never)]
    fn escaped(&mut self, stop: usize) -> Option<JsonStr<'a>> {
        if *self.bytes.get(stop)? != b'\\' {
            return None;
        }
        // Find the closing quote, then let serde_json check and decode the escapes.
        let mut end = stop;
        loop {
            match *self.bytes.get(end)? {
                b'\\' => end += 2,
                b'"' => break,
                _ => end += 1,
            }
        }
        let quoted = self.text.get(self.pos..=end)?;
        let unescaped = serde_json::from_str::<String>(quoted).ok()?;
        self.pos = end + 1;
        Some(JsonStr::Unescaped(unescaped))
    }

    /// Makes `slot` a string read here, sharing the document's buffer when it had no escape.
    ///
    /// Values are written where they are kept (the data set's entry, the slot of a `Values`)
    /// rather than returned up through the reader's calls: see [`Text::set_slice_of`].
    #[inline]
    fn set_text(&self, slot: &mut Text, text: JsonStr<'a>) {
        match text {
            JsonStr::Plain(text) => Text::set_slice_of(slot, self.source, text),
            JsonStr::Unescaped(text) => *slot = Text::from(text),
        }
    }

    /// Reads the number that starts here: its exact text, and whether it is an integer.
    fn number(&mut self) -> Option<(&'a str, bool)> {
        let bytes = self.bytes;
        let digits = |mut at: usize| {
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            at
        };
        let start = self.pos;
        let mut at = start + usize::from(bytes.get(start) == Some(&b'-'));
        at = match bytes.get(at)? {
            b'0' => at + 1,
            b'1'..=b'9' => digits(at + 1),
            _ => return None,
        };
        let mut integer = true;
        if bytes.get(at) == Some(&b'.') {
            integer = false;
            let end = digits(at + 1);
            if end == at + 1 {
                return None;
            }
            at = end;
        }
        if let Some(b'e' | b'E') = bytes.get(at) {
            integer = false;
            at += 1;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            let end = digits(at);
            if end == at {
                return None;
            }
            at = end;
        }
        self.pos = at;
        Some((self.text.get(start..at)?, integer))
    }

    /// Reads a data set key, eight hex digits in quotes, and the `:` after it. Eight hex digits
    /// leave no room for an escape; a key written with one is the general reader's.
    #[inline(always)]
    fn tag_key(&mut self) -> Option<Tag> {
        let Some(&[b'"', ref digits @ .., b'"']) = self.bytes.get(self.pos..self.pos + 10) else {
            return None;
        };
        let tag = hex_tag(digits)?;
        self.pos += 10;
        self.expect(b':')?;
        Some(tag)
    }

    /// Reads a data set (an object) one level deeper than the current one.
    fn data_set(&mut self) -> Option<DataSet> {
        let limits = self.options.limits;
        if self.depth >= limits.max_depth {
            return None;
        }
        self.depth += 1;
        self.expect(b'{')?;
        // Sized like the last data set at this depth: the data sets of one answer are alike.
        let hint = self.sizes.get(self.depth).copied().unwrap_or(0);
        let mut elements: Vec<(Tag, Element)> = Vec::with_capacity(hint);
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                let tag = self.tag_key()?;
                if elements.last().is_some_and(|(last, _)| *last >= tag) {
                    return None;
                }
                self.elements += 1;
                if self.elements > limits.max_elements {
                    return None;
                }
                self.skip_whitespace();
                // Read into its entry in place (see `set_text`).
                elements.push((tag, Element::new(Vr::UN, Value::Empty)));
                let (_, element) = elements.last_mut()?;
                self.element(element)?;
                if self.item_end(b'}')? {
                    break;
                }
            }
        }
        if self.sizes.len() <= self.depth {
            self.sizes.resize(self.depth + 1, 0);
        }
        self.sizes[self.depth] = elements.len();
        if elements.capacity() > elements.len() + elements.len() / 4 {
            elements.shrink_to_fit();
        }
        self.depth -= 1;
        Some(DataSet::from_sorted(elements))
    }

    /// Reads an element object into `out`, an empty element.
    fn element(&mut self, out: &mut Element) -> Option<()> {
        self.expect(b'{')?;
        let mut vr = None;
        let mut value = None;
        // A `Value` before `vr` (Orthanc's order): skipped, and read once the VR is known.
        let mut held_back = None;
        // The usual compact form starts with `"vr":"XX"`: read at once.
        if let Some(&[b'"', b'v', b'r', b'"', b':', b'"', first, second, b'"']) =
            self.bytes.get(self.pos..self.pos + 9)
        {
            let code = Vr::from_code([first, second])?;
            self.pos += 9;
            out.vr = code;
            // And then, as a rule, `,"Value":` and the value.
            if self.bytes.get(self.pos..self.pos + 9) == Some(b",\"Value\":") {
                self.pos += 9;
                self.skip_whitespace();
                self.values(code, &mut out.value)?;
                return self.expect(b'}');
            }
            if self.item_end(b'}')? {
                return Some(());
            }
            vr = Some(code);
        } else if self.peek()? == b'}' {
            return None; // no `vr`: the general reader looks it up
        }
        loop {
            self.skip_whitespace();
            let JsonStr::Plain(key) = self.string()? else {
                return None;
            };
            self.expect(b':')?;
            self.skip_whitespace();
            if key == "vr" {
                let (None, JsonStr::Plain(code)) = (vr, self.string()?) else {
                    return None;
                };
                let &[first, second] = code.as_bytes() else {
                    return None;
                };
                vr = Some(Vr::from_code([first, second])?);
            } else if value.is_some() || held_back.is_some() {
                return None;
            } else {
                match (key, vr) {
                    ("Value", Some(vr)) => value = Some(self.values_aside(vr)?),
                    ("Value", None) => {
                        let start = self.pos;
                        self.skip_value()?;
                        self.skip_whitespace();
                        held_back = Some((start, self.pos));
                    }
                    ("InlineBinary", _) => value = Some(self.inline_binary()?),
                    ("BulkDataURI", _) => value = Some(self.bulk_data_uri()?),
                    _ => return None,
                }
            }
            if self.item_end(b'}')? {
                break;
            }
        }
        let vr = vr?;
        if let Some((start, end)) = held_back {
            let after = self.pos;
            self.pos = start;
            value = Some(self.values_aside(vr)?);
            self.skip_whitespace();
            if self.pos != end {
                return None;
            }
            self.pos = after;
        }
        *out = Element::new(vr, value.unwrap_or(Value::Empty));
        Some(())
    }

    /// Steps over one JSON value of any kind; what it steps over is read properly later.
    fn skip_value(&mut self) -> Option<()> {
        let mut open = 0usize;
        loop {
            match *self.bytes.get(self.pos)? {
                b'"' => {
                    self.string()?;
                    if open == 0 {
                        return Some(());
                    }
                    continue;
                }
                b'[' | b'{' => open += 1,
                // The end of the enclosing object: a number or literal ended before it.
                b']' | b'}' if open == 0 => return Some(()),
                b']' | b'}' => {
                    open -= 1;
                    if open == 0 {
                        self.pos += 1;
                        return Some(());
                    }
                }
                b',' if open == 0 => return Some(()),
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Reads a `Value` member for an element of VR `vr` and returns it: for the rare orders of
    /// members that `element` cannot read in place.
    fn values_aside(&mut self, vr: Vr) -> Option<Value> {
        let mut value = Value::Empty;
        self.values(vr, &mut value)?;
        Some(value)
    }

    /// Reads a `Value` member for an element of VR `vr` into `out`, an empty value.
    fn values(&mut self, vr: Vr, out: &mut Value) -> Option<()> {
        match self.peek()? {
            b'n' => return self.null(),
            b'[' => self.pos += 1,
            _ => return None,
        }
        match vr.kind() {
            ValueKind::Text => {
                *out = Value::Strings(Values::new());
                let Value::Strings(values) = out else {
                    return None;
                };
                self.entries(values, |r, slot| match r.peek()? {
                    b'"' => {
                        let text = r.string()?;
                        r.set_text(slot.insert(Text::new()), text);
                        Some(())
                    }
                    _ => r.null(),
                })?;
            }
            ValueKind::DecimalText => {
                *out = Value::Numbers(Values::new());
                let Value::Numbers(values) = out else {
                    return None;
                };
                self.entries(values, |r, slot| {
                    let text = match r.peek()? {
                        b'"' => match r.string()? {
                            JsonStr::Plain(text) => JsonStr::Plain(text.trim()),
                            JsonStr::Unescaped(text) => JsonStr::Unescaped(text.trim().to_owned()),
                        },
                        b'-' | b'0'..=b'9' => JsonStr::Plain(r.number()?.0),
                        _ => return r.null(),
                    };
                    if !text.as_str().is_empty() {
                        let number = slot.insert(Number::Text(Text::new()));
                        let Number::Text(slot) = number else {
                            return None;
                        };
                        r.set_text(slot, text);
                    }
                    Some(())
                })?;
            }
            kind @ (ValueKind::Integer | ValueKind::Float) => {
                let float = kind == ValueKind::Float;
                *out = Value::Numbers(Values::new());
                let Value::Numbers(values) = out else {
                    return None;
                };
                self.entries(values, |r, slot| match r.peek()? {
                    b'-' | b'0'..=b'9' => {
                        let (text, integer) = r.number()?;
                        *slot = Some(binary_number(text, integer, float)?);
                        Some(())
                    }
                    _ => r.null(),
                })?;
            }
            ValueKind::Tag => {
                *out = Value::Tags(Values::new());
                let Value::Tags(values) = out else {
                    return None;
                };
                self.entries(values, |r, slot| match r.peek()? {
                    b'"' => match r.string()? {
                        JsonStr::Plain(text) => {
                            *slot = Some(hex_tag(text.as_bytes())?);
                            Some(())
                        }
                        JsonStr::Unescaped(_) => None,
                    },
                    _ => r.null(),
                })?;
            }
            ValueKind::PersonName => {
                *out = Value::PersonNames(Vec::with_capacity(1));
                let Value::PersonNames(names) = out else {
                    return None;
                };
                self.list(|r| match r.peek()? {
                    b'{' => {
                        names.push(Some(PersonName::default()));
                        r.person_name(names.last_mut()?.as_mut()?)
                    }
                    _ => {
                        r.null()?;
                        names.push(None);
                        Some(())
                    }
                })?;
            }
            ValueKind::Sequence => {
                let mut items = Vec::new();
                self.list(|r| {
                    items.push(match r.peek()? {
                        b'{' => r.data_set()?,
                        _ => r.null().map(|()| DataSet::new())?,
                    });
                    Some(())
                })?;
                *out = Value::Items(items);
            }
            // Numbers in the Value of a binary VR: the general reader decides.
            ValueKind::Binary => return None,
        }
        if out.multiplicity() == 0 {
            *out = Value::Empty;
        }
        Some(())
    }

    /// Reads the entries of a `Value` array whose `[` was read into `values`, empty; `entry`
    /// reads each into its slot, `None` on entry.
    // Inlined into each VR's arm; one value, the usual case, goes straight into its inline slot.
    #[inline(always)]
    fn entries<T>(
        &mut self,
        values: &mut Values<T>,
        mut entry: impl FnMut(&mut Self, &mut Option<T>) -> Option<()>,
    ) -> Option<()> {
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(());
        }
        *values = Values::single(None);
        entry(self, values.first_mut()?)?;
        while !self.item_end(b']')? {
            values.push(None);
            entry(self, values.last_mut()?)?;
        }
        Some(())
    }

    /// Reads a person name object of component groups into `name`, empty.
    fn person_name(&mut self, name: &mut PersonName) -> Option<()> {
        self.expect(b'{')?;
        self.members(|r, key| {
            let slot = match key {
                "Alphabetic" => &mut name.alphabetic,
                "Ideographic" => &mut name.ideographic,
                "Phonetic" => &mut name.phonetic,
                _ => return None,
            };
            match r.peek()? {
                b'"' => {
                    let text = r.string()?;
                    r.set_text(slot.insert(Text::new()), text);
                }
                _ => {
                    r.null()?;
                    *slot = None;
                }
            }
            Some(())
        })
    }

    /// Reads an InlineBinary member given as a string or `null`.
    fn inline_binary(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => {
                let text = self.string()?;
                let bytes = binary::decode(text.as_str()).ok()?;
                Some(Value::InlineBinary(Bytes::from(bytes)))
            }
            _ => self.null().map(|()| Value::Empty),
        }
    }

    /// Reads a BulkDataURI member given as a string or `null`.
    fn bulk_data_uri(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => {
                let text = self.string()?;
                let mut uri = Text::new();
                self.set_text(&mut uri, text);
                Some(Value::BulkDataUri(uri))
            }
            _ => self.null().map(|()| Value::Empty),
        }
    }
}

/// A JSON number in the `Value` of a binary numeric VR, as the general reader reads it; `None`
/// where the general reader takes another path (integers beyond 64 bits, `-0`, out of range).
fn binary_number(text: &str, integer: bool, float: bool) -> Option<Number> {
    if !integer {
        let value: f64 = text.parse().ok()?;
        return value.is_finite().then_some(Number::Float(value));
    }
    if text.starts_with('-') {
        let value: i64 = text.parse().ok()?;
        return match value {
            0 => None, // serde_json reads `-0` as the float -0.0
            _ if float => Some(Number::Float(value as f64)),
            _ => Some(Number::Int(value)),
        };
    }
    let value: u64 = text.parse().ok()?;
    Some(match i64::try_from(value) {
        _ if float => Number::Float(value as f64),
        Ok(value) => Number::Int(value),
        Err(_) => Number::UInt(value),
    })
}

/// Where the string content starting at `start` stops: the first `"`, `\\` or control
/// character, or the end of the input. Eight bytes at a time: values are short, so this beats
/// both a byte loop and a vectorised search, which pays its set-up on every string.
#[inline(always)]
fn string_stop(bytes: &[u8], start: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = start;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        // A byte's high bit is set where it is zero (a match) or below 0x20; borrows can only
        // mark bytes after the first true match, so the lowest mark is exact.
        let found = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        let found = found & HIGH;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&b) = bytes.get(at) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        at += 1;
    }
    at
}
