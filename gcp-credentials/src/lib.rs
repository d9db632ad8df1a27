//! OAuth2 access tokens for Google Cloud (not written yet).
//!
//! This crate will hold the credential sources (service account, authorized user, metadata
//! server, Application Default Credentials) and the refresh policy. Today it holds nothing.
