//! Attributes as QIDO-RS names them (PS3.18 §8.3.4): a keyword, a tag, or a dot-separated
//! sequence path of them.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Tag, Vr, dictionary};

/// An attribute to match or include: a keyword, a tag, or a sequence path of them
/// (`00400275.00401001`, `RequestAttributesSequence.RequestedProcedureID`).
///
/// Each element of a path is a keyword or a tag in any form [`Tag`] parses: eight hex digits
/// (`00100010`, either case), `(0010,0010)` or `0010,0010`. Keywords are looked up in the data
/// dictionary, case-sensitively (an unknown keyword is an error, not a query the server would
/// silently ignore). Every element but the last must be a sequence when the dictionary knows
/// it. The query writes each element as it was given: a keyword as its dictionary spelling, a
/// tag as eight upper-case hex digits.
///
/// ```
/// use dicomweb_core::request::AttributePath;
///
/// let path: AttributePath = "(0040,0275).RequestedProcedureID".parse()?;
/// assert_eq!(path.to_string(), "00400275.RequestedProcedureID");
/// let err = "RequestAttributesSequence.(0040;1001)".parse::<AttributePath>().unwrap_err();
/// assert!(err.to_string().contains(r#"element 2 "(0040;1001)""#));
/// # Ok::<(), dicomweb_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AttributePath(Vec<Step>);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Step {
    tag: Tag,
    keyword: Option<&'static str>,
}

impl AttributePath {
    /// One attribute, written as its tag.
    pub fn tag(tag: Tag) -> AttributePath {
        AttributePath(vec![Step { tag, keyword: None }])
    }

    /// Parses a keyword, a tag, or a dot-separated path of them.
    ///
    /// Errors name the element at fault: [`Error::UnknownKeyword`] for a keyword the
    /// dictionary does not know, [`Error::InvalidRequest`] for an empty element, one that is
    /// neither a keyword nor a tag, or a step through an attribute that is not a sequence.
    pub fn parse(text: &str) -> Result<AttributePath, Error> {
        if text.is_empty() {
            return Err(invalid(
                "expected a keyword, a tag or a sequence path, found nothing".into(),
            ));
        }
        let elements: Vec<&str> = text.split('.').collect();
        let mut steps = Vec::with_capacity(elements.len());
        for (index, element) in elements.iter().enumerate() {
            steps.push(step(text, index, elements.len(), element)?);
        }
        let last = steps.len() - 1;
        for (index, step) in steps[..last].iter().enumerate() {
            if let Some(vr) = dictionary::vr(step.tag).filter(|vr| *vr != Vr::SQ) {
                return Err(invalid(format!(
                    "in {text:?}, element {} {:?} is followed by another element but is not a sequence (its VR is {vr})",
                    index + 1,
                    elements[index],
                )));
            }
        }
        Ok(AttributePath(steps))
    }

    /// The tags from the outermost sequence to the attribute.
    pub fn tags(&self) -> impl Iterator<Item = Tag> + '_ {
        self.0.iter().map(|s| s.tag)
    }
}

/// One element of `text` (the element at `index` of `count`): a tag in any form [`Tag`]
/// parses, else a keyword.
fn step(text: &str, index: usize, count: usize, element: &str) -> Result<Step, Error> {
    let at = || {
        if count == 1 {
            format!("{element:?}")
        } else {
            format!("in {text:?}, element {} {element:?}", index + 1)
        }
    };
    if element.is_empty() {
        return Err(invalid(format!(
            "in {text:?}, element {} is empty: expected a keyword or a tag",
            index + 1
        )));
    }
    if let Ok(tag) = element.parse::<Tag>() {
        return Ok(Step { tag, keyword: None });
    }
    let keyword_shaped = element.starts_with(|c: char| c.is_ascii_alphabetic())
        && element.bytes().all(|b| b.is_ascii_alphanumeric());
    if !keyword_shaped {
        return Err(invalid(format!(
            "{} is neither a keyword nor a tag: expected a keyword, eight hex digits, (gggg,eeee) or gggg,eeee",
            at()
        )));
    }
    let tag = dictionary::tag_by_keyword(element).ok_or_else(|| Error::UnknownKeyword {
        keyword: element.to_owned(),
    })?;
    Ok(Step {
        tag,
        keyword: dictionary::keyword(tag),
    })
}

fn invalid(message: String) -> Error {
    Error::InvalidRequest {
        what: "attribute",
        message,
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match step.keyword {
                Some(keyword) => f.write_str(keyword)?,
                None => write!(f, "{}", step.tag)?,
            }
        }
        Ok(())
    }
}

impl FromStr for AttributePath {
    type Err = Error;

    fn from_str(text: &str) -> Result<AttributePath, Error> {
        AttributePath::parse(text)
    }
}

impl From<Tag> for AttributePath {
    fn from(tag: Tag) -> AttributePath {
        AttributePath::tag(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(text: &str) -> Vec<Tag> {
        let path = AttributePath::parse(text).unwrap();
        path.tags().collect()
    }

    #[test]
    fn every_tag_form_and_keywords_in_any_element() {
        let want = vec![Tag(0x0040_0275), Tag(0x0040_1001)];
        for text in [
            "00400275.00401001",
            "(0040,0275).(0040,1001)",
            "0040,0275.0040,1001",
            " (0040, 0275) .0040,1001",
            "RequestAttributesSequence.RequestedProcedureID",
            "RequestAttributesSequence.(0040,1001)",
            "(0040,0275).RequestedProcedureID",
            "0040,0275.00401001",
        ] {
            assert_eq!(tags(text), want, "{text}");
        }
        assert_eq!(tags("7fe00010"), [Tag(0x7FE0_0010)]);
        assert_eq!(tags("(7fe0,0010)"), [Tag(0x7FE0_0010)]);
        assert_eq!(tags("PixelData"), [Tag(0x7FE0_0010)]);
    }

    #[test]
    fn the_query_writes_keywords_as_given_and_tags_as_hex() {
        let path = AttributePath::parse("(0040,0275).RequestedProcedureID").unwrap();
        assert_eq!(path.to_string(), "00400275.RequestedProcedureID");
        let path = AttributePath::parse("0010,0010").unwrap();
        assert_eq!(path.to_string(), "00100010");
        assert_eq!(
            AttributePath::from(Tag(0x0010_0020)).to_string(),
            "00100020"
        );
    }

    #[test]
    fn errors_name_the_element_at_fault() {
        let message = |text: &str| AttributePath::parse(text).unwrap_err().to_string();

        let err = message("RequestAttributesSequence.(0040;1001)");
        assert!(
            err.contains(r#"element 2 "(0040;1001)" is neither a keyword nor a tag"#),
            "{err}"
        );
        let err = message("0040,027G");
        assert!(
            err.contains(r#""0040,027G" is neither a keyword nor a tag"#),
            "{err}"
        );
        let err = message("00400275..00401001");
        assert!(err.contains("element 2 is empty"), "{err}");
        let err = message("PatientName.PatientID");
        assert!(
            err.contains(
                r#"element 1 "PatientName" is followed by another element but is not a sequence"#
            ),
            "{err}"
        );
        let err = AttributePath::parse("RequestAttributesSequence.NoSuchThing").unwrap_err();
        assert!(
            matches!(&err, Error::UnknownKeyword { keyword } if keyword == "NoSuchThing"),
            "{err:?}"
        );
        let err = message("");
        assert!(err.contains("found nothing"), "{err}");
    }
}
