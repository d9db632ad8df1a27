//! Private data elements in the Native DICOM Model.
//!
//! dcmtk and dcm4che write a private data element `(gggg,xxee)` as `tag="gggg00ee"` with a
//! `privateCreator` attribute naming the creator that reserves block `xx`; the reader maps it
//! back into the block that creator holds in the same data set.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::{DataSet, Element, Tag, Vr};

/// The private creators of one data set, as the writer needs them.
pub(super) struct Creators<'d> {
    /// The creator value at (group, block).
    at: HashMap<(u16, u8), &'d str>,
    /// The lowest block each (group, creator value) holds: the one a reader would choose.
    lowest: HashMap<(u16, &'d str), u8>,
}

impl<'d> Creators<'d> {
    /// Collects the creator elements `(gggg,0010)`–`(gggg,00FF)` of a data set.
    pub(super) fn of(ds: &'d DataSet) -> Creators<'d> {
        let mut creators = Creators {
            at: HashMap::new(),
            lowest: HashMap::new(),
        };
        for (tag, element) in ds.iter().filter(|(tag, _)| tag.is_private_creator()) {
            if let Some(value) = element.value.first_str() {
                let (group, block) = (tag.group(), tag.element() as u8);
                note(
                    &mut creators.at,
                    &mut creators.lowest,
                    group,
                    block,
                    trim(value),
                );
            }
        }
        creators
    }

    /// For a private data element, the creator to write as `privateCreator`, and whether the
    /// tag may be written as `gggg00ee` (its block is the one the reader would pick again).
    pub(super) fn of_element(&self, tag: Tag) -> Option<(&'d str, bool)> {
        let block = tag.private_creator_tag()?.element() as u8;
        let creator = *self.at.get(&(tag.group(), block))?;
        let lowest = self.lowest.get(&(tag.group(), creator)).copied();
        Some((creator, lowest == Some(block)))
    }

    /// Whether any creator was found.
    pub(super) fn is_empty(&self) -> bool {
        self.at.is_empty()
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
    /// Where the element waits, under its written tag, among the data set's elements.
    pub(super) index: usize,
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
    pending: &[Pending],
    strict: bool,
) -> Result<(), String> {
    if full.is_empty() && pending.is_empty() {
        return Ok(());
    }
    let name = |index: usize| creator_name(creators, index);
    // Every creator element, by (group, block), and the lowest block of each (group, creator).
    // Hash maps keep hostile data sets (thousands of creators) linear.
    let mut at: HashMap<(u16, u8), &str> = HashMap::new();
    let mut lowest: HashMap<(u16, &str), u8> = HashMap::new();
    // Pending elements wait under their written tag `gggg00ee`, which looks like a creator's.
    let mut waiting = vec![false; elements.len()];
    for item in pending {
        if let Some(flag) = waiting.get_mut(item.index) {
            *flag = true;
        }
    }
    let settled = || {
        elements
            .iter()
            .zip(&waiting)
            .filter(|(_, waiting)| !**waiting)
            .map(|(element, _)| element)
    };
    for (tag, element) in settled().filter(|(tag, _)| tag.is_private_creator()) {
        if let Some(value) = element.value.first_str() {
            note(
                &mut at,
                &mut lowest,
                tag.group(),
                tag.element() as u8,
                trim(value),
            );
        }
    }
    let mut added: Vec<(Tag, Element)> = Vec::new();
    for &(tag, creator) in full {
        let Some(creator_tag) = tag.private_creator_tag() else {
            continue;
        };
        let (group, block) = (tag.group(), creator_tag.element() as u8);
        match at.get(&(group, block)).copied() {
            None => {
                added.push((creator_tag, Element::string(Vr::LO, name(creator))));
                note(&mut at, &mut lowest, group, block, name(creator));
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
    // Blocks in use, per group, computed when a group first needs a new block.
    let mut used: HashMap<u16, [bool; 256]> = HashMap::new();
    let mut placed: Vec<(&Pending, Tag)> = Vec::with_capacity(pending.len());
    // Private elements come in runs of one creator: remember the last answer.
    let mut last: Option<(u16, usize, u8)> = None;
    for item in pending {
        let group = item.written.group();
        let low = item.written.element() & 0x00FF;
        if let Some((g, c, block)) = last
            && g == group
            && c == item.creator
        {
            placed.push((item, Tag::new(group, (u16::from(block) << 8) | low)));
            continue;
        }
        let wanted = name(item.creator);
        let block = match lowest.get(&(group, wanted)).copied() {
            Some(block) => block,
            None => {
                let taken = match used.entry(group) {
                    Entry::Occupied(blocks) => blocks.into_mut(),
                    Entry::Vacant(slot) => {
                        let tags: Vec<Tag> = settled()
                            .map(|(tag, _)| *tag)
                            .chain(added.iter().map(|(tag, _)| *tag))
                            .collect();
                        slot.insert(used_blocks(group, tags))
                    }
                };
                let block = (0x10..=0xFFu8)
                    .find(|&b| !taken[usize::from(b)])
                    .ok_or_else(|| {
                        format!(
                            "no free private block in group {group:04X} for the element \
                             written as {:?}",
                            item.written
                        )
                    })?;
                taken[usize::from(block)] = true;
                added.push((
                    Tag::new(group, u16::from(block)),
                    Element::string(Vr::LO, wanted),
                ));
                note(&mut at, &mut lowest, group, block, wanted);
                block
            }
        };
        last = Some((group, item.creator, block));
        placed.push((item, Tag::new(group, (u16::from(block) << 8) | low)));
    }
    drop((at, lowest));
    for (item, tag) in placed {
        retag(elements, item, tag)?;
    }
    elements.extend(added);
    Ok(())
}

/// Gives a pending element its final tag.
fn retag(elements: &mut [(Tag, Element)], item: &Pending, tag: Tag) -> Result<(), String> {
    match elements.get_mut(item.index) {
        Some(slot) if slot.0 == item.written => {
            slot.0 = tag;
            Ok(())
        }
        _ => Err(format!(
            "internal: lost the element written as {:?}",
            item.written
        )),
    }
}

/// A creator by its index, without padding.
fn creator_name(creators: &[String], index: usize) -> &str {
    trim(creators.get(index).map_or("", String::as_str))
}

/// Records a creator element at (group, block).
fn note<'s>(
    at: &mut HashMap<(u16, u8), &'s str>,
    lowest: &mut HashMap<(u16, &'s str), u8>,
    group: u16,
    block: u8,
    value: &'s str,
) {
    at.insert((group, block), value);
    let low = lowest.entry((group, value)).or_insert(block);
    *low = (*low).min(block);
}

/// The blocks of `group` that hold a creator or an element.
fn used_blocks(group: u16, tags: Vec<Tag>) -> [bool; 256] {
    let mut used = [false; 256];
    for tag in tags.into_iter().filter(|tag| tag.group() == group) {
        let element = tag.element();
        if tag.is_private_creator() {
            used[usize::from(element)] = true;
        } else if element >= 0x1000 {
            used[usize::from(element >> 8)] = true;
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lo(text: &str) -> Element {
        Element::string(Vr::LO, text)
    }

    /// A pending element, waiting in `elements` under its written tag.
    fn wait(elements: &mut Vec<(Tag, Element)>, written: u32, creator: usize, v: &str) -> Pending {
        elements.push((Tag(written), lo(v)));
        Pending {
            written: Tag(written),
            creator,
            index: elements.len() - 1,
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
        // (0009,0012) written for OTHER's block 12 element must not pass for a creator.
        let all = vec![
            wait(&mut elements, 0x0009_0001, 0, "a"),
            wait(&mut elements, 0x0009_0012, 1, "b"),
            wait(&mut elements, 0x0009_0003, 1, "c"),
        ];
        resolve(&mut elements, &names(&["ACME", "OTHER"]), &[], &all, true).unwrap();
        let ds = data_set(elements);
        assert_eq!(ds.string(Tag(0x0009_1001)), Some("a"));
        assert_eq!(ds.string(Tag(0x0009_0011)), Some("OTHER"));
        assert_eq!(ds.string(Tag(0x0009_1112)), Some("b"));
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
            &[],
            true,
        )
        .unwrap();
        assert_eq!(
            data_set(elements.clone()).string(Tag(0x0011_0012)),
            Some("X")
        );
        let other = [(Tag(0x0011_1204), 1)];
        assert!(resolve(&mut elements, &creators, &other, &[], true).is_err());
        assert!(resolve(&mut elements, &creators, &other, &[], false).is_ok());
    }

    #[test]
    fn all_blocks_taken_is_an_error() {
        let mut elements: Vec<(Tag, Element)> = (0x10..=0xFFu16)
            .map(|b| (Tag::new(0x0009, b), lo("TAKEN")))
            .collect();
        let new = vec![wait(&mut elements, 0x0009_0001, 0, "a")];
        let err = resolve(&mut elements, &names(&["NEW"]), &[], &new, false);
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
