//! Property test: any data set survives Native DICOM Model write → read unchanged.

use dicomweb_core::{ReadOptions, xml};
use proptest::prelude::*;
use test_support::strategies::data_set;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn write_then_read_gives_the_same_data_set(ds in data_set()) {
        let bytes = xml::write(&ds);
        let strict = xml::read(&bytes, &ReadOptions::strict()).map_err(|e| {
            TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&bytes)))
        })?;
        prop_assert_eq!(&strict, &ds);
        let lenient = xml::read(&bytes, &ReadOptions::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&lenient, &ds);
        // Writing what was read gives the same bytes.
        prop_assert_eq!(xml::write(&lenient), bytes);
    }
}
