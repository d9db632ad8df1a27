//! Runnable programs that compose the dicomweb crates (this package is not published).
//!
//! - `make-study` (`src/bin/make-study.rs`): writes a deterministic DICOM study — Part 10
//!   files with 16-bit grayscale images, single- or multi-frame — for the main job, the
//!   benchmarks and trying the `dicomweb` program against a server:
//!   `cargo run --release -p dicomweb-examples --bin make-study -- --out study --total-mb 100`.
//! - `gcp-list-studies` (`src/bin/gcp-list-studies.rs`): lists the studies of a Google Cloud
//!   Healthcare API DICOM store from a service account key:
//!   `gcp-list-studies key.json projects/P/locations/L/datasets/D/dicomStores/S`.
