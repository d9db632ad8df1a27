//! `make-study`: writes a deterministic DICOM study (Part 10 files, 16-bit grayscale images,
//! single- or multi-frame) into a folder, for the main job, benchmarks and trying the
//! `dicomweb` program against a server.
//!
//! ```text
//! make-study --out DIR [--seed N] [--series N] [--instances N] [--rows N] [--columns N]
//!            [--frames N] [--total-mb N]
//! ```
//!
//! Prints one line of JSON: `{"study": UID, "instances": N, "bytes": N, "dir": DIR}`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use test_support::study::StudySpec;

/// Writes a generated DICOM study, one `<SOPInstanceUID>.dcm` file per instance.
#[derive(Debug, Parser)]
#[command(name = "make-study", version, about)]
struct Args {
    /// The folder to write to (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Everything (UIDs, pixel values) follows from it.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of series.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    series: u32,
    /// Instances per series (ignored with --total-mb).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    instances: u32,
    /// Image rows.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    rows: u16,
    /// Image columns.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    columns: u16,
    /// Frames per instance.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    frames: u32,
    /// Make the study at least this many MiB, adding instances to each series.
    #[arg(long)]
    total_mb: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut spec = StudySpec {
        series: args.series,
        instances_per_series: args.instances,
        rows: args.rows,
        columns: args.columns,
        frames: args.frames,
        ..StudySpec::new(args.seed)
    };
    if let Some(mb) = args.total_mb {
        spec = spec.with_total_bytes(mb * 1024 * 1024);
    }
    if spec.instance_bytes() > u64::from(u32::MAX) {
        eprintln!("make-study: an instance of that size would not fit a 32-bit Pixel Data length");
        return ExitCode::FAILURE;
    }
    match spec.write_to(&args.out) {
        Ok(paths) => {
            let line = serde_json::json!({
                "study": spec.study_uid(),
                "instances": paths.len(),
                "bytes": spec.total_bytes(),
                "dir": args.out,
            });
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("make-study: writing to {}: {error}", args.out.display());
            ExitCode::FAILURE
        }
    }
}
