//! The JSON reader's fast path against the general reader: for every input, `json::read` (fast
//! path first) gives exactly what the general reader alone gives, data sets or error; and the
//! fast path really reads the usual shapes instead of handing everything over.

use dicomweb_core::{Document, Limits, ReadOptions, json};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use test_support::strategies::data_set;

/// Both readers' results, as comparable text (NaN compares equal to itself this way).
fn both(input: &[u8], options: &ReadOptions) -> (String, String) {
    (
        format!("{:?}", json::read(input, options)),
        format!("{:?}", json::read_reference(input, options)),
    )
}

fn agree(input: &[u8], options: &ReadOptions) {
    let (read, reference) = both(input, options);
    assert_eq!(
        read,
        reference,
        "fast path and general reader disagree on {}",
        String::from_utf8_lossy(input)
    );
}

/// The same document with every object's keys in sorted order, as Orthanc writes them
/// (`Value` before `vr`), and pretty-printed.
fn variants(compact: &[u8]) -> [Vec<u8>; 2] {
    let value: serde_json::Value = serde_json::from_slice(compact).expect("our writer's JSON");
    [
        serde_json::to_vec(&value).expect("serializable"),
        serde_json::to_vec_pretty(&value).expect("serializable"),
    ]
}

#[test]
fn generated_documents_are_read_by_the_fast_path_alike() {
    let options = ReadOptions::default();
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(data_set(), 1..4);
    let (mut cases, mut fast) = (0, 0);
    for _ in 0..400 {
        let sets = strategy.new_tree(&mut runner).unwrap().current();
        let mut compact = Vec::new();
        json::write_data_sets(&sets, &mut compact);
        let mut inputs = vec![compact.clone(), json::write_pretty(&Document::Array(sets))];
        inputs.extend(variants(&compact));
        for input in inputs {
            cases += 1;
            let reference = json::read_reference(&input, &options).unwrap();
            if let Some(doc) = json::read_fast_path(&input, &options) {
                fast += 1;
                assert_eq!(
                    format!("{doc:?}"),
                    format!("{reference:?}"),
                    "{}",
                    String::from_utf8_lossy(&input)
                );
            }
            agree(&input, &options);
            agree(&input, &ReadOptions::strict());
        }
    }
    // Generated values include what the fast path leaves to the general reader (NaN written
    // as a string, numbers beyond 64 bits): most documents must still take the fast path.
    eprintln!("fast path read {fast} of {cases} generated documents");
    assert!(fast * 10 >= cases * 6, "fast path read {fast} of {cases}");
}

#[test]
fn awkward_inputs_give_the_same_result_either_way() {
    let cases: &[&str] = &[
        // Shapes the fast path reads.
        r#"[]"#,
        r#" [ { } , {"00080005":{"vr":"CS"}} ] "#,
        r#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"A^B","Ideographic":null},null]}}"#,
        r#"{"00100010":{"Value":[{"Phonetic":"x"}],"vr":"PN"}}"#,
        r#"{"00200032":{"Value":[ -1.5e2 , 0.0, 1E+3 ],  "vr" : "DS"}}"#,
        r#"{"00200013":{"vr":"IS","Value":[" 7 ", "", null, "\u0038"]}}"#,
        r#"{"00280010":{"vr":"US","Value":[512, null, 18446744073709551615]}}"#,
        r#"{"00189219":{"vr":"SS","Value":[-3, -9223372036854775808]}}"#,
        r#"{"00189305":{"vr":"FD","Value":[1, -2, 1.5e-3, 1e-400]}}"#,
        r#"{"00081140":{"vr":"SQ","Value":[null,{},{"00081150":{"vr":"UI","Value":["1.2"]}}]}}"#,
        r#"{"00091001":{"vr":"AT","Value":["0010001a", null]}}"#,
        r#"{"7FE00010":{"vr":"OW","BulkDataURI":"http://h/bulk?a=1&b=2"}}"#,
        r#"{"00091002":{"InlineBinary":"AAEC","vr":"OB"}}"#,
        r#"{"00100020":{"vr":"LO","Value":["tab\tquote\"slash\\ unicode \u00e9 \ud83d\ude00"]}}"#,
        r#"{"00100020":{"vr":"LO","Value":[]}}"#,
        r#"{"00100020":{"vr":"LO","Value":null}}"#,
        r#"{"00100020":{"vr":"LO","BulkDataURI":null}}"#,
        // Shapes it hands to the general reader, which reads or refuses them.
        r#"{"00280010":{"vr":"US","Value":[-0, 18446744073709551616]}}"#,
        r#"{"00189305":{"vr":"FD","Value":[1e400]}}"#,
        r#"{"00189305":{"vr":"FD","Value":["NaN","-Infinity"]}}"#,
        r#"{"00100020":{"vr":"LO","Value":[12.5]}}"#,
        r#"{"00100010":{"vr":"PN","Value":["Yamada^Tarou=山田^太郎"]}}"#,
        r#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":5}]}}"#,
        r#"{"00100020":{"Value":["x"]}}"#,
        r#"{"00100020":{"vr":"LO","Value":["x"],"extra":1}}"#,
        r#"{"00100020":{"vr":"LO","vr":"SH"}}"#,
        r#"{"00200010":{"vr":"SH"},"00100020":{"vr":"LO"}}"#,
        r#"{"00100020":{"vr":"LO"},"00100020":{"vr":"SH"}}"#,
        r#"{"0010002g":{"vr":"LO"}}"#,
        r#"{"\u0030\u0030100020":{"vr":"LO"}}"#,
        r#"{"00100020":{"vr":"LO","Value":["a"],"InlineBinary":"AA=="}}"#,
        r#"{"00091002":{"vr":"OB","InlineBinary":"!!"}}"#,
        r#"{"00091002":{"vr":"OB","InlineBinary":["AAEC"]}}"#,
        r#"{"00091002":{"vr":"OB","Value":[1,2]}}"#,
        r#"{"00100020":{"vr":"LO","Value":["a	b"]}}"#,
        r#"{"00100020":{"vr":"LO","Value":["\x"]}}"#,
        r#"{"00100020":{"vr":"LO","Value":["a"]}} x"#,
        r#"{"00100020":{"vr":"LO","Value":["a"]"#,
        r#"{"00100020":{"Value":["a"],"vr":"LO"  "#,
        r#"{"00100020":{"Value":[01],"vr":"IS"}}"#,
        r#"{"00100020":{"Value":[1.],"vr":"DS"}}"#,
        r#"{"00100020":{"Value":[nul],"vr":"LO"}}"#,
        r#"[null]"#,
        r#"5"#,
        "",
    ];
    let tight = ReadOptions::default()
        .with_limits(Limits::default().with_max_depth(2).with_max_elements(3));
    for case in cases {
        for options in [ReadOptions::default(), ReadOptions::strict(), tight] {
            agree(case.as_bytes(), &options);
        }
    }
    let nested = r#"{"00081140":{"vr":"SQ","Value":[{"00081140":{"vr":"SQ","Value":[{}]}}]}}"#;
    assert!(json::read(nested.as_bytes(), &tight).is_err());
    agree(nested.as_bytes(), &tight);
    agree(b"\xEF\xBB\xBF[{}]", &ReadOptions::default());
    agree(
        b"[{\"00100020\":{\"vr\":\"LO\",\"Value\":[\"\xFF\"]}}]",
        &ReadOptions::default(),
    );
}

#[test]
fn the_fast_path_takes_the_usual_shapes_and_leaves_the_rest() {
    let options = ReadOptions::default();
    let taken = [
        r#"[{"00100010":{"vr":"PN","Value":[{"Alphabetic":"A"}]},"0020000D":{"vr":"UI","Value":["1.2.3"]}}]"#,
        r#"[{"00080005":{"Value":["ISO_IR 100"],"vr":"CS"}}]"#,
        r#"{"00200032":{"vr":"DS","Value":[-249.51171875,"1.0"]}}"#,
    ];
    for case in taken {
        assert!(
            json::read_fast_path(case.as_bytes(), &options).is_some(),
            "{case}"
        );
    }
    let left = [
        r#"{"00100020":{"Value":["x"]}}"#,
        r#"[{"0020000D":{"vr":"UI","Value":["1.2.3"]},"00100010":{"vr":"PN"}}]"#,
        r#"{"00200010":{"vr":"SH"},"00100020":{"vr":"LO"}}"#,
        r#"{"00189305":{"vr":"FD","Value":["NaN"]}}"#,
    ];
    for case in left {
        assert!(
            json::read_fast_path(case.as_bytes(), &options).is_none(),
            "{case}"
        );
        assert!(json::read(case.as_bytes(), &options).is_ok(), "{case}");
    }
}
