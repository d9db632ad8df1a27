//! Property test: any data set survives DICOM JSON write → read unchanged.

use dicomweb_core::{DataSet, Document, ReadOptions, json};
use proptest::prelude::*;
use test_support::strategies::data_set;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn write_then_read_gives_the_same_data_set(ds in data_set()) {
        let mut bytes = Vec::new();
        json::write_data_set(&ds, &mut bytes);
        let strict = json::read(&bytes, &ReadOptions::strict()).map_err(|e| {
            TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&bytes)))
        })?;
        prop_assert_eq!(&strict, &Document::Single(ds.clone()));
        let lenient = json::read(&bytes, &ReadOptions::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&lenient, &Document::Single(ds.clone()));
        // Canonical: writing again gives the same bytes.
        prop_assert_eq!(json::write(&lenient), bytes);
    }

    #[test]
    fn arrays_round_trip_and_pretty_output_reads_the_same(all in proptest::collection::vec(data_set(), 0..4)) {
        let doc = Document::Array(all);
        let compact = json::write(&doc);
        prop_assert_eq!(json::read(&compact, &ReadOptions::default()).map_err(|e| TestCaseError::fail(e.to_string()))?, doc.clone());
        let pretty = json::write_pretty(&doc);
        let back: Vec<DataSet> = json::read_data_sets(&pretty, &ReadOptions::strict()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(Document::Array(back), doc);
    }
}
