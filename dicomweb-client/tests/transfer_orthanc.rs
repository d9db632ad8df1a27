//! Store, retrieve, frames, rendered and delete against a real Orthanc with its DICOMweb plugin
//! (started on a free loopback port with its own folder), with a generated multi-frame study.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use dicomweb_client::{Client, RetrieveOptions, StoreOptions};
use dicomweb_core::Uid;
use dicomweb_core::request::{
    RetrieveFrames, RetrieveInstances, RetrieveMetadata, RetrieveRendered, Search, Target,
};
use dicomweb_core::tags::{NUMBER_OF_FRAMES, SOP_INSTANCE_UID};
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

fn spec() -> StudySpec {
    StudySpec {
        series: 2,
        instances_per_series: 4,
        rows: 32,
        columns: 48,
        frames: 3,
        ..StudySpec::new(7)
    }
}

async fn stored_study(orthanc: &Orthanc, dir: &Path) -> (Client, Vec<PathBuf>) {
    let files = spec().write_to(dir).unwrap();
    let client = Client::builder(orthanc.dicomweb_url()).build().unwrap();
    let options = StoreOptions::default().batch_instances(3).concurrency(2);
    let summary = client.store_files(&files, &options).await.unwrap();
    assert!(summary.is_success(), "{:?}", summary.failed);
    assert_eq!(summary.stored.len(), files.len());
    assert_eq!(summary.requests, 3);
    (client, files)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_instances_come_back_byte_identical() {
    let orthanc = Orthanc::start().unwrap();
    let source = tempfile::tempdir().unwrap();
    let (client, files) = stored_study(&orthanc, source.path()).await;
    let study = Uid::new(spec().study_uid()).unwrap();

    let found = client
        .search_all(Search::instances_of_study(study.clone()).limit(3), 1000)
        .await
        .unwrap();
    assert_eq!(
        found.data_sets.len(),
        files.len(),
        "three pages of 3, 3 and 2"
    );

    let out = tempfile::tempdir().unwrap();
    let summary = client
        .retrieve_instances_to_dir(&RetrieveInstances::new(Target::study(study)), out.path())
        .await
        .unwrap();
    assert_eq!(summary.files.len(), files.len());
    for file in &files {
        let name = file.file_name().unwrap();
        let ours = std::fs::read(out.path().join(name)).unwrap();
        assert_eq!(ours, std::fs::read(file).unwrap(), "{name:?} as stored");
        let sop = name.to_str().unwrap().trim_end_matches(".dcm");
        assert_eq!(
            ours,
            orthanc.stored_file(sop).unwrap().unwrap(),
            "{name:?} as Orthanc keeps it"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| !n.to_string_lossy().ends_with(".dcm"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_rendered_and_metadata_of_a_multi_frame_instance() {
    let orthanc = Orthanc::start().unwrap();
    let source = tempfile::tempdir().unwrap();
    let (client, _) = stored_study(&orthanc, source.path()).await;
    let spec = spec();
    let study = Uid::new(spec.study_uid()).unwrap();
    let series = Uid::new(spec.series_uid(1)).unwrap();
    let sop = Uid::new(spec.sop_instance_uid(1, 2)).unwrap();
    let instance = spec
        .instances()
        .find(|i| i.sop_instance_uid == sop.as_str())
        .unwrap();

    // Frames 3 and 1, in that order: each is rows × columns × 2 bytes of the pixel data,
    // which ends the file.
    let frame_len = usize::from(spec.rows) * usize::from(spec.columns) * 2;
    let pixels = &instance.bytes[instance.bytes.len() - frame_len * spec.frames as usize..];
    let request = RetrieveFrames::new(study.clone(), series.clone(), sop.clone(), [3, 1]).unwrap();
    let mut parts = client.retrieve_frames(&request).await.unwrap();
    let mut frames = Vec::new();
    while parts.next_part().await.unwrap().is_some() {
        frames.push(parts.part_bytes(1 << 20).await.unwrap());
    }
    assert_eq!(frames.len(), 2);
    assert_eq!(&frames[0][..], &pixels[2 * frame_len..]);
    assert_eq!(&frames[1][..], &pixels[..frame_len]);

    // A rendered frame is an image (JPEG by default).
    let target = Target::instance(study.clone(), series.clone(), sop.clone());
    let mut rendered = client
        .retrieve_rendered(&RetrieveRendered::new(target.clone()))
        .await
        .unwrap();
    let head = rendered.next_part().await.unwrap().unwrap();
    let image = rendered.part_bytes(1 << 24).await.unwrap();
    let kind = head.content_type().unwrap().map(|t| t.to_string());
    assert!(
        image.starts_with(&[0xFF, 0xD8]) || image.starts_with(b"\x89PNG"),
        "{kind:?}: {:02X?}",
        &image[..image.len().min(8)]
    );
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("frame.jpg");
    let mut again = client
        .retrieve_rendered(&RetrieveRendered::new(target.clone()))
        .await
        .unwrap();
    again.next_part().await.unwrap().unwrap();
    assert_eq!(again.save_part(&saved).await.unwrap(), image.len() as u64);
    assert_eq!(std::fs::read(&saved).unwrap(), image);

    // Metadata as JSON and as XML say the same.
    let json = client
        .retrieve_metadata(&RetrieveMetadata::new(target.clone()))
        .await
        .unwrap();
    let xml = client
        .retrieve_metadata(&RetrieveMetadata::new(target).xml())
        .await
        .unwrap();
    assert_eq!(json.data_sets.len(), 1);
    assert_eq!(
        json.data_sets[0].string(SOP_INSTANCE_UID),
        Some(sop.as_str())
    );
    assert_eq!(
        json.data_sets[0].get(NUMBER_OF_FRAMES),
        xml.data_sets[0].get(NUMBER_OF_FRAMES)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_study_and_delete_give_the_servers_status() {
    let orthanc = Orthanc::start().unwrap();
    let client = Client::builder(orthanc.dicomweb_url()).build().unwrap();
    let missing = Uid::new("1.2.3.4.5.6.7.8.9").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let error = client
        .retrieve_instances_to_dir(
            &RetrieveInstances::new(Target::study(missing.clone())),
            dir.path(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("404"), "{error}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // Orthanc 1.10's DICOMweb plugin has no DELETE (its REST API does); the status comes
    // through as an error, not as success.
    let error = client
        .delete(Target::study(missing))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("405") || error.contains("404"), "{error}");
}

/// A study of one series, retrieved with several requests allowed at once: its first instance
/// alone, then the others (in ranges or in one request, as the first one's timing says), each
/// file once and as stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_series_with_several_requests_at_once_comes_back_byte_for_byte() {
    let orthanc = Orthanc::start().unwrap();
    let source = tempfile::tempdir().unwrap();
    let spec = StudySpec {
        series: 1,
        instances_per_series: 7,
        rows: 384,
        columns: 384,
        frames: 1,
        ..StudySpec::new(11)
    };
    assert!(spec.instance_bytes() > 256 * 1024);
    let files = spec.write_to(source.path()).unwrap();
    let client = Client::builder(orthanc.dicomweb_url()).build().unwrap();
    let stored = client
        .store_files(&files, &StoreOptions::default())
        .await
        .unwrap();
    assert!(stored.is_success(), "{:?}", stored.failed);

    let out = tempfile::tempdir().unwrap();
    let study = Uid::new(spec.study_uid()).unwrap();
    let summary = client
        .retrieve_instances_to_dir_with(
            &RetrieveInstances::new(Target::study(study)),
            out.path(),
            &RetrieveOptions::new().concurrency(3),
        )
        .await
        .unwrap();
    assert_eq!(summary.files.len(), files.len());
    let mut uids: Vec<&str> = summary
        .files
        .iter()
        .map(|f| f.sop_instance_uid.as_str())
        .collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), files.len(), "each instance once");
    for file in &files {
        let name = file.file_name().unwrap();
        let ours = std::fs::read(out.path().join(name)).unwrap();
        assert_eq!(ours, std::fs::read(file).unwrap(), "{name:?} as stored");
    }
}
