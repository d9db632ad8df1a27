//! Prints an access token, like `gcloud auth application-default print-access-token`.
//!
//! ```text
//! cargo run -p gcp-credentials --example print_token -- [KEY_FILE]
//! ```
//!
//! With a key file (service account or gcloud `authorized_user`) it uses that file; without
//! one it uses Application Default Credentials. The scope is `cloud-healthcare`.

use gcp_credentials::{CLOUD_HEALTHCARE_SCOPE, Credentials, TokenProvider, TokenProviderOptions};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), gcp_credentials::Error> {
    let options = TokenProviderOptions::default().with_scopes([CLOUD_HEALTHCARE_SCOPE]);
    let provider = match std::env::args_os().nth(1) {
        Some(path) => TokenProvider::with_reqwest(Credentials::from_file(path)?, options)?,
        None => TokenProvider::application_default(options).await?,
    };
    eprintln!("credentials: {}", provider.credentials().kind());
    println!("{}", provider.access_token().await?.secret());
    Ok(())
}
