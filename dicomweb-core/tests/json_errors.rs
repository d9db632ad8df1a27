//! Malformed and hostile DICOM JSON: typed errors that say where, what was expected and what
//! came; never a panic, never a silently shorter result.

use dicomweb_core::{Error, Limits, PathStep, ReadOptions, Tag, TagPath, json};

fn json_error(input: &str) -> (TagPath, String) {
    match json::read(input.as_bytes(), &ReadOptions::default()) {
        Err(Error::Json { path, message }) => (path, message),
        other => panic!("expected Error::Json for {input}, got {other:?}"),
    }
}

fn tag(t: u32) -> PathStep {
    PathStep::Tag(Tag(t))
}

#[test]
fn wrong_types_name_the_element_and_what_came() {
    let cases: &[(&str, &[PathStep], &[&str])] = &[
        (
            r#"{"00100020": {"vr": "LO", "Value": [12.5, true]}}"#,
            &[tag(0x0010_0020)],
            &["boolean", "string"],
        ),
        (
            r#"{"00100020": {"vr": "LO", "Value": "ID"}}"#,
            &[tag(0x0010_0020)],
            &["string", "Value array"],
        ),
        (
            r#"{"00100020": {"vr": 5}}"#,
            &[tag(0x0010_0020)],
            &["integer", "VR"],
        ),
        (
            r#"{"00100020": {"vr": "XY"}}"#,
            &[tag(0x0010_0020)],
            &["\"XY\"", "VR"],
        ),
        (
            r#"{"00100020": "x"}"#,
            &[tag(0x0010_0020)],
            &["string", "element object"],
        ),
        (
            r#"{"00200013": {"vr": "IS", "Value": [[1]]}}"#,
            &[tag(0x0020_0013)],
            &["[1]", "IS"],
        ),
        (
            r#"{"00200013": {"vr": "DS", "Value": [{"a": 1}]}}"#,
            &[tag(0x0020_0013)],
            &["{", "DS"],
        ),
        (
            r#"{"00280010": {"vr": "US", "Value": [true]}}"#,
            &[tag(0x0028_0010)],
            &["boolean", "number"],
        ),
        (
            r#"{"00209165": {"vr": "AT", "Value": ["0010001"]}}"#,
            &[tag(0x0020_9165)],
            &["0010001", "eight hex"],
        ),
        (
            r#"{"00100010": {"vr": "PN", "Value": [5]}}"#,
            &[tag(0x0010_0010)],
            &["integer", "person name"],
        ),
        (
            r#"{"00100010": {"vr": "PN", "Value": [{"Alphabetic": 5}]}}"#,
            &[tag(0x0010_0010)],
            &["integer", "string"],
        ),
        (
            r#"{"7FE00010": {"vr": "OB", "InlineBinary": "@@@"}}"#,
            &[tag(0x7FE0_0010)],
            &["base64"],
        ),
        (
            r#"{"7FE00010": {"vr": "OB", "InlineBinary": ["AA==", "AA=="]}}"#,
            &[tag(0x7FE0_0010)],
            &["one-element"],
        ),
        (
            r#"{"7FE00010": {"vr": "OB", "InlineBinary": 7}}"#,
            &[tag(0x7FE0_0010)],
            &["integer", "base64"],
        ),
        (
            r#"{"7FE00010": {"vr": "OB", "InlineBinary": "AA==", "BulkDataURI": "x"}}"#,
            &[tag(0x7FE0_0010)],
            &["second", "BulkDataURI"],
        ),
        (
            r#"{"00100020": {"vr": "LO", "vr": "LO"}}"#,
            &[tag(0x0010_0020)],
            &["duplicate", "vr"],
        ),
        (
            r#"{"0010002": {"vr": "LO"}}"#,
            &[],
            &["0010002", "eight hex"],
        ),
        (r#"{"0010002G": {"vr": "LO"}}"#, &[], &["0010002G"]),
        (
            r#"{"00081115": {"vr": "SQ", "Value": [5]}}"#,
            &[tag(0x0008_1115), PathStep::Item(0)],
            &["integer", "data set"],
        ),
        (
            r#"{"00081115": {"vr": "SQ", "Value": [{}, {"0020000E": {"vr": "UI", "Value": [1.5e]}}]}}"#,
            &[tag(0x0008_1115), PathStep::Item(1), tag(0x0020_000E)],
            &["number"],
        ),
        (
            r#"[{}, 5]"#,
            &[PathStep::DataSet(1)],
            &["integer", "data set"],
        ),
        (r#""text""#, &[], &["string", "object) or an array"]),
        (r#"5"#, &[], &["integer"]),
        (
            r#"{"00100020": {"vr": "LO", "Value": ["x"]}} trailing"#,
            &[],
            &["trailing"],
        ),
        // Value before vr: the error still names the element.
        (
            r#"{"00280010": {"Value": [true], "vr": "US"}}"#,
            &[tag(0x0028_0010)],
            &["boolean"],
        ),
    ];
    for (input, path, words) in cases {
        let (got_path, message) = json_error(input);
        assert_eq!(got_path.0, *path, "{input}: {message}");
        for word in *words {
            assert!(
                message.contains(word),
                "{input}: {message:?} should mention {word:?}"
            );
        }
    }
}

#[test]
fn display_says_where() {
    let err = json::read(br#"[{}, {"00081115": {"vr": "SQ", "Value": [{"00100020": {"vr": "LO", "Value": [true]}}]}}]"#, &ReadOptions::default())
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("data set #1.(0008,1115)[0].(0010,0020)"),
        "{text}"
    );
}

#[test]
fn truncated_input_is_an_error_at_every_cut() {
    let doc = br#"[{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "A^B"}]}, "00081115": {"vr": "SQ", "Value": [{"00200013": {"Value": [1.50], "vr": "IS"}}]}, "7FE00010": {"vr": "OB", "InlineBinary": "AAEC"}}]"#;
    assert!(json::read(doc, &ReadOptions::default()).is_ok());
    for cut in 0..doc.len() {
        let result = json::read(&doc[..cut], &ReadOptions::default());
        assert!(
            matches!(result, Err(Error::Json { .. })),
            "cut at {cut}: {result:?}"
        );
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    // Every single-byte change of a valid document either reads or gives a typed error.
    let doc = br#"{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "A^B"}, "C"]}, "00081115": {"Value": [{"00200013": {"Value": ["1.50", null], "vr": "IS"}}], "vr": "SQ"}, "00209165": {"vr": "AT", "Value": ["00100010"]}, "7FE00010": {"vr": "OB", "InlineBinary": ["AAEC"]}}"#;
    for i in 0..doc.len() {
        for replacement in [b'"', b'{', b']', b'0', b'\\', 0xFF, b'n', b',', b'-'] {
            let mut bytes = doc.to_vec();
            bytes[i] = replacement;
            let _ = json::read(&bytes, &ReadOptions::default());
            let _ = json::read(&bytes, &ReadOptions::strict());
        }
    }
}

fn nested(depth: usize) -> String {
    let mut text = String::new();
    for _ in 0..depth {
        text.push_str(r#"{"00081115": {"vr": "SQ", "Value": ["#);
    }
    text.push_str("{}");
    for _ in 0..depth {
        text.push_str("]}}");
    }
    text
}

#[test]
fn nesting_depth_limit() {
    let options = ReadOptions::default().with_limits(Limits::default().with_max_depth(4));
    // Depth 4: the top level and three levels of items.
    assert!(json::read(nested(3).as_bytes(), &options).is_ok());
    match json::read(nested(4).as_bytes(), &options) {
        Err(Error::LimitExceeded { what, limit, path }) => {
            assert_eq!(limit, 4);
            assert!(what.contains("depth"), "{what}");
            assert_eq!(path.0.len(), 8, "{path}");
            assert_eq!(path.0[7], PathStep::Item(0));
        }
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
    // The default limit (64) is reachable, and far deeper input is refused without overflowing
    // the stack.
    assert!(json::read(nested(63).as_bytes(), &ReadOptions::default()).is_ok());
    let deep = nested(100_000);
    assert!(matches!(
        json::read(deep.as_bytes(), &ReadOptions::default()),
        Err(Error::LimitExceeded { limit: 64, .. })
    ));
    // Deep plain JSON where a value is skipped or kept raw is not recursion either.
    let mut skipped = String::from(r#"{"00100020": {"vr": "LO", "other": "#);
    skipped.push_str(&"[".repeat(100_000));
    skipped.push_str(&"]".repeat(100_000));
    skipped.push_str("}}");
    assert!(json::read(skipped.as_bytes(), &ReadOptions::default()).is_ok());
    let raw_first = format!(
        r#"{{"00081115": {{"Value": [{}], "vr": "SQ"}}}}"#,
        "[".repeat(50_000) + &"]".repeat(50_000)
    );
    assert!(matches!(
        json::read(raw_first.as_bytes(), &ReadOptions::default()),
        Err(Error::Json { .. })
    ));
}

#[test]
fn element_count_limit() {
    let options = ReadOptions::default().with_limits(Limits::default().with_max_elements(5));
    let five = r#"[{"00100010": {"vr": "PN"}, "00100020": {"vr": "LO"}}, {"00081115": {"vr": "SQ", "Value": [{"00100010": {"vr": "PN"}, "00100020": {"vr": "LO"}}]}}]"#;
    assert!(json::read(five.as_bytes(), &options).is_ok());
    let six = five.replacen(
        r#"{"vr": "PN"}}]"#,
        r#"{"vr": "PN"}, "00100030": {"vr": "DA"}}]"#,
        1,
    );
    let six = six.replacen(
        "[{\"00100010\": {\"vr\": \"PN\"}, \"00100020\"",
        "[{\"00100010\": {\"vr\": \"PN\"}, \"00100021\": {\"vr\": \"LO\"}, \"00100020\"",
        1,
    );
    match json::read(six.as_bytes(), &options) {
        Err(Error::LimitExceeded {
            what,
            limit: 5,
            path,
        }) => {
            assert!(what.contains("element"), "{what}");
            assert_eq!(path.0.first(), Some(&PathStep::DataSet(1)), "{path}");
        }
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
}

#[test]
fn strict_mode_refuses_duplicates_and_binary_values() {
    let dup = br#"{"00100020": {"vr": "LO", "Value": ["a"]}, "00100010": {"vr": "PN"}, "00100020": {"vr": "LO", "Value": ["b"]}}"#;
    let lenient = json::read(dup, &ReadOptions::default()).unwrap();
    assert_eq!(lenient.data_sets()[0].string(Tag(0x0010_0020)), Some("b"));
    let err = json::read(dup, &ReadOptions::strict()).unwrap_err();
    assert!(err.to_string().contains("00100020"), "{err}");
    let binary = br#"{"7FE00010": {"vr": "OW", "Value": [1, 2]}}"#;
    let err = json::read(binary, &ReadOptions::strict()).unwrap_err();
    assert!(
        err.to_string().contains("InlineBinary") && err.to_string().contains("(7FE0,0010)"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_is_an_error() {
    let err = json::read(
        b"{\"00100020\": {\"vr\": \"LO\", \"Value\": [\"\xE9\"]}}",
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Json { ref path, .. } if path.0 == [tag(0x0010_0020)]),
        "{err}"
    );
}
