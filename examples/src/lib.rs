//! Runnable programs that compose the dicomweb crates (this package is not published).
//!
//! - `make-study` (`src/bin/make-study.rs`): writes a deterministic DICOM study — Part 10
//!   files with 16-bit grayscale images, single- or multi-frame — for the main job, the
//!   benchmarks and trying the `dicomweb` program against a server:
//!   `cargo run --release -p dicomweb-examples --bin make-study -- --out study --total-mb 100`.
