//! The client against a real Orthanc with its DICOMweb plugin, started on a free loopback port.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use dicomweb_client::{Client, Error};
use dicomweb_core::request::Search;
use dicomweb_core::tags::{PATIENT_ID, SOP_INSTANCE_UID, STUDY_INSTANCE_UID};
use dicomweb_core::{Tag, Uid};
use test_support::orthanc::Orthanc;
use test_support::part10::{self, Instance};

const STUDY_A: &str = "1.2.826.0.1.3680043.10.999.1";
const STUDY_B: &str = "1.2.826.0.1.3680043.10.999.2";

fn orthanc_with_two_studies() -> Orthanc {
    let orthanc = Orthanc::start().unwrap();
    let instances = [
        (
            STUDY_A,
            "1.2.826.0.1.3680043.10.999.1.1",
            "1.2.826.0.1.3680043.10.999.1.1.1",
            "P-1",
            1,
        ),
        (
            STUDY_A,
            "1.2.826.0.1.3680043.10.999.1.1",
            "1.2.826.0.1.3680043.10.999.1.1.2",
            "P-1",
            2,
        ),
        (
            STUDY_A,
            "1.2.826.0.1.3680043.10.999.1.2",
            "1.2.826.0.1.3680043.10.999.1.2.1",
            "P-1",
            1,
        ),
        (
            STUDY_B,
            "1.2.826.0.1.3680043.10.999.2.1",
            "1.2.826.0.1.3680043.10.999.2.1.1",
            "P-2",
            1,
        ),
    ];
    for (study, series, sop, patient, number) in instances {
        let bytes = part10::instance(&Instance {
            patient_id: patient,
            patient_name: "DOE^JANE",
            study_uid: study,
            series_uid: series,
            sop_uid: sop,
            study_date: "20240102",
            instance_number: number,
        });
        orthanc
            .upload(&bytes)
            .unwrap_or_else(|e| panic!("{e}\n{}", orthanc.log()));
    }
    orthanc
}

fn uids(found: &[dicomweb_core::DataSet], tag: Tag) -> Vec<String> {
    let mut all: Vec<String> = found
        .iter()
        .filter_map(|d| d.string(tag).map(str::to_owned))
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn search_and_metadata_against_orthanc() {
    let orthanc = orthanc_with_two_studies();
    let client = Client::builder(orthanc.dicomweb_url()).build().unwrap();

    let all = client.search_for_studies(Search::studies()).await.unwrap();
    assert_eq!(uids(&all.data_sets, STUDY_INSTANCE_UID), [STUDY_A, STUDY_B]);

    let one = client
        .search_for_studies(Search::studies().matching("PatientID", "P-2").unwrap())
        .await
        .unwrap();
    assert_eq!(uids(&one.data_sets, STUDY_INSTANCE_UID), [STUDY_B]);
    assert_eq!(one.data_sets[0].string(PATIENT_ID), Some("P-2"));

    let page = client
        .search_for_studies(Search::studies().limit(1))
        .await
        .unwrap();
    assert_eq!(page.data_sets.len(), 1);

    let none = client
        .search_for_studies(Search::studies().matching("PatientID", "nobody").unwrap())
        .await
        .unwrap();
    assert!(none.data_sets.is_empty());

    let xml = client
        .search_for_studies(Search::studies().xml())
        .await
        .unwrap();
    assert_eq!(uids(&xml.data_sets, STUDY_INSTANCE_UID), [STUDY_A, STUDY_B]);

    let metadata = client
        .retrieve_study_metadata(&Uid::new(STUDY_A).unwrap())
        .await
        .unwrap();
    assert_eq!(
        uids(&metadata.data_sets, SOP_INSTANCE_UID),
        [
            "1.2.826.0.1.3680043.10.999.1.1.1",
            "1.2.826.0.1.3680043.10.999.1.1.2",
            "1.2.826.0.1.3680043.10.999.1.2.1"
        ]
    );

    // A study Orthanc does not have: its 404 becomes a typed status error.
    let missing = client
        .retrieve_study_metadata(&Uid::new("1.2.3.4.5.6.7").unwrap())
        .await
        .unwrap_err();
    match &missing {
        Error::Protocol(dicomweb_core::Error::Status(status)) => assert_eq!(status.status, 404),
        other => panic!("expected a 404 status error, got {other:?}"),
    }

    let wrong_level = client
        .search_for_studies(Search::series())
        .await
        .unwrap_err();
    assert!(
        wrong_level
            .to_string()
            .contains("expects a study-level search"),
        "{wrong_level}"
    );
}
