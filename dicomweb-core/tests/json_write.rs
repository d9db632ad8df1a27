//! The canonical DICOM JSON writer: exact bytes for each value form.

use bytes::Bytes;
use dicomweb_core::{
    DataSet, Document, Element, Number, PersonName, ReadOptions, Tag, Text, Value, Values, Vr, json,
};

fn written(ds: &DataSet) -> String {
    let mut out = Vec::new();
    json::write_data_set(ds, &mut out);
    String::from_utf8(out).expect("UTF-8")
}

fn one(tag: u32, element: Element) -> DataSet {
    [(Tag(tag), element)].into_iter().collect()
}

#[test]
fn keys_upper_case_in_tag_order_vr_first() {
    let ds = json::read(
        br#"{"7fe00010": {"BulkDataURI": "u", "vr": "OW"}, "0020000d": {"Value": ["1.2"], "vr": "UI"}, "00100010": {"vr": "PN"}}"#,
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(json::write(&ds)).unwrap(),
        r#"{"00100010":{"vr":"PN"},"0020000D":{"vr":"UI","Value":["1.2"]},"7FE00010":{"vr":"OW","BulkDataURI":"u"}}"#
    );
}

#[test]
fn decimal_text_as_number_when_it_is_one_else_as_string() {
    let values = [
        "338.671600",
        "-0.5",
        "1e-3",
        "+5",
        "0042",
        ".5",
        "1.",
        "12 ",
        "NaN",
        "1E+10",
    ];
    let ds = one(
        0x0018_1050,
        Element::numbers(Vr::DS, values.iter().map(|v| Number::Text((*v).into()))),
    );
    assert_eq!(
        written(&ds),
        r#"{"00181050":{"vr":"DS","Value":[338.671600,-0.5,1e-3,"+5","0042",".5","1.","12 ","NaN",1E+10]}}"#
    );
    // Read back, each keeps its text (except the trailing space a string loses when read).
    let back = json::read(written(&ds).as_bytes(), &ReadOptions::default()).unwrap();
    let Value::Numbers(read) = &back.data_sets()[0].get(Tag(0x0018_1050)).unwrap().value else {
        panic!()
    };
    let texts: Vec<&str> = read
        .iter()
        .map(|n| match n {
            Some(Number::Text(t)) => t.as_str(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        texts,
        [
            "338.671600",
            "-0.5",
            "1e-3",
            "+5",
            "0042",
            ".5",
            "1.",
            "12",
            "NaN",
            "1E+10"
        ]
    );
}

#[test]
fn floats_integers_and_special_values() {
    let mut ds = DataSet::new();
    ds.insert(
        Tag(0x0018_9089),
        Element::numbers(
            Vr::FD,
            [
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                0.1,
                3.0,
                1e300,
                -0.0,
            ]
            .map(Number::Float),
        ),
    );
    ds.insert(
        Tag(0x0072_0083),
        Element::numbers(Vr::UV, [Number::UInt(u64::MAX), Number::Int(-1)]),
    );
    ds.insert(
        Tag(0x0028_0010),
        Element::new(
            Vr::US,
            Value::Numbers(vec![Some(Number::Int(512)), None].into()),
        ),
    );
    assert_eq!(
        written(&ds),
        concat!(
            r#"{"00189089":{"vr":"FD","Value":["NaN","Infinity","-Infinity",0.1,3.0,1e+300,-0.0]},"#,
            r#""00280010":{"vr":"US","Value":[512,null]},"#,
            r#""00720083":{"vr":"UV","Value":[18446744073709551615,-1]}}"#
        )
    );
}

#[test]
fn person_names_tags_strings_binary_and_empty() {
    let mut ds = DataSet::new();
    let name = PersonName {
        alphabetic: Some("Yamada^Tarou".into()),
        ideographic: None,
        phonetic: Some("やまだ^たろう".into()),
    };
    ds.insert(
        Tag(0x0010_0010),
        Element::new(
            Vr::PN,
            Value::PersonNames(vec![Some(name), None, Some(PersonName::default())]),
        ),
    );
    ds.insert(
        Tag(0x0020_9165),
        Element::new(
            Vr::AT,
            Value::Tags(vec![Some(Tag(0x7FE0_0010)), None].into()),
        ),
    );
    ds.insert(
        Tag(0x0008_0008),
        Element::new(
            Vr::CS,
            Value::Strings(vec![Some("A\"\\\u{1}".into()), None, Some(Text::new())].into()),
        ),
    );
    ds.insert(
        Tag(0x7FE0_0010),
        Element::new(
            Vr::OB,
            Value::InlineBinary(Bytes::from_static(b"\x01\x02\x03\x04")),
        ),
    );
    ds.insert(Tag(0x0010_0020), Element::empty(Vr::LO));
    ds.insert(
        Tag(0x0010_0030),
        Element::new(Vr::DA, Value::Strings(Values::new())),
    );
    assert_eq!(
        written(&ds),
        concat!(
            r#"{"00080008":{"vr":"CS","Value":["A\"\\\u0001",null,""]},"#,
            r#""00100010":{"vr":"PN","Value":[{"Alphabetic":"Yamada^Tarou","Phonetic":"やまだ^たろう"},null,{}]},"#,
            r#""00100020":{"vr":"LO"},"00100030":{"vr":"DA"},"#,
            r#""00209165":{"vr":"AT","Value":["7FE00010",null]},"#,
            r#""7FE00010":{"vr":"OB","InlineBinary":"AQIDBA=="}}"#
        )
    );
}

#[test]
fn sequences_and_arrays() {
    let item = one(0x0008_1155, Element::string(Vr::UI, "1.2.3"));
    let ds = one(0x0008_1199, Element::sequence(vec![item, DataSet::new()]));
    assert_eq!(
        written(&ds),
        r#"{"00081199":{"vr":"SQ","Value":[{"00081155":{"vr":"UI","Value":["1.2.3"]}},{}]}}"#
    );
    let mut out = Vec::new();
    json::write_data_sets(&[DataSet::new(), ds.clone()], &mut out);
    assert!(out.starts_with(b"[{},{\"00081199\""));
    assert_eq!(json::write(&Document::Array(Vec::new())), b"[]");
    // The pretty form reads back the same.
    let pretty = json::write_pretty(&Document::Single(ds.clone()));
    assert!(String::from_utf8_lossy(&pretty).contains("\n        \"00081155\": {\n"));
    assert_eq!(
        json::read(&pretty, &ReadOptions::strict()).unwrap(),
        Document::Single(ds)
    );
}

#[test]
fn nan_survives_a_round_trip() {
    let ds = one(
        0x0018_9089,
        Element::numbers(Vr::FD, [Number::Float(f64::NAN)]),
    );
    let back = json::read(written(&ds).as_bytes(), &ReadOptions::strict()).unwrap();
    let value = &back.data_sets()[0].get(Tag(0x0018_9089)).unwrap().value;
    assert!(
        matches!(value, Value::Numbers(v) if matches!(v[..], [Some(Number::Float(f))] if f.is_nan()))
    );
}
