//! Indentation for the writer's compact output, for people to read.

/// Re-indents compact JSON (as the writer makes it) with two spaces per level; empty objects
/// and arrays stay `{}` and `[]`.
pub(super) fn indent(compact: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * depth, b' ');
    };
    let mut i = 0;
    while i < compact.len() {
        let b = compact[i];
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                if compact.get(i + 1) == Some(&close) {
                    out.extend_from_slice(&[b, close]);
                    i += 1;
                } else {
                    out.push(b);
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(b),
        }
        i += 1;
    }
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn indents_and_keeps_strings() {
        let pretty = super::indent(br#"{"a":{"vr":"LO","Value":["x,{y}:\"z"]},"b":{},"c":[]}"#);
        let want = "{\n  \"a\": {\n    \"vr\": \"LO\",\n    \"Value\": [\n      \"x,{y}:\\\"z\"\n    ]\n  },\n  \"b\": {},\n  \"c\": []\n}\n";
        assert_eq!(String::from_utf8(pretty).unwrap(), want);
    }
}
