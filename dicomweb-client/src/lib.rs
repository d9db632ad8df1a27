//! Async DICOMweb client (not written yet).
//!
//! This crate will hold the transport trait and its reqwest implementation, retries, timeouts,
//! authentication and streaming retrieve and store, driving [`dicomweb_core`] for every request
//! and response. Today it holds nothing: see the project's open work in `ARCHITECTURE.md`.
