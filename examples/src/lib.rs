//! Runnable programs that compose the dicomweb crates live in this package's `examples/`.
