//! Element values: the shapes DICOM JSON and the Native DICOM Model carry.

use std::fmt;
use std::ops::{Deref, DerefMut};

use bytes::Bytes;
use smallvec::SmallVec;

use crate::{DataSet, Tag, Text};

/// The values of a multi-valued element, each possibly empty (`None`).
///
/// A single value, by far the most common case, is held inline without an allocation of its
/// own. It dereferences to `[Option<T>]`; build one from a `Vec`, an array or an iterator.
#[derive(Clone, PartialEq)]
pub struct Values<T>(SmallVec<[Option<T>; 1]>);

impl<T> Values<T> {
    /// No values.
    pub fn new() -> Values<T> {
        Values(SmallVec::new())
    }

    /// One present value.
    pub fn one(value: T) -> Values<T> {
        let mut values = SmallVec::new();
        values.push(Some(value));
        Values(values)
    }

    /// Appends a value.
    pub fn push(&mut self, value: Option<T>) {
        self.0.push(value);
    }

    /// The values in a `Vec`.
    pub fn into_vec(self) -> Vec<Option<T>> {
        self.0.into_vec()
    }
}

impl<T> Default for Values<T> {
    fn default() -> Values<T> {
        Values::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for Values<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T> Deref for Values<T> {
    type Target = [Option<T>];

    fn deref(&self) -> &[Option<T>] {
        &self.0
    }
}

impl<T> DerefMut for Values<T> {
    fn deref_mut(&mut self) -> &mut [Option<T>] {
        &mut self.0
    }
}

impl<T> From<Vec<Option<T>>> for Values<T> {
    fn from(values: Vec<Option<T>>) -> Values<T> {
        Values(SmallVec::from_vec(values))
    }
}

impl<T, const N: usize> From<[Option<T>; N]> for Values<T> {
    fn from(values: [Option<T>; N]) -> Values<T> {
        values.into_iter().collect()
    }
}

impl<T> FromIterator<Option<T>> for Values<T> {
    fn from_iter<I: IntoIterator<Item = Option<T>>>(iter: I) -> Values<T> {
        Values(iter.into_iter().collect())
    }
}

impl<T> Extend<Option<T>> for Values<T> {
    fn extend<I: IntoIterator<Item = Option<T>>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl<T> IntoIterator for Values<T> {
    type Item = Option<T>;
    type IntoIter = smallvec::IntoIter<[Option<T>; 1]>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a Values<T> {
    type Item = &'a Option<T>;
    type IntoIter = std::slice::Iter<'a, Option<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: PartialEq> PartialEq<[Option<T>]> for Values<T> {
    fn eq(&self, other: &[Option<T>]) -> bool {
        self.0[..] == *other
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[Option<T>; N]> for Values<T> {
    fn eq(&self, other: &[Option<T>; N]) -> bool {
        self.0[..] == other[..]
    }
}

impl<T: PartialEq> PartialEq<Vec<Option<T>>> for Values<T> {
    fn eq(&self, other: &Vec<Option<T>>) -> bool {
        self.0[..] == other[..]
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
}
