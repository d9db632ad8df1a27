//! `dicomweb store`: STOW-RS of Part 10 files and folders, with a JSON summary.

use std::path::PathBuf;

use dicomweb_client::{Client, StoreOptions, collect_files};
use dicomweb_core::Uid;

use crate::Failure;
use crate::output::print_json;
use crate::progress::Progress;

/// Arguments of `dicomweb store`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Part 10 files, and folders to walk recursively.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Store into this study (the server refuses instances of other studies).
    #[arg(long, value_name = "UID")]
    study: Option<Uid>,
    /// At most this many instances per request (default 32).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    batch_instances: Option<u64>,
    /// At most this many bytes of instances per request: 64MiB, 100MB, 1GiB or plain bytes
    /// (default 64MiB; a larger file goes alone).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    batch_bytes: Option<u64>,
    /// At most this many requests in flight (default 2).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: Option<u64>,
}

/// Stores the files, prints the summary, and fails if any file was not stored.
pub async fn run(args: &Args, client: &Client, progress: &Progress) -> Result<(), Failure> {
    let mut options = StoreOptions::default();
    if let Some(study) = &args.study {
        options = options.study(study.clone());
    }
    if let Some(n) = args.batch_instances {
        options = options.batch_instances(usize::try_from(n).unwrap_or(usize::MAX));
    }
    if let Some(bytes) = args.batch_bytes {
        options = options.batch_bytes(bytes);
    }
    if let Some(n) = args.concurrency {
        options = options.concurrency(usize::try_from(n).unwrap_or(1));
    }
    let files = collect_files(&args.paths)?;
    if files.is_empty() {
        return Err(Failure(format!(
            "no files to store in {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let total_bytes = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    progress.set_totals(total_bytes, files.len() as u64);
    let summary = client.store_files(&files, &options).await;
    progress.finish();
    let summary = summary?;
    let failed: Vec<serde_json::Value> = summary
        .failed
        .iter()
        .map(|f| {
            serde_json::json!({
                "path": f.source.to_string(),
                "sop_instance_uid": f.sop_instance_uid.as_ref().map(ToString::to_string),
                "failure_reason": f.failure_reason,
                "reason": f.reason,
            })
        })
        .collect();
    let warned: Vec<serde_json::Value> = summary
        .stored
        .iter()
        .filter_map(|s| {
            s.warning_reason.map(|code| {
                serde_json::json!({
                    "path": s.source.to_string(),
                    "sop_instance_uid": s.sop_instance_uid.to_string(),
                    "warning_reason": code,
                })
            })
        })
        .collect();
    print_json(&serde_json::json!({
        "stored": summary.stored.len(),
        "failed": failed,
        "warnings": warned,
        "bytes": summary.bytes,
        "requests": summary.requests,
    }))?;
    if summary.is_success() {
        Ok(())
    } else {
        Err(Failure(format!(
            "{} of {} files were not stored (see the summary)",
            summary.failed.len(),
            files.len()
        )))
    }
}

/// A size: plain bytes, or a number with B, kB, MB, GB (powers of 1000) or KiB, MiB, GiB
/// (powers of 1024), case-insensitive. At least one byte.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "expected a size such as 64MiB, 100MB or 1048576, got {text:?} (unknown unit {unit:?})"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("expected a size such as 64MiB, 100MB or 1048576, got {text:?}"))?;
    let bytes = (value * multiplier as f64).round();
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("expected a size of at least 1 byte, got {text:?}"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("1.5 GiB"), Ok(3 << 29));
        assert_eq!(parse_size("512kib"), Ok(512 << 10));
        for bad in [
            "",
            "0",
            "MiB",
            "12 parsecs",
            "1.2.3MB",
            "-5",
            "99999999999GiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
