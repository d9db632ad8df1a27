//! `dicomweb transfer`: copies studies — or some of their series, or single instances — from
//! one DICOMweb endpoint to another, or to a DICOM device by C-STORE, as persistent jobs, one
//! per study (see `dicomweb_client::jobs::TransferJob` and
//! `dicomweb_dimse::export::DimseTransferJob`). Each endpoint is a URL or a name in `--config`
//! (see [`crate::endpoint`]); what to copy is [`crate::selection`]'s. Killed midway,
//! `dicomweb jobs run` with the same `--state` (or `--jobs-db`) finishes what is left, never
//! sending a finished batch again.

use dicomweb_client::jobs::TransferJob;
use dicomweb_dimse::export::DimseTransferJob;
use orthanc_jobs::{Job, JobsHandle};

use crate::Failure;
use crate::endpoint::Endpoints;
use crate::jobs::{StateArg, finish, open_store, start_engine, wait_all};
use crate::output::print_json;
use crate::selection;

/// `dicomweb transfer …`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The source: a DICOMweb root URL, or an entry's name in --config (DicomWeb.Servers or
    /// GoogleCloudPlatform.Accounts).
    #[arg(long, value_name = "URL|NAME")]
    from: String,
    /// The destination: a DICOMweb root URL, an entry's name in --config (DicomWeb.Servers,
    /// GoogleCloudPlatform.Accounts, or DicomModalities: a DICOM device, sent to by C-STORE),
    /// or a DICOM device as dimse://AET@host:port (dimses:// over TLS; a device over TLS uses
    /// --config's DicomTlsCertificate, DicomTlsPrivateKey and DicomTlsTrustedCertificates).
    #[arg(long, value_name = "URL|NAME")]
    to: String,
    #[command(flatten)]
    select: selection::Args,
    #[command(flatten)]
    state: StateArg,
    /// The jobs' priority (higher runs first).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    priority: i32,
    /// How many studies move at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// Instances per batch (one STOW-RS request or association, one saved step).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
    /// Submit the jobs and return at once (`dicomweb jobs run`, or any `dicomweb jobs serve`
    /// on the same --jobs-db, runs them).
    #[arg(long = "async")]
    asynchronous: bool,
}

/// Runs `dicomweb transfer`.
pub async fn run(args: &Args, endpoints: Endpoints, quiet: bool) -> Result<(), Failure> {
    let connect = &endpoints.connect;
    let source = connect(&args.from)?;
    let selected = args.select.resolve(&source, &args.from).await?;
    let to_device = endpoints.is_device(&args.to)?;
    let mut jobs: Vec<(Box<dyn Job>, i32)> = Vec::with_capacity(selected.len());
    for one in &selected {
        let job: Box<dyn Job> = if to_device {
            let mut job = DimseTransferJob::new(
                connect.clone(),
                endpoints.resolve.clone(),
                &args.from,
                &args.to,
                one.study.clone(),
            )?
            .batch(args.batch as usize);
            if let Some(scope) = &one.scope {
                job = job.scope(scope.clone());
            }
            Box::new(job)
        } else {
            let mut job =
                TransferJob::new(connect.clone(), &args.from, &args.to, one.study.clone())?
                    .batch(args.batch as usize);
            if let Some(scope) = &one.scope {
                job = job.scope(scope.clone());
            }
            Box::new(job)
        };
        jobs.push((job, args.priority));
    }
    let store = open_store(&args.state).await?;
    if args.asynchronous {
        let ids = JobsHandle::new(store.store.clone())
            .submit_many(jobs)
            .await?;
        let list: Vec<serde_json::Value> = ids
            .iter()
            .zip(&selected)
            .map(|(id, one)| {
                serde_json::json!({"ID": id.to_string(), "StudyInstanceUID": one.study.as_str()})
            })
            .collect();
        return print_json(&serde_json::Value::Array(list));
    }
    let engine = start_engine(&store, &endpoints, args.concurrency as usize).await?;
    let ids = engine.handle().submit_many(jobs).await?;
    let records = wait_all(engine.handle(), &ids, quiet).await?;
    engine.shutdown().await;
    finish(&records)
}
