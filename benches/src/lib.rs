//! Benchmarks of the dicomweb crates live in this package's `benches/`; this library holds the
//! deterministic inputs they share.

pub mod inputs;
mod rng;

pub use rng::Rng;
