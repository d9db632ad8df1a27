//! `dicomweb convert`: DICOM JSON, Native DICOM Model XML or Part 10 in; JSON or XML out.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use dicomweb_core::{Document, ReadOptions, json, part10, xml};

use crate::Failure;

/// Arguments of `dicomweb convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The input: a DICOM JSON document (object or array), a Native DICOM Model XML document,
    /// or a Part 10 file with or without its preamble; `-` reads standard input.
    input: PathBuf,
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    to: Format,
    /// Where to write; standard output when absent.
    #[arg(short, long, value_name = "OUTPUT")]
    output: Option<PathBuf>,
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// DICOM JSON (PS3.18 Annex F).
    Json,
    /// Native DICOM Model XML (PS3.19 Annex A).
    Xml,
}

/// What the input turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// DICOM JSON.
    Json,
    /// Native DICOM Model XML.
    Xml,
    /// A Part 10 file.
    Part10,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> Result<(), Failure> {
    let bytes = read_input(&args.input)?;
    let document = parse(&bytes)?;
    let out = render(&document, args.to)?;
    write_output(args.output.as_deref(), &out)
}

/// Recognises the input from its first bytes.
pub fn detect(bytes: &[u8]) -> Option<InputFormat> {
    if part10::is_part10(bytes) {
        return Some(InputFormat::Part10);
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match text.iter().find(|b| !b.is_ascii_whitespace())? {
        b'{' | b'[' => Some(InputFormat::Json),
        b'<' => Some(InputFormat::Xml),
        _ => None,
    }
}

fn parse(bytes: &[u8]) -> Result<Document, Failure> {
    let options = ReadOptions::default();
    match detect(bytes) {
        Some(InputFormat::Json) => Ok(json::read(bytes, &options)?),
        Some(InputFormat::Xml) => Ok(Document::Single(xml::read(bytes, &options)?)),
        Some(InputFormat::Part10) => Ok(Document::Single(part10::read(bytes)?.1)),
        None => Err(Failure(format!(
            "unrecognised input: expected DICOM JSON (an object or an array), Native DICOM Model \
             XML, or a Part 10 file (\"DICM\" at byte 128 or 0), found {}",
            describe_start(bytes)
        ))),
    }
}

fn render(document: &Document, to: Format) -> Result<Vec<u8>, Failure> {
    match (to, document) {
        (Format::Json, document) => Ok(json::write(document)),
        (Format::Xml, Document::Single(data_set)) => Ok(xml::write(data_set)),
        (Format::Xml, Document::Array(all)) if all.len() == 1 => Ok(xml::write(&all[0])),
        (Format::Xml, Document::Array(all)) => Err(Failure(format!(
            "cannot write XML: the input is a JSON array of {} data sets and a Native DICOM Model \
             document holds exactly one (convert one data set at a time, or use --to json)",
            all.len()
        ))),
    }
}

fn describe_start(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty input".to_owned();
    }
    let head: String = bytes
        .iter()
        .take(16)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect();
    format!("{} bytes starting with \"{head}\"", bytes.len())
}

fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure(format!("cannot read standard input: {e}")))?;
    } else {
        bytes = std::fs::read(path)
            .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?;
    }
    Ok(bytes)
}

fn write_output(path: Option<&Path>, out: &[u8]) -> Result<(), Failure> {
    match path {
        Some(path) => std::fs::write(path, out)
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display()))),
        None => {
            let mut stdout = std::io::stdout().lock();
            let newline: &[u8] = if out.ends_with(b"\n") { b"" } else { b"\n" };
            match stdout
                .write_all(out)
                .and_then(|()| stdout.write_all(newline))
                .and_then(|()| stdout.flush())
            {
                // The reader went away (`dicomweb convert … | head`): nothing left to do.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => {
                    other.map_err(|e| Failure(format!("cannot write to standard output: {e}")))
                }
            }
        }
    }
}
