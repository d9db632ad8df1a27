//! One pass of each reader of the `json_xml` bench over the same inputs, for instruction counts
//! per document: `valgrind --tool=callgrind --toggle-collect='json_xml_profile::measured*'
//! target/release/examples/json_xml_profile SUBJECT [ROUNDS]`, then `callgrind_annotate`.
//!
//! SUBJECT is one of `qido` (`json::read_bytes` of the 10,000-study QIDO-RS answer),
//! `ignored_any` (serde_json skipping it), `json_ct` (`json::read` of 2,000 CT metadata
//! documents), `xml_ct` (`xml::read` of the same as XML) and `quick_xml` (a bare quick-xml
//! event loop over them).

// A profiling driver stops on the first error: panicking with it is the report.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use bytes::Bytes;
use dicomweb_benches::inputs;
use dicomweb_core::{ReadOptions, json, xml};
use quick_xml::Reader;
use quick_xml::events::Event;

const SEED: u64 = 0x5EED_0000_D1C0_0002;

fn main() {
    let mut args = std::env::args().skip(1);
    let subject = args.next().unwrap_or_default();
    let rounds: usize = args.next().map_or(1, |n| n.parse().unwrap());
    let options = ReadOptions::default();
    match subject.as_str() {
        "qido" | "ignored_any" => {
            let qido = Bytes::from(inputs::qido_json(10_000, SEED));
            measured(rounds, &mut || {
                if subject == "qido" {
                    drop(black_box(json::read_bytes(qido.clone(), &options).unwrap()));
                } else {
                    black_box(serde_json::from_slice::<serde::de::IgnoredAny>(&qido).unwrap());
                }
            });
        }
        "json_ct" => {
            let docs = inputs::ct_json(&inputs::ct_series(2_000, SEED), false);
            measured(rounds, &mut || {
                for doc in &docs {
                    drop(black_box(json::read(doc, &options).unwrap()));
                }
            });
        }
        "xml_ct" | "quick_xml" => {
            let docs = inputs::ct_xml(&inputs::ct_series(2_000, SEED));
            measured(rounds, &mut || {
                for doc in &docs {
                    if subject == "xml_ct" {
                        drop(black_box(xml::read(doc, &options).unwrap()));
                    } else {
                        let mut reader = Reader::from_reader(doc.as_slice());
                        while !matches!(black_box(reader.read_event().unwrap()), Event::Eof) {}
                    }
                }
            });
        }
        _ => {
            eprintln!("usage: json_xml_profile qido|ignored_any|json_ct|xml_ct|quick_xml");
            std::process::exit(2);
        }
    }
}

/// The part that callgrind counts.
#[inline(never)]
fn measured(rounds: usize, run: &mut dyn FnMut()) {
    for _ in 0..rounds {
        run();
    }
}
