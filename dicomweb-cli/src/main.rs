//! The `dicomweb` command-line program.
//!
//! Each subcommand lives in its own module with an `Args` struct (clap derive) and a `run`
//! function; [`Command`] lists them. Every failure ends the program with a non-zero status and
//! one line on standard error, `dicomweb: <what went wrong, and where>`.

mod convert;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Command-line client for DICOMweb servers, and converter between DICOM JSON, XML and Part 10.
#[derive(Debug, Parser)]
#[command(name = "dicomweb", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Convert between DICOM JSON, Native DICOM Model XML and Part 10 (detected from content).
    Convert(convert::Args),
}

/// A failure, reported as one line.
#[derive(Debug)]
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Failure {
        Failure(error.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert(args) => convert::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            let line = message.split_whitespace().collect::<Vec<_>>().join(" ");
            eprintln!("dicomweb: {line}");
            ExitCode::FAILURE
        }
    }
}
