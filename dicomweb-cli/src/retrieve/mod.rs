//! `dicomweb retrieve`: WADO-RS metadata, instances, frames, rendered images, thumbnails and
//! bulk data.
//!
//! Metadata is printed as a DICOM JSON array. Everything else streams to files: each is
//! written under a temporary name and renamed once complete, so a transfer that fails never
//! leaves a file that looks whole. A one-line JSON summary follows on standard output.

mod files;
mod images;

use std::path::PathBuf;

use dicomweb_client::{Client, RetrieveOptions};
use dicomweb_core::request::{Accept, RetrieveInstances, RetrieveMetadata, TransferSyntax};

use crate::Failure;
use crate::output::{print_data_sets, print_json, print_warnings, warnings_json};
use crate::progress::{Display, Progress};
use crate::target::TargetArgs;

/// Arguments of `dicomweb retrieve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

/// What to retrieve.
#[derive(Debug, clap::Subcommand)]
enum What {
    /// Metadata of a study, series or instance, printed as a DICOM JSON array.
    Metadata(MetadataArgs),
    /// Instances of a study, series or instance, one file each, named SOP_INSTANCE_UID.dcm.
    Instances(InstancesArgs),
    /// Frames of an instance, one file per frame.
    Frames(files::FramesArgs),
    /// A rendered image (JPEG, PNG, …) of a study, series, instance or frame.
    Rendered(images::RenderedArgs),
    /// A thumbnail of a study, series, instance or frame.
    Thumbnail(images::ThumbnailArgs),
    /// Bulk data by its BulkDataURI.
    Bulkdata(files::BulkDataArgs),
}

/// Arguments of `dicomweb retrieve metadata`.
#[derive(Debug, clap::Args)]
struct MetadataArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Ask the server for XML (the output stays DICOM JSON).
    #[arg(long)]
    xml: bool,
}

/// Arguments of `dicomweb retrieve instances`.
#[derive(Debug, clap::Args)]
struct InstancesArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The folder to write to (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The transfer syntax UID to ask for, or `*` for the stored one (the default).
    #[arg(long, value_name = "UID|*")]
    transfer_syntax: Option<TransferSyntax>,
    /// Requests at once: a study's series are retrieved this many at a time, one series of
    /// large instances in this many ranges of its instances (1: one request as asked).
    #[arg(long, value_name = "N", default_value_t = RetrieveOptions::SUGGESTED_CONCURRENCY as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
}

impl Args {
    /// What the command shows while it runs.
    pub fn display(&self) -> Display {
        match &self.what {
            What::Metadata(_) => Display::Notes,
            What::Instances(_) => Display::Download("instances"),
            What::Frames(_) => Display::Download("frames"),
            What::Rendered(_) | What::Thumbnail(_) => Display::Download("images"),
            What::Bulkdata(_) => Display::Download("parts"),
        }
    }
}

/// Runs the subcommand.
pub async fn run(args: &Args, client: &Client, progress: &Progress) -> Result<(), Failure> {
    match &args.what {
        What::Metadata(args) => metadata(args, client).await,
        What::Instances(args) => instances(args, client, progress).await,
        What::Frames(args) => files::frames(args, client, progress).await,
        What::Rendered(args) => images::rendered(args, client, progress).await,
        What::Thumbnail(args) => images::thumbnail(args, client, progress).await,
        What::Bulkdata(args) => files::bulk_data(args, client, progress).await,
    }
}

async fn metadata(args: &MetadataArgs, client: &Client) -> Result<(), Failure> {
    let mut request = RetrieveMetadata::new(args.target.target());
    if args.xml {
        request = request.xml();
    }
    let found = client.retrieve_metadata(&request).await?;
    print_warnings(&found.warnings);
    print_data_sets(found.data_sets)
}

async fn instances(
    args: &InstancesArgs,
    client: &Client,
    progress: &Progress,
) -> Result<(), Failure> {
    let mut request = RetrieveInstances::new(args.target.target());
    if let Some(syntax) = &args.transfer_syntax {
        request = request.accept(Accept::dicom(syntax.clone()));
    }
    let options = RetrieveOptions::new().concurrency(args.concurrency as usize);
    let summary = client
        .retrieve_instances_to_dir_with(&request, &args.out, &options)
        .await;
    progress.finish();
    let summary = summary?;
    print_warnings(&summary.warnings);
    if summary.files.is_empty() {
        return Err(Failure(format!(
            "the server sent no instances of {}",
            args.target.describe()
        )));
    }
    print_json(&serde_json::json!({
        "retrieved": summary.files.len(),
        "bytes": summary.bytes,
        "directory": args.out.display().to_string(),
        "warnings": warnings_json(&summary.warnings),
    }))
}
