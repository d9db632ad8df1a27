//! DICOM JSON written by software outside this project (pydicom's test files, dcmtk's
//! `dcm2json`, Orthanc's DICOMweb plugin) reads without loss: reading, writing and comparing
//! with the original after normalising what the standard leaves open gives the same content.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use dicomweb_core::{Number, PersonName, ReadOptions, Tag, Value, json};
use serde_json::{Map, Value as Json};

fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut all = Vec::new();
    for dir in ["data/json", "golden"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("test data directory") {
            let path = entry.expect("directory entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                all.push(path);
            }
        }
    }
    all.sort();
    all
}

/// Brings a DICOM JSON document to one form: upper-case keys, no empty `Value`, IS/DS/numbers
/// as f64 (or their string when not numeric), InlineBinary as padded base64, PN as objects.
fn normalise(doc: &Json) -> Json {
    match doc {
        Json::Array(all) => Json::Array(all.iter().map(normalise_data_set).collect()),
        other => normalise_data_set(other),
    }
}

fn normalise_data_set(ds: &Json) -> Json {
    let mut out = Map::new();
    for (key, element) in ds.as_object().expect("data set object") {
        out.insert(key.to_uppercase(), normalise_element(element));
    }
    Json::Object(out)
}

fn normalise_element(element: &Json) -> Json {
    let element = element.as_object().expect("element object");
    let vr = element["vr"].as_str().expect("vr").to_owned();
    let mut out = Map::new();
    out.insert("vr".into(), Json::String(vr.clone()));
    if let Some(Json::Array(values)) = element.get("Value")
        && !values.is_empty()
    {
        let values = values.iter().map(|v| normalise_value(&vr, v)).collect();
        out.insert("Value".into(), Json::Array(values));
    }
    if let Some(inline) = element.get("InlineBinary") {
        let text = match inline {
            Json::Array(one) => one[0].as_str().expect("base64"),
            other => other.as_str().expect("base64"),
        };
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| STANDARD_NO_PAD.decode(text))
            .expect("base64");
        out.insert("InlineBinary".into(), Json::String(STANDARD.encode(bytes)));
    }
    if let Some(uri) = element.get("BulkDataURI") {
        out.insert("BulkDataURI".into(), uri.clone());
    }
    Json::Object(out)
}

fn normalise_value(vr: &str, value: &Json) -> Json {
    match (vr, value) {
        (_, Json::Null) => Json::Null,
        ("SQ", item) => normalise_data_set(item),
        ("PN", Json::String(text)) => {
            let name = PersonName::from_dicom_string(text);
            let mut out = Map::new();
            if let Some(a) = name.alphabetic {
                out.insert("Alphabetic".into(), Json::String(a.into()));
            }
            Json::Object(out)
        }
        (
            "IS" | "DS" | "FL" | "FD" | "SL" | "SS" | "UL" | "US" | "SV" | "UV",
            Json::String(text),
        ) => match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => serde_json::json!(v),
            _ => Json::String(text.trim().to_owned()),
        },
        (_, Json::Number(n)) => serde_json::json!(n.as_f64().expect("number")),
        (_, other) => other.clone(),
    }
}

#[test]
fn real_files_read_and_write_back_the_same_content() {
    let files = files();
    assert!(
        files.len() >= 20,
        "expected the golden JSON files, found {}",
        files.len()
    );
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.display();
        if std::str::from_utf8(&bytes).is_err() {
            // dcm2json copies the bytes of a character set it does not convert (chrSQEncoding):
            // not JSON, which must be UTF-8. A typed error that names the element.
            let err = json::read(&bytes, &ReadOptions::default()).unwrap_err();
            assert!(
                matches!(err, dicomweb_core::Error::Json { ref path, .. } if !path.0.is_empty()),
                "{name}: {err}"
            );
            continue;
        }
        let doc =
            json::read(&bytes, &ReadOptions::strict()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let lenient = json::read(&bytes, &ReadOptions::default()).unwrap();
        assert_eq!(doc, lenient, "{name}");
        let written = json::write(&doc);
        assert_eq!(
            json::read(&written, &ReadOptions::strict()).unwrap(),
            doc,
            "{name}"
        );
        let original: Json = serde_json::from_slice(&bytes).unwrap();
        let ours: Json = serde_json::from_slice(&written).unwrap();
        assert_eq!(normalise(&ours), normalise(&original), "{name}");
        assert!(doc.data_sets()[0].total_elements() >= 1, "{name}");
    }
}

#[test]
fn pydicom_test1_values_keep_their_form() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/json/test1.json");
    let doc = json::read(&std::fs::read(path).unwrap(), &ReadOptions::strict()).unwrap();
    let ds = &doc.data_sets()[0];
    // DS as a JSON number keeps its text.
    let weight = &ds.get(Tag(0x0010_1030)).unwrap().value;
    assert_eq!(
        weight,
        &Value::Numbers(vec![Some(Number::Text("87.09".into()))].into())
    );
    // Private creator and a private element of its block.
    assert_eq!(ds.string(Tag(0x0019_0010)), Some("GEMS_ACQU_01"));
    assert!(
        ds.iter()
            .any(|(tag, _)| tag.private_creator_tag() == Some(Tag(0x0019_0010)))
    );
    // An empty item inside a sequence stays an (empty) item.
    let Value::Items(items) = &ds.get(Tag(0x0012_0064)).unwrap().value else {
        panic!("expected a sequence");
    };
    assert!(items.len() >= 3);
    assert!(items[1].is_empty());
    // An empty string value stays an empty string.
    assert_eq!(ds.string(Tag(0x0040_2017)), Some(""));
}

#[test]
fn orthanc_and_dcmtk_agree_on_shared_elements() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let read = |name: &str| {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        json::read_data_sets(&bytes, &ReadOptions::default())
            .unwrap()
            .remove(0)
    };
    let orthanc = read("CT_small.orthanc.json");
    let dcmtk = read("CT_small.dcmtk.json");
    let mut compared = 0;
    for (tag, element) in &orthanc {
        // Binary values differ by design (Orthanc sends BulkDataURIs), and so does the
        // character set: dcmtk converts to UTF-8 and says so.
        if matches!(
            element.value,
            Value::BulkDataUri(_) | Value::InlineBinary(_)
        ) || tag.0 == 0x0008_0005
        {
            continue;
        }
        if let Some(other) = dcmtk.get(*tag) {
            assert_eq!(element.vr, other.vr, "{tag:?}");
            let as_f64 = |v: &Value| match v {
                Value::Numbers(n) => n
                    .iter()
                    .map(|n| n.as_ref().and_then(Number::to_f64))
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            };
            if element.vr == dicomweb_core::Vr::FL {
                // Orthanc prints the f32 widened to f64 (-77.204063415527344), dcmtk the
                // shortest f32 form (-77.2040634): the same single-precision value.
                let single = |v: &Value| {
                    as_f64(v)
                        .into_iter()
                        .map(|v| v.map(|v| v as f32))
                        .collect::<Vec<_>>()
                };
                assert_eq!(single(&element.value), single(&other.value), "{tag:?}");
            } else if matches!(element.value, Value::Numbers(_)) {
                assert_eq!(as_f64(&element.value), as_f64(&other.value), "{tag:?}");
            } else {
                assert_eq!(element.value, other.value, "{tag:?}");
            }
            compared += 1;
        }
    }
    assert!(compared > 30, "compared only {compared} elements");
}
