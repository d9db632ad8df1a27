//! The public C-STORE SCU against the adapter itself (in-process, its DICOMweb server down so
//! the spool keeps what arrives): files sent one by one arrive with the very data set sent;
//! an instance of a SOP class that was not negotiated fails alone and the association goes on.

#![allow(clippy::unwrap_used)]

mod common;

use dicomweb_core::file_meta::FileMeta;
use dicomweb_dimse::scu::{FileChunks, SubOutcome};
use test_support::study::StudySpec;

fn data_set(bytes: &[u8]) -> Vec<u8> {
    let meta = FileMeta::read(bytes).unwrap().unwrap();
    bytes[meta.data_set_offset..].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_arrive_as_sent_and_a_refusal_stays_alone() {
    let state = tempfile::tempdir().unwrap();
    let builder = common::builder(common::client_of_nobody(), state.path());
    let (address, stop, task) = common::start(&builder).await;

    let files_dir = tempfile::tempdir().unwrap();
    let files = StudySpec {
        series: 1,
        instances_per_series: 2,
        ..StudySpec::new(81)
    }
    .write_to(files_dir.path())
    .unwrap();
    let multi_frame = StudySpec {
        series: 1,
        instances_per_series: 1,
        frames: 2,
        ..StudySpec::new(82)
    }
    .write_to(files_dir.path())
    .unwrap();

    // Only single-frame Secondary Capture is proposed.
    let mut scu = common::sender(address).await;
    common::store_each(&mut scu, &files).await;
    let outcome = scu
        .store(&mut FileChunks::open(&multi_frame[0]).await.unwrap())
        .await
        .unwrap();
    assert!(
        matches!(&outcome, SubOutcome::Failed(reason) if reason.contains("no accepted presentation context")),
        "{outcome:?}"
    );
    let outcome = scu
        .store(&mut FileChunks::open(&files[0]).await.unwrap())
        .await
        .unwrap();
    assert_eq!(outcome, SubOutcome::Completed);
    scu.release().await.unwrap();

    let mut spooled: Vec<Vec<u8>> = std::fs::read_dir(state.path().join("spool"))
        .unwrap()
        .map(|e| data_set(&std::fs::read(e.unwrap().path()).unwrap()))
        .collect();
    let mut sent: Vec<Vec<u8>> = [&files[0], &files[1], &files[0]]
        .iter()
        .map(|f| data_set(&std::fs::read(f).unwrap()))
        .collect();
    spooled.sort();
    sent.sort();
    assert!(
        spooled == sent,
        "the spooled data sets differ from those sent"
    );
    stop.send(()).unwrap();
    task.await.unwrap();
}
