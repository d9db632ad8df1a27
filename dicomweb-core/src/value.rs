//! Element values: the shapes DICOM JSON and the Native DICOM Model carry.

use std::fmt;
use std::ops::{Deref, DerefMut};

use bytes::Bytes;

use crate::{DataSet, Tag, Text};

/// The values of a multi-valued element, each possibly empty (`None`).
///
/// A single value, by far the most common case, is held inline without an allocation of its
/// own. It dereferences to `[Option<T>]`; build one from a `Vec`, an array or an iterator.
#[derive(Clone)]
pub struct Values<T>(Repr<T>);

// One entry inline, or a vector. No bigger than one `Option<T>`: the vector fits beside the
// niche of `Option<Text>` and `Option<Number>`, which keeps `Value` at 48 bytes.
#[derive(Clone)]
enum Repr<T> {
    One(Option<T>),
    Many(Vec<Option<T>>),
}

impl<T> Values<T> {
    /// No values.
    pub const fn new() -> Values<T> {
        Values(Repr::Many(Vec::new()))
    }

    /// One present value.
    pub fn one(value: T) -> Values<T> {
        Values::single(Some(value))
    }

    /// One entry, present or not, stored inline.
    #[inline]
    pub(crate) fn single(value: Option<T>) -> Values<T> {
        Values(Repr::One(value))
    }

    /// Appends a value.
    pub fn push(&mut self, value: Option<T>) {
        match &mut self.0 {
            Repr::Many(values) if !values.is_empty() => values.push(value),
            Repr::Many(_) => self.0 = Repr::One(value),
            Repr::One(_) => {
                let Repr::One(first) = std::mem::replace(&mut self.0, Repr::Many(Vec::new()))
                else {
                    unreachable!("matched as one value above")
                };
                // Two values are the usual many (a pixel spacing, a window's centre and width);
                // more grow the vector by doubling. `vec!` allocates exactly two.
                self.0 = Repr::Many(vec![first, value]);
            }
        }
    }

    /// The values in a `Vec`.
    pub fn into_vec(self) -> Vec<Option<T>> {
        match self.0 {
            Repr::One(value) => vec![value],
            Repr::Many(values) => values,
        }
    }
}

impl<T> Default for Values<T> {
    fn default() -> Values<T> {
        Values::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for Values<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> Deref for Values<T> {
    type Target = [Option<T>];

    #[inline]
    fn deref(&self) -> &[Option<T>] {
        match &self.0 {
            Repr::One(value) => std::slice::from_ref(value),
            Repr::Many(values) => values,
        }
    }
}

impl<T> DerefMut for Values<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [Option<T>] {
        match &mut self.0 {
            Repr::One(value) => std::slice::from_mut(value),
            Repr::Many(values) => values,
        }
    }
}

impl<T: PartialEq> PartialEq for Values<T> {
    fn eq(&self, other: &Values<T>) -> bool {
        self[..] == other[..]
    }
}

impl<T> From<Vec<Option<T>>> for Values<T> {
    fn from(mut values: Vec<Option<T>>) -> Values<T> {
        match values.len() {
            // `pop` of the one entry: `Some(entry)`, flattened to the entry.
            1 => Values::single(values.pop().flatten()),
            _ => Values(Repr::Many(values)),
        }
    }
}

impl<T, const N: usize> From<[Option<T>; N]> for Values<T> {
    fn from(values: [Option<T>; N]) -> Values<T> {
        values.into_iter().collect()
    }
}

impl<T> FromIterator<Option<T>> for Values<T> {
    fn from_iter<I: IntoIterator<Item = Option<T>>>(iter: I) -> Values<T> {
        let mut iter = iter.into_iter();
        let Some(first) = iter.next() else {
            return Values::new();
        };
        match iter.next() {
            None => Values::single(first),
            Some(second) => {
                let mut values = Vec::with_capacity(2 + iter.size_hint().0);
                values.push(first);
                values.push(second);
                values.extend(iter);
                Values(Repr::Many(values))
            }
        }
    }
}

impl<T> Extend<Option<T>> for Values<T> {
    fn extend<I: IntoIterator<Item = Option<T>>>(&mut self, iter: I) {
        for value in iter {
            self.push(value);
        }
    }
}

/// The values of a [`Values`], by value.
#[derive(Debug)]
pub struct ValuesIntoIter<T>(IntoIterRepr<T>);

#[derive(Debug)]
enum IntoIterRepr<T> {
    One(std::option::IntoIter<Option<T>>),
    Many(std::vec::IntoIter<Option<T>>),
}

impl<T> Iterator for ValuesIntoIter<T> {
    type Item = Option<T>;

    fn next(&mut self) -> Option<Option<T>> {
        match &mut self.0 {
            IntoIterRepr::One(one) => one.next(),
            IntoIterRepr::Many(many) => many.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IntoIterRepr::One(one) => one.size_hint(),
            IntoIterRepr::Many(many) => many.size_hint(),
        }
    }
}

impl<T> DoubleEndedIterator for ValuesIntoIter<T> {
    fn next_back(&mut self) -> Option<Option<T>> {
        match &mut self.0 {
            IntoIterRepr::One(one) => one.next_back(),
            IntoIterRepr::Many(many) => many.next_back(),
        }
    }
}

impl<T> ExactSizeIterator for ValuesIntoIter<T> {}

impl<T> std::iter::FusedIterator for ValuesIntoIter<T> {}

impl<T> IntoIterator for Values<T> {
    type Item = Option<T>;
    type IntoIter = ValuesIntoIter<T>;

    fn into_iter(self) -> ValuesIntoIter<T> {
        ValuesIntoIter(match self.0 {
            Repr::One(value) => IntoIterRepr::One(Some(value).into_iter()),
            Repr::Many(values) => IntoIterRepr::Many(values.into_iter()),
        })
    }
}

impl<'a, T> IntoIterator for &'a Values<T> {
    type Item = &'a Option<T>;
    type IntoIter = std::slice::Iter<'a, Option<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: PartialEq> PartialEq<[Option<T>]> for Values<T> {
    fn eq(&self, other: &[Option<T>]) -> bool {
        self[..] == *other
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[Option<T>; N]> for Values<T> {
    fn eq(&self, other: &[Option<T>; N]) -> bool {
        self[..] == other[..]
    }
}

impl<T: PartialEq> PartialEq<Vec<Option<T>>> for Values<T> {
    fn eq(&self, other: &Vec<Option<T>>) -> bool {
        self[..] == other[..]
    }
}

/// The value of a data element.
///
/// Multi-valued VRs hold a list whose entries may be `None`: DICOM JSON writes an empty value
/// inside a multi-valued element as `null`, the Native DICOM Model as an empty `Value`.
/// Strings, numbers and tags are [`Values`], which hold one value inline; strings are [`Text`],
/// which a reader can share with the buffer it read them from.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// No value at all: the element is present with zero length (no `Value` member).
    Empty,
    /// Character string values (AE AS CS DA DT LO LT SH ST TM UC UI UR UT).
    Strings(Values<Text>),
    /// Numeric values (IS DS FL FD SL SS UL US SV UV), each keeping the form it arrived in.
    Numbers(Values<Number>),
    /// Attribute tag values (AT).
    Tags(Values<Tag>),
    /// Person name values (PN).
    PersonNames(Vec<Option<PersonName>>),
    /// Sequence items (SQ), each a nested data set.
    Items(Vec<DataSet>),
    /// Binary value carried inline (InlineBinary, base64 in JSON and XML).
    InlineBinary(Bytes),
    /// Binary or large value left on the server, to be fetched from this URI (BulkDataURI).
    BulkDataUri(Text),
}

/// One numeric value.
///
/// IS and DS values keep their text exactly (`338.671600` stays `338.671600`), whether it came as
/// a JSON number, a JSON string or XML text. Binary VRs keep the parsed number.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    /// The exact text of an IS or DS value (leading and trailing spaces removed), or a number
    /// that a lenient reader kept as text because it did not fit its VR.
    Text(Text),
    /// A signed integer (SL SS SV, or any integer that fits).
    Int(i64),
    /// An unsigned integer too large for `i64` (UV).
    UInt(u64),
    /// A floating-point value (FL FD), including NaN and the infinities.
    Float(f64),
}

impl Number {
    /// The value as `f64`, parsing text where needed.
    pub fn to_f64(&self) -> Option<f64> {
        match self {
            Number::Text(text) => text.trim().parse().ok(),
            Number::Int(v) => Some(*v as f64),
            Number::UInt(v) => Some(*v as f64),
            Number::Float(v) => Some(*v),
        }
    }

    /// The value as `i64` when it is an integer that fits.
    pub fn to_i64(&self) -> Option<i64> {
        match self {
            Number::Text(text) => text.trim().trim_start_matches('+').parse().ok(),
            Number::Int(v) => Some(*v),
            Number::UInt(v) => i64::try_from(*v).ok(),
            Number::Float(v) if v.fract() == 0.0 && v.abs() < 9.0e18 => Some(*v as i64),
            Number::Float(_) => None,
        }
    }
}

/// A person name: up to three component groups, each the `^`-separated text of its components
/// (family, given, middle, prefix, suffix).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonName {
    /// The alphabetic representation, e.g. `Adams^John Robert Quincy^^Rev.^B.A. M.Div.`.
    pub alphabetic: Option<Text>,
    /// The ideographic representation.
    pub ideographic: Option<Text>,
    /// The phonetic representation.
    pub phonetic: Option<Text>,
}

impl PersonName {
    /// A person name with only an alphabetic group.
    pub fn alphabetic(text: impl Into<Text>) -> PersonName {
        PersonName {
            alphabetic: Some(text.into()),
            ..PersonName::default()
        }
    }

    /// Parses the Part 10 form, groups separated by `=`: `Yamada^Tarou=山田^太郎=やまだ^たろう`.
    pub fn from_dicom_string(text: &str) -> PersonName {
        let mut groups = text.splitn(3, '=').map(|g| {
            let g = g.trim_end_matches(' ');
            (!g.is_empty()).then(|| Text::from(g))
        });
        PersonName {
            alphabetic: groups.next().flatten(),
            ideographic: groups.next().flatten(),
            phonetic: groups.next().flatten(),
        }
    }

    /// The Part 10 form: groups joined by `=`, trailing empty groups left out.
    pub fn to_dicom_string(&self) -> String {
        let groups = [&self.alphabetic, &self.ideographic, &self.phonetic];
        let used = groups
            .iter()
            .rposition(|g| g.is_some())
            .map_or(0, |i| i + 1);
        groups[..used]
            .iter()
            .map(|g| g.as_deref().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("=")
    }

    /// Whether no group is present.
    pub fn is_empty(&self) -> bool {
        self.alphabetic.is_none() && self.ideographic.is_none() && self.phonetic.is_none()
    }
}

impl Value {
    /// The number of values: items for a sequence, 1 for binary, 0 when empty.
    #[inline]
    pub fn multiplicity(&self) -> usize {
        match self {
            Value::Empty => 0,
            Value::Strings(v) => v.len(),
            Value::Numbers(v) => v.len(),
            Value::Tags(v) => v.len(),
            Value::PersonNames(v) => v.len(),
            Value::Items(v) => v.len(),
            Value::InlineBinary(_) | Value::BulkDataUri(_) => 1,
        }
    }

    /// The first string value, if this holds strings.
    pub fn first_str(&self) -> Option<&str> {
        match self {
            Value::Strings(values) => values.first()?.as_deref(),
            Value::Numbers(values) => match values.first()?.as_ref()? {
                Number::Text(text) => Some(text),
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_name_groups_round_trip() {
        let text = "Yamada^Tarou=山田^太郎=やまだ^たろう";
        let name = PersonName::from_dicom_string(text);
        assert_eq!(name.alphabetic.as_deref(), Some("Yamada^Tarou"));
        assert_eq!(name.phonetic.as_deref(), Some("やまだ^たろう"));
        assert_eq!(name.to_dicom_string(), text);

        let only_ideographic = PersonName::from_dicom_string("=山田");
        assert_eq!(only_ideographic.alphabetic, None);
        assert_eq!(only_ideographic.to_dicom_string(), "=山田");
        assert!(PersonName::from_dicom_string("").is_empty());
    }

    #[test]
    fn numbers_convert() {
        assert_eq!(Number::Text("338.671600".into()).to_f64(), Some(338.6716));
        assert_eq!(Number::Text(" +12 ".into()).to_i64(), Some(12));
        assert_eq!(Number::UInt(u64::MAX).to_i64(), None);
        assert_eq!(Number::Float(3.0).to_i64(), Some(3));
        assert_eq!(Number::Float(f64::NAN).to_i64(), None);
    }

    #[test]
    fn values_grow_from_one_inline_entry_to_a_vector() {
        let mut values: Values<Text> = Values::new();
        assert!(values.is_empty());
        values.push(Some("A".into()));
        assert_eq!(values, [Some(Text::from("A"))]);
        assert!(matches!(values.0, Repr::One(_)));
        values.push(None);
        values.extend([Some(Text::from("C"))]);
        assert_eq!(values.len(), 3);
        assert_eq!(values[1], None);
        values[1] = Some("B".into());
        let all: Vec<_> = values.clone().into_iter().rev().flatten().collect();
        assert_eq!(all, ["C", "B", "A"]);
        assert_eq!(values.into_vec().len(), 3);

        let one = Values::from(vec![None::<Text>]);
        assert!(matches!(one.0, Repr::One(None)));
        assert_eq!(one.into_iter().len(), 1);
        let collected: Values<Tag> = [Some(Tag(1)), Some(Tag(2))].into_iter().collect();
        assert_eq!(collected, vec![Some(Tag(1)), Some(Tag(2))]);
        assert_eq!(Values::<Tag>::from([]), Values::new());
        assert_eq!(
            format!("{:?}", Values::one(Tag(0x0010_0010))),
            "[Some((0010,0010))]"
        );
    }

    #[test]
    fn one_value_costs_no_more_room_than_one_entry() {
        // What keeps an element at 56 bytes and a data set's entry at 64.
        assert_eq!(size_of::<Values<Text>>(), size_of::<Option<Text>>());
        assert_eq!(size_of::<Values<Number>>(), size_of::<Option<Number>>());
        assert!(size_of::<Value>() <= 48, "{}", size_of::<Value>());
    }
}
