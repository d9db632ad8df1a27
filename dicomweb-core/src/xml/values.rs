//! One `DicomAttribute` being read: its header and the values gathered so far, typed by VR.

use std::borrow::Cow;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;

use crate::{DataSet, Element, Number, PersonName, Tag, Text, Value, ValueKind, Values, Vr};

/// Base64 as InlineBinary carries it, padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A `DicomAttribute` whose start tag has been read and whose end tag has not.
pub(super) struct OpenAttribute {
    /// The tag as written (`gggg00ee` for a private element with a `privateCreator`).
    pub(super) tag: Tag,
    /// The VR, given or looked up.
    pub(super) vr: Vr,
    /// The `privateCreator` attribute, as an index into its data set's distinct creators.
    pub(super) creator: Option<usize>,
    values: Option<Gathered>,
}

/// The values gathered so far; the first child element decides the shape. Strings, numbers
/// and tags are gathered in the model's own [`Values`], so one value (the usual case) costs no
/// allocation and the finished element takes them as they are.
enum Gathered {
    Strings(Values<Text>),
    Numbers(Values<Number>),
    Tags(Values<Tag>),
    Names(Vec<Option<PersonName>>),
    Items(Vec<(usize, DataSet)>),
    Binary(Value),
}

impl OpenAttribute {
    /// An attribute with no value yet.
    pub(super) fn new(tag: Tag, vr: Vr, creator: Option<usize>) -> OpenAttribute {
        OpenAttribute {
            tag,
            vr,
            creator,
            values: None,
        }
    }

    /// The number a child without a `number` attribute gets: one past the last.
    pub(super) fn next_number(&self) -> usize {
        1 + match &self.values {
            None | Some(Gathered::Binary(_)) => 0,
            Some(Gathered::Strings(v)) => v.len(),
            Some(Gathered::Numbers(v)) => v.len(),
            Some(Gathered::Tags(v)) => v.len(),
            Some(Gathered::Names(v)) => v.len(),
            Some(Gathered::Items(v)) => v.iter().map(|(n, _)| *n).max().unwrap_or(0),
        }
    }

    /// A `Value` element's text (`None` for an empty element), converted for the VR.
    pub(super) fn add_value(
        &mut self,
        number: usize,
        text: Option<Cow<'_, str>>,
        strict: bool,
    ) -> Result<(), String> {
        let text = text.filter(|t| !t.is_empty());
        let vr = self.vr;
        let kind = vr.kind();
        let holds_items = matches!(self.values, Some(Gathered::Items(_)));
        if text.is_none() && (kind == ValueKind::Sequence || holds_items) {
            // Orthanc writes an empty `<Value number="1"/>` between the items of a sequence;
            // it carries nothing.
            if strict {
                return Err(format!(
                    "an empty <Value> in a {vr} attribute (Orthanc writes these between \
                     sequence items; only the lenient mode ignores them)"
                ));
            }
            return Ok(());
        }
        let values = match (&mut self.values, kind) {
            (slot @ None, ValueKind::Text) => slot.insert(Gathered::Strings(Values::new())),
            (slot @ None, ValueKind::DecimalText | ValueKind::Integer | ValueKind::Float) => {
                slot.insert(Gathered::Numbers(Values::new()))
            }
            (slot @ None, ValueKind::Tag) => slot.insert(Gathered::Tags(Values::new())),
            (slot @ None, ValueKind::PersonName) if !strict => {
                slot.insert(Gathered::Names(Vec::with_capacity(1)))
            }
            (None, _) => {
                return Err(format!(
                    "a {vr} attribute cannot hold <Value> (expected {})",
                    expected_children(vr)
                ));
            }
            (Some(values), _) => values,
        };
        match values {
            Gathered::Strings(v) => put(v, number, text.map(text_of)),
            Gathered::Numbers(v) => {
                let value = text.map(|t| number_value(vr, &t, strict)).transpose()?;
                put(v, number, value.flatten())
            }
            Gathered::Tags(v) => {
                let value = text.map(|t| tag_value(&t, strict)).transpose()?;
                put(v, number, value)
            }
            Gathered::Names(v) => {
                let name = text.map(|t| PersonName::from_dicom_string(&t));
                put_name(v, number, name.filter(|n| !n.is_empty()))
            }
            _ => Err(mixed("<Value>")),
        }
    }

    /// A `PersonName` element.
    pub(super) fn add_name(
        &mut self,
        number: usize,
        name: Option<PersonName>,
    ) -> Result<(), String> {
        if self.vr != Vr::PN {
            return Err(format!(
                "a {} attribute cannot hold <PersonName> (expected {})",
                self.vr,
                expected_children(self.vr)
            ));
        }
        match self
            .values
            .get_or_insert_with(|| Gathered::Names(Vec::with_capacity(1)))
        {
            Gathered::Names(v) => put_name(v, number, name),
            _ => Err(mixed("<PersonName>")),
        }
    }

    /// An `Item` element's data set.
    pub(super) fn add_item(&mut self, number: usize, item: DataSet) -> Result<(), String> {
        match self.values.get_or_insert(Gathered::Items(Vec::new())) {
            Gathered::Items(items) => {
                if items.iter().any(|(n, _)| *n == number) {
                    return Err(format!("two <Item number=\"{number}\">"));
                }
                items.push((number, item));
                Ok(())
            }
            _ => Err(mixed("<Item>")),
        }
    }

    /// Whether a sequence item may open here (strict mode wants SQ).
    pub(super) fn accepts_items(&self, strict: bool) -> bool {
        !strict || self.vr == Vr::SQ
    }

    /// An `InlineBinary` element's base64 text.
    pub(super) fn add_inline_binary(&mut self, text: &str) -> Result<(), String> {
        let bytes = if text.bytes().any(|b| b.is_ascii_whitespace()) {
            let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            BASE64.decode(compact)
        } else {
            BASE64.decode(text)
        }
        .map_err(|e| format!("InlineBinary is not base64: {e}"))?;
        self.set_binary(Value::InlineBinary(Bytes::from(bytes)), "<InlineBinary>")
    }

    /// A `BulkData` element's URI.
    pub(super) fn add_bulk_data(&mut self, uri: String) -> Result<(), String> {
        self.set_binary(Value::BulkDataUri(uri.into()), "<BulkData>")
    }

    fn set_binary(&mut self, value: Value, what: &str) -> Result<(), String> {
        if self.values.is_some() {
            return Err(format!(
                "{what} must be the only content of its DicomAttribute"
            ));
        }
        self.values = Some(Gathered::Binary(value));
        Ok(())
    }

    /// The finished element.
    pub(super) fn finish(self) -> Element {
        let value = match self.values {
            None => Value::Empty,
            Some(Gathered::Strings(v)) => Value::Strings(v),
            Some(Gathered::Numbers(v)) => Value::Numbers(v),
            Some(Gathered::Tags(v)) => Value::Tags(v),
            Some(Gathered::Names(v)) => Value::PersonNames(v),
            Some(Gathered::Items(mut items)) => {
                if items.windows(2).any(|w| w[0].0 > w[1].0) {
                    items.sort_by_key(|(n, _)| *n);
                }
                Value::Items(items.into_iter().map(|(_, ds)| ds).collect())
            }
            Some(Gathered::Binary(value)) => value,
        };
        Element::new(self.vr, value)
    }
}

/// A value's text as `Text`: copied when borrowed from the document, taken when it was
/// assembled.
fn text_of(text: Cow<'_, str>) -> Text {
    match text {
        Cow::Borrowed(text) => Text::from(text),
        Cow::Owned(text) => Text::from(text),
    }
}

/// Puts a value at its 1-based position, filling a gap before it with empty values.
fn put<T>(values: &mut Values<T>, number: usize, value: Option<T>) -> Result<(), String> {
    let index = number.saturating_sub(1);
    if index >= values.len() {
        while values.len() < index {
            values.push(None);
        }
        values.push(value);
    } else if values[index].is_none() {
        values[index] = value;
    } else {
        return Err(two_values(number));
    }
    Ok(())
}

/// [`put`] for person names, which the model keeps in a `Vec`.
fn put_name(
    values: &mut Vec<Option<PersonName>>,
    number: usize,
    value: Option<PersonName>,
) -> Result<(), String> {
    let index = number.saturating_sub(1);
    if index >= values.len() {
        values.resize_with(index, || None);
        values.push(value);
    } else if values[index].is_none() {
        values[index] = value;
    } else {
        return Err(two_values(number));
    }
    Ok(())
}

fn two_values(number: usize) -> String {
    format!("two values with number=\"{number}\"")
}

fn mixed(what: &str) -> String {
    format!("{what} mixed with other kinds of value in one DicomAttribute")
}

fn expected_children(vr: Vr) -> &'static str {
    match vr.kind() {
        ValueKind::PersonName => "<PersonName>",
        ValueKind::Sequence => "<Item>",
        ValueKind::Binary => "<InlineBinary> or <BulkData>",
        _ => "<Value>",
    }
}

/// A numeric value's text: IS and DS keep it exactly (trimmed); binary VRs parse it.
/// `None` when only padding was there.
fn number_value(vr: Vr, text: &str, strict: bool) -> Result<Option<Number>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let parsed = match vr.kind() {
        ValueKind::Integer => trimmed
            .parse::<i64>()
            .map(Number::Int)
            .ok()
            .or_else(|| trimmed.parse::<u64>().ok().map(Number::UInt)),
        ValueKind::Float => trimmed.parse::<f64>().ok().map(Number::Float),
        _ => None,
    };
    match parsed {
        Some(number) => Ok(Some(number)),
        None if strict && vr.kind() != ValueKind::DecimalText => Err(format!(
            "expected {} for {vr}, found {trimmed:?}",
            if vr.kind() == ValueKind::Float {
                "a floating-point number (or NaN, INF, -INF)"
            } else {
                "an integer"
            }
        )),
        None => Ok(Some(Number::Text(trimmed.into()))),
    }
}

/// An AT value: eight hex digits (leniently also `(gggg,eeee)`).
fn tag_value(text: &str, strict: bool) -> Result<Tag, String> {
    let trimmed = text.trim();
    let tag = if strict {
        Tag::from_hex(trimmed)
    } else {
        trimmed.parse().ok()
    };
    tag.ok_or_else(|| format!("expected an AT value of eight hex digits, found {trimmed:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_out_of_order_and_with_gaps() {
        let mut open = OpenAttribute::new(Tag(0x0008_0008), Vr::CS, None);
        open.add_value(3, Some("C".into()), true).unwrap();
        open.add_value(1, Some("A".into()), true).unwrap();
        open.add_value(5, None, true).unwrap();
        assert!(open.add_value(1, Some("again".into()), true).is_err());
        let element = open.finish();
        assert_eq!(
            element.value,
            Value::Strings(vec![Some("A".into()), None, Some("C".into()), None, None].into())
        );
    }

    #[test]
    fn numbers_by_vr() {
        assert_eq!(
            number_value(Vr::DS, " 338.671600 ", true),
            Ok(Some(Number::Text("338.671600".into())))
        );
        assert_eq!(number_value(Vr::US, "7", true), Ok(Some(Number::Int(7))));
        assert_eq!(
            number_value(Vr::UV, "18446744073709551615", true),
            Ok(Some(Number::UInt(u64::MAX)))
        );
        assert_eq!(
            number_value(Vr::FD, "-INF", true),
            Ok(Some(Number::Float(f64::NEG_INFINITY)))
        );
        assert_eq!(
            number_value(Vr::FL, "Infinity", true),
            Ok(Some(Number::Float(f64::INFINITY)))
        );
        assert!(
            matches!(number_value(Vr::FD, "NaN", true), Ok(Some(Number::Float(v))) if v.is_nan())
        );
        assert!(number_value(Vr::SL, "1.5", true).is_err());
        assert_eq!(
            number_value(Vr::SL, "1.5", false),
            Ok(Some(Number::Text("1.5".into())))
        );
        assert_eq!(number_value(Vr::IS, "  ", true), Ok(None));
    }

    #[test]
    fn at_values() {
        assert_eq!(tag_value("0020000d", true), Ok(Tag(0x0020_000D)));
        assert!(tag_value("(0020,000D)", true).is_err());
        assert_eq!(tag_value("(0020,000D)", false), Ok(Tag(0x0020_000D)));
    }

    #[test]
    fn orthanc_empty_values_between_items_are_ignored_when_lenient() {
        let mut open = OpenAttribute::new(Tag(0x0010_1002), Vr::SQ, None);
        open.add_item(1, DataSet::new()).unwrap();
        open.add_value(1, None, false).unwrap();
        open.add_item(2, DataSet::new()).unwrap();
        assert!(open.add_value(1, None, true).is_err());
        assert_eq!(
            open.finish().value,
            Value::Items(vec![DataSet::new(), DataSet::new()])
        );
        let mut first = OpenAttribute::new(Tag(0x0010_1002), Vr::SQ, None);
        first.add_value(1, Some("".into()), false).unwrap();
        assert!(first.add_value(1, Some("x".into()), false).is_err());
    }

    #[test]
    fn binary_must_be_alone() {
        let mut open = OpenAttribute::new(Tag(0x7FE0_0010), Vr::OB, None);
        open.add_inline_binary("AQID\n BA==").unwrap();
        assert!(open.add_bulk_data("http://x".into()).is_err());
        assert_eq!(
            open.finish().value,
            Value::InlineBinary(Bytes::from_static(&[1, 2, 3, 4]))
        );
        let mut open = OpenAttribute::new(Tag(0x7FE0_0010), Vr::OB, None);
        assert!(open.add_value(1, Some("x".into()), false).is_err());
        assert!(open.add_value(1, None, false).is_err());
        assert!(open.add_inline_binary("not base64!").is_err());
    }
}
