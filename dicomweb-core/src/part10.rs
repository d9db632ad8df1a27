//! Part 10 files ⇄ [`DataSet`](crate::DataSet), through dicom-rs (feature `part10`).
