//! Media types as they appear in `Content-Type` and `Accept` headers (RFC 9110 §8.3.1 and
//! §12.5.1, RFC 2045 §5.1): parsing that accepts what real servers send, and formatting that
//! quotes only where the grammar needs it; the file name extension for a media type
//! ([`MediaType::file_extension`]).
//!
//! ```
//! use dicomweb_core::media_type::{MediaType, parse_accept};
//!
//! let ct: MediaType = r#"multipart/related; boundary=abc; type="application/dicom""#.parse()?;
//! assert!(ct.is("multipart", "related"));
//! assert_eq!(ct.boundary(), Some("abc"));
//! assert_eq!(ct.related_type()?.map(|t| t.to_string()), Some("application/dicom".to_string()));
//!
//! let accept = parse_accept("application/dicom+json, application/json; q=0.5")?;
//! assert_eq!(accept[1].1, 0.5);
//! # Ok::<(), dicomweb_core::Error>(())
//! ```

mod extension;

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A media type: `type/subtype` and parameters.
///
/// Type, subtype and parameter names are kept in lower case (they are case-insensitive);
/// parameter values keep their case (a multipart `boundary` is case-sensitive). Parameters keep
/// their order; a name may repeat, and [`MediaType::param`] returns the first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MediaType {
    type_: String,
    subtype: String,
    params: Vec<(String, String)>,
}

/// How [`MediaType::display_with`] writes parameter values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamQuoting {
    /// Quote a value unless it is an RFC 9110 token (so `type="application/dicom"` is quoted,
    /// as the standard's grammar requires). What [`fmt::Display`] does.
    #[default]
    WhenRequired,
    /// Quote a value only when it could not be read back otherwise: when it is empty or holds
    /// white space, a control character, `"`, `\`, `;` or `,` (so `type=application/dicom` is
    /// not quoted). Some servers only understand this form.
    Minimal,
}

impl MediaType {
    /// A media type without parameters. The names are lower-cased but not checked: use
    /// [`MediaType::parse`] for text from outside.
    pub fn new(type_: &str, subtype: &str) -> MediaType {
        MediaType {
            type_: type_.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            params: Vec::new(),
        }
    }

    /// Parses one media type, e.g. a `Content-Type` value.
    pub fn parse(text: &str) -> Result<MediaType, Error> {
        let mut cursor = Cursor::new(text);
        let media_type = cursor.media_type(false)?;
        cursor.skip_ows();
        if !cursor.at_end() {
            return Err(cursor.error("';' or the end"));
        }
        Ok(media_type)
    }

    /// The type, lower case (`multipart` in `multipart/related`).
    pub fn type_(&self) -> &str {
        &self.type_
    }

    /// The subtype, lower case (`related` in `multipart/related`).
    pub fn subtype(&self) -> &str {
        &self.subtype
    }

    /// Whether this is `type_/subtype`, compared without regard to case.
    pub fn is(&self, type_: &str, subtype: &str) -> bool {
        self.type_.eq_ignore_ascii_case(type_) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// Whether this is a `multipart/*` type.
    pub fn is_multipart(&self) -> bool {
        self.type_ == "multipart"
    }

    /// Whether this type falls within `range`, an `Accept` entry that may be `*/*` or `type/*`.
    /// Parameters are not compared.
    pub fn matches(&self, range: &MediaType) -> bool {
        (range.type_ == "*" || range.type_ == self.type_)
            && (range.subtype == "*" || range.subtype == self.subtype)
    }

    /// The parameters in their order, names lower case.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The value of the first parameter called `name` (any case), unquoted.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `boundary` parameter of a multipart type.
    pub fn boundary(&self) -> Option<&str> {
        self.param("boundary")
    }

    /// The `type` parameter of `multipart/related` parsed as a media type; it may carry
    /// parameters of its own (`type="application/dicom; transfer-syntax=1.2.840.10008.1.2.1"`).
    pub fn related_type(&self) -> Result<Option<MediaType>, Error> {
        self.param("type").map(MediaType::parse).transpose()
    }

    /// This media type with the parameter `name` set to `value`, replacing any earlier one.
    pub fn with_param(mut self, name: &str, value: impl Into<String>) -> MediaType {
        self.set_param(name, value);
        self
    }

    /// Sets the parameter `name` to `value`, replacing any earlier one (in place, so the order
    /// stays) or appending it.
    pub fn set_param(&mut self, name: &str, value: impl Into<String>) {
        let name = name.to_ascii_lowercase();
        let value = value.into();
        match self.params.iter().position(|(n, _)| *n == name) {
            Some(first) => {
                self.params[first].1 = value;
                let mut index = 0;
                self.params.retain(|(n, _)| {
                    let keep = index <= first || *n != name;
                    index += 1;
                    keep
                });
            }
            None => self.params.push((name, value)),
        }
    }

    /// Removes every parameter called `name` (any case) and returns the first value.
    pub fn remove_param(&mut self, name: &str) -> Option<String> {
        let first = self.param(name).map(str::to_owned);
        self.params.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        first
    }

    /// Displays with the given quoting of parameter values.
    pub fn display_with(&self, quoting: ParamQuoting) -> impl fmt::Display + '_ {
        Displayed {
            media_type: self,
            quoting,
        }
    }
}

/// Parses an `Accept` value into media ranges and their weights (`q`, 1.0 when absent), in the
/// order given. Empty list elements are skipped; the `q` parameter is taken out of the
/// parameters wherever it stands.
pub fn parse_accept(text: &str) -> Result<Vec<(MediaType, f32)>, Error> {
    let mut cursor = Cursor::new(text);
    let mut out = Vec::new();
    loop {
        cursor.skip_ows();
        if cursor.at_end() {
            return Ok(out);
        }
        if cursor.eat(b',') {
            continue;
        }
        let mut media_type = cursor.media_type(true)?;
        let q = match media_type.remove_param("q") {
            Some(value) => parse_q(&value).ok_or_else(|| Error::MediaType {
                text: text.to_owned(),
                message: format!("expected a q-value from 0 to 1, found {value:?}"),
            })?,
            None => 1.0,
        };
        out.push((media_type, q));
        cursor.skip_ows();
        if !cursor.at_end() && !cursor.eat(b',') {
            return Err(cursor.error("',' or the end"));
        }
    }
}

/// Formats media ranges and weights as an `Accept` value; a weight of 1 is left out.
pub fn format_accept(items: &[(MediaType, f32)]) -> String {
    let mut out = String::new();
    for (i, (media_type, q)) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&media_type.to_string());
        if *q < 1.0 {
            out.push_str("; q=");
            out.push_str(&format_q(*q));
        }
    }
    out
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display_with(ParamQuoting::WhenRequired).fmt(f)
    }
}

impl FromStr for MediaType {
    type Err = Error;

    fn from_str(text: &str) -> Result<MediaType, Error> {
        MediaType::parse(text)
    }
}

struct Displayed<'a> {
    media_type: &'a MediaType,
    quoting: ParamQuoting,
}

impl fmt::Display for Displayed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.media_type;
        write!(f, "{}/{}", m.type_, m.subtype)?;
        for (name, value) in &m.params {
            write!(f, "; {name}=")?;
            let quote = match self.quoting {
                ParamQuoting::WhenRequired => value.is_empty() || !value.bytes().all(is_tchar),
                ParamQuoting::Minimal => {
                    value.is_empty()
                        || value.bytes().any(|b| {
                            b <= b' ' || b == 0x7F || matches!(b, b'"' | b'\\' | b';' | b',')
                        })
                }
            };
            if quote {
                f.write_str("\"")?;
                for c in value.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")?;
            } else {
                f.write_str(value)?;
            }
        }
        Ok(())
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 §12.4.2: `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`.
fn parse_q(value: &str) -> Option<f32> {
    let (whole, fraction) = match value.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (value, ""),
    };
    let fraction_ok = fraction.len() <= 3
        && match whole {
            "0" => fraction.bytes().all(|b| b.is_ascii_digit()),
            "1" => fraction.bytes().all(|b| b == b'0'),
            _ => false,
        };
    if !fraction_ok {
        return None;
    }
    value.parse().ok()
}

fn format_q(q: f32) -> String {
    let text = format!("{:.3}", q.clamp(0.0, 1.0));
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// A position in the text being parsed.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Cursor<'a> {
        Cursor { text, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// An error saying what was expected here and what came.
    fn error(&self, expected: &str) -> Error {
        let found = match self.text[self.pos..].chars().next() {
            Some(c) => format!("{c:?}"),
            None => "the end".to_owned(),
        };
        Error::MediaType {
            text: self.text.to_owned(),
            message: format!("expected {expected} at byte {}, found {found}", self.pos),
        }
    }

    fn token(&mut self, what: &str) -> Result<&'a str, Error> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error(what));
        }
        Ok(&self.text[start..self.pos])
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), Error> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// `type/subtype *( OWS ";" OWS [ parameter ] )`; in a list, `,` ends it.
    fn media_type(&mut self, in_list: bool) -> Result<MediaType, Error> {
        self.skip_ows();
        let type_ = self.token("a type")?;
        self.expect(b'/', "'/' after the type")?;
        let subtype = self.token("a subtype")?;
        let mut media_type = MediaType::new(type_, subtype);
        loop {
            self.skip_ows();
            if self.at_end() || (in_list && self.peek() == Some(b',')) {
                return Ok(media_type);
            }
            self.expect(b';', "';' before a parameter")?;
            self.skip_ows();
            if self.at_end() || matches!(self.peek(), Some(b';')) {
                continue; // an empty parameter, as RFC 9110 allows
            }
            if in_list && self.peek() == Some(b',') {
                continue;
            }
            let name = self.token("a parameter name")?.to_ascii_lowercase();
            self.skip_ows();
            self.expect(b'=', "'=' after the parameter name")?;
            self.skip_ows();
            let value = if self.peek() == Some(b'"') {
                self.quoted_string()?
            } else {
                self.bare_value(in_list)?
            };
            media_type.params.push((name, value));
        }
    }

    /// A quoted-string with `\` escapes; the quotes and escapes removed.
    fn quoted_string(&mut self) -> Result<String, Error> {
        self.expect(b'"', "'\"'")?;
        let mut value = String::new();
        let mut run_start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error("the closing '\"' of a quoted-string")),
                Some(b'"') => {
                    value.push_str(&self.text[run_start..self.pos]);
                    self.pos += 1;
                    return Ok(value);
                }
                Some(b'\\') => {
                    value.push_str(&self.text[run_start..self.pos]);
                    self.pos += 1;
                    let Some(escaped) = self.text[self.pos..].chars().next() else {
                        return Err(self.error("a character after '\\'"));
                    };
                    // RFC 9110 quoted-pair: HTAB, SP, VCHAR or obs-text; a control character
                    // cannot be quoted (it could not be written back either).
                    if (escaped < ' ' && escaped != '\t') || escaped == '\u{7F}' {
                        return Err(self.error("a character after '\\' that may be quoted"));
                    }
                    value.push(escaped);
                    self.pos += escaped.len_utf8();
                    run_start = self.pos;
                }
                Some(b) if (b < b' ' && b != b'\t') || b == 0x7F => {
                    return Err(self.error("a quoted-string character"));
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// An unquoted value. Lenient beyond RFC tokens: servers send unquoted boundaries holding
    /// `/`, `=`, `:` or `?`, so anything up to `;` (or `,` in a list) that is not white space,
    /// a control character or `"` is taken.
    fn bare_value(&mut self, in_list: bool) -> Result<String, Error> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            let ends = b == b';' || (in_list && b == b',');
            if ends || b <= b' ' || b == 0x7F || b == b'"' {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("a parameter value"));
        }
        Ok(self.text[start..self.pos].to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> MediaType {
        MediaType::parse(text).unwrap()
    }

    #[test]
    fn parameters_in_any_order_and_case() {
        let a = parse(r#"multipart/related; type="application/dicom"; boundary=abc"#);
        let b = parse(r#"Multipart/Related;BOUNDARY=abc ;  Type = "application/dicom""#);
        assert_eq!(a.boundary(), Some("abc"));
        assert_eq!(b.boundary(), Some("abc"));
        assert_eq!(a.param("TYPE"), Some("application/dicom"));
        assert_eq!(b.param("type"), Some("application/dicom"));
        assert!(b.is("multipart", "related"));
        assert_eq!(b.type_(), "multipart");
        assert_eq!(b.subtype(), "related");
    }

    #[test]
    fn boundary_keeps_its_case_and_bchars() {
        let m = parse(r#"multipart/related; boundary="Ab '()+_,-./:=? Z""#);
        assert_eq!(m.boundary(), Some("Ab '()+_,-./:=? Z"));
        let m = parse("multipart/related; boundary=====abc/def:ghi?==");
        assert_eq!(m.boundary(), Some("====abc/def:ghi?=="));
    }

    #[test]
    fn quoted_type_with_its_own_parameters() {
        let m = parse(
            r#"multipart/related; type="application/dicom; transfer-syntax=1.2.840.10008.1.2.1"; boundary=x"#,
        );
        assert_eq!(
            m.param("type"),
            Some("application/dicom; transfer-syntax=1.2.840.10008.1.2.1")
        );
        let inner = m.related_type().unwrap().unwrap();
        assert!(inner.is("application", "dicom"));
        assert_eq!(inner.param("transfer-syntax"), Some("1.2.840.10008.1.2.1"));
        assert_eq!(m.boundary(), Some("x"));
    }

    #[test]
    fn unquoted_type_and_outside_transfer_syntax() {
        let m = parse("multipart/related; type=application/dicom; transfer-syntax=*");
        assert_eq!(m.param("type"), Some("application/dicom"));
        assert_eq!(m.param("transfer-syntax"), Some("*"));
        assert_eq!(
            m.related_type().unwrap(),
            Some(MediaType::new("application", "dicom"))
        );
    }

    #[test]
    fn quoted_string_escapes() {
        let m = parse(r#"text/plain; title="a \"b\" \\ c""#);
        assert_eq!(m.param("title"), Some(r#"a "b" \ c"#));
        assert_eq!(m.to_string(), r#"text/plain; title="a \"b\" \\ c""#);
        assert_eq!(parse(&m.to_string()), m);
    }

    #[test]
    fn empty_parameters_and_trailing_semicolon_are_tolerated() {
        let m = parse("application/dicom;; transfer-syntax=1.2.3;");
        assert_eq!(
            m.params().collect::<Vec<_>>(),
            vec![("transfer-syntax", "1.2.3")]
        );
    }

    #[test]
    fn errors_say_what_was_expected_and_what_came() {
        let cases = [
            (
                "application",
                "expected '/' after the type at byte 11, found the end",
            ),
            ("/dicom", "expected a type at byte 0, found '/'"),
            (
                "application/",
                "expected a subtype at byte 12, found the end",
            ),
            (
                "a/b; c",
                "expected '=' after the parameter name at byte 6, found the end",
            ),
            (
                "a/b; c=",
                "expected a parameter value at byte 7, found the end",
            ),
            (
                "a/b; c=\"x",
                "expected the closing '\"' of a quoted-string at byte 9",
            ),
            (
                "a/b; c=d e",
                "expected ';' before a parameter at byte 9, found 'e'",
            ),
            (
                "a/b x",
                "expected ';' before a parameter at byte 4, found 'x'",
            ),
            ("a/b; c=\"x\\", "expected a character after '\\' at byte 10"),
            // Found by fuzzing: a quoted control character was taken, then written back raw.
            (
                "a/b; c=\"x\\\u{12}y\"",
                "expected a character after '\\' that may be quoted at byte 10, found '\\u{12}'",
            ),
            (
                "a/b; c=\"x\\\u{7F}\"",
                "expected a character after '\\' that may be quoted at byte 10",
            ),
            (
                "a/b; c=\"x\ny\"",
                "expected a quoted-string character at byte 9",
            ),
            ("", "expected a type at byte 0, found the end"),
        ];
        for (text, expected) in cases {
            let err = MediaType::parse(text).unwrap_err();
            let Error::MediaType { text: got, message } = &err else {
                panic!("{err:?}")
            };
            assert_eq!(got, text);
            assert!(message.contains(expected), "{text:?}: {message}");
        }
    }

    #[test]
    fn display_quotes_when_required_or_minimal() {
        let m = MediaType::new("Multipart", "Related")
            .with_param("type", "application/dicom")
            .with_param("boundary", "abc123");
        assert_eq!(
            m.to_string(),
            r#"multipart/related; type="application/dicom"; boundary=abc123"#
        );
        assert_eq!(
            m.display_with(ParamQuoting::Minimal).to_string(),
            "multipart/related; type=application/dicom; boundary=abc123"
        );
        let nested = MediaType::new("multipart", "related")
            .with_param("type", "application/dicom; transfer-syntax=*");
        assert_eq!(
            nested.display_with(ParamQuoting::Minimal).to_string(),
            r#"multipart/related; type="application/dicom; transfer-syntax=*""#
        );
        let empty = MediaType::new("a", "b").with_param("x", "");
        assert_eq!(empty.to_string(), r#"a/b; x="""#);
        assert_eq!(parse(&empty.to_string()), empty);
    }

    #[test]
    fn set_param_replaces_in_place() {
        let mut m = parse("a/b; x=1; y=2; X=3");
        m.set_param("x", "9");
        assert_eq!(m.params().collect::<Vec<_>>(), vec![("x", "9"), ("y", "2")]);
        assert_eq!(m.remove_param("Y"), Some("2".to_owned()));
        assert_eq!(m.remove_param("y"), None);
        m.set_param("z", "0");
        assert_eq!(m.to_string(), "a/b; x=9; z=0");
    }

    #[test]
    fn accept_with_q_values() {
        let list = parse_accept(
            r#"multipart/related; type="application/dicom"; transfer-syntax=*; q=0.9, application/dicom+json;q=1.0 ,, */*; q=0"#,
        )
        .unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].1, 0.9);
        assert_eq!(list[0].0.param("transfer-syntax"), Some("*"));
        assert_eq!(list[0].0.param("q"), None);
        assert_eq!(list[1].1, 1.0);
        assert!(list[1].0.is("application", "dicom+json"));
        assert_eq!(list[2].1, 0.0);
        assert!(MediaType::new("application", "dicom").matches(&list[2].0));
        assert!(!MediaType::new("application", "dicom").matches(&list[1].0));
        assert!(MediaType::new("image", "png").matches(&parse("image/*")));
    }

    #[test]
    fn accept_q_before_other_parameters_and_commas_in_quotes() {
        let list = parse_accept(r#"a/b; q=0.5; x="1,2", c/d"#).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].1, 0.5);
        assert_eq!(list[0].0.param("x"), Some("1,2"));
        assert!(list[1].0.is("c", "d"));
        assert!(parse_accept("").unwrap().is_empty());
    }

    #[test]
    fn accept_rejects_bad_q_and_garbage() {
        for bad in [
            "a/b; q=2",
            "a/b; q=-1",
            "a/b; q=x",
            "a/b; q=0.12345",
            // Found by fuzzing: no leading digit and four decimals, which formatted back as 0.001.
            "j/_;q=.0011",
            "a/b; q=.5",
            "a/b; q=1.001",
            "a/b; q=00.5",
            "a/b c/d",
            "a/b; q=NaN",
        ] {
            assert!(parse_accept(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn format_accept_round_trips() {
        let items = vec![
            (
                MediaType::new("multipart", "related")
                    .with_param("type", "application/dicom")
                    .with_param("transfer-syntax", "1.2.840.10008.1.2.1"),
                1.0,
            ),
            (MediaType::new("application", "dicom"), 0.5),
            (MediaType::new("*", "*"), 0.125),
            (MediaType::new("text", "plain"), 0.0),
        ];
        let text = format_accept(&items);
        assert_eq!(
            text,
            r#"multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1, application/dicom; q=0.5, */*; q=0.125, text/plain; q=0"#
        );
        assert_eq!(parse_accept(&text).unwrap(), items);
    }
}
