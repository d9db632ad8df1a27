//! Private data elements in the Native DICOM Model.
//!
//! dcmtk and dcm4che write a private data element `(gggg,xxee)` as `tag="gggg00ee"` with a
//! `privateCreator` attribute naming the creator that reserves block `xx`; the reader maps it
//! back into the block that creator holds in the same data set.

use crate::{DataSet, Element, Tag, Vr};

/// The private creators of one data set: `(group, block, creator value)`.
pub(super) struct Creators<'d> {
    entries: Vec<(u16, u8, &'d str)>,
}

impl<'d> Creators<'d> {
    /// Collects the creator elements `(gggg,0010)`–`(gggg,00FF)` of a data set.
    pub(super) fn of(ds: &'d DataSet) -> Creators<'d> {
        let entries = ds
            .iter()
            .filter(|(tag, _)| tag.is_private_creator())
            .filter_map(|(tag, element)| {
                let value = element.value.first_str()?;
                Some((tag.group(), tag.element() as u8, trim(value)))
            })
            .collect();
        Creators { entries }
    }

    /// The block a reader assigns to `creator` in `group`: the lowest one it reserves.
    pub(super) fn block(&self, group: u16, creator: &str) -> Option<u8> {
        let creator = trim(creator);
        self.entries
            .iter()
            .filter(|(g, _, c)| *g == group && *c == creator)
            .map(|(_, block, _)| *block)
            .min()
    }

    /// For a private data element, the creator to write as `privateCreator`, and whether the
    /// tag may be written as `gggg00ee` (its block is the one the reader would pick again).
    pub(super) fn of_element(&self, tag: Tag) -> Option<(&'d str, bool)> {
        let creator_tag = tag.private_creator_tag()?;
        let block = creator_tag.element() as u8;
        let creator = self
            .entries
            .iter()
            .find(|(g, b, _)| *g == tag.group() && *b == block)?
            .2;
        Some((creator, self.block(tag.group(), creator) == Some(block)))
    }

    /// Whether any creator was found.
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A creator value without DICOM padding.
fn trim(value: &str) -> &str {
    value.trim_end_matches([' ', '\0']).trim_start_matches(' ')
}

/// A private data element read in the `gggg00ee` + `privateCreator` form, placed in its block
/// once the whole data set is known (the creator element may come after it).
pub(super) struct Pending {
    /// The tag as written, `gggg00ee`.
    pub(super) written: Tag,
    /// The `privateCreator` attribute, as an index into the data set's distinct creators.
    pub(super) creator: usize,
    /// The element.
    pub(super) element: Element,
}

/// Completes the private elements of one data set, given as its elements in any order.
///
/// `creators` are the distinct `privateCreator` values read in the data set; `full` and
/// `pending` refer to them by index.
///
/// - `full`: elements read with their full tag `gggg,xxee` and a `privateCreator`; their
///   creator element is added when missing, and a different one is an error in strict mode;
/// - `pending`: elements read as `gggg00ee`, placed in the block their creator reserves, or
///   in the first free block, whose creator element is then added.
pub(super) fn resolve(
    elements: &mut Vec<(Tag, Element)>,
    creators: &[String],
    full: &[(Tag, usize)],
    pending: Vec<Pending>,
    strict: bool,
) -> Result<(), String> {
    if full.is_empty() && pending.is_empty() {
        return Ok(());
    }
    let name = |index: usize| trim(creators.get(index).map_or("", String::as_str));
    let mut added: Vec<(Tag, Element)> = Vec::new();
    // Creator elements added here, as (group, block, index into `creators`).
    let mut new_creators: Vec<(u16, u8, usize)> = Vec::new();
    let known: Vec<(u16, u8, &str)> = elements
        .iter()
        .filter(|(tag, _)| tag.is_private_creator())
        .filter_map(|(tag, element)| {
            let value = element.value.first_str()?;
            Some((tag.group(), tag.element() as u8, trim(value)))
        })
        .collect();
    for &(tag, creator) in full {
        let Some(creator_tag) = tag.private_creator_tag() else {
            continue;
        };
        let (group, block) = (tag.group(), creator_tag.element() as u8);
        let present = known
            .iter()
            .find(|(g, b, _)| *g == group && *b == block)
            .map(|(_, _, c)| *c)
            .or_else(|| {
                let new = new_creators
                    .iter()
                    .find(|(g, b, _)| *g == group && *b == block);
                new.map(|(_, _, i)| name(*i))
            });
        match present {
            None => {
                added.push((creator_tag, Element::string(Vr::LO, name(creator))));
                new_creators.push((group, block, creator));
            }
            Some(value) if value == name(creator) || !strict => {}
            Some(value) => {
                return Err(format!(
                    "privateCreator {:?} of {tag:?} disagrees with the creator element \
                     {creator_tag:?} = {value:?}",
                    name(creator)
                ));
            }
        }
    }
    for item in pending {
        let group = item.written.group();
        let wanted = name(item.creator);
        let old = known.iter().filter(|(g, _, c)| *g == group && *c == wanted);
        let new = new_creators
            .iter()
            .filter(|(g, _, i)| *g == group && name(*i) == wanted);
        let found = old.map(|(_, b, _)| *b).chain(new.map(|(_, b, _)| *b)).min();
        let block = match found {
            Some(block) => block,
            None => {
                let block = free_block(group, elements.iter().chain(&added)).ok_or_else(|| {
                    format!(
                        "no free private block in group {group:04X} for the element written as \
                         {:?}",
                        item.written
                    )
                })?;
                added.push((
                    Tag::new(group, u16::from(block)),
                    Element::string(Vr::LO, wanted),
                ));
                new_creators.push((group, block, item.creator));
                block
            }
        };
        let low = item.written.element() & 0x00FF;
        added.push((Tag::new(group, (u16::from(block) << 8) | low), item.element));
    }
    drop(known);
    elements.extend(added);
    Ok(())
}

/// The lowest block of `group` with neither a creator nor an element in it.
fn free_block<'e>(group: u16, elements: impl Iterator<Item = &'e (Tag, Element)>) -> Option<u8> {
    let mut used = [false; 256];
    for (tag, _) in elements.filter(|(tag, _)| tag.group() == group) {
        let element = tag.element();
        if tag.is_private_creator() {
            used[usize::from(element)] = true;
        } else if element >= 0x1000 {
            used[usize::from(element >> 8)] = true;
        }
    }
    (0x10..=0xFF).find(|&b| !used[usize::from(b)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lo(text: &str) -> Element {
        Element::string(Vr::LO, text)
    }

    fn pending(written: u32, creator: usize, value: &str) -> Pending {
        Pending {
            written: Tag(written),
            creator,
            element: lo(value),
        }
    }

    fn names(all: &[&str]) -> Vec<String> {
        all.iter().map(|s| s.to_string()).collect()
    }

    fn data_set(elements: Vec<(Tag, Element)>) -> DataSet {
        elements.into_iter().collect()
    }

    #[test]
    fn places_into_existing_and_new_blocks() {
        let mut elements = vec![
            (Tag(0x0009_1000), lo("orphan in block 10")),
            (Tag(0x0009_0010), lo("ACME ")),
        ];
        let all = vec![
            pending(0x0009_0001, 0, "a"),
            pending(0x0009_0002, 1, "b"),
            pending(0x0009_0003, 1, "c"),
        ];
        resolve(&mut elements, &names(&["ACME", "OTHER"]), &[], all, true).unwrap();
        let ds = data_set(elements);
        assert_eq!(ds.string(Tag(0x0009_1001)), Some("a"));
        assert_eq!(ds.string(Tag(0x0009_0011)), Some("OTHER"));
        assert_eq!(ds.string(Tag(0x0009_1102)), Some("b"));
        assert_eq!(ds.string(Tag(0x0009_1103)), Some("c"));
        assert_eq!(ds.len(), 6);
    }

    #[test]
    fn full_tags_gain_or_check_their_creator() {
        let creators = names(&["X", "Y"]);
        let mut elements = vec![(Tag(0x0011_1203), lo("x"))];
        resolve(
            &mut elements,
            &creators,
            &[(Tag(0x0011_1203), 0)],
            Vec::new(),
            true,
        )
        .unwrap();
        assert_eq!(
            data_set(elements.clone()).string(Tag(0x0011_0012)),
            Some("X")
        );
        let other = [(Tag(0x0011_1204), 1)];
        assert!(resolve(&mut elements, &creators, &other, Vec::new(), true).is_err());
        assert!(resolve(&mut elements, &creators, &other, Vec::new(), false).is_ok());
    }

    #[test]
    fn all_blocks_taken_is_an_error() {
        let mut elements: Vec<(Tag, Element)> = (0x10..=0xFFu16)
            .map(|b| (Tag::new(0x0009, b), lo("TAKEN")))
            .collect();
        let new = vec![pending(0x0009_0001, 0, "a")];
        let err = resolve(&mut elements, &names(&["NEW"]), &[], new, false);
        assert!(err.unwrap_err().contains("no free private block"));
    }

    #[test]
    fn writer_masks_only_the_block_a_reader_finds() {
        let mut ds = DataSet::new();
        ds.insert(Tag(0x0009_0010), lo("ACME"));
        ds.insert(Tag(0x0009_0020), lo("ACME"));
        let creators = Creators::of(&ds);
        assert_eq!(creators.of_element(Tag(0x0009_1001)), Some(("ACME", true)));
        assert_eq!(creators.of_element(Tag(0x0009_2001)), Some(("ACME", false)));
        assert_eq!(creators.of_element(Tag(0x0009_3001)), None);
        assert_eq!(creators.of_element(Tag(0x0008_1001)), None);
    }
}
