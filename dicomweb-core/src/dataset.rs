//! Data sets and elements.

use std::fmt;

use crate::{Number, PersonName, Tag, Text, Uid, Value, Values, Vr};

/// A DICOM data set: elements keyed by tag, always iterated in ascending tag order.
///
/// The elements are kept in one vector sorted by tag: a data set read from a document costs one
/// allocation for all its elements, lookups are binary searches, and inserting out of order
/// shifts the elements after the new one.
#[derive(Clone, Default, PartialEq)]
pub struct DataSet {
    /// Sorted by tag, each tag once.
    elements: Vec<(Tag, Element)>,
}

impl fmt::Debug for DataSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
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
        S: Into<Text>,
    {
        Element::new(
            vr,
            Value::Strings(values.into_iter().map(|v| Some(v.into())).collect()),
        )
    }

    /// A single-valued string element.
    pub fn string(vr: Vr, value: impl Into<Text>) -> Element {
        Element::new(vr, Value::Strings(Values::one(value.into())))
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

    /// Where `tag` is, or where it would go.
    fn position(&self, tag: Tag) -> Result<usize, usize> {
        // Appending in tag order, the usual way data sets are built, skips the search.
        match self.elements.last() {
            None => Err(0),
            Some((last, _)) if *last < tag => Err(self.elements.len()),
            Some(_) => self.elements.binary_search_by_key(&tag, |(t, _)| *t),
        }
    }

    /// Inserts an element, returning the one it replaces.
    pub fn insert(&mut self, tag: Tag, element: Element) -> Option<Element> {
        match self.position(tag) {
            Ok(at) => Some(std::mem::replace(&mut self.elements[at].1, element)),
            Err(at) => {
                self.elements.insert(at, (tag, element));
                None
            }
        }
    }

    /// The element with this tag.
    pub fn get(&self, tag: Tag) -> Option<&Element> {
        let at = self.position(tag).ok()?;
        Some(&self.elements[at].1)
    }

    /// The element with this tag, mutably.
    pub fn get_mut(&mut self, tag: Tag) -> Option<&mut Element> {
        let at = self.position(tag).ok()?;
        Some(&mut self.elements[at].1)
    }

    /// Removes the element with this tag.
    pub fn remove(&mut self, tag: Tag) -> Option<Element> {
        let at = self.position(tag).ok()?;
        Some(self.elements.remove(at).1)
    }

    /// Whether an element with this tag is present.
    pub fn contains(&self, tag: Tag) -> bool {
        self.position(tag).is_ok()
    }

    /// A data set of elements already in strictly ascending tag order (checked by the caller).
    pub(crate) fn from_sorted(elements: Vec<(Tag, Element)>) -> DataSet {
        debug_assert!(elements.windows(2).all(|w| w[0].0 < w[1].0));
        DataSet { elements }
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
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.elements.iter())
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
            .iter()
            .map(|(_, e)| match &e.value {
                Value::Items(items) => 1 + items.iter().map(DataSet::total_elements).sum::<usize>(),
                _ => 1,
            })
            .sum()
    }
}

/// The elements of a [`DataSet`] in ascending tag order.
#[derive(Clone, Debug)]
pub struct Iter<'a>(std::slice::Iter<'a, (Tag, Element)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Tag, &'a Element);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(tag, element)| (tag, element))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(tag, element)| (tag, element))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a DataSet {
    type Item = (&'a Tag, &'a Element);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for DataSet {
    type Item = (Tag, Element);
    type IntoIter = std::vec::IntoIter<(Tag, Element)>;

    fn into_iter(self) -> Self::IntoIter {
        self.elements.into_iter()
    }
}

impl FromIterator<(Tag, Element)> for DataSet {
    fn from_iter<I: IntoIterator<Item = (Tag, Element)>>(iter: I) -> DataSet {
        let mut ds = DataSet::new();
        ds.extend(iter);
        ds
    }
}

impl Extend<(Tag, Element)> for DataSet {
    /// Adds the elements; one whose tag is already present replaces the earlier one, as
    /// [`DataSet::insert`] does.
    fn extend<I: IntoIterator<Item = (Tag, Element)>>(&mut self, iter: I) {
        let sorted_before = self.elements.len();
        self.elements.extend(iter);
        let in_order = self.elements[sorted_before.saturating_sub(1)..]
            .windows(2)
            .all(|pair| pair[0].0 < pair[1].0);
        if in_order {
            return;
        }
        // A stable sort keeps equal tags in insertion order; the last of each run wins.
        self.elements.sort_by_key(|(tag, _)| *tag);
        let mut kept: Vec<(Tag, Element)> = Vec::with_capacity(self.elements.len());
        for (tag, element) in self.elements.drain(..) {
            match kept.last_mut() {
                Some(last) if last.0 == tag => last.1 = element,
                _ => kept.push((tag, element)),
            }
        }
        self.elements = kept;
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
    fn later_duplicates_replace_earlier_ones_in_any_order() {
        let el = |v: &str| Element::string(Vr::LO, v);
        let ds: DataSet = [
            (Tag(3), el("a")),
            (Tag(1), el("b")),
            (Tag(3), el("c")),
            (Tag(2), el("d")),
            (Tag(1), el("e")),
        ]
        .into_iter()
        .collect();
        let got: Vec<(u32, &str)> = ds
            .iter()
            .map(|(t, e)| (t.0, e.value.first_str().unwrap()))
            .collect();
        assert_eq!(got, [(1, "e"), (2, "d"), (3, "c")]);

        let mut ds = ds;
        assert_eq!(ds.insert(Tag(2), el("x")).unwrap(), el("d"));
        assert!(ds.insert(Tag(0), el("y")).is_none());
        assert!(ds.insert(Tag(9), el("z")).is_none());
        assert_eq!(ds.remove(Tag(3)), Some(el("c")));
        let tags: Vec<u32> = ds.iter().map(|(t, _)| t.0).collect();
        assert_eq!(tags, [0, 1, 2, 9]);
        assert!(ds.contains(Tag(9)) && !ds.contains(Tag(3)));
        ds.extend([(Tag(10), el("w")), (Tag(11), el("v"))]);
        assert_eq!(ds.len(), 6);
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
