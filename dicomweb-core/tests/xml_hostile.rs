//! Malformed, truncated and hostile XML: always a typed error, never a panic, never an
//! expanded entity, never unbounded memory.

use dicomweb_core::{Error, Limits, PathStep, ReadOptions, Tag, TagPath, xml};
use proptest::prelude::*;

const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<NativeDicomModel xml:space="preserve" xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">
<DicomAttribute tag="00080005" vr="CS" keyword="SpecificCharacterSet"><Value number="1">ISO_IR 192</Value></DicomAttribute>
<DicomAttribute tag="00081115" vr="SQ" keyword="ReferencedSeriesSequence">
<Item number="1">
<DicomAttribute tag="00081199" vr="SQ"><Item number="1">
<DicomAttribute tag="00081155" vr="UI"><Value number="1">1.2.3</Value></DicomAttribute>
<DicomAttribute tag="00091010" vr="DS" privateCreator="ACME"><Value number="1">1.50</Value></DicomAttribute>
</Item></DicomAttribute>
</Item>
</DicomAttribute>
<DicomAttribute tag="00100010" vr="PN"><PersonName number="1"><Alphabetic><FamilyName>Doe</FamilyName><GivenName>J&amp;ne</GivenName></Alphabetic></PersonName></DicomAttribute>
<DicomAttribute tag="00186028" vr="FD"><Value number="1">-INF</Value></DicomAttribute>
<DicomAttribute tag="7FE00010" vr="OW"><InlineBinary>AAECAw==</InlineBinary></DicomAttribute>
</NativeDicomModel>
"#;

fn xml_error(result: Result<dicomweb_core::DataSet, Error>) -> (TagPath, String) {
    match result {
        Err(Error::Xml { path, message }) => (path, message),
        other => panic!("expected Error::Xml, got {other:?}"),
    }
}

#[test]
fn sample_reads() {
    let ds = xml::read(SAMPLE.as_bytes(), &ReadOptions::strict()).unwrap();
    assert_eq!(ds.len(), 5);
    // Eight elements read, and the creator element (0009,0010) that ACME's element implies.
    assert_eq!(ds.total_elements(), 9);
}

#[test]
fn billion_laughs_is_refused_not_expanded() {
    let mut bomb =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        bomb.push_str(&format!(
            " <!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    bomb.push_str("]>\n<NativeDicomModel><DicomAttribute tag=\"00100010\" vr=\"LO\"><Value number=\"1\">&lol9;</Value></DicomAttribute></NativeDicomModel>");
    let (path, message) = xml_error(xml::read(bomb.as_bytes(), &ReadOptions::default()));
    assert_eq!(path, TagPath::root());
    assert!(message.contains("DTD"), "{message}");
}

#[test]
fn any_doctype_is_refused() {
    let with_dtd = "<?xml version=\"1.0\"?><!DOCTYPE NativeDicomModel SYSTEM \"file:///etc/passwd\"><NativeDicomModel/>";
    let (_, message) = xml_error(xml::read(with_dtd.as_bytes(), &ReadOptions::default()));
    assert!(message.contains("document type declaration"), "{message}");
}

#[test]
fn undeclared_entities_are_errors_with_their_path() {
    let doc = SAMPLE.replace("1.2.3", "&xxe;");
    let (path, message) = xml_error(xml::read(doc.as_bytes(), &ReadOptions::default()));
    assert!(message.contains("&xxe;"), "{message}");
    assert_eq!(
        path,
        TagPath(vec![
            PathStep::Tag(Tag(0x0008_1115)),
            PathStep::Item(0),
            PathStep::Tag(Tag(0x0008_1199)),
            PathStep::Item(0),
            PathStep::Tag(Tag(0x0008_1155)),
        ])
    );
    let in_attribute = SAMPLE.replace("privateCreator=\"ACME\"", "privateCreator=\"&xxe;\"");
    let (_, message) = xml_error(xml::read(in_attribute.as_bytes(), &ReadOptions::default()));
    assert!(message.contains("&xxe;"), "{message}");
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = SAMPLE.as_bytes();
    let end = SAMPLE.rfind("</NativeDicomModel>").unwrap() + "</NativeDicomModel>".len();
    for cut in 0..end {
        let result = xml::read(&bytes[..cut], &ReadOptions::default());
        match result {
            Err(Error::Xml { .. }) => {}
            other => panic!("cut at {cut}: expected Error::Xml, got {other:?}"),
        }
    }
    assert!(xml::read(&bytes[..end], &ReadOptions::default()).is_ok());
}

#[test]
fn truncation_names_where_it_happened() {
    let cut = SAMPLE.find("<Value number=\"1\">1.2.3").unwrap();
    let (path, message) = xml_error(xml::read(
        &SAMPLE.as_bytes()[..cut],
        &ReadOptions::default(),
    ));
    assert!(message.contains("truncated"), "{message}");
    assert_eq!(
        path.to_string(),
        "(0008,1115)[0].(0008,1199)[0].(0008,1155)"
    );
}

#[test]
fn mismatched_and_malformed_markup() {
    for (bad, fragment) in [
        (
            SAMPLE.replace(
                "</Value></DicomAttribute>\n<DicomAttribute tag=\"00081115\"",
                "</Valu></DicomAttribute>\n<DicomAttribute tag=\"00081115\"",
            ),
            "Valu",
        ),
        (
            SAMPLE.replace("tag=\"00100010\"", "tag=\"0010001\""),
            "0010001",
        ),
        (SAMPLE.replace("vr=\"FD\"", "vr=\"XX\""), "XX"),
        (SAMPLE.replace("AAECAw==", "AA*ECAw=="), "base64"),
        (
            SAMPLE.replace("<Value number=\"1\">-INF", "<Value number=\"0\">-INF"),
            "number",
        ),
        (
            SAMPLE.replace(
                "<Value number=\"1\">-INF",
                "<Value number=\"99999999999\">-INF",
            ),
            "number",
        ),
        (
            SAMPLE.replace(
                "<FamilyName>Doe</FamilyName>",
                "<FamilyName><b>Doe</b></FamilyName>",
            ),
            "expected text",
        ),
        (
            SAMPLE.replace(
                "</NativeDicomModel>",
                "</NativeDicomModel><NativeDicomModel/>",
            ),
            "after </NativeDicomModel>",
        ),
        (
            SAMPLE.replacen("<DicomAttribute", "stray text <DicomAttribute", 1),
            "stray text",
        ),
        (
            SAMPLE
                .replace("NativeDicomModel xml:space", "DicomModel xml:space")
                .replace("</NativeDicomModel>", "</DicomModel>"),
            "<NativeDicomModel>",
        ),
        (
            SAMPLE.replace(
                "<InlineBinary>AAECAw==</InlineBinary>",
                "<InlineBinary>AAECAw==</InlineBinary><BulkData uri=\"x\"/>",
            ),
            "only content",
        ),
        (
            SAMPLE.replace("tag=\"00186028\"", "tag=\"00080005\""),
            "twice",
        ),
    ] {
        let (_, message) = xml_error(xml::read(bad.as_bytes(), &ReadOptions::default()));
        assert!(
            message.contains(fragment),
            "{fragment:?} not in {message:?}"
        );
    }
}

#[test]
fn not_xml_at_all() {
    for junk in [
        &b""[..],
        b"\x00\x01\x02",
        b"{\"00100010\":{}}",
        b"\xFF\xFE\x00",
        b"<",
        b"<?xml",
        b"\xEF\xBB\xBF",
    ] {
        match xml::read(junk, &ReadOptions::default()) {
            Err(Error::Xml { .. }) => {}
            other => panic!("{junk:?}: expected Error::Xml, got {other:?}"),
        }
    }
    let latin1_bytes_declared_utf8 = b"<NativeDicomModel><DicomAttribute tag=\"00100010\" vr=\"LO\"><Value number=\"1\">J\xF6rg</Value></DicomAttribute></NativeDicomModel>";
    assert!(matches!(
        xml::read(latin1_bytes_declared_utf8, &ReadOptions::default()),
        Err(Error::Xml { .. })
    ));
}

fn nested(depth: usize) -> String {
    let mut doc = String::from("<NativeDicomModel>");
    for _ in 0..depth {
        doc.push_str("<DicomAttribute tag=\"00081115\" vr=\"SQ\"><Item number=\"1\">");
    }
    doc.push_str("<DicomAttribute tag=\"00100020\" vr=\"LO\"/>");
    for _ in 0..depth {
        doc.push_str("</Item></DicomAttribute>");
    }
    doc.push_str("</NativeDicomModel>");
    doc
}

#[test]
fn nesting_depth_is_limited() {
    let options = ReadOptions::default().with_limits(Limits::default().with_max_depth(5));
    assert!(xml::read(nested(4).as_bytes(), &options).is_ok());
    match xml::read(nested(5).as_bytes(), &options) {
        Err(Error::LimitExceeded { what, limit, path }) => {
            assert_eq!(what, "nesting depth");
            assert_eq!(limit, 5);
            assert_eq!(path.0.len(), 10, "{path}");
        }
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
    // Far deeper than any call stack would survive: refused by the default limit, no overflow.
    assert!(matches!(
        xml::read(nested(200_000).as_bytes(), &ReadOptions::default()),
        Err(Error::LimitExceeded {
            what: "nesting depth",
            ..
        })
    ));
    // And with the limit lifted, the explicit stack copes.
    let unlimited =
        ReadOptions::default().with_limits(Limits::default().with_max_depth(usize::MAX));
    let deep = xml::read(nested(20_000).as_bytes(), &unlimited).unwrap();
    let mut depth = 0;
    let mut level = &deep;
    while let Some(element) = level.get(Tag(0x0008_1115)) {
        let dicomweb_core::Value::Items(items) = &element.value else {
            panic!("not a sequence at depth {depth}");
        };
        depth += 1;
        level = &items[0];
    }
    assert_eq!(depth, 20_000);
    assert!(level.contains(Tag(0x0010_0020)));
    // Dropping 20,000 nested data sets recurses in the data model's own Drop; not tested here.
    std::mem::forget(deep);
}

#[test]
fn element_count_is_limited() {
    let options = ReadOptions::default().with_limits(Limits::default().with_max_elements(7));
    assert!(xml::read(SAMPLE.as_bytes(), &options).is_err());
    match xml::read(SAMPLE.as_bytes(), &options) {
        Err(Error::LimitExceeded { what, limit, .. }) => {
            assert_eq!((what, limit), ("element count", 7));
        }
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
    let enough = ReadOptions::default().with_limits(Limits::default().with_max_elements(8));
    assert!(xml::read(SAMPLE.as_bytes(), &enough).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any byte flipped, removed or inserted anywhere: a result or a typed error, no panic.
    #[test]
    fn mutations_never_panic(at in 0usize..SAMPLE.len(), byte in any::<u8>(), op in 0u8..3) {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        match op {
            0 => bytes[at] = byte,
            1 => { bytes.remove(at); }
            _ => bytes.insert(at, byte),
        }
        for options in [ReadOptions::default(), ReadOptions::strict()] {
            match xml::read(&bytes, &options) {
                Ok(_) | Err(Error::Xml { .. }) | Err(Error::LimitExceeded { .. }) => {}
                Err(other) => prop_assert!(false, "unexpected error kind {other:?}"),
            }
        }
    }

    /// Arbitrary bytes after a plausible prefix.
    #[test]
    fn garbage_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut bytes = b"<NativeDicomModel><DicomAttribute tag=\"00100010\" vr=\"PN\">".to_vec();
        bytes.extend_from_slice(&tail);
        let _ = xml::read(&bytes, &ReadOptions::default());
    }
}

/// 20,000 private elements, each with a creator of its own, spread over 84 groups: every one
/// gets a block and a creator element, in time linear in their number.
#[test]
fn thousands_of_private_creators() {
    let element = |group: u32, creator: u32| {
        format!(
            "<DicomAttribute tag=\"{group:04X}0001\" vr=\"LO\" privateCreator=\"C{creator}\">\
             <Value number=\"1\">v{creator}</Value></DicomAttribute>"
        )
    };
    let mut doc = String::from("<NativeDicomModel>");
    for i in 0..20_000u32 {
        doc.push_str(&element(0x0009 + 2 * (i / 240), i));
    }
    doc.push_str("</NativeDicomModel>");
    let started = std::time::Instant::now();
    let ds = xml::read(doc.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(ds.len(), 40_000);
    assert_eq!(ds.string(Tag(0x0009_0010)), Some("C0"));
    assert_eq!(ds.string(Tag(0x0009_1001)), Some("v0"));
    assert_eq!(ds.string(Tag(0x000B_00FF)), Some("C479"));
    assert_eq!(ds.private_creator(Tag(0x000B_FF01)), Some("C479"));
    let again = xml::read(&xml::write(&ds), &ReadOptions::strict()).unwrap();
    assert_eq!(again, ds);
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());

    // A 241st creator in one group has no block left.
    let mut full = String::from("<NativeDicomModel>");
    for i in 0..241u32 {
        full.push_str(&element(0x0009, i));
    }
    full.push_str("</NativeDicomModel>");
    let (_, message) = xml_error(xml::read(full.as_bytes(), &ReadOptions::default()));
    assert!(message.contains("no free private block"), "{message}");
}
