//! Round trips over the golden documents that dcmtk and Orthanc wrote (see `golden/README.md`):
//! JSON → XML → JSON and XML → JSON → XML give back equal data sets, and the canonical bytes
//! of the second pass equal those of the first.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::path::{Path, PathBuf};

use dicomweb_core::{DataSet, Document, ReadOptions, json, xml};

fn golden_files(suffix: &str) -> Vec<PathBuf> {
    test_support::files::with_suffix(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden"),
        suffix,
    )
}

fn name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

fn through_xml(ds: &DataSet, file: &str) -> DataSet {
    let text = xml::write(ds);
    xml::read(&text, &ReadOptions::strict())
        .unwrap_or_else(|e| panic!("{file}: our XML does not read back: {e}"))
}

fn through_json(ds: &DataSet, file: &str) -> DataSet {
    let mut text = Vec::new();
    json::write_data_set(ds, &mut text);
    match json::read(&text, &ReadOptions::strict()) {
        Ok(Document::Single(back)) => back,
        other => panic!("{file}: our JSON does not read back as one data set: {other:?}"),
    }
}

#[test]
fn there_are_golden_documents_from_both_tools() {
    assert!(golden_files(".dcmtk.json").len() >= 10);
    assert!(golden_files(".dcmtk.xml").len() >= 10);
    assert!(golden_files(".orthanc.json").len() >= 10);
    assert!(golden_files(".orthanc.xml").len() >= 10);
}

#[test]
fn json_to_xml_to_json() {
    for_each_file(golden_files(".json"), |path, file| {
        let bytes = std::fs::read(path).unwrap();
        let doc =
            json::read(&bytes, &ReadOptions::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            doc.data_sets().iter().all(|ds| !ds.is_empty()),
            "{file}: empty data set"
        );
        let first = json::write(&doc);
        let mut back = Vec::new();
        for ds in doc.data_sets() {
            let via_xml = through_xml(ds, file);
            assert_same(ds, &via_xml, &format!("{file}: JSON → XML → JSON"));
            back.push(via_xml);
        }
        let back = match doc {
            Document::Single(_) => Document::Single(back.remove(0)),
            Document::Array(_) => Document::Array(back),
        };
        assert_eq!(
            json::write(&back),
            first,
            "{file}: canonical JSON differs after the round trip"
        );
        let again =
            json::read(&first, &ReadOptions::strict()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            json::write(&again),
            first,
            "{file}: canonical JSON is not a fixed point"
        );
    });
}

#[test]
fn xml_to_json_to_xml() {
    for_each_file(golden_files(".xml"), |path, file| {
        let bytes = std::fs::read(path).unwrap();
        let ds =
            xml::read(&bytes, &ReadOptions::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!ds.is_empty(), "{file}: empty data set");
        let via_json = through_json(&ds, file);
        assert_same(&ds, &via_json, &format!("{file}: XML → JSON → XML"));
        let first = xml::write(&ds);
        assert_eq!(
            xml::write(&via_json),
            first,
            "{file}: our XML differs after the round trip"
        );
        assert_same(
            &ds,
            &through_xml(&ds, file),
            &format!("{file}: our XML read back"),
        );
    });
}

/// dcmtk's JSON and XML of the same file hold the same data set, but for what dcmtk itself
/// does differently in the two: dcm2json converts text to UTF-8 and says so in Specific
/// Character Set (0008,0005) while dcm2xml keeps the file's character set and declares it as
/// the XML encoding; dcm2xml writes OW InlineBinary in big-endian byte order; and dcm2xml
/// prints some FD values with one digit fewer (a relative difference below 1e-15); and when a
/// person name's phonetic group is empty (`Wang^XiaoDong=王^小東=`), dcm2xml repeats the
/// ideographic group in its place.
#[test]
fn dcmtk_json_and_xml_agree() {
    let mut compared = 0;
    for json_path in golden_files(".dcmtk.json") {
        let file = name(&json_path);
        let xml_path = PathBuf::from(
            json_path
                .to_str()
                .unwrap()
                .replace(".dcmtk.json", ".dcmtk.xml"),
        );
        let from_json =
            match json::read(&std::fs::read(&json_path).unwrap(), &ReadOptions::default()) {
                Ok(Document::Single(ds)) => ds,
                other => panic!("{file}: {other:?}"),
            };
        let xml_bytes = std::fs::read(&xml_path).unwrap();
        let from_xml = xml::read(&xml_bytes, &ReadOptions::default()).unwrap();
        let declaration = xml_bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let declared = declaration.windows(9).any(|w| w == b"encoding=");
        let charset = from_xml
            .get(dicomweb_core::Tag(0x0008_0005))
            .map(|e| format!("{:?}", e.value));
        if !declared && charset.is_some_and(|cs| cs.contains("ISO 2022") || cs.contains("GB18030"))
        {
            // dcm2xml has no XML encoding for these character sets (ISO 2022 code extensions,
            // GB18030): it writes the undecoded bytes, escape sequences included, as character
            // references and declares nothing. Such text cannot be compared.
            continue;
        }
        let mut differences = Vec::new();
        compare(&from_json, &from_xml, "", &mut differences);
        assert!(differences.is_empty(), "{file}: {differences:#?}");
        compared += 1;
    }
    assert!(compared >= 8, "{compared}");
}

/// Fails with the differing elements, not two whole data sets.
fn assert_same(before: &DataSet, after: &DataSet, what: &str) {
    if before != after {
        let mut differences = Vec::new();
        compare_exact(before, after, &mut String::new(), &mut differences);
        panic!("{what} changed the data set: {differences:#?}");
    }
}

/// Runs `check` on every file, and fails once at the end naming every file that failed.
fn for_each_file(files: Vec<PathBuf>, check: impl Fn(&Path, &str)) {
    assert!(!files.is_empty());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let file = name(path).to_owned();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(path, &file)))
                .err()
                .map(|e| {
                    e.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

fn compare_exact(a: &DataSet, b: &DataSet, path: &mut String, out: &mut Vec<String>) {
    use dicomweb_core::Value;
    for (tag, x) in a {
        let here = format!("{path}{tag:?}");
        match (x, b.get(*tag)) {
            (_, None) => out.push(format!("{here}: missing after")),
            (x, Some(y)) => match (&x.value, &y.value) {
                (Value::Items(i), Value::Items(j)) if i.len() == j.len() && x.vr == y.vr => {
                    for (n, (p, q)) in i.iter().zip(j).enumerate() {
                        compare_exact(p, q, &mut format!("{here}[{n}]."), out);
                    }
                }
                _ if x != y => out.push(format!("{here}: {x:?} became {y:?}")),
                _ => {}
            },
        }
    }
    for (tag, _) in b {
        if !a.contains(*tag) {
            out.push(format!("{path}{tag:?}: appeared"));
        }
    }
}

fn compare(a: &DataSet, b: &DataSet, path: &str, out: &mut Vec<String>) {
    use dicomweb_core::{Value, Vr};
    let tags_a: Vec<_> = a.iter().map(|(t, _)| *t).collect();
    let tags_b: Vec<_> = b.iter().map(|(t, _)| *t).collect();
    if tags_a != tags_b {
        out.push(format!("{path}: tags differ: {tags_a:?} vs {tags_b:?}"));
        return;
    }
    for ((tag, x), (_, y)) in a.iter().zip(b.iter()) {
        let here = format!("{path}{tag:?}");
        match (&x.value, &y.value) {
            (Value::Items(i), Value::Items(j)) if i.len() == j.len() => {
                for (n, (p, q)) in i.iter().zip(j).enumerate() {
                    compare(p, q, &format!("{here}[{n}]."), out);
                }
            }
            (Value::InlineBinary(p), Value::InlineBinary(q))
                if x.vr == Vr::OW && p.len() == q.len() =>
            {
                let swapped: Vec<u8> = q.chunks(2).flat_map(|c| c.iter().rev().copied()).collect();
                if p[..] != swapped[..] {
                    out.push(format!("{here}: OW bytes differ beyond byte order"));
                }
            }
            _ if *tag == dicomweb_core::Tag(0x0008_0005) && path.is_empty() => {}
            (Value::PersonNames(p), Value::PersonNames(q)) if p.len() == q.len() => {
                let same = p.iter().zip(q).all(|(m, n)| match (m, n) {
                    (Some(m), Some(n)) if m.phonetic.is_none() && n.phonetic == n.ideographic => {
                        m.alphabetic == n.alphabetic && m.ideographic == n.ideographic
                    }
                    (m, n) => m == n,
                });
                if !same {
                    out.push(format!("{here}: {x:?} vs {y:?}"));
                }
            }
            (Value::Numbers(p), Value::Numbers(q)) if x.vr == Vr::FD && p.len() == q.len() => {
                let close = p.iter().zip(q).all(|(m, n)| match (m, n) {
                    (Some(m), Some(n)) => {
                        let (m, n) = (
                            m.to_f64().unwrap_or(f64::NAN),
                            n.to_f64().unwrap_or(f64::NAN),
                        );
                        m == n || ((m - n) / m).abs() < 1e-15
                    }
                    (m, n) => m == n,
                });
                if !close {
                    out.push(format!("{here}: {x:?} vs {y:?}"));
                }
            }
            (p, q) if p != q || x.vr != y.vr => out.push(format!("{here}: {x:?} vs {y:?}")),
            _ => {}
        }
    }
}
