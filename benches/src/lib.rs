//! Benchmarks of the dicomweb crates live in this package's `benches/`.
