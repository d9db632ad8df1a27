//! DICOM JSON reading: each form that servers send, one test each.

use bytes::Bytes;
use dicomweb_core::{
    DataSet, Document, Element, Number, PersonName, ReadOptions, Tag, Value, Vr, json,
};

fn read_one(text: &str) -> DataSet {
    match json::read(text.as_bytes(), &ReadOptions::default()) {
        Ok(Document::Single(ds)) => ds,
        other => panic!("expected one data set, got {other:?}"),
    }
}

fn element(text: &str, tag: u32) -> Element {
    read_one(text)
        .get(Tag(tag))
        .cloned()
        .expect("element present")
}

fn numbers(values: &[Option<Number>]) -> Value {
    Value::Numbers(values.to_vec().into())
}

fn text(s: &str) -> Option<Number> {
    Some(Number::Text(s.into()))
}

#[test]
fn object_is_single_and_array_is_array() {
    let single = json::read(
        br#"{"00100020":{"vr":"LO","Value":["ID1"]}}"#,
        &ReadOptions::default(),
    );
    assert!(matches!(single, Ok(Document::Single(_))));
    let array = json::read(
        br#" [ {}, {"00100020":{"vr":"LO","Value":["ID1"]}} ] "#,
        &ReadOptions::default(),
    )
    .unwrap();
    assert!(matches!(&array, Document::Array(all) if all.len() == 2));
    assert_eq!(array.data_sets()[1].string(Tag(0x0010_0020)), Some("ID1"));
    let empty = json::read(b"[]", &ReadOptions::default()).unwrap();
    assert_eq!(empty, Document::Array(Vec::new()));
    // read_data_sets takes either.
    assert_eq!(
        json::read_data_sets(b"{}", &ReadOptions::default()).unwrap(),
        vec![DataSet::new()]
    );
    assert_eq!(
        json::read_data_sets(b"[{},{}]", &ReadOptions::default())
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn members_in_any_order_value_before_vr() {
    // Orthanc's order, for every kind of value, including a sequence whose items follow the same order.
    let ds = read_one(
        r#"{
        "00100010": {"Value": [{"Alphabetic": "Doe^Jane"}], "vr": "PN"},
        "00200013": {"Value": [7], "vr": "IS"},
        "00280030": {"Value": [0.50, "0.250"], "vr": "DS"},
        "00280010": {"Value": [512], "vr": "US"},
        "00081140": {"Value": [{"00081155": {"Value": ["1.2.3"], "vr": "UI"}}], "vr": "SQ"},
        "7FE00010": {"BulkDataURI": "http://h/bulk/1", "vr": "OW"}
    }"#,
    );
    assert_eq!(
        ds.get(Tag(0x0010_0010)).unwrap().value,
        Value::PersonNames(vec![Some(PersonName::alphabetic("Doe^Jane"))])
    );
    assert_eq!(
        ds.get(Tag(0x0020_0013)).unwrap().value,
        numbers(&[text("7")])
    );
    assert_eq!(
        ds.get(Tag(0x0028_0030)).unwrap().value,
        numbers(&[text("0.50"), text("0.250")])
    );
    assert_eq!(
        ds.get(Tag(0x0028_0010)).unwrap().value,
        numbers(&[Some(Number::Int(512))])
    );
    let Value::Items(items) = &ds.get(Tag(0x0008_1140)).unwrap().value else {
        panic!()
    };
    assert_eq!(items[0].string(Tag(0x0008_1155)), Some("1.2.3"));
    assert_eq!(ds.get(Tag(0x7FE0_0010)).unwrap().vr, Vr::OW);
}

#[test]
fn null_inside_value_is_an_empty_value_for_every_vr() {
    for &vr in Vr::ALL {
        let doc = format!(r#"{{"00091001": {{"vr": "{vr}", "Value": [null]}}}}"#);
        let result = json::read(doc.as_bytes(), &ReadOptions::default());
        let ds = result.unwrap_or_else(|e| panic!("{vr}: {e}"));
        let value = &ds.data_sets()[0].get(Tag(0x0009_1001)).unwrap().value;
        let expected = match vr.kind() {
            dicomweb_core::ValueKind::Text => Value::Strings(vec![None].into()),
            dicomweb_core::ValueKind::Tag => Value::Tags(vec![None].into()),
            dicomweb_core::ValueKind::PersonName => Value::PersonNames(vec![None]),
            dicomweb_core::ValueKind::Sequence => Value::Items(vec![DataSet::new()]),
            _ => Value::Numbers(vec![None].into()),
        };
        assert_eq!(value, &expected, "{vr}");
    }
    // Inside a multi-valued element, a null keeps its position.
    let e = element(
        r#"{"00200037": {"vr": "DS", "Value": [1, null, "0"]}}"#,
        0x0020_0037,
    );
    assert_eq!(e.value, numbers(&[text("1"), None, text("0")]));
    let e = element(
        r#"{"00080008": {"vr": "CS", "Value": ["ORIGINAL", null, "AXIAL"]}}"#,
        0x0008_0008,
    );
    assert_eq!(
        e.value,
        Value::Strings(vec![Some("ORIGINAL".into()), None, Some("AXIAL".into())].into())
    );
}

#[test]
fn numbers_as_json_numbers_or_strings() {
    let ds = read_one(
        r#"{
        "00181050": {"vr": "DS", "Value": [338.671600, "338.671600", " 1.50 ", -0.0, 1e-3, "+5"]},
        "00200013": {"vr": "IS", "Value": [42, "0042", " -7 "]},
        "00280010": {"vr": "US", "Value": [512, "256"]},
        "00189219": {"vr": "SS", "Value": [-32768, "-1"]},
        "00189220": {"vr": "SL", "Value": [-2147483648, "2147483647"]},
        "00081161": {"vr": "UL", "Value": [4294967295, "0"]},
        "00720082": {"vr": "SV", "Value": [-9223372036854775808, "9223372036854775807"]},
        "00720083": {"vr": "UV", "Value": [18446744073709551615, "18446744073709551614", 1]},
        "00189089": {"vr": "FD", "Value": [0.5, "0.25", 3, "1e300"]},
        "00189090": {"vr": "FL", "Value": [1.5, "-2.5"]}
    }"#,
    );
    let value = |tag: u32| ds.get(Tag(tag)).unwrap().value.clone();
    assert_eq!(
        value(0x0018_1050),
        numbers(&[
            text("338.671600"),
            text("338.671600"),
            text("1.50"),
            text("-0.0"),
            text("1e-3"),
            text("+5")
        ])
    );
    assert_eq!(
        value(0x0020_0013),
        numbers(&[text("42"), text("0042"), text("-7")])
    );
    assert_eq!(
        value(0x0028_0010),
        numbers(&[Some(Number::Int(512)), Some(Number::Int(256))])
    );
    assert_eq!(
        value(0x0018_9219),
        numbers(&[Some(Number::Int(-32768)), Some(Number::Int(-1))])
    );
    assert_eq!(
        value(0x0018_9220),
        numbers(&[
            Some(Number::Int(i64::from(i32::MIN))),
            Some(Number::Int(i64::from(i32::MAX)))
        ])
    );
    assert_eq!(
        value(0x0008_1161),
        numbers(&[Some(Number::Int(4_294_967_295)), Some(Number::Int(0))])
    );
    assert_eq!(
        value(0x0072_0082),
        numbers(&[Some(Number::Int(i64::MIN)), Some(Number::Int(i64::MAX))])
    );
    assert_eq!(
        value(0x0072_0083),
        numbers(&[
            Some(Number::UInt(u64::MAX)),
            Some(Number::UInt(u64::MAX - 1)),
            Some(Number::Int(1))
        ])
    );
    assert_eq!(
        value(0x0018_9089),
        numbers(&[
            Some(Number::Float(0.5)),
            Some(Number::Float(0.25)),
            Some(Number::Float(3.0)),
            Some(Number::Float(1e300))
        ])
    );
    assert_eq!(
        value(0x0018_9090),
        numbers(&[Some(Number::Float(1.5)), Some(Number::Float(-2.5))])
    );
}

#[test]
fn nan_and_infinities_as_strings() {
    let e = element(
        r#"{"00189089": {"vr": "FD", "Value": ["NaN", "Infinity", "-Infinity", 1]}}"#,
        0x0018_9089,
    );
    let Value::Numbers(values) = e.value else {
        panic!()
    };
    assert!(matches!(values[0], Some(Number::Float(v)) if v.is_nan()));
    assert_eq!(values[1], Some(Number::Float(f64::INFINITY)));
    assert_eq!(values[2], Some(Number::Float(f64::NEG_INFINITY)));
    let fl = element(
        r#"{"00189090": {"vr": "FL", "Value": ["-Infinity"]}}"#,
        0x0018_9090,
    );
    assert_eq!(fl.value, numbers(&[Some(Number::Float(f64::NEG_INFINITY))]));
}

#[test]
fn lenient_numbers_that_do_not_fit_are_kept_as_text() {
    let e = element(
        r#"{"00280010": {"vr": "US", "Value": ["n/a", 1.5]}}"#,
        0x0028_0010,
    );
    assert_eq!(e.value, numbers(&[text("n/a"), Some(Number::Float(1.5))]));
    let strict = json::read(
        br#"{"00280010": {"vr": "US", "Value": ["n/a"]}}"#,
        &ReadOptions::strict(),
    );
    assert!(strict.unwrap_err().to_string().contains("n/a"));
}

#[test]
fn inline_binary_string_or_one_element_array_padded_or_not() {
    let want = Value::InlineBinary(Bytes::from_static(b"\x01\x02\x03\x04"));
    // Padded, unpadded, in a one-element array, and with a line break (MIME-style wrapping).
    for form in [
        r#""AQIDBA==""#,
        r#""AQIDBA""#,
        r#"["AQIDBA=="]"#,
        r#"["AQIDBA"]"#,
        r#""AQID\nBA==""#,
    ] {
        let doc = format!(r#"{{"7FE00010": {{"vr": "OB", "InlineBinary": {form}}}}}"#);
        assert_eq!(element(&doc, 0x7FE0_0010).value, want, "{form}");
    }
    // An escaped solidus is still base64's '/'.
    let e = element(
        r#"{"00091001": {"vr": "OB", "InlineBinary": "\/\/8="}}"#,
        0x0009_1001,
    );
    assert_eq!(
        e.value,
        Value::InlineBinary(Bytes::from_static(b"\xff\xff"))
    );
    // Empty binary, and InlineBinary as the first member.
    let e = element(
        r#"{"00091001": {"InlineBinary": "", "vr": "UN"}}"#,
        0x0009_1001,
    );
    assert_eq!(e.value, Value::InlineBinary(Bytes::new()));
}

#[test]
fn bulk_data_uri_on_any_vr_is_kept() {
    for vr in ["OB", "OW", "UN", "PN", "DS", "UT", "SQ", "FD", "AT"] {
        let doc = format!(
            r#"{{"00420011": {{"vr": "{vr}", "BulkDataURI": "http://127.0.0.1/bulk?x=1&y=2"}}}}"#
        );
        let e = element(&doc, 0x0042_0011);
        assert_eq!(
            e.value,
            Value::BulkDataUri("http://127.0.0.1/bulk?x=1&y=2".into()),
            "{vr}"
        );
        assert_eq!(e.vr.as_str(), vr);
    }
}

#[test]
fn person_name_object_or_plain_string() {
    let ds = read_one(
        r#"{
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎", "Phonetic": "やまだ^たろう"}]},
        "00081060": {"vr": "PN", "Value": ["Doe^John", "Yamada^Tarou=山田^太郎", {"Phonetic": "x"}, {}, null]}
    }"#,
    );
    let full = PersonName {
        alphabetic: Some("Yamada^Tarou".into()),
        ideographic: Some("山田^太郎".into()),
        phonetic: Some("やまだ^たろう".into()),
    };
    assert_eq!(
        ds.get(Tag(0x0010_0010)).unwrap().value,
        Value::PersonNames(vec![Some(full)])
    );
    let Value::PersonNames(names) = &ds.get(Tag(0x0008_1060)).unwrap().value else {
        panic!()
    };
    assert_eq!(names[0], Some(PersonName::alphabetic("Doe^John")));
    assert_eq!(
        names[1].as_ref().unwrap().ideographic.as_deref(),
        Some("山田^太郎")
    );
    assert_eq!(names[2].as_ref().unwrap().phonetic.as_deref(), Some("x"));
    assert_eq!(names[3], Some(PersonName::default()));
    assert_eq!(names[4], None);
}

#[test]
fn lower_case_keys_private_tags_and_creators() {
    let ds = read_one(
        r#"{
        "0020000d": {"vr": "UI", "Value": ["1.2.3"]},
        "00090010": {"vr": "LO", "Value": ["ACME 1.0"]},
        "00091001": {"vr": "DS", "Value": [1.5]},
        "0009100a": {"vr": "UN", "InlineBinary": "AAEC"}
    }"#,
    );
    assert_eq!(ds.string(Tag(0x0020_000D)), Some("1.2.3"));
    assert_eq!(ds.private_creator(Tag(0x0009_1001)), Some("ACME 1.0"));
    assert_eq!(ds.get(Tag(0x0009_100A)).unwrap().vr, Vr::UN);
    // Without vr (lenient), a private creator is LO, an unknown private element UN.
    let ds = read_one(r#"{"00090010": {"Value": ["ACME"]}, "00091001": {"InlineBinary": "AA=="}}"#);
    assert_eq!(ds.get(Tag(0x0009_0010)).unwrap().vr, Vr::LO);
    assert_eq!(ds.get(Tag(0x0009_1001)).unwrap().vr, Vr::UN);
}

#[test]
fn at_values() {
    let e = element(
        r#"{"00209165": {"vr": "AT", "Value": ["00100010", "7fe00010", null]}}"#,
        0x0020_9165,
    );
    assert_eq!(
        e.value,
        Value::Tags(vec![Some(Tag(0x0010_0010)), Some(Tag(0x7FE0_0010)), None].into())
    );
}

#[test]
fn sequences_nest_and_empty_items_stay() {
    let ds = read_one(
        r#"{"00081115": {"vr": "SQ", "Value": [
            {"0020000E": {"vr": "UI", "Value": ["1.2"]},
             "00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": ["1.2.3"]}}, {}]}},
            {}
        ]}}"#,
    );
    let Value::Items(series) = &ds.get(Tag(0x0008_1115)).unwrap().value else {
        panic!()
    };
    assert_eq!(series.len(), 2);
    assert!(series[1].is_empty());
    let Value::Items(instances) = &series[0].get(Tag(0x0008_1199)).unwrap().value else {
        panic!()
    };
    assert_eq!(instances[0].string(Tag(0x0008_1155)), Some("1.2.3"));
    assert!(instances[1].is_empty());
    assert_eq!(ds.total_elements(), 4);
}

#[test]
fn missing_vr_is_looked_up_or_refused_in_strict_mode() {
    let doc = r#"{"00100010": {"Value": [{"Alphabetic": "A^B"}]}, "00280010": {"Value": [512]},
                  "00181050": {"Value": ["0.5"]}, "00231001": {"Value": ["x"]}}"#;
    let ds = read_one(doc);
    assert_eq!(ds.get(Tag(0x0010_0010)).unwrap().vr, Vr::PN);
    assert_eq!(ds.get(Tag(0x0028_0010)).unwrap().vr, Vr::US);
    assert_eq!(
        ds.get(Tag(0x0018_1050)).unwrap().value,
        numbers(&[text("0.5")])
    );
    // An unknown tag without vr is UN; its Value is then read leniently as numbers.
    let err = json::read(
        br#"{"00231001": {"Value": ["x"]}}"#,
        &ReadOptions::default(),
    );
    assert_eq!(
        err.unwrap().data_sets()[0]
            .get(Tag(0x0023_1001))
            .unwrap()
            .vr,
        Vr::UN
    );
    let err = json::read(doc.as_bytes(), &ReadOptions::strict()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("vr") && message.contains("(0010,0010)"),
        "{message}"
    );
}

#[test]
fn empty_value_forms() {
    let ds = read_one(
        r#"{"00100020": {"vr": "LO", "Value": []}, "00100030": {"vr": "DA"},
            "00081140": {"vr": "SQ", "Value": []}, "00100040": {"vr": "CS", "Value": null}}"#,
    );
    for (_, e) in &ds {
        assert_eq!(e.value, Value::Empty, "{e:?}");
    }
    assert_eq!(ds.len(), 4);
}

#[test]
fn strings_with_escapes_and_unicode() {
    let e = element(
        r#"{"00081030": {"vr": "LO", "Value": ["a\"b\\c\u00e9\ud83d\ude00\n"]}}"#,
        0x0008_1030,
    );
    assert_eq!(
        e.value,
        Value::Strings(vec![Some("a\"b\\cé😀\n".into())].into())
    );
    let e = element(
        r#"{"00200013": {"vr": "IS", "Value": ["\u0031\u0032"]}}"#,
        0x0020_0013,
    );
    assert_eq!(e.value, numbers(&[text("12")]));
}

#[test]
fn byte_order_mark_and_unknown_members_are_tolerated_when_lenient() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(
        br#"{"00100020": {"vr": "LO", "Value": ["X"], "keyword": {"a": [1, 2]}}}"#,
    );
    let doc = json::read(&bytes, &ReadOptions::default()).unwrap();
    assert_eq!(doc.data_sets()[0].string(Tag(0x0010_0020)), Some("X"));
    let err = json::read(&bytes, &ReadOptions::strict()).unwrap_err();
    assert!(err.to_string().contains("another member"), "{err}");
}
