//! Helpers shared by the workspace's tests: a real Orthanc and a real PostgreSQL on free
//! loopback ports,
//! stand-in servers, generated DICOM data and test certificates. Unpublished.

pub mod files;
#[cfg(feature = "standin")]
pub mod google;
pub mod orthanc;
pub mod part10;
pub mod postgres;
#[cfg(feature = "standin")]
pub mod standin;
pub mod strategies;
pub mod study;
#[cfg(feature = "tls")]
pub mod tls;
