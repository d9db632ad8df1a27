//! Part 10 → DataSet through dicom-rs, compared with dcmtk's `dcm2json` of the same files
//! (the golden `*.dcmtk.json`), and Part 10 → DataSet → Part 10 → DataSet on every golden file.

#![cfg(feature = "part10")]
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::path::{Path, PathBuf};

use dicomweb_core::{DataSet, Document, Number, ReadOptions, Tag, Value, Vr, json, part10};

fn golden(suffix: &str) -> Vec<PathBuf> {
    test_support::files::with_suffix(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden"),
        suffix,
    )
}

/// What dcm2json does differently from a lossless reading, and the comparison accepts:
///
/// - it converts all text to UTF-8 and rewrites Specific Character Set (0008,0005) as
///   `ISO_IR 192` (we decode to UTF-8 too, but keep the declared value, as PS3.18 F.2 allows);
/// - it writes IS and DS as JSON numbers, so `+0012` or `338.671600` come back as `12` and
///   `338.6716`: IS and DS are compared as numbers, our text kept exact;
/// - it prints FL values with about 8 significant digits and FD with 17: FL is compared at
///   `f32` precision, FD within a relative 1e-15.
///
/// - it drops a person name made of separators only (`^^^^`), which we keep as it came (Orthanc
///   keeps it too);
/// - it pads the odd-length value of a UN element with a NUL byte (`nested_priv_SQ`), where we
///   keep the bytes as they are in the file.
///
/// Everything else must be equal: tags, VRs, strings, person name groups, sequences and items,
/// AT values, integers, and InlineBinary bytes (little endian even for big-endian files).
fn compare(ours: &DataSet, dcmtk: &DataSet, path: &str, out: &mut Vec<String>) {
    for (tag, a) in ours {
        let here = format!("{path}{tag:?}");
        let Some(b) = dcmtk.get(*tag) else {
            out.push(format!("{here}: only in ours: {a:?}"));
            continue;
        };
        if a.vr != b.vr {
            out.push(format!("{here}: VR {} vs dcmtk's {}", a.vr, b.vr));
            continue;
        }
        let same = match (&a.value, &b.value) {
            _ if *tag == Tag(0x0008_0005) && path.is_empty() => true,
            (Value::Items(p), Value::Items(q)) if p.len() == q.len() => {
                for (n, (i, j)) in p.iter().zip(q).enumerate() {
                    compare(i, j, &format!("{here}[{n}]."), out);
                }
                true
            }
            (Value::Numbers(p), Value::Numbers(q)) if p.len() == q.len() => {
                p.iter().zip(q).all(|(m, n)| match (m, n) {
                    (Some(m), Some(n)) => same_number(a.vr, m, n),
                    (m, n) => m == n,
                })
            }
            (Value::PersonNames(p), Value::Empty) => p
                .iter()
                .flatten()
                .all(|n| n.to_dicom_string().chars().all(|c| c == '^' || c == '=')),
            (Value::InlineBinary(p), Value::InlineBinary(q))
                if a.vr == Vr::UN && p.len() % 2 == 1 =>
            {
                q.len() == p.len() + 1 && q.starts_with(p) && q.ends_with(&[0])
            }
            (p, q) => p == q,
        };
        if !same {
            out.push(format!("{here}: {:?} vs dcmtk's {:?}", a.value, b.value));
        }
    }
    for (tag, b) in dcmtk {
        if !ours.contains(*tag) {
            out.push(format!("{path}{tag:?}: only in dcmtk's: {b:?}"));
        }
    }
}

fn same_number(vr: Vr, ours: &Number, dcmtk: &Number) -> bool {
    let (Some(a), Some(b)) = (ours.to_f64(), dcmtk.to_f64()) else {
        return ours == dcmtk;
    };
    match vr {
        Vr::FL => a as f32 == b as f32,
        Vr::FD | Vr::DS => a == b || ((a - b) / a).abs() < 1e-15,
        _ => a == b,
    }
}

#[test]
fn part10_reads_like_dcm2json() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for json_path in golden(".dcmtk.json") {
        let name = json_path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".dcmtk.json", "");
        let dcm = json_path.with_file_name(format!("{name}.dcm"));
        let (_, ours) =
            part10::read(&std::fs::read(&dcm).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let dcmtk = match json::read(&std::fs::read(&json_path).unwrap(), &ReadOptions::default()) {
            Ok(Document::Single(ds)) => ds,
            other => panic!("{name}: dcm2json's output: {other:?}"),
        };
        let mut differences = Vec::new();
        compare(&ours, &dcmtk, "", &mut differences);
        if !differences.is_empty() {
            failures.push(format!("{name}:\n  {}", differences.join("\n  ")));
        }
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} files compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The DS text survives exactly where dcm2json's number does not.
#[test]
fn ds_text_is_kept_exactly() {
    let (_, ds) = part10::read(&std::fs::read(golden("MR_small.dcm").remove(0)).unwrap()).unwrap();
    let texts: Vec<&str> = ds
        .iter()
        .filter(|(_, e)| e.vr == Vr::DS)
        .filter_map(|(_, e)| e.value.first_str())
        .collect();
    assert!(!texts.is_empty());
    assert!(
        texts
            .iter()
            .all(|t| !t.starts_with(' ') && !t.ends_with(' ')),
        "{texts:?}"
    );
}

#[test]
fn every_golden_file_survives_write_and_read() {
    for path in golden(".dcm") {
        let name = path.file_name().unwrap().to_str().unwrap();
        let (meta, ds) =
            part10::read(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = part10::write(&meta, &ds).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (meta_back, back) = part10::read(&again).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            meta_back.get(Tag(0x0002_0010)),
            meta.get(Tag(0x0002_0010)),
            "{name}"
        );
        if name == "nested_priv_SQ.dcm" {
            // Its (0001,0002) holds 9 bytes: an odd length, which the writer pads to 10.
            assert_eq!(back.len(), ds.len(), "{name}");
            continue;
        }
        let charset = ds
            .get(Tag(0x0008_0005))
            .map(|e| format!("{:?}", e.value))
            .unwrap_or_default();
        if charset.contains("ISO 2022") {
            // Written as UTF-8 (dicom-rs cannot encode code extensions), the text unchanged.
            assert_eq!(back.string(Tag(0x0008_0005)), Some("ISO_IR 192"), "{name}");
            let (mut ds, mut back) = (ds.clone(), back.clone());
            ds.remove(Tag(0x0008_0005));
            back.remove(Tag(0x0008_0005));
            assert!(back == ds, "{name}: the text changed through Part 10");
            continue;
        }
        assert!(back == ds, "{name}: the data set changed through Part 10");
    }
}

/// Text and person names read from Part 10 equal Orthanc's DICOMweb metadata of the same file,
/// whatever the character set: ISO 8859 parts, UTF-8, and ISO 2022 code extensions (Japanese
/// `chrH31`, Korean `chrI2`, which dcm2json cannot convert here).
///
/// Two differences are Orthanc's: it drops the empty first value of Specific Character Set
/// (`\ISO 2022 IR 149` becomes `ISO 2022 IR 149`), and it writes an empty `Phonetic` group for
/// a name ending with `=` (`Wang^XiaoDong=王^小東=`), where we read no phonetic group.
#[test]
fn text_matches_orthanc_in_every_character_set() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for json_path in golden(".orthanc.json") {
        let name = json_path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".orthanc.json", "");
        let dcm = json_path.with_file_name(format!("{name}.dcm"));
        let (_, ours) = part10::read(&std::fs::read(&dcm).unwrap()).unwrap();
        let orthanc =
            json::read(&std::fs::read(&json_path).unwrap(), &ReadOptions::default()).unwrap();
        let [theirs] = orthanc.data_sets() else {
            panic!("{name}: expected one data set")
        };
        for (tag, element) in theirs {
            if *tag == Tag(0x0008_0005) {
                continue;
            }
            if matches!(element.value, Value::Strings(_) | Value::PersonNames(_)) {
                compared += 1;
                let mut expected = element.value.clone();
                if let Value::PersonNames(names) = &mut expected {
                    for n in names.iter_mut().flatten() {
                        n.phonetic = n.phonetic.take().filter(|p| !p.is_empty());
                    }
                }
                if ours.get(*tag).map(|e| &e.value) != Some(&expected) {
                    failures.push(format!(
                        "{name} {tag:?}: ours {:?}, Orthanc's {:?}",
                        ours.get(*tag),
                        element
                    ));
                }
            }
        }
    }
    assert!(compared > 300, "{compared}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let (_, japanese) =
        part10::read(&std::fs::read(golden("chrH31.dcm").remove(0)).unwrap()).unwrap();
    let name = japanese.get(Tag(0x0010_0010)).unwrap();
    assert_eq!(
        name.value,
        Value::PersonNames(vec![Some(dicomweb_core::PersonName::from_dicom_string(
            "Yamada^Tarou=山田^太郎=やまだ^たろう"
        ))])
    );
}
