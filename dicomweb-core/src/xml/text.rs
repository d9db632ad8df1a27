//! Character data: escaping for the writer, entity and character references for the reader.

use std::borrow::Cow;

/// Whether a byte of text needs escaping (in content; `in_attribute` adds `"`, tab and newline).
#[inline]
fn needs_escape(b: u8, in_attribute: bool) -> bool {
    match b {
        b'&' | b'<' | b'>' | b'\r' => true,
        b'"' | b'\t' | b'\n' => in_attribute,
        0..=0x1F | 0x7F => true,
        _ => false,
    }
}

/// Appends `text` escaped for element content (`in_attribute == false`) or a double-quoted
/// attribute value. Control characters become character references, so that they survive
/// XML's end-of-line and attribute-value normalisation.
pub(super) fn escape_into(out: &mut Vec<u8>, text: &str, in_attribute: bool) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b, in_attribute) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.extend_from_slice(b"&#x");
                if b >= 0x10 {
                    out.push(HEX[usize::from(b >> 4)]);
                }
                out.push(HEX[usize::from(b & 0xF)]);
                out.push(b';');
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// The character a reference stands for: `amp`, `lt`, `gt`, `apos`, `quot`, `#NN` or `#xHH`.
///
/// Any other name is an entity this reader will not expand (there is no DTD to declare it).
/// Character references to control characters, NUL included, are accepted: the writer
/// produces them for values that XML 1.0 cannot otherwise carry.
pub(super) fn resolve_reference(name: &str) -> Result<char, String> {
    let resolved = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => match name.strip_prefix('#') {
            Some(number) => {
                let code = match number.strip_prefix('x') {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => number.parse::<u32>().ok(),
                };
                let valid_digits = number
                    .trim_start_matches('x')
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit());
                code.filter(|_| valid_digits).and_then(char::from_u32)
            }
            None => {
                return Err(format!(
                    "undeclared entity &{name}; (entities are never expanded; only &amp; &lt; \
                     &gt; &apos; &quot; and character references are understood)"
                ));
            }
        },
    };
    resolved.ok_or_else(|| format!("invalid character reference &{name};"))
}

/// An attribute value with its references resolved and whitespace normalised as XML 1.0
/// requires (a literal tab, CR, LF or CR LF becomes one space).
pub(super) fn attribute_value(raw: Cow<'_, str>) -> Result<Cow<'_, str>, String> {
    if !raw
        .bytes()
        .any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
    {
        return Ok(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest: &str = &raw;
    while let Some(i) = rest.find(['&', '\t', '\n', '\r']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix('&') {
            let end = after
                .find(';')
                .ok_or_else(|| format!("unterminated reference in attribute value {raw:?}"))?;
            out.push(resolve_reference(&after[..end])?);
            rest = &after[end + 1..];
        } else {
            out.push(' ');
            rest = tail.strip_prefix("\r\n").unwrap_or(&tail[1..]);
        }
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str, in_attribute: bool) -> String {
        let mut out = Vec::new();
        escape_into(&mut out, text, in_attribute);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(escaped("a<b>&c", false), "a&lt;b&gt;&amp;c");
        assert_eq!(escaped("1.2\0", false), "1.2&#x0;");
        assert_eq!(escaped("l1\r\nl2\t\"", false), "l1&#xD;\nl2\t\"");
        assert_eq!(escaped("l1\r\nl2\t\"", true), "l1&#xD;&#xA;l2&#x9;&quot;");
        assert_eq!(escaped("Jörg 山田", false), "Jörg 山田");
    }

    #[test]
    fn resolves_references() {
        assert_eq!(resolve_reference("amp"), Ok('&'));
        assert_eq!(resolve_reference("#x41"), Ok('A'));
        assert_eq!(resolve_reference("#65"), Ok('A'));
        assert_eq!(resolve_reference("#x0"), Ok('\0'));
        assert!(resolve_reference("#xD800").is_err());
        assert!(resolve_reference("#x-1").is_err());
        assert!(resolve_reference("#").is_err());
        let err = resolve_reference("lol").unwrap_err();
        assert!(err.contains("&lol;"), "{err}");
    }

    #[test]
    fn normalises_attribute_values() {
        assert_eq!(attribute_value("plain".into()).unwrap(), "plain");
        assert_eq!(
            attribute_value("A&amp;B\r\nC\tD".into()).unwrap(),
            "A&B C D"
        );
        assert_eq!(attribute_value("x&#xA;y".into()).unwrap(), "x\ny");
        assert!(attribute_value("x&amp".into()).is_err());
        assert!(attribute_value("&lol;".into()).is_err());
    }
}
