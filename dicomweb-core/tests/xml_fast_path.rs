//! The XML reader's fast path against the general reader: for every input, `xml::read` (fast
//! path first) gives exactly what the general reader alone gives, data set or error; and the
//! fast path really reads the usual shapes instead of handing everything over.

use dicomweb_core::{Limits, ReadOptions, xml};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use test_support::strategies::data_set;

fn options() -> [ReadOptions; 3] {
    let tight = ReadOptions::default()
        .with_limits(Limits::default().with_max_depth(2).with_max_elements(12));
    [ReadOptions::default(), ReadOptions::strict(), tight]
}

/// `xml::read` and the general reader alone give the same result under every option.
fn agree(input: &[u8]) {
    for options in options() {
        assert_eq!(
            format!("{:?}", xml::read(input, &options)),
            format!("{:?}", xml::read_reference(input, &options)),
            "fast path and general reader disagree on {}",
            String::from_utf8_lossy(input)
        );
    }
}

/// The same document as other writers lay it out: indented, without keywords, everything on
/// one line, with CR LF line ends.
fn variants(written: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8(written.to_vec()).expect("our writer's UTF-8");
    let indented = text.replace("\n<", "\n  <");
    let without_keywords = text
        .split(" keyword=\"")
        .enumerate()
        .map(|(i, part)| match i {
            0 => part.to_owned(),
            _ => part
                .split_once('"')
                .map_or(String::new(), |(_, rest)| rest.to_owned()),
        })
        .collect::<String>();
    let one_line = text.replace('\n', "");
    let crlf = text.replace('\n', "\r\n");
    [indented, without_keywords, one_line, crlf]
        .into_iter()
        .map(String::into_bytes)
        .collect()
}

#[test]
fn generated_documents_are_read_by_the_fast_path_alike() {
    let mut runner = TestRunner::deterministic();
    let strategy = data_set();
    let (mut cases, mut fast) = (0, 0);
    for _ in 0..300 {
        let ds = strategy.new_tree(&mut runner).unwrap().current();
        let written = xml::write(&ds);
        let mut inputs = vec![written.clone()];
        inputs.extend(variants(&written));
        for input in inputs {
            cases += 1;
            let reference = xml::read_reference(&input, &ReadOptions::default()).unwrap();
            if let Some(read) = xml::read_fast_path(&input, &ReadOptions::default()) {
                fast += 1;
                assert_eq!(
                    format!("{read:?}"),
                    format!("{reference:?}"),
                    "{}",
                    String::from_utf8_lossy(&input)
                );
            }
            agree(&input);
        }
    }
    // Generated values include what the fast path leaves to the general reader (references,
    // private creators, carriage returns): most documents must still take the fast path.
    eprintln!("fast path read {fast} of {cases} generated documents");
    assert!(fast * 10 >= cases * 8, "fast path read {fast} of {cases}");
}

#[test]
fn real_documents_give_the_same_result_either_way() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
    let (mut read, mut fast) = (0, 0);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "xml") {
            let bytes = std::fs::read(&path).unwrap();
            agree(&bytes);
            read += 1;
            fast += usize::from(xml::read_fast_path(&bytes, &ReadOptions::default()).is_some());
        }
    }
    assert!(read >= 10, "{read} golden XML files");
    // dcmtk's and Orthanc's documents are read by the fast path, except those with private
    // elements written with their creator (dcmtk) and a few with unusual text.
    assert!(
        fast * 4 >= read * 3,
        "fast path read {fast} of {read} golden XML files"
    );
}

const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<NativeDicomModel xml:space="preserve" xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">
<DicomAttribute tag="00080005" vr="CS" keyword="SpecificCharacterSet"><Value number="1">ISO_IR 192</Value></DicomAttribute>
<DicomAttribute tag="00080008" vr="CS"><Value number="3">AXIAL</Value><Value number="1"/></DicomAttribute>
<DicomAttribute tag="00081115" vr="SQ" keyword="ReferencedSeriesSequence">
<Item number="1">
<DicomAttribute tag="00081199" vr="SQ"><Item number="2"/><Item number="1">
<DicomAttribute tag="00081155" vr="UI"><Value number="1">1.2.3</Value></DicomAttribute>
</Item></DicomAttribute>
</Item>
</DicomAttribute>
<DicomAttribute tag="00100010" vr="PN"><PersonName number="1"><Alphabetic><FamilyName>Doe</FamilyName><MiddleName/><GivenName>Jane</GivenName></Alphabetic><Ideographic/></PersonName></DicomAttribute>
<DicomAttribute tag="00186028" vr="FD"><Value number="1">-INF</Value></DicomAttribute>
<DicomAttribute tag="00200032" vr="DS"><Value number="1"> 1.50 </Value><Value number="2">x</Value></DicomAttribute>
<DicomAttribute tag="00280010" vr="US"><Value number="1">512</Value></DicomAttribute>
<DicomAttribute tag="7FE00008" vr="OF"><BulkData uri="http://x/bulk/1"/></DicomAttribute>
<DicomAttribute tag="7FE00010" vr="OW"><InlineBinary>AAECAw==</InlineBinary></DicomAttribute>
</NativeDicomModel>
"#;

#[test]
fn the_fast_path_takes_the_usual_shapes_and_leaves_the_rest() {
    let options = ReadOptions::default();
    let taken = [
        ("ISO_IR 192", "ISO_IR 192"),
        ("ISO_IR 192", "ISO&amp;IR&#x20;&#49;92&lt;"),
        ("http://x/bulk/1", "http://x/bulk/1?a=1&amp;b=2"),
        ("\n<DicomAttribute", "\r\n\t <DicomAttribute"),
        ("<Value number=\"1\">512", "<Value number=\"01\" >512"),
        ("<InlineBinary>", "<InlineBinary >"),
        ("\"OF\"><BulkData uri=", "\"OF\" ><BulkData URI="),
        (
            "vr=\"FD\"><Value number=\"1\">-INF</Value></DicomAttribute>",
            "vr=\"FD\" />",
        ),
        ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", ""),
    ];
    for (from, to) in taken {
        let changed = SAMPLE.replacen(from, to, 1);
        assert!(
            xml::read_fast_path(changed.as_bytes(), &options).is_some(),
            "{to}"
        );
        agree(changed.as_bytes());
    }
    // Whichever reads these, the results agree.
    let either = [
        "a]]>b",
        "a>b",
        "a'b\"c",
        "Jörg 山田",
        "a\tb",
        "&#x0;",
        "&#0;",
        "&#xD;",
        "&#xD800;",
        "&#;",
        "&amp",
        "a&b;c",
        "<",
        "a\u{0}b",
        "\u{7f}",
    ];
    for text in either {
        agree(SAMPLE.replacen("ISO_IR 192", text, 1).as_bytes());
        agree(SAMPLE.replacen("1.2.3<", &format!("{text}<"), 1).as_bytes());
        agree(SAMPLE.replacen("http://x/bulk/1", text, 1).as_bytes());
        agree(SAMPLE.replacen("SpecificCharacterSet", text, 1).as_bytes());
    }
    let left = [
        (
            "<Value number=\"1\">ISO_IR 192",
            "<Value number=\"1\">ISO&lol;IR",
        ),
        (
            "<Value number=\"1\">ISO_IR 192",
            "<Value number=\"1\">ISO<![CDATA[x]]>",
        ),
        (
            "<Value number=\"1\">1.2.3",
            "<!-- c --><Value number=\"1\">1.2.3",
        ),
        (
            " keyword=\"SpecificCharacterSet\"",
            " keyword='SpecificCharacterSet'",
        ),
        ("<Value number=\"1\">512", "<Value number=\"+1\">512"),
        ("<InlineBinary>", "<InlineBinary x=\"1\">"),
        ("tag=\"00280010\"", "tag=\"00100010\""),
        ("<Value number=\"1\">-INF", "<Value>-INF"),
        ("</FamilyName>", "</FamilyName >"),
        ("ISO_IR 192", "ISO_IR\r\n192"),
        ("<NativeDicomModel", "<!DOCTYPE x><NativeDicomModel"),
        (
            "vr=\"CS\"><Value",
            "vr=\"CS\" privateCreator=\"ACME\"><Value",
        ),
    ];
    for (from, to) in left {
        let changed = SAMPLE.replacen(from, to, 1);
        assert!(
            xml::read_fast_path(changed.as_bytes(), &options).is_none(),
            "{to}"
        );
        agree(changed.as_bytes());
    }
}

#[test]
fn every_truncation_gives_the_same_result_either_way() {
    for end in 0..SAMPLE.len() {
        agree(&SAMPLE.as_bytes()[..end]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn mutations_give_the_same_result_either_way(
        at in 0usize..SAMPLE.len(),
        byte in any::<u8>(),
        op in 0u8..3,
    ) {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        match op {
            0 => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ => {
                bytes.remove(at);
            }
        }
        agree(&bytes);
    }
}
