//! DICOM JSON (PS3.18 Annex F), read and written losslessly.

use crate::{Document, Error, ReadOptions};

/// Reads a DICOM JSON document: one data set (an object) or an array of them.
pub fn read(bytes: &[u8], options: &ReadOptions) -> Result<Document, Error> {
    let _ = (bytes, options);
    Err(Error::Json {
        path: crate::TagPath::root(),
        message: "the DICOM JSON reader is not written yet".into(),
    })
}
