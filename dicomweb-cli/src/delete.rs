//! `dicomweb delete`: deletes a study, series or instance (Google, dcm4chee, Orthanc).

use dicomweb_client::Client;

use crate::Failure;
use crate::output::{print_json, print_warnings, warnings_json};
use crate::target::TargetArgs;

/// Arguments of `dicomweb delete`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
}

/// Deletes the target and prints a one-line JSON summary.
pub async fn run(args: &Args, client: &Client) -> Result<(), Failure> {
    let warnings = client.delete(args.target.target()).await?;
    print_warnings(&warnings);
    print_json(&serde_json::json!({
        "deleted": args.target.describe(),
        "warnings": warnings_json(&warnings),
    }))
}
