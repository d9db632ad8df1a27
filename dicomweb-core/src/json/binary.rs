//! InlineBinary: base64 in, base64 out.

use std::fmt;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

/// Standard alphabet; padding written, and optional when reading.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Appends the padded base64 form of `bytes` to `out`.
pub(super) fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let Some(len) = base64::encoded_len(bytes.len(), true) else {
        return; // longer than memory can hold: cannot happen for a slice in memory
    };
    out.resize(start + len, 0);
    // The buffer has exactly the encoded length, so this cannot fail.
    let written = ENGINE.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
}

/// Decodes base64 with or without padding; line breaks and spaces inside are tolerated.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    match ENGINE.decode(text) {
        Ok(bytes) => Ok(bytes),
        Err(first) => {
            if !text.bytes().any(|b| b.is_ascii_whitespace()) {
                return Err(first.to_string());
            }
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            ENGINE.decode(compact).map_err(|e| e.to_string())
        }
    }
}

/// Reads an InlineBinary member: a base64 string, a one-element array of one, or `null`.
pub(super) struct InlineBinarySeed;

impl<'de> DeserializeSeed<'de> for InlineBinarySeed {
    type Value = Option<Bytes>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Bytes>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for InlineBinarySeed {
    type Value = Option<Bytes>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InlineBinary as a base64 string or a one-element array of one")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Option<Bytes>, E> {
        decode(text)
            .map(|bytes| Some(Bytes::from(bytes)))
            .map_err(|reason| {
                E::custom(format_args!(
                    "expected base64 in InlineBinary, found invalid base64 ({reason})"
                ))
            })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<Bytes>, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Bytes>, A::Error> {
        let Some(text) = seq.next_element::<Option<String>>()? else {
            return Ok(None);
        };
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(2, &"a one-element array"));
        }
        match text {
            Some(text) => self.visit_str(&text),
            None => Ok(None),
        }
    }
}
