//! `dicomweb transfer --to` a DICOM device: from a real Orthanc's DICOMweb side to dcmtk's
//! `storescp` by C-STORE, the device named in `--config`'s `DicomModalities` or given as
//! `dimse://AET@host:port`, as the same persistent job as other transfers. Every data set
//! arrives as stored; a name that is no device and no server fails naming the file.

#![allow(clippy::unwrap_used)]

mod support;

use support::dimse::{data_sets_in, storescp, upload_study};
use support::{dicomweb, one_line_error, success_json};
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;

#[test]
fn a_study_and_a_series_go_to_a_dicom_device_by_c_store() {
    let orthanc = Orthanc::start().unwrap();
    let spec = StudySpec {
        series: 2,
        instances_per_series: 3,
        ..StudySpec::new(43)
    };
    let expected = upload_study(&orthanc, &spec);
    let received = tempfile::tempdir().unwrap();
    let (mut scp, port) = storescp(received.path());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("orthanc.json");
    std::fs::write(
        &config,
        format!(
            r#"{{ "DicomModalities": {{ "dest": {{ "AET": "DEST", "Host": "127.0.0.1", "Port": {port} }} }} }}"#
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let transfer = |to: &str, what: &[&str]| {
        let mut args = vec![
            "--quiet",
            "--config",
            config.to_str().unwrap(),
            "transfer",
            "--from",
        ];
        let url = orthanc.dicomweb_url();
        args.extend([url.as_str(), "--to", to, "--batch", "4"]);
        args.extend(what);
        args.extend(["--state", state.to_str().unwrap()]);
        dicomweb(&args)
    };

    let study = spec.study_uid();
    let records = success_json(&transfer("dest", &["--study", &study]));
    assert_eq!(records[0]["State"], "Success", "{records}");
    assert_eq!(records[0]["Type"], "DicomModalityTransfer", "{records}");
    assert_eq!(records[0]["Content"]["Destination"], "dest", "{records}");
    assert_eq!(records[0]["Content"]["Sent"], 6, "{records}");
    assert_eq!(data_sets_in(received.path()), expected);

    // One series, to the device given by URL.
    for entry in std::fs::read_dir(received.path()).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let series = spec.series_uid(1);
    let device = format!("dimse://DEST@127.0.0.1:{port}");
    let records = success_json(&transfer(&device, &["--series", &series]));
    assert_eq!(records[0]["State"], "Success", "{records}");
    let got = data_sets_in(received.path());
    assert_eq!(got.len(), 3);
    for (sop, data_set) in &got {
        assert_eq!(expected.get(sop), Some(data_set), "{sop}");
    }

    // Neither a device nor a server: the error names the file.
    let failed = transfer("nobody", &["--study", &study]);
    let error = one_line_error(&failed);
    assert!(
        error.contains("\"nobody\"") && error.contains("orthanc.json"),
        "{error}"
    );
    let _ = scp.kill();
    let _ = scp.wait();
}
