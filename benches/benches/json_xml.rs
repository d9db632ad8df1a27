//! DICOM JSON and XML reading against baselines measured in the same run: serde_json skipping
//! the same QIDO-RS bytes into `IgnoredAny`, dicom-rs's `dicom-json` reading the same CT
//! metadata, and a bare quick-xml event loop over the same XML documents.
//!
//! Run with `cargo bench -p dicomweb-benches --bench json_xml`. Prints `RATIO <subject> vs
//! <baseline>: <n>` lines, n = subject throughput / baseline throughput.

// A benchmark stops on the first error: panicking with it is the report.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use dicom_object::InMemDicomObject;
use dicomweb_benches::inputs;
use dicomweb_core::{ReadOptions, json, xml};
use quick_xml::Reader;
use quick_xml::events::Event;

const SEED: u64 = 0x5EED_0000_D1C0_0002;
const ROUNDS: usize = 7;

/// The fastest of `ROUNDS` runs of `f`, which processes `bytes` bytes, as bytes per second.
fn throughput(name: &str, bytes: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed());
    }
    let rate = bytes as f64 / best.as_secs_f64();
    println!(
        "{name:<32} {:>9.2} ms {:>9.1} MB/s",
        best.as_secs_f64() * 1e3,
        rate / 1e6
    );
    rate
}

fn total(docs: &[Vec<u8>]) -> usize {
    docs.iter().map(Vec::len).sum()
}

fn main() {
    let options = ReadOptions::default();
    let mut ratios = Vec::new();

    let qido = inputs::qido_json(10_000, SEED);
    println!("QIDO-RS answer: 10,000 studies, {} bytes", qido.len());
    let subject = throughput("json_qido_10k", qido.len(), || {
        black_box(json::read(&qido, &options).unwrap());
    });
    let baseline = throughput("serde_ignored_any", qido.len(), || {
        black_box(serde_json::from_slice::<serde::de::IgnoredAny>(&qido).unwrap());
    });
    ratios.push(("json_qido_10k", "serde_ignored_any", subject / baseline));
    // For scale: what any owned document costs against skipping. serde_json's own `Value`
    // (one allocation per string, array and object, no DICOM checks) is the floor of a tree.
    let value = throughput("serde_json_value", qido.len(), || {
        black_box(serde_json::from_slice::<serde_json::Value>(&qido).unwrap());
    });
    ratios.push(("serde_json_value", "serde_ignored_any", value / baseline));
    ratios.push(("json_qido_10k", "serde_json_value", subject / value));

    let series = inputs::ct_series(2_000, SEED);
    for (label, as_strings) in [
        ("json_metadata_ct", false),
        ("json_metadata_ct_strings", true),
    ] {
        let docs = inputs::ct_json(&series, as_strings);
        println!(
            "CT metadata, 2,000 instances, IS/DS as {}: {} bytes",
            if as_strings { "strings" } else { "numbers" },
            total(&docs)
        );
        let subject = throughput(label, total(&docs), || {
            for doc in &docs {
                black_box(json::read(doc, &options).unwrap());
            }
        });
        let baseline = throughput("dicom_json", total(&docs), || {
            for doc in &docs {
                black_box(dicom_json::from_slice::<InMemDicomObject>(doc).unwrap());
            }
        });
        ratios.push((label, "dicom_json", subject / baseline));
    }

    let docs = inputs::ct_xml(&series);
    println!(
        "CT metadata as XML, 2,000 documents: {} bytes",
        total(&docs)
    );
    let subject = throughput("xml_metadata_ct", total(&docs), || {
        for doc in &docs {
            black_box(xml::read(doc, &options).unwrap());
        }
    });
    let baseline = throughput("quick_xml_events", total(&docs), || {
        for doc in &docs {
            let mut reader = Reader::from_reader(doc.as_slice());
            let mut events = 0usize;
            loop {
                match reader.read_event().unwrap() {
                    Event::Eof => break,
                    event => {
                        black_box(&event);
                        events += 1;
                    }
                }
            }
            black_box(events);
        }
    });
    ratios.push(("xml_metadata_ct", "quick_xml_events", subject / baseline));

    println!();
    for (subject, baseline, ratio) in ratios {
        println!("RATIO {subject} vs {baseline}: {ratio:.3}");
    }
}
