//! proptest strategies for the data model: any [`DataSet`] a reader of DICOM JSON or XML
//! can produce, for round-trip property tests (write, read back, compare).
//!
//! Values take the forms the readers produce: IS/DS as [`Number::Text`] (trimmed, non-empty),
//! integer VRs as [`Number::Int`] (and [`Number::UInt`] above `i64::MAX` for UV), FL/FD as
//! finite or infinite [`Number::Float`] (never NaN, which is not equal to itself), non-empty
//! value lists (an empty list reads back as [`Value::Empty`]), strings without leading or
//! trailing spaces and never empty (an empty string is an empty value, written as `null`).

use bytes::Bytes;
use dicomweb_core::{DataSet, Element, Number, PersonName, Tag, Text, Value, ValueKind, Vr};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// Any data set: standard and private elements of every VR, empty values, `None` entries,
/// InlineBinary and BulkDataURI, and sequences nested up to four levels deep.
pub fn data_set() -> impl Strategy<Value = DataSet> {
    let leaf = vec(leaf_element(), 0..12).prop_map(|elements| elements.into_iter().collect());
    leaf.prop_recursive(4, 48, 6, |inner| {
        let sequence = (
            tag(),
            prop_oneof![
                1 => Just(Value::Empty),
                6 => vec(inner.clone(), 1..4).prop_map(Value::Items),
            ],
        )
            .prop_map(|(tag, value)| (tag, Element::new(Vr::SQ, value)));
        (vec(leaf_element(), 0..8), vec(sequence, 0..3)).prop_map(|(leaves, sequences)| {
            leaves.into_iter().chain(sequences).collect::<DataSet>()
        })
    })
}

/// One non-sequence element, standard or private, with its tag.
pub fn leaf_element() -> impl Strategy<Value = (Tag, Element)> {
    prop_oneof![
        6 => (tag(), leaf_vr()).prop_flat_map(|(tag, vr)| {
            value(vr).prop_map(move |value| (tag, Element::new(vr, value)))
        }),
        1 => private_pair().prop_map(|(creator_tag, creator)| (creator_tag, creator)),
        1 => private_element(),
    ]
}

/// A tag outside the private groups and outside the item delimiters (FFFE).
pub fn tag() -> impl Strategy<Value = Tag> {
    (
        select(vec![
            0x0008u16, 0x0010, 0x0018, 0x0020, 0x0028, 0x0032, 0x0040, 0x0054, 0x3006, 0x300A,
        ]),
        1u16..=0xFFFF,
    )
        .prop_map(|(group, element)| Tag::new(group, element))
}

/// Every VR but SQ.
pub fn leaf_vr() -> impl Strategy<Value = Vr> {
    select(
        Vr::ALL
            .iter()
            .copied()
            .filter(|vr| *vr != Vr::SQ)
            .collect::<Vec<_>>(),
    )
}

/// A value of the shape `vr` calls for, or Empty, or a BulkDataURI (allowed on any VR).
pub fn value(vr: Vr) -> BoxedStrategy<Value> {
    let own = match vr.kind() {
        ValueKind::Text => vec(option(text().prop_map(Text::from)), 1..4)
            .prop_map(|v| Value::Strings(v.into()))
            .boxed(),
        ValueKind::DecimalText => {
            let text = if vr == Vr::IS {
                integer_text().boxed()
            } else {
                decimal_text().boxed()
            };
            vec(option(text.prop_map(|t| Number::Text(t.into()))), 1..4)
                .prop_map(|v| Value::Numbers(v.into()))
                .boxed()
        }
        ValueKind::Integer => vec(option(integer(vr)), 1..4)
            .prop_map(|v| Value::Numbers(v.into()))
            .boxed(),
        ValueKind::Float => vec(option(float()), 1..4)
            .prop_map(|v| Value::Numbers(v.into()))
            .boxed(),
        ValueKind::Tag => vec(option(any::<u32>().prop_map(Tag)), 1..4)
            .prop_map(|v| Value::Tags(v.into()))
            .boxed(),
        ValueKind::PersonName => vec(option(person_name()), 1..3)
            .prop_map(Value::PersonNames)
            .boxed(),
        ValueKind::Sequence => Just(Value::Empty).boxed(),
        ValueKind::Binary => vec(any::<u8>(), 1..40)
            .prop_map(|bytes| Value::InlineBinary(Bytes::from(bytes)))
            .boxed(),
    };
    prop_oneof![
        8 => own,
        1 => Just(Value::Empty),
        1 => bulk_data_uri().prop_map(|uri| Value::BulkDataUri(uri.into())),
    ]
    .boxed()
}

/// A private creator element `(gggg,00xx)` LO, as its tag and element.
pub fn private_pair() -> impl Strategy<Value = (Tag, Element)> {
    (
        private_group(),
        0x10u16..=0xFF,
        select(vec!["ACME 1.0", "SIEMENS CSA HEADER", "GEMS_ACQU_01"]),
    )
        .prop_map(|(group, block, creator)| {
            (Tag::new(group, block), Element::string(Vr::LO, creator))
        })
}

/// A private data element `(gggg,xxee)` of any VR but SQ.
pub fn private_element() -> impl Strategy<Value = (Tag, Element)> {
    (private_group(), 0x10u16..=0xFF, any::<u8>(), leaf_vr()).prop_flat_map(
        |(group, block, low, vr)| {
            let tag = Tag::new(group, (block << 8) | u16::from(low));
            value(vr).prop_map(move |value| (tag, Element::new(vr, value)))
        },
    )
}

fn private_group() -> impl Strategy<Value = u16> {
    select(vec![0x0009u16, 0x0011, 0x0019, 0x0029, 0x7FD1])
}

fn option<S>(inner: S) -> impl Strategy<Value = Option<S::Value>>
where
    S: Strategy,
    S::Value: Clone + std::fmt::Debug,
{
    prop_oneof![1 => Just(None), 6 => inner.prop_map(Some)]
}

/// Text without leading or trailing spaces, never empty; quotes, markup characters and
/// non-ASCII letters included.
pub fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9^._/&<>\"'é山田-]([A-Za-z0-9 ^._/&<>\"'é山田=-]{0,14}[A-Za-z0-9^._é山田])?"
}

fn integer_text() -> impl Strategy<Value = String> {
    "[-+]?[0-9]{1,10}"
}

fn decimal_text() -> impl Strategy<Value = String> {
    "[-+]?[0-9]{1,6}(\\.[0-9]{0,6})?([eE][-+]?[0-9]{1,2})?"
}

fn integer(vr: Vr) -> BoxedStrategy<Number> {
    match vr {
        Vr::US => (0..=i64::from(u16::MAX)).prop_map(Number::Int).boxed(),
        Vr::SS => (i64::from(i16::MIN)..=i64::from(i16::MAX))
            .prop_map(Number::Int)
            .boxed(),
        Vr::UL => (0..=i64::from(u32::MAX)).prop_map(Number::Int).boxed(),
        Vr::SL => (i64::from(i32::MIN)..=i64::from(i32::MAX))
            .prop_map(Number::Int)
            .boxed(),
        Vr::UV => prop_oneof![
            (0..=i64::MAX).prop_map(Number::Int),
            ((i64::MAX as u64 + 1)..=u64::MAX).prop_map(Number::UInt),
        ]
        .boxed(),
        _ => any::<i64>().prop_map(Number::Int).boxed(),
    }
}

fn float() -> impl Strategy<Value = Number> {
    prop_oneof![
        8 => any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(Number::Float),
        2 => (-1.0e6f64..1.0e6).prop_map(Number::Float),
        1 => Just(Number::Float(f64::INFINITY)),
        1 => Just(Number::Float(f64::NEG_INFINITY)),
    ]
}

/// A person name with at least one group; components separated by `^`.
pub fn person_name() -> impl Strategy<Value = PersonName> {
    let group = "[A-Za-z'-]{1,8}(\\^[A-Za-z.]{1,8}){0,4}";
    let ideographic = "[山田太郎]{1,4}(\\^[山田太郎]{1,4})?";
    let phonetic = "[やまだたろう]{1,4}(\\^[やまだたろう]{1,4})?";
    (
        proptest::option::of(group),
        proptest::option::of(ideographic),
        proptest::option::of(phonetic),
    )
        .prop_map(|(alphabetic, ideographic, phonetic)| PersonName {
            alphabetic: alphabetic.map(Text::from),
            ideographic: ideographic.map(Text::from),
            phonetic: phonetic.map(Text::from),
        })
        .prop_filter("at least one group", |name| !name.is_empty())
}

fn bulk_data_uri() -> impl Strategy<Value = String> {
    "http://127\\.0\\.0\\.1:8042/dicom-web/studies/1\\.2\\.[0-9]{1,6}/bulk/[0-9a-f]{8}(\\?offset=[0-9]{1,4}&length=[0-9]{1,4})?"
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn generates_every_vr_and_nesting() {
        let mut runner = TestRunner::deterministic();
        let mut seen = std::collections::BTreeSet::new();
        let mut nested = false;
        for _ in 0..300 {
            let ds = data_set().new_tree(&mut runner).unwrap().current();
            for (_, element) in &ds {
                seen.insert(element.vr);
                nested |= matches!(&element.value, Value::Items(items) if !items.is_empty());
            }
        }
        assert_eq!(seen.len(), Vr::ALL.len(), "{seen:?}");
        assert!(nested);
    }
}
