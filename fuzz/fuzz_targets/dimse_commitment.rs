//! Storage Commitment Requests as a peer sends them (an N-ACTION's Action Information, in
//! Implicit or Explicit VR Little Endian, the first byte choosing): reading never panics;
//! what reads as a request gives, for any outcomes, an Event Information that encodes and
//! reads back to the same transaction and outcomes.

#![no_main]

use dicomweb_dimse::commitment::report::{Outcome, event_report, read_event_information};
use dicomweb_dimse::commitment::request::parse;
use dicomweb_dimse::find::{read_identifier, write_identifier};
use dicomweb_dimse::sop_classes::STORAGE_COMMITMENT_PUSH_MODEL;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else {
        return;
    };
    let syntax = if choice & 1 == 0 {
        "1.2.840.10008.1.2"
    } else {
        "1.2.840.10008.1.2.1"
    };
    let Ok(request) = parse(bytes, syntax) else {
        return;
    };
    assert!(!request.references.is_empty());
    // Outcomes from the input's bits: committed, or failed with a reason.
    let outcomes: Vec<_> = request
        .references
        .iter()
        .enumerate()
        .map(|(i, reference)| {
            let bit = bytes.get(i % bytes.len().max(1)).copied().unwrap_or(0) & 1;
            let outcome = if bit == 0 {
                Outcome::Committed
            } else {
                Outcome::Failed(0x0112)
            };
            (reference.clone(), outcome)
        })
        .collect();
    let report = event_report(&request.transaction_uid, &outcomes, Some("FUZZ"));
    let encoded = write_identifier(&report.information, STORAGE_COMMITMENT_PUSH_MODEL, syntax)
        .expect("an event report encodes");
    let read = read_identifier(&encoded, STORAGE_COMMITMENT_PUSH_MODEL, syntax)
        .expect("an event report reads back");
    let (transaction, mut read_outcomes) =
        read_event_information(&read).expect("an event report's information reads back");
    assert_eq!(transaction, request.transaction_uid);
    // Read back committed first, then failed.
    let mut expected = outcomes;
    expected.sort_by_key(|(_, outcome)| *outcome != Outcome::Committed);
    read_outcomes.sort_by_key(|(_, outcome)| *outcome != Outcome::Committed);
    assert_eq!(read_outcomes, expected);
});
