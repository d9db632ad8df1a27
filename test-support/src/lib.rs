//! Helpers shared by the workspace's tests: a real Orthanc on a free loopback port,
//! stand-in servers and generated DICOM data. Unpublished.

pub mod files;
#[cfg(feature = "standin")]
pub mod google;
pub mod orthanc;
pub mod part10;
#[cfg(feature = "standin")]
pub mod standin;
pub mod strategies;
pub mod study;
