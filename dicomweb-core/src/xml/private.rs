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
    /// The `privateCreator` attribute.
    pub(super) creator: String,
    /// The element.
    pub(super) element: Element,
}

/// Places pending private elements in their creators' blocks, reserving a free block (and
/// adding its creator element) for a creator the data set lacks. Returns the tag that clashed
/// with an element already present, if any.
pub(super) fn place(ds: &mut DataSet, pending: Vec<Pending>) -> Result<(), PlaceError> {
    let mut known: Vec<(u16, u8, String)> = Creators::of(ds)
        .entries
        .iter()
        .map(|&(group, block, creator)| (group, block, creator.to_owned()))
        .collect();
    for item in pending {
        let group = item.written.group();
        let low = item.written.element() & 0x00FF;
        let wanted = trim(&item.creator);
        let found = known
            .iter()
            .filter(|(g, _, c)| *g == group && c == wanted)
            .map(|(_, block, _)| *block)
            .min();
        let block = match found {
            Some(block) => block,
            None => {
                let block = free_block(ds, group).ok_or(PlaceError::NoFreeBlock {
                    written: item.written,
                })?;
                ds.insert(
                    Tag::new(group, u16::from(block)),
                    Element::string(Vr::LO, item.creator.clone()),
                );
                known.push((group, block, wanted.to_owned()));
                block
            }
        };
        let tag = Tag::new(group, (u16::from(block) << 8) | low);
        if ds.contains(tag) {
            return Err(PlaceError::Duplicate { tag });
        }
        ds.insert(tag, item.element);
    }
    Ok(())
}

/// Why a pending private element could not be placed.
pub(super) enum PlaceError {
    /// All 240 blocks of the group are taken.
    NoFreeBlock {
        /// The tag as written.
        written: Tag,
    },
    /// The element's final tag is already in the data set.
    Duplicate {
        /// The final tag.
        tag: Tag,
    },
}

/// The lowest block of `group` with neither a creator nor an element in it.
fn free_block(ds: &DataSet, group: u16) -> Option<u8> {
    let mut used = [false; 256];
    for (tag, _) in ds.iter().filter(|(tag, _)| tag.group() == group) {
        let element = tag.element();
        if tag.is_private_creator() {
            used[usize::from(element)] = true;
        } else if element >= 0x1000 {
            used[usize::from(element >> 8)] = true;
        }
    }
    (0x10..=0xFF).find(|&b| !used[usize::from(b)])
}

/// Checks a private element read with its full tag `gggg,xxee` and a `privateCreator`: adds
/// the creator element when missing; reports a creator element that names someone else.
pub(super) fn check_full_tag(ds: &mut DataSet, tag: Tag, creator: &str) -> Result<(), String> {
    let Some(creator_tag) = tag.private_creator_tag() else {
        return Ok(());
    };
    match ds.get(creator_tag).and_then(|e| e.value.first_str()) {
        None => {
            ds.insert(creator_tag, Element::string(Vr::LO, creator));
            Ok(())
        }
        Some(value) if trim(value) == trim(creator) => Ok(()),
        Some(value) => Err(format!(
            "privateCreator {creator:?} of {tag:?} disagrees with the creator element \
             {creator_tag:?} = {value:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lo(text: &str) -> Element {
        Element::string(Vr::LO, text)
    }

    #[test]
    fn places_into_existing_and_new_blocks() {
        let mut ds = DataSet::new();
        ds.insert(Tag(0x0009_0010), lo("ACME "));
        ds.insert(Tag(0x0009_1000), lo("orphan in block 10"));
        let pending = vec![
            Pending {
                written: Tag(0x0009_0001),
                creator: "ACME".into(),
                element: lo("a"),
            },
            Pending {
                written: Tag(0x0009_0002),
                creator: "OTHER".into(),
                element: lo("b"),
            },
            Pending {
                written: Tag(0x0009_0003),
                creator: "OTHER".into(),
                element: lo("c"),
            },
        ];
        assert!(place(&mut ds, pending).is_ok());
        assert_eq!(ds.string(Tag(0x0009_1001)), Some("a"));
        assert_eq!(ds.string(Tag(0x0009_0011)), Some("OTHER"));
        assert_eq!(ds.string(Tag(0x0009_1102)), Some("b"));
        assert_eq!(ds.string(Tag(0x0009_1103)), Some("c"));
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

    #[test]
    fn full_tags_gain_or_check_their_creator() {
        let mut ds = DataSet::new();
        assert!(check_full_tag(&mut ds, Tag(0x0011_1203), "X").is_ok());
        assert_eq!(ds.string(Tag(0x0011_0012)), Some("X"));
        assert!(check_full_tag(&mut ds, Tag(0x0011_1204), "Y").is_err());
    }
}
