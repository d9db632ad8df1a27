//! Data sets and elements.

use std::collections::BTreeMap;
use std::collections::btree_map;

use crate::{Number, PersonName, Tag, Uid, Value, Vr};

/// A DICOM data set: elements keyed by tag, always iterated in ascending tag order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataSet {
    elements: BTreeMap<Tag, Element>,
}

/// A data element's VR and value (its tag is the key it is stored under).
#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    /// The value representation.
    pub vr: Vr,
    /// The value.
    pub value: Value,
}

impl Element {
    /// An element from its VR and value.
    pub fn new(vr: Vr, value: Value) -> Element {
        Element { vr, value }
    }

    /// An element with no value.
    pub fn empty(vr: Vr) -> Element {
        Element::new(vr, Value::Empty)
    }

    /// A string-valued element (AE AS CS DA DT LO LT SH ST TM UC UI UR UT).
    pub fn strings<I, S>(vr: Vr, values: I) -> Element
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Element::new(
            vr,
            Value::Strings(values.into_iter().map(|v| Some(v.into())).collect()),
        )
    }

    /// A single-valued string element.
    pub fn string(vr: Vr, value: impl Into<String>) -> Element {
        Element::strings(vr, [value])
    }

    /// A numeric element.
    pub fn numbers(vr: Vr, values: impl IntoIterator<Item = Number>) -> Element {
        Element::new(vr, Value::Numbers(values.into_iter().map(Some).collect()))
    }

    /// A PN element with one name.
    pub fn person_name(name: PersonName) -> Element {
        Element::new(Vr::PN, Value::PersonNames(vec![Some(name)]))
    }

    /// A sequence element.
    pub fn sequence(items: Vec<DataSet>) -> Element {
        Element::new(Vr::SQ, Value::Items(items))
    }
}

impl DataSet {
    /// An empty data set.
    pub fn new() -> DataSet {
        DataSet::default()
    }

    /// Inserts an element, returning the one it replaces.
    pub fn insert(&mut self, tag: Tag, element: Element) -> Option<Element> {
        self.elements.insert(tag, element)
    }

    /// The element with this tag.
    pub fn get(&self, tag: Tag) -> Option<&Element> {
        self.elements.get(&tag)
    }

    /// The element with this tag, mutably.
    pub fn get_mut(&mut self, tag: Tag) -> Option<&mut Element> {
        self.elements.get_mut(&tag)
    }

    /// Removes the element with this tag.
    pub fn remove(&mut self, tag: Tag) -> Option<Element> {
        self.elements.remove(&tag)
    }

    /// Whether an element with this tag is present.
    pub fn contains(&self, tag: Tag) -> bool {
        self.elements.contains_key(&tag)
    }

    /// The number of top-level elements.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// The elements in ascending tag order.
    pub fn iter(&self) -> btree_map::Iter<'_, Tag, Element> {
        self.elements.iter()
    }

    /// The first value of a string, IS or DS element, as text.
    pub fn string(&self, tag: Tag) -> Option<&str> {
        self.get(tag)?.value.first_str()
    }

    /// The first value of an element, as a validated UID.
    pub fn uid(&self, tag: Tag) -> Option<Uid> {
        Uid::new(self.string(tag)?.trim_end_matches(['\0', ' '])).ok()
    }

    /// The private creator that reserves the block of a private data element, if present.
    pub fn private_creator(&self, tag: Tag) -> Option<&str> {
        self.string(tag.private_creator_tag()?)
    }

    /// The number of elements at every depth, sequence items included.
    pub fn total_elements(&self) -> usize {
        self.elements
            .values()
            .map(|e| match &e.value {
                Value::Items(items) => 1 + items.iter().map(DataSet::total_elements).sum::<usize>(),
                _ => 1,
            })
            .sum()
    }
}

impl<'a> IntoIterator for &'a DataSet {
    type Item = (&'a Tag, &'a Element);
    type IntoIter = btree_map::Iter<'a, Tag, Element>;

    fn into_iter(self) -> Self::IntoIter {
        self.elements.iter()
    }
}

impl IntoIterator for DataSet {
    type Item = (Tag, Element);
    type IntoIter = btree_map::IntoIter<Tag, Element>;

    fn into_iter(self) -> Self::IntoIter {
        self.elements.into_iter()
    }
}

impl FromIterator<(Tag, Element)> for DataSet {
    fn from_iter<I: IntoIterator<Item = (Tag, Element)>>(iter: I) -> DataSet {
        DataSet {
            elements: iter.into_iter().collect(),
        }
    }
}

impl Extend<(Tag, Element)> for DataSet {
    fn extend<I: IntoIterator<Item = (Tag, Element)>>(&mut self, iter: I) {
        self.elements.extend(iter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterates_in_tag_order_and_counts_nested() {
        let mut item = DataSet::new();
        item.insert(Tag(0x0008_1150), Element::string(Vr::UI, "1.2.3"));
        let mut ds = DataSet::new();
        ds.insert(Tag(0x0020_000D), Element::string(Vr::UI, "1.2.3.4\0"));
        ds.insert(
            Tag(0x0008_1140),
            Element::sequence(vec![item.clone(), item]),
        );
        ds.insert(Tag(0x0008_0005), Element::string(Vr::CS, "ISO_IR 100"));
        let tags: Vec<u32> = ds.iter().map(|(t, _)| t.0).collect();
        assert_eq!(tags, [0x0008_0005, 0x0008_1140, 0x0020_000D]);
        assert_eq!(ds.total_elements(), 5);
        assert_eq!(ds.uid(Tag(0x0020_000D)).unwrap().as_str(), "1.2.3.4");
    }

    #[test]
    fn finds_private_creator() {
        let mut ds = DataSet::new();
        ds.insert(Tag(0x0009_0010), Element::string(Vr::LO, "ACME 1.0"));
        ds.insert(Tag(0x0009_1001), Element::string(Vr::LO, "x"));
        assert_eq!(ds.private_creator(Tag(0x0009_1001)), Some("ACME 1.0"));
        assert_eq!(ds.private_creator(Tag(0x0011_1001)), None);
    }
}
