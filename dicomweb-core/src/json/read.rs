//! The reader's entry point and shared state: documents, data sets, tag keys and limits.

use std::fmt;

use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::element::ElementSeed;
use crate::{DataSet, Document, Element, Error, PathStep, ReadOptions, Tag, TagPath, Text};

/// What the visitors share while one document is read: options, where they are, and counters.
pub(super) struct State<'o> {
    pub(super) options: &'o ReadOptions,
    /// The whole document: strings borrowed from it become slices of it.
    pub(super) source: &'o Text,
    /// Where the reader is; left as it stands when an error unwinds, so it names the place.
    pub(super) path: TagPath,
    /// Nesting depth of the data set being read (a top-level data set is 1).
    depth: usize,
    /// Elements read so far, at every depth.
    elements: usize,
    /// An error that serde's error type cannot carry (a limit), reported instead of serde's.
    failure: Option<Error>,
    /// Element buffers, one per nesting level, reused from one data set to the next.
    buffers: Vec<Vec<(Tag, Element)>>,
}

impl<'o> State<'o> {
    fn new(options: &'o ReadOptions, source: &'o Text) -> State<'o> {
        State {
            options,
            source,
            path: TagPath::root(),
            depth: 0,
            elements: 0,
            failure: None,
            buffers: Vec::new(),
        }
    }

    /// Records a limit error and returns the serde error that unwinds to the entry point.
    fn limit<E: de::Error>(&mut self, what: &'static str, limit: usize) -> E {
        self.failure = Some(Error::LimitExceeded {
            what,
            limit,
            path: self.path.clone(),
        });
        E::custom(format_args!("{what} exceeds the limit of {limit}"))
    }

    /// The crate error for a serde error that unwound to the entry point.
    fn into_error(self, error: serde_json::Error) -> Error {
        self.failure.unwrap_or_else(|| Error::Json {
            path: self.path,
            message: error.to_string(),
        })
    }
}

/// Reads a whole document: with the fast path first when `fast_path`, else (the reference the
/// fast path is tested against) with serde_json alone.
pub(super) fn document(
    bytes: Bytes,
    options: &ReadOptions,
    fast_path: bool,
) -> Result<Document, Error> {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(_) => bytes.slice(3..),
        None => bytes,
    };
    // Checking UTF-8 once over the whole input is much cheaper than string by string; input
    // that is not UTF-8 is read from the bytes, so that the error names the element.
    match Text::from_utf8(bytes.clone()) {
        Ok(source) => match fast_path
            .then(|| super::fast::document(&source, options))
            .flatten()
        {
            Some(document) => Ok(document),
            None => parse(
                serde_json::Deserializer::from_str(source.as_str()),
                options,
                &source,
            ),
        },
        Err(_) => parse(
            serde_json::Deserializer::from_slice(&bytes),
            options,
            &Text::new(),
        ),
    }
}

fn parse<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    options: &ReadOptions,
    source: &Text,
) -> Result<Document, Error> {
    let mut state = State::new(options, source);
    // Recursion is bounded by `Limits::max_depth` instead (and skipped values are skipped
    // without recursion by serde_json).
    de.disable_recursion_limit();
    let result = DocumentSeed { state: &mut state }
        .deserialize(&mut de)
        .and_then(|doc| de.end().map(|()| doc));
    result.map_err(|e| state.into_error(e))
}

struct DocumentSeed<'s, 'o> {
    state: &'s mut State<'o>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, '_> {
    type Value = Document;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Document, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_, '_> {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DICOM JSON data set (an object) or an array of data sets")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Document, A::Error> {
        DataSetSeed::new(self.state, false)
            .visit_map(map)
            .map(Document::Single)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Document, A::Error> {
        let mut all = Vec::new();
        loop {
            self.state.path.push(PathStep::DataSet(all.len()));
            match seq.next_element_seed(DataSetSeed::new(self.state, false))? {
                Some(ds) => all.push(ds),
                None => break,
            }
            self.state.path.pop();
        }
        self.state.path.pop();
        Ok(Document::Array(all))
    }
}

/// Reads one data set (an object keyed by tags) one level deeper than the current one.
pub(super) struct DataSetSeed<'s, 'o> {
    state: &'s mut State<'o>,
    /// Whether `null` is accepted as an empty data set (a sequence item written as `null`).
    null_is_empty: bool,
}

impl<'s, 'o> DataSetSeed<'s, 'o> {
    pub(super) fn new(state: &'s mut State<'o>, null_is_empty: bool) -> DataSetSeed<'s, 'o> {
        DataSetSeed {
            state,
            null_is_empty,
        }
    }
}

impl<'de> DeserializeSeed<'de> for DataSetSeed<'_, '_> {
    type Value = DataSet;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<DataSet, D::Error> {
        if self.null_is_empty {
            deserializer.deserialize_any(self)
        } else {
            deserializer.deserialize_map(self)
        }
    }
}

impl<'de> Visitor<'de> for DataSetSeed<'_, '_> {
    type Value = DataSet;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DICOM JSON data set (an object keyed by eight-hex-digit tags)")
    }

    fn visit_unit<E: de::Error>(self) -> Result<DataSet, E> {
        if self.null_is_empty {
            Ok(DataSet::new())
        } else {
            Err(E::invalid_type(de::Unexpected::Unit, &self))
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DataSet, A::Error> {
        let state = self.state;
        let limits = state.options.limits;
        if state.depth >= limits.max_depth {
            return Err(state.limit("sequence nesting depth", limits.max_depth));
        }
        state.depth += 1;
        let mut elements = state.buffers.pop().unwrap_or_default();
        let mut ascending = true;
        while let Some(tag) = map.next_key_seed(TagKey)? {
            state.path.push(PathStep::Tag(tag));
            state.elements += 1;
            if state.elements > limits.max_elements {
                return Err(state.limit("element count", limits.max_elements));
            }
            let element = map.next_value_seed(ElementSeed {
                tag,
                state: &mut *state,
            })?;
            if let Some((last, _)) = elements.last() {
                ascending &= *last < tag;
            }
            elements.push((tag, element));
            state.path.pop();
        }
        state.depth -= 1;
        if !ascending && state.options.strict {
            let mut tags: Vec<Tag> = elements.iter().map(|(tag, _)| *tag).collect();
            tags.sort_unstable();
            if let Some(pair) = tags.windows(2).find(|pair| pair[0] == pair[1]) {
                return Err(de::Error::custom(format_args!(
                    "expected each tag once in a data set, found {} twice",
                    pair[0]
                )));
            }
        }
        // Built in one pass from tag order; a later duplicate replaces an earlier one.
        let ds: DataSet = elements.drain(..).collect();
        state.buffers.push(elements);
        Ok(ds)
    }
}

/// A data set key: eight hex digits, either case.
struct TagKey;

impl<'de> DeserializeSeed<'de> for TagKey {
    type Value = Tag;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tag, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for TagKey {
    type Value = Tag;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tag of eight hex digits such as \"0020000D\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Tag, E> {
        hex_tag(text.as_bytes()).ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

/// Eight hex digits, either case, as a tag (the reader's hot path: one call per element).
pub(super) fn hex_tag(text: &[u8]) -> Option<Tag> {
    let digits: &[u8; 8] = text.try_into().ok()?;
    // Looked up, not matched: every key of every data set goes through here. An invalid digit
    // sets the high bit of `invalid`.
    let mut value = 0u32;
    let mut invalid = 0u8;
    for &b in digits {
        let digit = HEX_DIGIT[usize::from(b)];
        invalid |= digit;
        value = (value << 4) | u32::from(digit & 0x0F);
    }
    (invalid & 0x80 == 0).then_some(Tag(value))
}

/// The value of each hex digit, upper or lower case; 0x80 for every other byte.
static HEX_DIGIT: [u8; 256] = {
    let mut table = [0x80u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'A' as usize + i] = 10 + i as u8;
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};
