//! `Warning` headers (RFC 7234 §5.5), which DICOMweb servers use with code 299 to explain
//! partial results or ignored parameters.
//!
//! ```
//! use dicomweb_core::response::warnings;
//! use http::{HeaderMap, HeaderValue};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert(
//!     "warning",
//!     HeaderValue::from_static(r#"299 pacs.example "The fuzzymatching parameter is not supported. Only literal matching has been performed.""#),
//! );
//! let found = warnings(&headers);
//! assert_eq!(found[0].code, 299);
//! assert_eq!(found[0].agent, "pacs.example");
//! assert!(found[0].text.starts_with("The fuzzymatching parameter"));
//! ```

use http::HeaderMap;
use http::header::WARNING;

/// One warning: `code agent "text"`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Warning {
    /// The warn-code: 299 for DICOMweb's "miscellaneous persistent warning".
    pub code: u16,
    /// The warn-agent (host or pseudonym), `-` when unknown.
    pub agent: String,
    /// The text, unquoted.
    pub text: String,
}

/// Every warning in every `Warning` header, in order. Values that do not follow the grammar
/// are kept whole as the text (servers write `299 agent: text` without quotes) rather than
/// dropped; values that are not text at all are skipped.
pub fn warnings(headers: &HeaderMap) -> Vec<Warning> {
    let mut out = Vec::new();
    for value in headers.get_all(WARNING) {
        let text = String::from_utf8_lossy(value.as_bytes());
        parse_warning_value(&text, &mut out);
    }
    out
}

/// Parses one header value, which may hold a comma-separated list of warnings.
fn parse_warning_value(value: &str, out: &mut Vec<Warning>) {
    let mut rest = value.trim_start_matches([' ', '\t', ',']);
    while !rest.is_empty() {
        let Some((warning, after)) = one_warning(rest) else {
            // Not the grammar: keep the whole remainder as one warning's text.
            let (code, text) = match rest.split_once(' ') {
                Some((code, text)) if code.len() == 3 && code.parse::<u16>().is_ok() => {
                    (code.parse().unwrap_or(299), text.trim())
                }
                _ => (299, rest.trim()),
            };
            out.push(Warning {
                code,
                agent: "-".to_owned(),
                text: text.to_owned(),
            });
            return;
        };
        out.push(warning);
        rest = after.trim_start_matches([' ', '\t', ',']);
    }
}

/// `code SP agent SP quoted-text [SP quoted-date]`, then the rest.
fn one_warning(text: &str) -> Option<(Warning, &str)> {
    let (code, rest) = text.split_once(' ')?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u16 = code.parse().ok()?;
    let rest = rest.trim_start();
    let agent_end = rest.find([' ', '\t'])?;
    let agent = &rest[..agent_end];
    let rest = rest[agent_end..].trim_start();
    let (quoted, mut rest) = quoted_string(rest)?;
    let after_space = rest.trim_start();
    if after_space.starts_with('"') {
        // warn-date
        rest = quoted_string(after_space)?.1;
    }
    let next = rest.trim_start();
    if !(next.is_empty() || next.starts_with(',')) {
        return None;
    }
    Some((
        Warning {
            code,
            agent: agent.to_owned(),
            text: quoted,
        },
        next,
    ))
}

/// A quoted-string at the start of `text`: its content unescaped, and what follows.
fn quoted_string(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => out.push(chars.next()?.1),
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn parse(value: &str) -> Vec<Warning> {
        let mut out = Vec::new();
        parse_warning_value(value, &mut out);
        out
    }

    #[test]
    fn lists_dates_and_escapes() {
        let found = parse(
            r#"299 a.example "first \"one\"" "Sun, 06 Nov 1994 08:49:37 GMT", 110 - "stale", 299 b "x, y""#,
        );
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].text, r#"first "one""#);
        assert_eq!((found[1].code, found[1].agent.as_str()), (110, "-"));
        assert_eq!(found[2].text, "x, y");
    }

    #[test]
    fn unquoted_text_is_kept_whole() {
        let found = parse("299 dcm4chee-arc: Number of matches exceeds limit");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, 299);
        assert_eq!(
            found[0].text,
            "dcm4chee-arc: Number of matches exceeds limit"
        );
        let found = parse("something odd");
        assert_eq!(
            (found[0].code, found[0].text.as_str()),
            (299, "something odd")
        );
        assert!(parse("").is_empty());
        let found = parse(r#"299 h "unterminated"#);
        assert_eq!(found[0].text, r#"h "unterminated"#);
    }

    #[test]
    fn every_header_counts() {
        let mut headers = HeaderMap::new();
        headers.append(WARNING, HeaderValue::from_static(r#"299 a "one""#));
        headers.append(WARNING, HeaderValue::from_static(r#"299 b "two""#));
        let texts: Vec<String> = warnings(&headers).into_iter().map(|w| w.text).collect();
        assert_eq!(texts, ["one", "two"]);
    }
}
