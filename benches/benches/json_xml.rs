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

use bytes::Bytes;
use dicom_object::InMemDicomObject;
use dicomweb_benches::inputs;
use dicomweb_core::{ReadOptions, json, xml};
use quick_xml::Reader;
use quick_xml::events::Event;

const SEED: u64 = 0x5EED_0000_D1C0_0002;
const ROUNDS: usize = 7;

/// Times several functions that each process `bytes` bytes: a warm-up each, then `ROUNDS`
/// rounds that run every function once in turn, so that a machine that speeds up or slows down
/// mid-run affects all of them alike. Prints the fastest run of each and returns its rate in
/// bytes per second, in the order given.
fn throughputs(bytes: usize, subjects: &mut [(&str, &mut dyn FnMut())]) -> Vec<f64> {
    for (_, f) in subjects.iter_mut() {
        f(); // warm-up
    }
    let mut best = vec![Duration::MAX; subjects.len()];
    for _ in 0..ROUNDS {
        for ((_, f), best) in subjects.iter_mut().zip(&mut best) {
            let start = Instant::now();
            f();
            *best = (*best).min(start.elapsed());
        }
    }
    subjects
        .iter()
        .zip(best)
        .map(|((name, _), best)| {
            let rate = bytes as f64 / best.as_secs_f64();
            println!(
                "{name:<32} {:>9.2} ms {:>9.1} MB/s",
                best.as_secs_f64() * 1e3,
                rate / 1e6
            );
            rate
        })
        .collect()
}

fn total(docs: &[Vec<u8>]) -> usize {
    docs.iter().map(Vec::len).sum()
}

fn main() {
    let options = ReadOptions::default();
    let mut ratios = Vec::new();

    let qido = inputs::qido_json(10_000, SEED);
    println!("QIDO-RS answer: 10,000 studies, {} bytes", qido.len());
    // The client hands the response body over as `Bytes` (`read_bytes`, no copy), a buffer of
    // its own for each answer, which the result keeps (its strings share it) and frees with
    // it. So each read here gets a copy made before the clock starts. Reading one shared
    // buffer every time is a state no client is in, and it changes what is measured: nothing
    // large is ever freed, so glibc keeps its start-up thresholds and returns each dropped
    // result to the system, and the next read pays some 3,000 page faults to get it back
    // (12 ms a read instead of 7.5 here).
    let mut bodies: Vec<Bytes> = (0..=ROUNDS).map(|_| Bytes::from(qido.clone())).collect();
    let rates = throughputs(
        qido.len(),
        &mut [
            ("json_qido_10k", &mut || {
                let body = bodies.pop().unwrap();
                black_box(json::read_bytes(body, &options).unwrap());
            }),
            ("serde_ignored_any", &mut || {
                black_box(serde_json::from_slice::<serde::de::IgnoredAny>(&qido).unwrap());
            }),
        ],
    );
    let [subject, baseline] = rates[..] else {
        unreachable!()
    };
    // `read` from a borrowed slice copies it first into the buffer that the strings share.
    let from_slice = throughputs(
        qido.len(),
        &mut [("json_qido_10k_from_slice", &mut || {
            black_box(json::read(&qido, &options).unwrap());
        })],
    )[0];
    // For scale: what any owned document costs against skipping. serde_json's own `Value` (one
    // allocation per string, array and object, no DICOM checks) is the floor of a
    // general-purpose tree. Timed on its own: the many small blocks it allocates and frees
    // would leave the allocator and the caches in a state that the rounds after it pay for.
    let value = throughputs(
        qido.len(),
        &mut [("serde_json_value", &mut || {
            black_box(serde_json::from_slice::<serde_json::Value>(&qido).unwrap());
        })],
    )[0];
    ratios.push(("json_qido_10k", "serde_ignored_any", subject / baseline));
    ratios.push((
        "json_qido_10k_from_slice",
        "serde_ignored_any",
        from_slice / baseline,
    ));
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
        let rates = throughputs(
            total(&docs),
            &mut [
                (label, &mut || {
                    for doc in &docs {
                        black_box(json::read(doc, &options).unwrap());
                    }
                }),
                ("dicom_json", &mut || {
                    for doc in &docs {
                        black_box(dicom_json::from_slice::<InMemDicomObject>(doc).unwrap());
                    }
                }),
            ],
        );
        ratios.push((label, "dicom_json", rates[0] / rates[1]));
    }

    let docs = inputs::ct_xml(&series);
    println!(
        "CT metadata as XML, 2,000 documents: {} bytes",
        total(&docs)
    );
    let rates = throughputs(
        total(&docs),
        &mut [
            ("xml_metadata_ct", &mut || {
                for doc in &docs {
                    black_box(xml::read(doc, &options).unwrap());
                }
            }),
            ("quick_xml_events", &mut || {
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
            }),
        ],
    );
    ratios.push(("xml_metadata_ct", "quick_xml_events", rates[0] / rates[1]));

    println!();
    for (subject, baseline, ratio) in ratios {
        println!("RATIO {subject} vs {baseline}: {ratio:.3}");
    }
}
