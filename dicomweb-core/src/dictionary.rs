//! Keyword ⇄ tag ⇄ VR lookup, from dicom-rs's standard data dictionary.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_dictionary_std::StandardDataDictionary;

use crate::{Tag, Vr};

/// The keyword of a standard attribute, e.g. `"PatientName"` for `(0010,0010)`.
///
/// Repeating-group attributes (curves, overlays `60xx`) resolve too.
pub fn keyword(tag: Tag) -> Option<&'static str> {
    StandardDataDictionary
        .by_tag(dicom_tag(tag))
        .map(|entry| entry.alias)
}

/// The tag of a standard attribute keyword, e.g. `(0020,000D)` for `"StudyInstanceUID"`.
pub fn tag_by_keyword(keyword: &str) -> Option<Tag> {
    StandardDataDictionary
        .by_name(keyword)
        .map(|entry| Tag::new(entry.tag().0, entry.tag().1))
}

/// The VR the dictionary gives an attribute. Where it depends on context (US or SS, OB or OW)
/// the answer is the one a lenient reader should assume: US, OW.
pub fn vr(tag: Tag) -> Option<Vr> {
    if tag.element() == 0x0000 {
        return Some(Vr::UL); // group length
    }
    if tag.is_private_creator() {
        return Some(Vr::LO);
    }
    let entry = StandardDataDictionary.by_tag(dicom_tag(tag))?;
    Some(match entry.vr() {
        VirtualVr::Exact(vr) => vr.to_string().parse().ok()?,
        VirtualVr::Xs => Vr::US,
        VirtualVr::Ox | VirtualVr::Px => Vr::OW,
        VirtualVr::Lt => Vr::OW,
        _ => Vr::UN,
    })
}

fn dicom_tag(tag: Tag) -> dicom_core::Tag {
    dicom_core::Tag(tag.group(), tag.element())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_both_ways() {
        assert_eq!(tag_by_keyword("PatientName"), Some(Tag(0x0010_0010)));
        assert_eq!(keyword(Tag(0x0020_000D)), Some("StudyInstanceUID"));
        assert_eq!(vr(Tag(0x0010_0010)), Some(Vr::PN));
        assert_eq!(vr(Tag(0x0028_0010)), Some(Vr::US));
        assert_eq!(vr(Tag(0x7FE0_0010)), Some(Vr::OW));
        assert_eq!(vr(Tag(0x0009_0010)), Some(Vr::LO));
        assert_eq!(tag_by_keyword("NoSuchKeyword"), None);
    }
}
