//! JSON as Orthanc writes its configuration: `//` and `/* */` comments and trailing commas
//! are allowed (JsonCpp's lenient mode). They are blanked out, keeping line and column
//! numbers, before a strict JSON parser reads the text.

/// `text` (an Orthanc configuration file) with comments replaced by spaces and trailing commas
/// removed, ready for a strict JSON parser, or a message saying where an unterminated comment
/// starts. Line and column numbers are kept, so the parser's errors point into the original.
pub fn strip(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    // Index in `out` of the last comma outside strings whose fate is not decided yet.
    let mut pending_comma: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                pending_comma = None;
                let start = i;
                out.push(b);
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(format!(
                                "unterminated string at {}",
                                position(text, start)
                            ));
                        }
                        Some(b'\\') => {
                            out.push(b'\\');
                            if let Some(&next) = bytes.get(i + 1) {
                                out.push(next);
                            }
                            i += 2;
                        }
                        Some(b'"') => {
                            out.push(b'"');
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            out.push(c);
                            i += 1;
                        }
                    }
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out.push(b' ');
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let start = i;
                out.extend_from_slice(b"  ");
                i += 2;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(format!(
                                "unterminated /* comment at {}",
                                position(text, start)
                            ));
                        }
                        Some(b'*') if bytes.get(i + 1) == Some(&b'/') => {
                            out.extend_from_slice(b"  ");
                            i += 2;
                            break;
                        }
                        Some(&c) => {
                            out.push(if c == b'\n' { b'\n' } else { b' ' });
                            i += 1;
                        }
                    }
                }
            }
            b',' => {
                pending_comma = Some(out.len());
                out.push(b);
                i += 1;
            }
            b'}' | b']' => {
                if let Some(at) = pending_comma.take() {
                    out[at] = b' ';
                }
                out.push(b);
                i += 1;
            }
            _ => {
                if !b.is_ascii_whitespace() {
                    pending_comma = None;
                }
                out.push(b);
                i += 1;
            }
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the text is still UTF-8.
    String::from_utf8(out).map_err(|e| format!("not UTF-8: {e}"))
}

fn position(text: &str, offset: usize) -> String {
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    format!("line {line} column {column}")
}

#[cfg(test)]
mod tests {
    use super::strip;

    #[test]
    fn comments_and_trailing_commas() {
        let text = "{\n  // a comment with \"quotes\"\n  \"a\" : \"x // not a comment\", /* block\n spanning */ \"b\" : [1, 2,],\n}";
        let clean = strip(text).unwrap();
        let v: serde_json::Value = serde_json::from_str(&clean).unwrap();
        assert_eq!(v["a"], "x // not a comment");
        assert_eq!(v["b"], serde_json::json!([1, 2]));
        assert_eq!(clean.lines().count(), text.lines().count());
    }

    #[test]
    fn escaped_quote_in_string() {
        let clean = strip(r#"{"a": "say \"/*hi*/\""}"#).unwrap();
        let v: serde_json::Value = serde_json::from_str(&clean).unwrap();
        assert_eq!(v["a"], "say \"/*hi*/\"");
    }

    #[test]
    fn unterminated() {
        let e = strip("{\n  /* oops").unwrap_err();
        assert_eq!(e, "unterminated /* comment at line 2 column 3");
        assert!(strip("{\"a").is_err());
    }
}
