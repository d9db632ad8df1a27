//! The reader: quick-xml events straight into a [`DataSet`], with an explicit stack of
//! sequence items (no recursion, so nesting costs heap, never the call stack).

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::private::{self, Pending};
use super::scan::{
    Creators, attributes, is_xml_space, line_ends, local, shorten, small_decimal, usual_header,
};
use super::text::resolve_reference;
use super::values::OpenAttribute;
use super::{fast, input};
use crate::{
    DataSet, Element, Error, PathStep, PersonName, ReadOptions, Tag, TagPath, Text, Vr, dictionary,
};

/// Reads one Native DICOM Model document (`<NativeDicomModel>`) into a data set.
///
/// The encoding comes from the byte order mark or the XML declaration (any encoding
/// `encoding_rs` knows; `ISO-8859-1` is true Latin-1). A document type declaration is refused
/// with [`Error::Xml`]: entities are never expanded. Malformed or truncated input gives
/// [`Error::Xml`] naming the tag path and byte offset; exceeding
/// [`ReadOptions::limits`](crate::ReadOptions) gives [`Error::LimitExceeded`].
///
/// In the default (lenient) mode a `DicomAttribute` without `vr` takes the data dictionary's VR
/// (`UN` when unknown), one without `tag` is found by its `keyword`, unknown elements are
/// skipped, Orthanc's empty `<Value/>` between sequence items is ignored, and numbers of binary
/// VRs that do not parse are kept as [`Number::Text`](crate::Number::Text).
/// [`ReadOptions::strict`] refuses all of these.
pub fn read(bytes: &[u8], options: &ReadOptions) -> Result<DataSet, Error> {
    let utf8 = input::to_utf8(bytes)?;
    if let Some(ds) = fast::data_set(&utf8, options) {
        return Ok(ds);
    }
    Parser::new(&utf8, options).document()
}

/// Reads a document with the general reader alone, never the fast path that [`read`] tries
/// first: the reference the fast path is tested and fuzzed against.
pub(super) fn read_reference(bytes: &[u8], options: &ReadOptions) -> Result<DataSet, Error> {
    let utf8 = input::to_utf8(bytes)?;
    Parser::new(&utf8, options).document()
}

/// Reads a document with the fast path alone: `None` where [`read`] hands it to the general
/// reader (and also where its encoding is refused).
pub(super) fn read_fast_path(bytes: &[u8], options: &ReadOptions) -> Option<DataSet> {
    let utf8 = input::to_utf8(bytes).ok()?;
    fast::data_set(&utf8, options)
}

struct Parser<'a, 'o> {
    reader: Reader<&'a [u8]>,
    options: &'o ReadOptions,
    /// The largest `number=` accepted: a gap can never be longer than the document.
    max_number: usize,
    /// `DicomAttribute`s read so far, at every depth.
    elements: usize,
    /// The root data set, then one entry per open sequence item.
    levels: Vec<Level>,
}

/// A data set being read: the root, or a sequence item.
#[derive(Default)]
struct Level {
    /// The elements read so far, in document order (a data set is built from them at the end,
    /// which is cheaper than inserting one at a time).
    elements: Vec<(Tag, Element)>,
    /// Private elements read as `gggg00ee` + `privateCreator`.
    pending: Vec<Pending>,
    /// Private elements read with their full tag and a `privateCreator`.
    full_private: Vec<(Tag, usize)>,
    /// The distinct `privateCreator` values read in this data set.
    creators: Creators,
    /// This item's `number` (1-based; 0 for the root).
    number: usize,
    /// The attribute whose start tag was read and whose end tag was not.
    open: Option<OpenAttribute>,
}

const COMPONENTS: [&str; 5] = [
    "FamilyName",
    "GivenName",
    "MiddleName",
    "NamePrefix",
    "NameSuffix",
];

impl<'a, 'o> Parser<'a, 'o> {
    fn new(utf8: &'a [u8], options: &'o ReadOptions) -> Parser<'a, 'o> {
        Parser {
            reader: Reader::from_reader(utf8),
            options,
            max_number: utf8.len().max(1),
            elements: 0,
            levels: Vec::new(),
        }
    }

    fn document(&mut self) -> Result<DataSet, Error> {
        loop {
            match self.next()? {
                Event::Start(e) => {
                    self.expect_root(&e)?;
                    break;
                }
                Event::Empty(e) => {
                    self.expect_root(&e)?;
                    self.epilog()?;
                    return Ok(DataSet::new());
                }
                Event::Decl(_) => {}
                other => self.ignorable(other, "<NativeDicomModel>")?,
            }
        }
        // A DicomAttribute takes some 60 to 120 bytes of XML: reserve once for the root.
        let expected = (self.max_number / 96).min(16_384);
        self.levels.push(Level {
            elements: Vec::with_capacity(expected),
            ..Level::default()
        });
        loop {
            match self.next()? {
                Event::Start(e) => self.data_set_child(&e, false)?,
                Event::Empty(e) => self.data_set_child(&e, true)?,
                Event::End(_) if self.levels.len() == 1 => break,
                Event::End(_) => self.end_item()?,
                other => {
                    let wanted = if self.levels.len() == 1 {
                        "<DicomAttribute> or </NativeDicomModel>"
                    } else {
                        "<DicomAttribute> or </Item>"
                    };
                    self.ignorable(other, wanted)?;
                }
            }
        }
        let ds = self.finish_level()?;
        self.epilog()?;
        Ok(ds)
    }

    fn expect_root(&self, e: &BytesStart<'_>) -> Result<(), Error> {
        match local(e) {
            "NativeDicomModel" => Ok(()),
            other => Err(self.fail(format!("expected <NativeDicomModel>, found <{other}>"))),
        }
    }

    /// After the root: only whitespace, comments and processing instructions.
    fn epilog(&mut self) -> Result<(), Error> {
        loop {
            match self.next()? {
                Event::Eof => return Ok(()),
                Event::Start(e) | Event::Empty(e) => {
                    return Err(self.fail(format!(
                        "expected the end of the document after </NativeDicomModel>, found <{}>",
                        local(&e)
                    )));
                }
                other => self.ignorable(other, "the end of the document")?,
            }
        }
    }

    /// A child of `NativeDicomModel` or `Item`.
    fn data_set_child(&mut self, e: &BytesStart<'a>, empty: bool) -> Result<(), Error> {
        if local(e) != "DicomAttribute" {
            return self.unknown(e, empty, "<DicomAttribute>");
        }
        self.begin_attribute(e)?;
        if empty {
            self.end_attribute()
        } else {
            self.attribute_body()
        }
    }

    fn begin_attribute(&mut self, e: &BytesStart<'a>) -> Result<(), Error> {
        let limits = self.options.limits;
        self.elements += 1;
        if self.elements > limits.max_elements {
            return Err(Error::LimitExceeded {
                what: "element count",
                limit: limits.max_elements,
                path: self.path(),
            });
        }
        if self.levels.len() > limits.max_depth {
            return Err(Error::LimitExceeded {
                what: "nesting depth",
                limit: limits.max_depth,
                path: self.path(),
            });
        }
        if let Some((tag, vr, creator)) = usual_header(e.attributes_raw()) {
            let level = self.top()?;
            let creator = creator.map(|name| level.creators.intern(name));
            level.open = Some(OpenAttribute::new(tag, vr, creator));
            return Ok(());
        }
        let strict = self.options.strict;
        let (mut tag_text, mut vr_text, mut keyword, mut creator) = (None, None, None, None);
        for attr in attributes(e) {
            let attr = attr.map_err(|m| self.fail(m))?;
            match attr.0 {
                "tag" => tag_text = Some(attr.1),
                "vr" => vr_text = Some(attr.1),
                "keyword" => keyword = Some(attr.1),
                "privateCreator" => creator = Some(attr.1),
                _ => {}
            }
        }
        let tag = match (tag_text, keyword) {
            (Some(text), _) => Tag::from_hex(&text)
                .or_else(|| if strict { None } else { text.parse().ok() })
                .ok_or_else(|| {
                    self.fail(format!(
                        "expected a tag of eight hex digits in DicomAttribute, found {text:?}"
                    ))
                })?,
            (None, Some(keyword)) if !strict => {
                dictionary::tag_by_keyword(&keyword).ok_or_else(|| {
                    self.fail(format!(
                        "DicomAttribute has no tag and its keyword {keyword:?} is unknown"
                    ))
                })?
            }
            _ => return Err(self.fail("DicomAttribute has no tag attribute")),
        };
        let vr = match vr_text {
            Some(text) => text
                .parse::<Vr>()
                .map_err(|err| self.fail(format!("DicomAttribute {tag:?}: {err}")))?,
            None if strict => {
                return Err(self.fail(format!("DicomAttribute {tag:?} has no vr (strict mode)")));
            }
            None if creator.is_some() => Vr::UN,
            None => dictionary::vr(tag).unwrap_or(Vr::UN),
        };
        let level = self.top()?;
        let creator = creator.map(|name| level.creators.intern(&name));
        level.open = Some(OpenAttribute::new(tag, vr, creator));
        Ok(())
    }

    /// The children of the open `DicomAttribute`, up to its end tag or the start of an item.
    fn attribute_body(&mut self) -> Result<(), Error> {
        loop {
            let (e, empty) = match self.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => return self.end_attribute(),
                other => {
                    self.ignorable(other, "<Value>, <PersonName>, <Item>, <InlineBinary>, <BulkData> or </DicomAttribute>")?;
                    continue;
                }
            };
            match local(&e) {
                "Value" => {
                    let number = self.number(&e)?;
                    let text = if empty { None } else { Some(self.text()?) };
                    let strict = self.options.strict;
                    let result = self.open()?.add_value(number, text, strict);
                    result.map_err(|m| self.fail(m))?;
                }
                "PersonName" => {
                    let number = self.number(&e)?;
                    let name = if empty { None } else { self.person_name()? };
                    let result = self.open()?.add_name(number, name);
                    result.map_err(|m| self.fail(m))?;
                }
                "Item" => {
                    let number = self.number(&e)?;
                    let strict = self.options.strict;
                    if !self.open()?.accepts_items(strict) {
                        let vr = self.open()?.vr;
                        return Err(self.fail(format!("a {vr} attribute cannot hold <Item>")));
                    }
                    if empty {
                        let result = self.open()?.add_item(number, DataSet::new());
                        result.map_err(|m| self.fail(m))?;
                    } else {
                        self.levels.push(Level {
                            number,
                            ..Level::default()
                        });
                        return Ok(());
                    }
                }
                "InlineBinary" => {
                    let text = if empty {
                        Cow::Borrowed("")
                    } else {
                        self.text()?
                    };
                    let result = self.open()?.add_inline_binary(&text);
                    result.map_err(|m| self.fail(m))?;
                }
                "BulkData" => {
                    let uri = self.bulk_data_uri(&e)?;
                    if !empty {
                        self.skip(&e)?;
                    }
                    let result = self.open()?.add_bulk_data(uri);
                    result.map_err(|m| self.fail(m))?;
                }
                "DataFragment" => {
                    return Err(self.fail(
                        "<DataFragment> (encapsulated pixel data fragments) cannot be represented; \
                         ask the server for BulkData instead",
                    ));
                }
                _ => self.unknown(
                    &e,
                    empty,
                    "<Value>, <PersonName>, <Item>, <InlineBinary> or <BulkData>",
                )?,
            }
        }
    }

    /// `</DicomAttribute>`: the element goes into its data set (private ones wait for the end
    /// of the data set, when every creator element is known).
    fn end_attribute(&mut self) -> Result<(), Error> {
        let strict = self.options.strict;
        let Some(mut open) = self.top()?.open.take() else {
            return Err(self.fail("internal: no open DicomAttribute"));
        };
        let tag = open.tag;
        let creator = open.creator.take();
        let element = open.finish();
        match creator {
            Some(creator) if tag.is_private() && tag.element() & 0xFF00 == 0 => {
                // In place among the others, under its written tag until the end of the
                // data set gives it its block.
                let level = self.top()?;
                level.pending.push(Pending {
                    written: tag,
                    creator,
                    index: level.elements.len(),
                });
                level.elements.push((tag, element));
                return Ok(());
            }
            Some(creator) if tag.private_creator_tag().is_some() => {
                self.top()?.full_private.push((tag, creator));
            }
            Some(creator) if strict => {
                let name = self
                    .top()?
                    .creators
                    .names()
                    .get(creator)
                    .cloned()
                    .unwrap_or_default();
                return Err(self.fail(format!(
                    "privateCreator {name:?} on {tag:?}, which is not a private data element"
                )));
            }
            _ => {}
        }
        self.top()?.elements.push((tag, element));
        Ok(())
    }

    /// `</Item>`: the item's data set goes into the open attribute of the level below.
    fn end_item(&mut self) -> Result<(), Error> {
        let number = self.top()?.number;
        let item = self.finish_level()?;
        let result = self.open()?.add_item(number, item);
        result.map_err(|m| self.fail(m))?;
        self.attribute_body()
    }

    /// Pops the innermost data set, its private elements placed.
    fn finish_level(&mut self) -> Result<DataSet, Error> {
        let Some(level) = self.levels.pop() else {
            return Err(self.fail("internal: no open data set"));
        };
        // Errors found here belong to the data set just closed (built only when needed).
        let fail = |parser: &Self, message: String| {
            let mut path = parser.path();
            if level.number > 0 {
                path.push(PathStep::Item(level.number - 1));
            }
            Error::Xml { path, message }
        };
        let mut elements = level.elements;
        let strict = self.options.strict;
        if let Err(message) = private::resolve(
            &mut elements,
            level.creators.names(),
            &level.full_private,
            &level.pending,
            strict,
        ) {
            return Err(fail(self, message));
        }
        if elements.windows(2).any(|w| w[0].0 >= w[1].0) {
            // Out of order (private elements placed last, or a document not in tag order):
            // look for a tag given twice; the data set sorts the elements itself.
            let mut tags: Vec<Tag> = elements.iter().map(|(tag, _)| *tag).collect();
            tags.sort_unstable();
            if let Some(w) = tags.windows(2).find(|w| w[0] == w[1]) {
                let message = format!("DicomAttribute {:?} appears twice", w[0]);
                return Err(fail(self, message));
            }
            return Ok(elements.into_iter().collect());
        }
        Ok(DataSet::from_sorted(elements))
    }

    /// A `PersonName` element's groups; `None` when all are empty.
    fn person_name(&mut self) -> Result<Option<PersonName>, Error> {
        let mut name = PersonName::default();
        loop {
            let (e, empty) = match self.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => return Ok((!name.is_empty()).then_some(name)),
                other => {
                    self.ignorable(
                        other,
                        "<Alphabetic>, <Ideographic>, <Phonetic> or </PersonName>",
                    )?;
                    continue;
                }
            };
            let slot = match local(&e) {
                "Alphabetic" => &mut name.alphabetic,
                "Ideographic" => &mut name.ideographic,
                "Phonetic" => &mut name.phonetic,
                _ => {
                    self.unknown(&e, empty, "<Alphabetic>, <Ideographic> or <Phonetic>")?;
                    continue;
                }
            };
            *slot = Some(if empty {
                Text::new()
            } else {
                Text::from(self.name_group()?)
            });
        }
    }

    /// One component group, as its `^`-joined text up to the last component element present
    /// (a component left out at the end adds no `^`; one written empty does, as Orthanc
    /// writes `^^^^`).
    fn name_group(&mut self) -> Result<String, Error> {
        let mut parts: [Option<Cow<'a, str>>; 5] = Default::default();
        loop {
            let (e, empty) = match self.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => break,
                other => {
                    self.ignorable(other, "a name component such as <FamilyName>")?;
                    continue;
                }
            };
            match COMPONENTS.iter().position(|c| *c == local(&e)) {
                Some(index) if empty => parts[index] = Some(Cow::Borrowed("")),
                Some(index) => parts[index] = Some(self.text()?),
                None => self.unknown(
                    &e,
                    empty,
                    "<FamilyName>, <GivenName>, <MiddleName>, <NamePrefix> or <NameSuffix>",
                )?,
            }
        }
        let mut group = String::new();
        if let Some(last) = parts.iter().rposition(Option::is_some) {
            for (i, part) in parts[..=last].iter().enumerate() {
                if i > 0 {
                    group.push('^');
                }
                group.push_str(part.as_deref().unwrap_or(""));
            }
        }
        Ok(group)
    }

    /// The text content of the element just opened, up to its end tag.
    fn text(&mut self) -> Result<Cow<'a, str>, Error> {
        fn append<'t>(text: &mut Option<Cow<'t, str>>, piece: Cow<'t, str>) {
            match text {
                None => *text = Some(piece),
                Some(so_far) => so_far.to_mut().push_str(&piece),
            }
        }
        let mut text: Option<Cow<'a, str>> = None;
        loop {
            match self.next()? {
                Event::Text(t) => append(&mut text, line_ends(t.into_inner())),
                Event::CData(c) => append(&mut text, line_ends(c.into_inner())),
                Event::GeneralRef(r) => {
                    let c = resolve_reference(&r).map_err(|m| self.fail(m))?;
                    let mut buf = [0u8; 4];
                    append(&mut text, Cow::Owned(c.encode_utf8(&mut buf).to_owned()));
                }
                Event::End(_) => return Ok(text.unwrap_or(Cow::Borrowed(""))),
                Event::Start(e) | Event::Empty(e) => {
                    return Err(self.fail(format!("expected text, found <{}>", local(&e))));
                }
                other => self.ignorable(other, "text")?,
            }
        }
    }

    /// The `number` attribute of `Value`, `PersonName` or `Item` (lenient: the next one).
    fn number(&mut self, e: &BytesStart<'a>) -> Result<usize, Error> {
        // The usual form, ` number="7"`, without the general attribute scan.
        let raw = e.attributes_raw().as_bytes();
        if let Some(digits) = raw
            .strip_prefix(b" number=\"")
            .and_then(|rest| rest.strip_suffix(b"\""))
            && let Some(n) = small_decimal(digits).filter(|n| (1..=self.max_number).contains(n))
        {
            return Ok(n);
        }
        for attr in attributes(e) {
            let (key, value) = attr.map_err(|m| self.fail(m))?;
            if key == "number" {
                let trimmed = value.trim();
                return match trimmed.parse::<usize>() {
                    Ok(n) if n >= 1 && n <= self.max_number => Ok(n),
                    _ => Err(self.fail(format!(
                        "expected number=\"1\" or more (up to the document's length) on <{}>, \
                         found {trimmed:?}",
                        local(e)
                    ))),
                };
            }
        }
        if self.options.strict {
            return Err(self.fail(format!("<{}> has no number attribute", local(e))));
        }
        Ok(self.open()?.next_number())
    }

    /// `BulkData`'s `uri` (or Orthanc's `URI`), or its `uuid` as a `urn:uuid:` URI.
    fn bulk_data_uri(&self, e: &BytesStart<'a>) -> Result<String, Error> {
        let mut uuid = None;
        for attr in attributes(e) {
            let (key, value) = attr.map_err(|m| self.fail(m))?;
            match key {
                "uri" | "URI" => return Ok(value.into_owned()),
                "uuid" => uuid = Some(value),
                _ => {}
            }
        }
        match uuid {
            Some(uuid) => Ok(format!("urn:uuid:{uuid}")),
            None => Err(self.fail("<BulkData> has neither a uri nor a uuid attribute")),
        }
    }

    /// An element this reader does not know: skipped, or an error in strict mode.
    fn unknown(&mut self, e: &BytesStart<'a>, empty: bool, wanted: &str) -> Result<(), Error> {
        if self.options.strict {
            return Err(self.fail(format!("expected {wanted}, found <{}>", local(e))));
        }
        if !empty {
            self.skip(e)?;
        }
        Ok(())
    }

    fn skip(&mut self, e: &BytesStart<'a>) -> Result<(), Error> {
        match self.reader.read_to_end(e.name()) {
            Ok(_) => Ok(()),
            Err(err) => Err(self.quick_xml_error(&err)),
        }
    }

    /// Whitespace, comments and processing instructions pass; anything else is an error.
    #[inline]
    fn ignorable(&self, event: Event<'a>, wanted: &str) -> Result<(), Error> {
        match &event {
            Event::Text(t) if t.bytes().all(is_xml_space) => Ok(()),
            Event::Comment(_) | Event::PI(_) => Ok(()),
            _ => self.not_ignorable(event, wanted),
        }
    }

    #[cold]
    fn not_ignorable(&self, event: Event<'a>, wanted: &str) -> Result<(), Error> {
        let found = match event {
            Event::Comment(_) | Event::PI(_) => return Ok(()),
            Event::Text(t) if t.bytes().all(is_xml_space) => return Ok(()),
            Event::DocType(_) => {
                return Err(self.fail(
                    "the document has a document type declaration (DTD); it is refused so that \
                     no entity is ever expanded",
                ));
            }
            Event::Eof => {
                return Err(self.fail(format!(
                    "the document is truncated: it ends where {wanted} was expected"
                )));
            }
            Event::Text(t) => format!("text {:?}", shorten(&t)),
            Event::CData(c) => format!("CDATA {:?}", shorten(&c)),
            Event::GeneralRef(r) => format!("the reference &{};", &*r),
            Event::Decl(_) => "an XML declaration".to_owned(),
            Event::Start(e) | Event::Empty(e) => format!("<{}>", local(&e)),
            Event::End(e) => format!("</{}>", e.local_name().into_inner()),
        };
        Err(self.fail(format!("expected {wanted}, found {found}")))
    }

    fn next(&mut self) -> Result<Event<'a>, Error> {
        match self.reader.read_event() {
            Ok(event) => Ok(event),
            Err(err) => Err(self.quick_xml_error(&err)),
        }
    }

    fn quick_xml_error(&self, err: &quick_xml::Error) -> Error {
        let message = match err {
            quick_xml::Error::Encoding(_) => format!(
                "{err} near byte {} (the document must be in the encoding its XML declaration \
                 names, UTF-8 when it names none)",
                self.reader.buffer_position()
            ),
            _ => format!(
                "malformed XML at byte {}: {err}",
                self.reader.error_position()
            ),
        };
        Error::Xml {
            path: self.path(),
            message,
        }
    }

    fn top(&mut self) -> Result<&mut Level, Error> {
        if self.levels.is_empty() {
            return Err(self.fail("internal: no open data set"));
        }
        let last = self.levels.len() - 1;
        Ok(&mut self.levels[last])
    }

    fn open(&mut self) -> Result<&mut OpenAttribute, Error> {
        if self.levels.last().is_none_or(|l| l.open.is_none()) {
            return Err(self.fail("internal: no open DicomAttribute"));
        }
        let last = self.levels.len() - 1;
        self.levels[last].open.as_mut().ok_or_else(|| Error::Xml {
            path: TagPath::root(),
            message: "internal: no open DicomAttribute".into(),
        })
    }

    /// Where the reader is: the open attributes and items, outermost first.
    fn path(&self) -> TagPath {
        let mut path = TagPath::root();
        for (i, level) in self.levels.iter().enumerate() {
            if i > 0 {
                path.push(PathStep::Item(level.number.saturating_sub(1)));
            }
            match &level.open {
                Some(open) => path.push(PathStep::Tag(open.tag)),
                None => break,
            }
        }
        path
    }

    fn fail(&self, message: impl Into<String>) -> Error {
        Error::Xml {
            path: self.path(),
            message: format!(
                "{} (near byte {})",
                message.into(),
                self.reader.buffer_position()
            ),
        }
    }
}
