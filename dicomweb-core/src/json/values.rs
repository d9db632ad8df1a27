//! The `Value` array of an element, read into the shape its VR calls for.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::read::{DataSetSeed, State};
use crate::{Number, PathStep, PersonName, Tag, Text, Value, ValueKind, Values, Vr};

/// Reads a `Value` member for an element of VR `vr`.
pub(super) struct ValueSeed<'s, 'o> {
    pub(super) vr: Vr,
    pub(super) state: &'s mut State<'o>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a Value array for VR {}", self.vr)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Empty)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let vr = self.vr;
        let strict = self.state.options.strict;
        let source = self.state.source;
        let value = match vr.kind() {
            ValueKind::Text => Value::Strings(collect(&mut seq, || TextEntry { vr, source })?),
            ValueKind::DecimalText => Value::Numbers(decimal_texts(&mut seq, vr, source)?),
            ValueKind::Integer | ValueKind::Float => {
                Value::Numbers(collect(&mut seq, || NumberEntry { vr, strict })?)
            }
            ValueKind::Binary if !strict => {
                Value::Numbers(collect(&mut seq, || NumberEntry { vr, strict })?)
            }
            ValueKind::Binary => {
                return Err(de::Error::custom(format_args!(
                    "expected InlineBinary or BulkDataURI for VR {vr}, found a Value array"
                )));
            }
            ValueKind::Tag => Value::Tags(collect(&mut seq, || TagEntry)?),
            ValueKind::PersonName => {
                let mut names = Vec::with_capacity(1);
                while let Some(name) = seq.next_element_seed(PersonNameEntry { source })? {
                    names.push(name);
                }
                Value::PersonNames(names)
            }
            ValueKind::Sequence => {
                let state = self.state;
                let mut items = Vec::new();
                loop {
                    state.path.push(PathStep::Item(items.len()));
                    match seq.next_element_seed(DataSetSeed::new(&mut *state, true))? {
                        Some(item) => items.push(item),
                        None => break,
                    }
                    state.path.pop();
                }
                state.path.pop();
                Value::Items(items)
            }
        };
        Ok(if value.multiplicity() == 0 {
            Value::Empty
        } else {
            value
        })
    }
}

fn collect<'de, A, S, T, F>(seq: &mut A, seed: F) -> Result<Values<T>, A::Error>
where
    A: SeqAccess<'de>,
    S: DeserializeSeed<'de, Value = Option<T>>,
    F: Fn() -> S,
{
    let mut values = Values::new();
    while let Some(value) = seq.next_element_seed(seed())? {
        values.push(value);
    }
    Ok(values)
}

/// IS and DS: the exact text of a JSON number, or the trimmed text of a JSON string.
fn decimal_texts<'de, A: SeqAccess<'de>>(
    seq: &mut A,
    vr: Vr,
    source: &Text,
) -> Result<Values<Number>, A::Error> {
    let mut values = Values::new();
    while let Some(raw) = seq.next_element::<Option<&'de RawValue>>()? {
        let Some(raw) = raw else {
            values.push(None);
            continue;
        };
        let text = raw.get();
        let number = match text.as_bytes().first() {
            Some(b'"') => {
                let inner = &text[1..text.len() - 1];
                let trimmed = if inner.contains('\\') {
                    let unescaped: String =
                        serde_json::from_str(text).map_err(de::Error::custom)?;
                    Text::from(unescaped.trim())
                } else {
                    Text::slice_of(source, inner.trim())
                };
                (!trimmed.is_empty()).then_some(Number::Text(trimmed))
            }
            Some(b'-' | b'0'..=b'9') => Some(Number::Text(Text::slice_of(source, text))),
            _ => {
                return Err(de::Error::custom(format_args!(
                    "expected a number, a string or null in the Value of a {vr} element, found {}",
                    excerpt(text)
                )));
            }
        };
        values.push(number);
    }
    Ok(values)
}

/// At most 40 characters of some JSON text, for an error message.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A string value of a text VR, or `null`.
struct TextEntry<'s> {
    vr: Vr,
    source: &'s Text,
}

impl<'de> DeserializeSeed<'de> for TextEntry<'_> {
    type Value = Option<Text>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Text>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TextEntry<'_> {
    type Value = Option<Text>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string or null in the Value of a {} element", self.vr)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Option<Text>, E> {
        Ok(Some(Text::slice_of(self.source, v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Text>, E> {
        Ok(Some(Text::from(v)))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Option<Text>, E> {
        Ok(Some(Text::from(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<Text>, E> {
        Ok(None)
    }

    // Lenient: a number where a string belongs (some writers do this for CS or UI) keeps its
    // value as text.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Text>, E> {
        Ok(Some(Text::from(v.to_string())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Text>, E> {
        Ok(Some(Text::from(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<Text>, E> {
        Ok(Some(Text::from(v.to_string())))
    }
}

/// A string member (a person name group, a BulkDataURI), or `null`.
pub(super) struct StringOrNull<'s> {
    pub(super) what: &'static str,
    pub(super) source: &'s Text,
}

impl<'de> DeserializeSeed<'de> for StringOrNull<'_> {
    type Value = Option<Text>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Text>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringOrNull<'_> {
    type Value = Option<Text>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Option<Text>, E> {
        Ok(Some(Text::slice_of(self.source, v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Text>, E> {
        Ok(Some(Text::from(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<Text>, E> {
        Ok(None)
    }
}

/// A binary number (SL SS UL US SV UV FL FD): a JSON number, a string holding one
/// (`"NaN"`, `"Infinity"`, `"-Infinity"` for floats), or `null`.
struct NumberEntry {
    vr: Vr,
    strict: bool,
}

impl NumberEntry {
    fn is_float(&self) -> bool {
        self.vr.kind() == ValueKind::Float
    }
}

impl<'de> DeserializeSeed<'de> for NumberEntry {
    type Value = Option<Number>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<Number>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Visitor<'_> for NumberEntry {
    type Value = Option<Number>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a number, a string holding one, or null in the Value of a {} element",
            self.vr
        )
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<Number>, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Number>, E> {
        Ok(Some(if self.is_float() {
            Number::Float(v as f64)
        } else {
            Number::Int(v)
        }))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Number>, E> {
        Ok(Some(match i64::try_from(v) {
            _ if self.is_float() => Number::Float(v as f64),
            Ok(v) => Number::Int(v),
            Err(_) => Number::UInt(v),
        }))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<Number>, E> {
        Ok(Some(Number::Float(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Number>, E> {
        let text = v.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let parsed = if self.is_float() {
            match text {
                "NaN" => Some(Number::Float(f64::NAN)),
                "Infinity" | "+Infinity" => Some(Number::Float(f64::INFINITY)),
                "-Infinity" => Some(Number::Float(f64::NEG_INFINITY)),
                _ => text.parse().ok().map(Number::Float),
            }
        } else {
            let unsigned = text.strip_prefix('+').unwrap_or(text);
            match unsigned.parse::<i64>() {
                Ok(v) => Some(Number::Int(v)),
                Err(_) => unsigned.parse::<u64>().ok().map(Number::UInt),
            }
        };
        match parsed {
            Some(number) => Ok(Some(number)),
            None if self.strict => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            None => Ok(Some(Number::Text(Text::from(text)))),
        }
    }
}

/// An AT value: `"00100010"` (either case), or `null`.
struct TagEntry;

impl<'de> DeserializeSeed<'de> for TagEntry {
    type Value = Option<Tag>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Tag>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Visitor<'_> for TagEntry {
    type Value = Option<Tag>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AT value of eight hex digits such as \"00100010\", or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<Tag>, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Tag>, E> {
        match super::read::hex_tag(v.as_bytes()).or_else(|| v.parse().ok()) {
            Some(tag) => Ok(Some(tag)),
            None => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// A PN value: an object of component groups, a plain string (groups separated by `=`), or
/// `null`.
struct PersonNameEntry<'s> {
    source: &'s Text,
}

impl<'de> DeserializeSeed<'de> for PersonNameEntry<'_> {
    type Value = Option<PersonName>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<PersonName>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PersonNameEntry<'_> {
    type Value = Option<PersonName>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a person name object {\"Alphabetic\", \"Ideographic\", \"Phonetic\"}, a string, or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<PersonName>, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<PersonName>, E> {
        Ok(Some(PersonName::from_dicom_string(v)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<PersonName>, A::Error> {
        let mut name = PersonName::default();
        while let Some(key) = map.next_key::<GroupKey>()? {
            let slot = match key {
                GroupKey::Alphabetic => &mut name.alphabetic,
                GroupKey::Ideographic => &mut name.ideographic,
                GroupKey::Phonetic => &mut name.phonetic,
                GroupKey::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value_seed(StringOrNull {
                what: "a person name group as a string or null",
                source: self.source,
            })?;
        }
        Ok(Some(name))
    }
}

/// A member of a person name object.
enum GroupKey {
    Alphabetic,
    Ideographic,
    Phonetic,
    Other,
}

impl<'de> de::Deserialize<'de> for GroupKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<GroupKey, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = GroupKey;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a person name group name")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<GroupKey, E> {
                Ok(match v {
                    "Alphabetic" => GroupKey::Alphabetic,
                    "Ideographic" => GroupKey::Ideographic,
                    "Phonetic" => GroupKey::Phonetic,
                    _ => GroupKey::Other,
                })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}
