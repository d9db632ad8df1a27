//! Writing the Native DICOM Model, and reading back exactly what was written.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use bytes::Bytes;
use dicomweb_core::{DataSet, Element, Number, PersonName, ReadOptions, Tag, Text, Value, Vr, xml};

fn text(ds: &DataSet) -> String {
    String::from_utf8(xml::write(ds)).unwrap()
}

fn round_trip(ds: &DataSet) -> DataSet {
    let bytes = xml::write(ds);
    xml::read(&bytes, &ReadOptions::strict())
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&bytes)))
}

/// A data set with every kind of value the model holds.
fn everything() -> DataSet {
    let mut item = DataSet::new();
    item.insert(
        Tag(0x0008_1150),
        Element::string(Vr::UI, "1.2.840.10008.5.1.4.1.1.2"),
    );
    item.insert(Tag(0x0008_1155), Element::string(Vr::UI, "1.2.3.4"));
    let mut ds = DataSet::new();
    ds.insert(Tag(0x0008_0005), Element::string(Vr::CS, "ISO_IR 192"));
    ds.insert(
        Tag(0x0008_0008),
        Element::new(
            Vr::CS,
            Value::Strings(vec![Some("DERIVED".into()), None, Some("AXIAL".into()), None].into()),
        ),
    );
    ds.insert(Tag(0x0008_0050), Element::empty(Vr::SH));
    ds.insert(
        Tag(0x0008_1115),
        Element::sequence(vec![item.clone(), DataSet::new(), item]),
    );
    ds.insert(
        Tag(0x0010_0010),
        Element::new(
            Vr::PN,
            Value::PersonNames(vec![
                Some(PersonName::from_dicom_string(
                    "Yamada^Tarou=山田^太郎=やまだ^たろう",
                )),
                None,
                Some(PersonName::alphabetic(
                    "Adams^John Robert Quincy^^Rev.^B.A. M.Div.",
                )),
            ]),
        ),
    );
    ds.insert(
        Tag(0x0010_1001),
        Element::person_name(PersonName::from_dicom_string("=^太郎")),
    );
    ds.insert(
        Tag(0x0020_4000),
        Element::string(Vr::LT, "a < b & c > d \"q\" 'a'\r\nline 2\ttab"),
    );
    ds.insert(Tag(0x0020_000D), Element::string(Vr::UI, "1.2.3\0"));
    ds.insert(
        Tag(0x0028_0030),
        Element::numbers(
            Vr::DS,
            [
                Number::Text("338.671600".into()),
                Number::Text("+1e3".into()),
            ],
        ),
    );
    ds.insert(
        Tag(0x0020_0013),
        Element::numbers(Vr::IS, [Number::Text("007".into())]),
    );
    ds.insert(
        Tag(0x0028_0010),
        Element::numbers(Vr::US, [Number::Int(512)]),
    );
    ds.insert(
        Tag(0x0018_9219),
        Element::numbers(Vr::SS, [Number::Int(-32768)]),
    );
    ds.insert(
        Tag(0x0072_0082),
        Element::numbers(Vr::UV, [Number::UInt(u64::MAX)]),
    );
    ds.insert(
        Tag(0x0072_0081),
        Element::numbers(Vr::SV, [Number::Int(i64::MIN)]),
    );
    ds.insert(
        Tag(0x0018_6028),
        Element::numbers(
            Vr::FD,
            [
                Number::Float(0.1),
                Number::Float(-0.0),
                Number::Float(1e300),
                Number::Float(5e-324),
                Number::Float(f64::INFINITY),
                Number::Float(f64::NEG_INFINITY),
            ],
        ),
    );
    ds.insert(
        Tag(0x0018_9305),
        Element::numbers(Vr::FL, [Number::Float(f64::from(0.1f32))]),
    );
    ds.insert(
        Tag(0x0020_9165),
        Element::new(
            Vr::AT,
            Value::Tags(vec![Some(Tag(0x0020_000D)), None, Some(Tag(0xFFFF_FFFF))].into()),
        ),
    );
    ds.insert(Tag(0x0043_0010), Element::string(Vr::LO, "GEMS_PARM_01"));
    ds.insert(
        Tag(0x0043_1010),
        Element::numbers(Vr::US, [Number::Int(400)]),
    );
    ds.insert(
        Tag(0x0043_1028),
        Element::new(
            Vr::OB,
            Value::InlineBinary(Bytes::from_static(b"\x00\x01\xFE\xFF")),
        ),
    );
    ds.insert(
        Tag(0x0043_102A),
        Element::new(Vr::OB, Value::InlineBinary(Bytes::new())),
    );
    ds.insert(
        Tag(0x0051_1001),
        Element::string(Vr::LO, "orphan without creator"),
    );
    ds.insert(
        Tag(0x7FE0_0010),
        Element::new(
            Vr::OW,
            Value::BulkDataUri("http://127.0.0.1/bulk?a=1&b=\"2\"".into()),
        ),
    );
    ds.insert(
        Tag(0x0028_1201),
        Element::new(
            Vr::OW,
            Value::BulkDataUri("urn:uuid:87eef640-e650-01f1-8f3c-3e22a5792f70".into()),
        ),
    );
    ds.insert(
        Tag(0x0008_1030),
        Element::new(Vr::LO, Value::BulkDataUri("http://h/b/1".into())),
    );
    ds
}

#[test]
fn everything_round_trips_exactly() {
    let ds = everything();
    assert_eq!(round_trip(&ds), ds);
    // And the XML of the read-back data set is byte for byte the same.
    assert_eq!(xml::write(&round_trip(&ds)), xml::write(&ds));
}

#[test]
fn document_head_and_attributes() {
    let out = text(&everything());
    assert!(
        out.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<NativeDicomModel xml:space=\"preserve\" \
         xmlns=\"http://dicom.nema.org/PS3.19/models/NativeDICOM\">\n"
        ),
        "{out}"
    );
    assert!(out.ends_with("</NativeDicomModel>\n"));
    assert!(out.contains(
        "<DicomAttribute tag=\"00080005\" vr=\"CS\" keyword=\"SpecificCharacterSet\">\n<Value number=\"1\">ISO_IR 192</Value>\n</DicomAttribute>\n"
    ), "{out}");
    assert!(
        out.contains("<DicomAttribute tag=\"00080050\" vr=\"SH\" keyword=\"AccessionNumber\"/>\n")
    );
    assert!(out.contains(
        "<Value number=\"2\"/>\n<Value number=\"3\">AXIAL</Value>\n<Value number=\"4\"/>\n"
    ));
    assert!(out.contains("<Item number=\"2\">\n</Item>\n<Item number=\"3\">\n"));
}

#[test]
fn private_elements_are_written_as_dcmtk_does() {
    let out = text(&everything());
    // The creator element stays an element; its block's elements name it.
    assert!(out.contains(
        "<DicomAttribute tag=\"00430010\" vr=\"LO\">\n<Value number=\"1\">GEMS_PARM_01</Value>"
    ));
    assert!(out.contains(
        "<DicomAttribute tag=\"00430010\" vr=\"US\" privateCreator=\"GEMS_PARM_01\">\n<Value number=\"1\">400</Value>"
    ), "{out}");
    assert!(
        out.contains("<DicomAttribute tag=\"00430028\" vr=\"OB\" privateCreator=\"GEMS_PARM_01\">")
    );
    // Without a creator, the full tag and no privateCreator.
    assert!(out.contains("<DicomAttribute tag=\"00511001\" vr=\"LO\">\n"));
}

#[test]
fn duplicate_creators_keep_their_blocks() {
    let mut ds = DataSet::new();
    ds.insert(Tag(0x0009_0010), Element::string(Vr::LO, "ACME"));
    ds.insert(Tag(0x0009_0011), Element::string(Vr::LO, "ACME"));
    ds.insert(Tag(0x0009_1001), Element::string(Vr::LO, "first"));
    ds.insert(Tag(0x0009_1101), Element::string(Vr::LO, "second"));
    let out = text(&ds);
    assert!(
        out.contains("tag=\"00090001\" vr=\"LO\" privateCreator=\"ACME\""),
        "{out}"
    );
    assert!(
        out.contains("tag=\"00091101\" vr=\"LO\" privateCreator=\"ACME\""),
        "{out}"
    );
    assert_eq!(round_trip(&ds), ds);
}

#[test]
fn person_names_become_components() {
    let out = text(&everything());
    assert!(out.contains(
        "<PersonName number=\"1\">\n<Alphabetic>\n<FamilyName>Yamada</FamilyName>\n<GivenName>Tarou</GivenName>\n</Alphabetic>\n\
         <Ideographic>\n<FamilyName>山田</FamilyName>\n<GivenName>太郎</GivenName>\n</Ideographic>\n\
         <Phonetic>\n<FamilyName>やまだ</FamilyName>\n<GivenName>たろう</GivenName>\n</Phonetic>\n</PersonName>\n\
         <PersonName number=\"2\"/>\n"
    ), "{out}");
    assert!(out.contains(
        "<Alphabetic>\n<FamilyName>Adams</FamilyName>\n<GivenName>John Robert Quincy</GivenName>\n\
         <MiddleName></MiddleName>\n<NamePrefix>Rev.</NamePrefix>\n<NameSuffix>B.A. M.Div.</NameSuffix>\n</Alphabetic>"
    ), "{out}");
}

#[test]
fn empty_components_and_groups_survive() {
    // Orthanc's JSON has "^^^^" and "" groups; XML keeps them as empty components.
    let name = PersonName {
        alphabetic: Some("^^^^".into()),
        ideographic: None,
        phonetic: Some(Text::new()),
    };
    let mut ds = DataSet::new();
    ds.insert(Tag(0x0008_0090), Element::person_name(name));
    ds.insert(
        Tag(0x0010_0010),
        Element::person_name(PersonName::alphabetic("Doe^John^")),
    );
    let out = text(&ds);
    assert!(out.contains(
        "<Alphabetic>\n<FamilyName></FamilyName>\n<GivenName></GivenName>\n<MiddleName></MiddleName>\n\
         <NamePrefix></NamePrefix>\n<NameSuffix></NameSuffix>\n</Alphabetic>\n\
         <Phonetic>\n<FamilyName></FamilyName>\n</Phonetic>\n"
    ), "{out}");
    assert_eq!(round_trip(&ds), ds);
}

#[test]
fn numbers_tags_binary_and_escapes() {
    let out = text(&everything());
    for expected in [
        "<Value number=\"1\">338.671600</Value>\n<Value number=\"2\">+1e3</Value>",
        "<Value number=\"1\">007</Value>",
        "<Value number=\"1\">18446744073709551615</Value>",
        "<Value number=\"1\">-9223372036854775808</Value>",
        "<Value number=\"1\">0.1</Value>\n<Value number=\"2\">-0.0</Value>\n<Value number=\"3\">1e300</Value>\n\
         <Value number=\"4\">5e-324</Value>\n<Value number=\"5\">INF</Value>\n<Value number=\"6\">-INF</Value>",
        "<Value number=\"1\">0020000D</Value>\n<Value number=\"2\"/>\n<Value number=\"3\">FFFFFFFF</Value>",
        "<InlineBinary>AAH+/w==</InlineBinary>",
        "<InlineBinary></InlineBinary>",
        "<BulkData uri=\"http://127.0.0.1/bulk?a=1&amp;b=&quot;2&quot;\"/>",
        "<BulkData uuid=\"87eef640-e650-01f1-8f3c-3e22a5792f70\"/>",
        "a &lt; b &amp; c &gt; d \"q\" 'a'&#xD;\nline 2\ttab",
        "<Value number=\"1\">1.2.3&#x0;</Value>",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
}

#[test]
fn nan_is_spelled_nan() {
    let mut ds = DataSet::new();
    ds.insert(
        Tag(0x0018_6028),
        Element::numbers(Vr::FD, [Number::Float(f64::NAN)]),
    );
    let out = text(&ds);
    assert!(out.contains("<Value number=\"1\">NaN</Value>"), "{out}");
    let back = round_trip(&ds);
    assert!(matches!(
        &back.get(Tag(0x0018_6028)).unwrap().value,
        Value::Numbers(v) if matches!(v[0], Some(Number::Float(f)) if f.is_nan())
    ));
}

#[test]
fn write_to_appends() {
    let ds = everything();
    let mut out = b"prefix".to_vec();
    xml::write_to(&ds, &mut out);
    assert_eq!(&out[..6], b"prefix");
    assert_eq!(&out[6..], &xml::write(&ds)[..]);
}

#[test]
fn what_xml_cannot_tell_apart() {
    // An empty string and an absent value are both an empty <Value>; an empty sequence and an
    // empty element are both an empty DicomAttribute.
    let mut ds = DataSet::new();
    ds.insert(
        Tag(0x0008_0008),
        Element::new(
            Vr::CS,
            Value::Strings(vec![Some(Text::new()), Some("B".into())].into()),
        ),
    );
    ds.insert(Tag(0x0008_1115), Element::sequence(Vec::new()));
    let back = round_trip(&ds);
    assert_eq!(
        back.get(Tag(0x0008_0008)).unwrap().value,
        Value::Strings(vec![None, Some("B".into())].into())
    );
    assert_eq!(back.get(Tag(0x0008_1115)).unwrap().value, Value::Empty);
}
