//! A persistent job engine with Orthanc's semantics (not written yet).
//!
//! This crate will hold the job trait, the state machine, workers and persistence. Today it
//! holds nothing.
