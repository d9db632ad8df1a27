//! One element object: `vr`, `Value`, `InlineBinary`, `BulkDataURI`, in any order.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::binary::InlineBinarySeed;
use super::read::State;
use super::values::ValueSeed;
use crate::{Element, Tag, Value, Vr, dictionary};

/// Reads the object of the element `tag`.
pub(super) struct ElementSeed<'s, 'o> {
    pub(super) tag: Tag,
    pub(super) state: &'s mut State<'o>,
}

impl<'de> DeserializeSeed<'de> for ElementSeed<'_, '_> {
    type Value = Element;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Element, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed<'_, '_> {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "an element object with \"vr\" and \"Value\", \"InlineBinary\" or \"BulkDataURI\"",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let state = self.state;
        let mut vr: Option<Vr> = None;
        let mut value: Option<Value> = None;
        // `Value` seen before `vr`: kept as raw text until the VR is known.
        let mut pending: Option<&'de RawValue> = None;
        while let Some(member) = map.next_key_seed(MemberKey)? {
            if member != Member::Vr
                && member != Member::Other
                && (value.is_some() || pending.is_some())
            {
                return Err(de::Error::custom(format_args!(
                    "expected one of \"Value\", \"InlineBinary\", \"BulkDataURI\", found a second one ({})",
                    member.name()
                )));
            }
            match member {
                Member::Vr => {
                    if vr.is_some() {
                        return Err(de::Error::duplicate_field("vr"));
                    }
                    vr = Some(map.next_value_seed(VrSeed)?);
                }
                Member::Value => match vr {
                    Some(vr) => {
                        value = Some(map.next_value_seed(ValueSeed {
                            vr,
                            state: &mut *state,
                        })?)
                    }
                    None => pending = Some(map.next_value()?),
                },
                Member::InlineBinary => {
                    value = Some(match map.next_value_seed(InlineBinarySeed)? {
                        Some(bytes) => Value::InlineBinary(bytes),
                        None => Value::Empty,
                    });
                }
                Member::BulkDataUri => {
                    let source = state.source;
                    let seed = super::values::StringOrNull {
                        what: "a BulkDataURI string or null",
                        source,
                    };
                    value = Some(match map.next_value_seed(seed)? {
                        Some(uri) => Value::BulkDataUri(uri),
                        None => Value::Empty,
                    });
                }
                Member::Other => {
                    if state.options.strict {
                        return Err(de::Error::custom(
                            "expected only \"vr\", \"Value\", \"InlineBinary\" or \"BulkDataURI\" in an element, found another member",
                        ));
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let vr = match vr {
            Some(vr) => vr,
            None if state.options.strict => {
                return Err(de::Error::custom(
                    "expected a \"vr\" member (strict mode), found none",
                ));
            }
            None => dictionary::vr(self.tag).unwrap_or(Vr::UN),
        };
        if let Some(raw) = pending {
            let mut de = serde_json::Deserializer::from_str(raw.get());
            de.disable_recursion_limit();
            let parsed = ValueSeed { vr, state }
                .deserialize(&mut de)
                .map_err(de::Error::custom)?;
            value = Some(parsed);
        }
        Ok(Element::new(vr, value.unwrap_or(Value::Empty)))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Member {
    Vr,
    Value,
    InlineBinary,
    BulkDataUri,
    Other,
}

impl Member {
    fn name(self) -> &'static str {
        match self {
            Member::Vr => "vr",
            Member::Value => "Value",
            Member::InlineBinary => "InlineBinary",
            Member::BulkDataUri => "BulkDataURI",
            Member::Other => "another member",
        }
    }
}

struct MemberKey;

impl<'de> DeserializeSeed<'de> for MemberKey {
    type Value = Member;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Member, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for MemberKey {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an element member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
        Ok(match name {
            "vr" => Member::Vr,
            "Value" => Member::Value,
            "InlineBinary" => Member::InlineBinary,
            "BulkDataURI" => Member::BulkDataUri,
            _ => Member::Other,
        })
    }
}

struct VrSeed;

impl<'de> DeserializeSeed<'de> for VrSeed {
    type Value = Vr;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vr, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for VrSeed {
    type Value = Vr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a two-letter VR code such as \"PN\"")
    }

    fn visit_str<E: de::Error>(self, code: &str) -> Result<Vr, E> {
        code.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(code), &self))
    }
}
