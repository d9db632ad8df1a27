//! `dicomweb transfer`: copies studies from one DICOMweb server to another as persistent jobs,
//! one per study (see `dicomweb_client::jobs::TransferJob`). Killed midway, `dicomweb jobs run`
//! with the same `--state` finishes what is left, never sending a finished batch again.

use dicomweb_client::jobs::{Connect, TransferJob};
use dicomweb_core::Uid;
use dicomweb_core::request::Search;
use dicomweb_core::tags::STUDY_INSTANCE_UID;
use orthanc_jobs::{Job, JobsHandle};

use crate::Failure;
use crate::jobs::{StateArg, finish, open_store, start_engine, wait_all};
use crate::output::print_json;

/// `dicomweb transfer …`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The source's DICOMweb root.
    #[arg(long, value_name = "URL")]
    from: String,
    /// The destination's DICOMweb root.
    #[arg(long, value_name = "URL")]
    to: String,
    /// A study to copy (repeatable).
    #[arg(
        long = "study",
        value_name = "UID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    studies: Vec<String>,
    /// Copy every study of the source.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    state: StateArg,
    /// The jobs' priority (higher runs first).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    priority: i32,
    /// How many studies move at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// Instances per batch (one STOW-RS request, one saved step).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
    /// Submit the jobs and return at once (`dicomweb jobs run` runs them).
    #[arg(long = "async")]
    asynchronous: bool,
}

/// Runs `dicomweb transfer`.
pub async fn run(args: &Args, connect: Connect, quiet: bool) -> Result<(), Failure> {
    let studies = if args.all {
        let source = connect(&args.from)?;
        let found = source
            .search_all(Search::studies().limit(1000), 1_000_000)
            .await?;
        let uids: Vec<String> = found
            .data_sets
            .iter()
            .filter_map(|d| d.string(STUDY_INSTANCE_UID).map(str::to_owned))
            .collect();
        if uids.is_empty() {
            return Err(Failure(format!("the source {} holds no study", args.from)));
        }
        uids
    } else {
        args.studies.clone()
    };
    let mut jobs: Vec<(Box<dyn Job>, i32)> = Vec::with_capacity(studies.len());
    for study in &studies {
        let uid = Uid::new(study.clone())?;
        let job = TransferJob::new(connect.clone(), &args.from, &args.to, uid)?
            .batch(args.batch as usize);
        jobs.push((Box::new(job), args.priority));
    }
    let store = open_store(args.state.dir.as_deref())?;
    if args.asynchronous {
        let ids = JobsHandle::new(store).submit_many(jobs).await?;
        let list: Vec<serde_json::Value> = ids
            .iter()
            .zip(&studies)
            .map(|(id, study)| serde_json::json!({"ID": id.to_string(), "StudyInstanceUID": study}))
            .collect();
        return print_json(&serde_json::Value::Array(list));
    }
    let engine = start_engine(store, connect, args.concurrency as usize).await?;
    let ids = engine.handle().submit_many(jobs).await?;
    let records = wait_all(engine.handle(), &ids, quiet).await?;
    engine.shutdown().await;
    finish(&records)
}
