//! `gcp-list-studies`: lists the studies of a Google Cloud Healthcare API DICOM store, signing
//! in with a service account key (or gcloud's authorized-user file).
//!
//! ```text
//! gcp-list-studies KEY_FILE projects/P/locations/L/datasets/D/dicomStores/S [--limit N]
//!                  [--base-url URL] [--token-uri URL]
//! ```
//!
//! Prints one line per study: Study Instance UID, Study Date, Patient ID, Study Description.
//! `--base-url` (default `https://healthcare.googleapis.com/v1`) and `--token-uri` point it at
//! stand-ins for tests.
//!
//! What it composes: `gcp_credentials` reads the key and keeps an access token fresh, its
//! token requests sent over the DICOMweb client's own transport;
//! `dicomweb_client` (feature `gcp`) sends a QIDO-RS search with it, retrying and refreshing
//! once on 401; `dicomweb_core` builds the request and reads the DICOM JSON reply.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use dicomweb_client::Client;
use dicomweb_core::request::Search;
use dicomweb_core::tags::{PATIENT_ID, STUDY_DATE, STUDY_DESCRIPTION, STUDY_INSTANCE_UID};
use gcp_credentials::{Credentials, HealthcareStore, TokenProviderOptions};

/// Lists the studies of a Cloud Healthcare API DICOM store.
#[derive(Debug, Parser)]
#[command(name = "gcp-list-studies", version, about)]
struct Args {
    /// A service account key or authorized-user JSON file.
    key_file: PathBuf,
    /// The DICOM store: projects/P/locations/L/datasets/D/dicomStores/S.
    store: HealthcareStore,
    /// Refuse to list more than this many studies (every page is read).
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    /// The Healthcare API's base URL.
    #[arg(long, default_value = "https://healthcare.googleapis.com/v1")]
    base_url: String,
    /// Overrides the key file's token endpoint.
    #[arg(long)]
    token_uri: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gcp-list-studies: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let credentials = Credentials::from_file(&args.key_file).map_err(|e| e.to_string())?;
    let mut options = TokenProviderOptions::default();
    if let Some(uri) = args.token_uri {
        options = options.with_token_uri(uri);
    }
    let client = Client::builder(args.store.dicomweb_root(&args.base_url))
        .gcp_credentials(credentials, options)
        .build()
        .map_err(|e| e.to_string())?;
    let search = Search::studies()
        .include("StudyDescription")
        .map_err(|e| e.to_string())?
        .limit(100);
    let found = client
        .search_all(search, args.limit)
        .await
        .map_err(|e| e.to_string())?;
    for warning in &found.warnings {
        eprintln!("gcp-list-studies: the server warns: {}", warning.text);
    }
    for study in &found.data_sets {
        let field = |tag| study.string(tag).unwrap_or("-").to_owned();
        println!(
            "{}\t{}\t{}\t{}",
            field(STUDY_INSTANCE_UID),
            field(STUDY_DATE),
            field(PATIENT_ID),
            field(STUDY_DESCRIPTION)
        );
    }
    Ok(())
}
