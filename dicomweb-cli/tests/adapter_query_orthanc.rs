//! `dicomweb adapter` between dcmtk's tools and a real Orthanc, querying and retrieving:
//! `findscu` at each level of both models with wildcards, ranges, UID lists and a cancel;
//! `movescu` to a `storescp` named in the modalities file, at study and series level, and to an
//! unknown destination (A801); `getscu` of a study back over its own association. What arrives
//! is compared data set by data set with what Orthanc holds.

#![allow(clippy::unwrap_used)]

mod support;

use support::dimse::*;
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

#[test]
fn find_at_each_level_with_wildcards_ranges_and_cancel() {
    let orthanc = Orthanc::start().unwrap();
    let first = StudySpec {
        series: 2,
        instances_per_series: 3,
        ..StudySpec::new(31)
    };
    let second = StudySpec {
        series: 1,
        instances_per_series: 1,
        study_date: "20190615".into(),
        ..StudySpec::new(32)
    };
    for spec in [&first, &second] {
        for instance in spec.instances() {
            orthanc.upload(&instance.bytes).unwrap();
        }
    }
    let state = tempfile::tempdir().unwrap();
    let adapter = AdapterProcess::start(
        &orthanc.dicomweb_url(),
        &state.path().join("state"),
        free_port(),
        &[],
    );

    // STUDY: a wildcard; a return key Orthanc does not give comes back empty. (Not on a
    // person name: the core percent-encodes `^`, which Orthanc does not decode.)
    let (found, last) = find(
        &adapter,
        "-S",
        &[
            "QueryRetrieveLevel=STUDY",
            "PatientID=PAT-3*",
            "PatientName",
            "StudyInstanceUID",
            "InstitutionName",
            "RetrieveAETitle",
        ],
        &[],
    );
    assert!(last.contains("Success"), "{last}");
    assert_eq!(found.len(), 2, "{found:?}");
    for dump in &found {
        assert!(
            dump.contains("(0008,0080) LO (no value available)"),
            "{dump}"
        );
        assert_eq!(value_of(dump, "0008,0054").as_deref(), Some(AET), "{dump}");
    }
    // A date range, and a UID list.
    let (found, _) = find(
        &adapter,
        "-S",
        &[
            "QueryRetrieveLevel=STUDY",
            "StudyDate=20190101-20191231",
            "StudyInstanceUID",
        ],
        &[],
    );
    assert_eq!(found.len(), 1);
    assert_eq!(value_of(&found[0], "0020,000d"), Some(second.study_uid()));
    let list = format!(
        "StudyInstanceUID={}\\{}",
        first.study_uid(),
        second.study_uid()
    );
    let (found, _) = find(&adapter, "-S", &["QueryRetrieveLevel=STUDY", &list], &[]);
    assert_eq!(found.len(), 2);

    // SERIES and IMAGE, hierarchical below the study.
    let study = format!("StudyInstanceUID={}", first.study_uid());
    let (found, _) = find(
        &adapter,
        "-S",
        &[
            "QueryRetrieveLevel=SERIES",
            &study,
            "SeriesInstanceUID",
            "Modality=O*",
        ],
        &[],
    );
    let mut series: Vec<String> = found
        .iter()
        .filter_map(|d| value_of(d, "0020,000e"))
        .collect();
    series.sort();
    let mut expected = vec![first.series_uid(1), first.series_uid(2)];
    expected.sort();
    assert_eq!(series, expected);
    let one_series = format!("SeriesInstanceUID={}", first.series_uid(2));
    let (found, _) = find(
        &adapter,
        "-S",
        &[
            "QueryRetrieveLevel=IMAGE",
            &study,
            &one_series,
            "SOPInstanceUID",
        ],
        &[],
    );
    let mut instances: Vec<String> = found
        .iter()
        .filter_map(|d| value_of(d, "0008,0018"))
        .collect();
    instances.sort();
    let mut expected: Vec<String> = (1..=3).map(|n| first.sop_instance_uid(2, n)).collect();
    expected.sort();
    assert_eq!(instances, expected);

    // PATIENT level of the Patient Root model: one response per patient.
    let (found, _) = find(
        &adapter,
        "-P",
        &["QueryRetrieveLevel=PATIENT", "PatientID", "PatientName"],
        &[],
    );
    let mut patients: Vec<String> = found
        .iter()
        .filter_map(|d| value_of(d, "0010,0020"))
        .collect();
    patients.sort();
    assert_eq!(patients, ["PAT-31", "PAT-32"]);

    // A level that does not exist: A900. A cancel after the first match: FE00.
    let (found, last) = find(&adapter, "-S", &["QueryRetrieveLevel=FRAME"], &[]);
    assert!(found.is_empty(), "{found:?}");
    assert!(last.contains("DataSetDoesNotMatchSOPClass"), "{last}");
    let (found, last) = find(
        &adapter,
        "-S",
        &["QueryRetrieveLevel=IMAGE", "SOPInstanceUID"],
        &["--cancel", "1"],
    );
    assert!(found.len() < 7, "{}", found.len());
    assert!(last.contains("Cancel"), "{last}");
}

#[test]
fn move_to_a_known_modality_and_get_back_over_the_association() {
    let orthanc = Orthanc::start().unwrap();
    let spec = StudySpec {
        series: 2,
        instances_per_series: 3,
        ..StudySpec::new(41)
    };
    let expected = upload_study(&orthanc, &spec);
    // dcmtk's storescp is the move destination, named in a modalities file.
    let received = tempfile::tempdir().unwrap();
    let (mut scp, scp_port) = storescp(received.path());
    let config = tempfile::tempdir().unwrap();
    let modalities = config.path().join("orthanc.json");
    std::fs::write(
        &modalities,
        format!(r#"{{ "DicomModalities": {{ "dest": ["DEST", "127.0.0.1", {scp_port}] }} }}"#),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let adapter = AdapterProcess::start(
        &orthanc.dicomweb_url(),
        &state.path().join("state"),
        free_port(),
        &["--modalities", modalities.to_str().unwrap()],
    );
    let study = format!("StudyInstanceUID={}", spec.study_uid());
    let mv = |destination: &str, keys: &[&str]| {
        let mut command = dcmtk("movescu");
        command.args([
            "-v",
            "-S",
            "-aet",
            "MOVER",
            "-aec",
            AET,
            "-aem",
            destination,
        ]);
        for key in keys {
            command.args(["-k", key]);
        }
        text(&run(command.args(["127.0.0.1", &adapter.port()])))
    };

    let said = mv("DEST", &["QueryRetrieveLevel=STUDY", &study]);
    assert!(
        said.contains("Received Final Move Response (Success)"),
        "{said}\n{}",
        adapter.log()
    );
    assert!(
        said.contains("Received Move Response 6 (Pending)") || said.contains("Pending"),
        "{said}"
    );
    assert_eq!(data_sets_in(received.path()), expected);

    // One series; then a destination nobody knows.
    for entry in std::fs::read_dir(received.path()).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let series = format!("SeriesInstanceUID={}", spec.series_uid(1));
    let said = mv("DEST", &["QueryRetrieveLevel=SERIES", &study, &series]);
    assert!(said.contains("(Success)"), "{said}");
    assert_eq!(data_sets_in(received.path()).len(), 3);
    let said = mv("NOBODY", &["QueryRetrieveLevel=STUDY", &study]);
    assert!(said.contains("MoveDestinationUnknown"), "{said}");
    let _ = scp.kill();
    let _ = scp.wait();

    // C-GET: the same study back over the requesting association.
    let got = tempfile::tempdir().unwrap();
    let said = text(&run(dcmtk("getscu")
        .args(["-v", "-S", "-aet", "GETTER", "-aec", AET, "-od"])
        .arg(got.path())
        .args([
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            &study,
            "127.0.0.1",
            &adapter.port(),
        ])));
    assert!(
        said.contains("Number of Completed Suboperations : 6"),
        "{said}\n{}",
        adapter.log()
    );
    assert!(
        said.contains("Number of Failed Suboperations    : 0"),
        "{said}"
    );
    assert_eq!(data_sets_in(got.path()), expected);
}
