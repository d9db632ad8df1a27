//! What the network commands print: DICOM JSON and summaries on standard output, the server's
//! warnings on standard error.

use std::io::{IsTerminal, Write};

use dicomweb_core::response::Warning;
use dicomweb_core::{DataSet, Document, json};

use crate::Failure;

/// Prints data sets as a DICOM JSON array: compact, or indented when standard output is a
/// terminal.
pub fn print_data_sets(data_sets: Vec<DataSet>) -> Result<(), Failure> {
    let mut out = Vec::new();
    if std::io::stdout().is_terminal() {
        out = json::write_pretty(&Document::Array(data_sets));
    } else {
        json::write_data_sets(&data_sets, &mut out);
    }
    out.push(b'\n');
    write_stdout(&out)
}

/// Prints a JSON value on one line.
pub fn print_json(value: &serde_json::Value) -> Result<(), Failure> {
    let mut line = value.to_string().into_bytes();
    line.push(b'\n');
    write_stdout(&line)
}

/// Prints each of the server's `Warning` headers on standard error, one per line.
pub fn print_warnings(warnings: &[Warning]) {
    for warning in warnings {
        eprintln!(
            "dicomweb: warning from the server: {} {} {:?}",
            warning.code, warning.agent, warning.text
        );
    }
}

/// The warnings as JSON, for summaries.
pub fn warnings_json(warnings: &[Warning]) -> serde_json::Value {
    warnings
        .iter()
        .map(|w| serde_json::json!({"code": w.code, "agent": w.agent, "text": w.text}))
        .collect()
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure(format!("cannot write to standard output: {e}")))
}
