//! `dicomweb store` and `dicomweb retrieve` against a real Orthanc: a folder stored in
//! batches, instances retrieved byte for byte as Orthanc stored them, frames, rendered images
//! and bulk data; failures reported as they should be.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use support::{
    Spec, dicomweb, frame_bytes, one_line_error, orthanc_with, stored_file, success_json,
    write_instance,
};
use test_support::files::names;

#[test]
fn a_folder_is_stored_and_retrieved_byte_for_byte() {
    let orthanc = orthanc_with(&[]);
    let url = orthanc.dicomweb_url();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let specs: Vec<Spec> = (1..=5)
        .map(|n| Spec::new("P1", 1, 1 + n % 2, n))
        .chain([Spec::new("P2", 2, 1, 1)])
        .collect();
    // Nested folders, and a file named on the command line.
    write_instance(&input, "1.dcm", &specs[0]);
    write_instance(&input.join("a"), "2.dcm", &specs[1]);
    write_instance(&input.join("a"), "3", &specs[2]);
    write_instance(&input.join("a/b"), "4.dcm", &specs[3]);
    write_instance(&input.join("a/b"), "5.dcm", &specs[4]);
    write_instance(dir.path(), "other.dcm", &specs[5]);
    let other = dir.path().join("other.dcm");

    let output = dicomweb(&[
        "--url",
        &url,
        "store",
        input.to_str().unwrap(),
        other.to_str().unwrap(),
        "--batch-instances",
        "2",
        "--batch-bytes",
        "1MiB",
        "--concurrency",
        "2",
    ]);
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = success_json(&output);
    assert_eq!(summary["stored"], 6, "{summary}");
    assert_eq!(summary["failed"], serde_json::json!([]), "{summary}");
    assert_eq!(summary["requests"], 3, "{summary}");
    let sizes: u64 = specs
        .iter()
        .map(|s| support::instance(s).len() as u64)
        .sum();
    assert_eq!(summary["bytes"], sizes, "{summary}");
    for spec in &specs {
        assert_eq!(
            stored_file(&orthanc, &spec.sop),
            Some(support::instance(spec))
        );
    }

    // The whole study, then a series, then one instance: files named by SOP Instance UID,
    // identical to what Orthanc stored, and nothing else in the folder.
    let check = |out: &Path, expected: &[&Spec], args: &[&str]| {
        let mut all = vec!["--url", url.as_str(), "retrieve", "instances"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--out", out.to_str().unwrap()]);
        let summary = success_json(&dicomweb(&all));
        assert_eq!(summary["retrieved"], expected.len(), "{summary}");
        let mut wanted: Vec<String> = expected.iter().map(|s| format!("{}.dcm", s.sop)).collect();
        wanted.sort();
        assert_eq!(names(out), wanted);
        let mut total = 0;
        for spec in expected {
            let bytes = std::fs::read(out.join(format!("{}.dcm", spec.sop))).unwrap();
            assert_eq!(Some(&bytes), stored_file(&orthanc, &spec.sop).as_ref());
            total += bytes.len();
        }
        assert_eq!(summary["bytes"], total);
    };
    let study: Vec<&Spec> = specs[..5].iter().collect();
    check(
        &dir.path().join("study"),
        &study,
        &["--study", &specs[0].study],
    );
    let series: Vec<&Spec> = specs[..5]
        .iter()
        .filter(|s| s.series == specs[0].series)
        .collect();
    assert_eq!(series.len(), 3);
    check(
        &dir.path().join("series"),
        &series,
        &[
            "--study",
            &specs[0].study,
            "--series",
            &specs[0].series,
            "--quiet",
        ],
    );
    check(
        &dir.path().join("one"),
        &[&specs[5]],
        &[
            "--study",
            &specs[5].study,
            "--series",
            &specs[5].series,
            "--instance",
            &specs[5].sop,
            "--transfer-syntax",
            "*",
        ],
    );

    // A study Orthanc does not have: one line, and no file.
    let missing = dir.path().join("missing");
    let output = dicomweb(&[
        "--url",
        &url,
        "retrieve",
        "instances",
        "--study",
        "1.2.3.999",
        "--out",
        missing.to_str().unwrap(),
    ]);
    let line = one_line_error(&output);
    assert!(line.contains("404"), "{line}");
    assert!(!missing.exists() || names(&missing).is_empty());
}

#[test]
fn files_that_cannot_be_stored_are_reported() {
    let orthanc = orthanc_with(&[]);
    let url = orthanc.dicomweb_url();
    let dir = tempfile::tempdir().unwrap();
    let good = Spec::new("P5", 5, 1, 1);
    write_instance(dir.path(), "good.dcm", &good);
    std::fs::write(dir.path().join("notes.txt"), b"not a DICOM file").unwrap();

    let output = dicomweb(&["--url", &url, "store", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(
        stderr,
        "dicomweb: 1 of 2 files were not stored (see the summary)\n"
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["stored"], 1, "{summary}");
    let failed = summary["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{summary}");
    assert!(
        failed[0]["path"].as_str().unwrap().ends_with("notes.txt"),
        "{summary}"
    );
    assert!(
        !failed[0]["reason"].as_str().unwrap().is_empty(),
        "{summary}"
    );
    assert!(stored_file(&orthanc, &good.sop).is_some());

    // Into another study: Orthanc refuses the instance, with a reason.
    let output = dicomweb(&[
        "--url",
        &url,
        "store",
        "--study",
        "1.2.3.4.5",
        dir.path().join("good.dcm").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["stored"], 0, "{summary}");
    assert_eq!(
        summary["failed"][0]["sop_instance_uid"],
        good.sop.as_str(),
        "{summary}"
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let line = one_line_error(&dicomweb(&[
        "--url",
        &url,
        "store",
        empty.to_str().unwrap(),
    ]));
    assert!(line.contains("no files to store"), "{line}");
}

#[test]
fn frames_rendered_images_and_bulk_data() {
    let mut spec = Spec::new("P6", 6, 1, 1);
    spec.frames = 3;
    let orthanc = orthanc_with(std::slice::from_ref(&spec));
    let url = orthanc.dicomweb_url();
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let instance = [
        "--study",
        spec.study.as_str(),
        "--series",
        spec.series.as_str(),
        "--instance",
        spec.sop.as_str(),
    ];
    let run = |args: &[&str]| {
        let mut all = vec!["--url", url.as_str(), "retrieve"];
        all.extend_from_slice(args);
        dicomweb(&all)
    };

    // Frames, in the order asked, as stored.
    let frames = out("frames");
    let summary = success_json(&run(&[
        &["frames"],
        &instance[..],
        &["--frames", "3,1", "--out", &frames],
    ]
    .concat()));
    assert_eq!(summary["files"].as_array().unwrap().len(), 2, "{summary}");
    assert_eq!(names(Path::new(&frames)), ["frame-1.bin", "frame-3.bin"]);
    assert_eq!(
        std::fs::read(Path::new(&frames).join("frame-3.bin")).unwrap(),
        frame_bytes(3)
    );
    assert_eq!(
        std::fs::read(Path::new(&frames).join("frame-1.bin")).unwrap(),
        frame_bytes(1)
    );
    let line = one_line_error(&run(&[
        &["frames"],
        &instance[..],
        &["--frames", "0", "--out", &frames],
    ]
    .concat()));
    assert!(line.contains("frame numbers start at 1"), "{line}");

    // Rendered: JPEG by default, PNG when asked, with rendering options.
    let jpeg = out("instance.jpg");
    success_json(&run(&[
        &["rendered"],
        &instance[..],
        &["--out", &jpeg, "--viewport", "8,8", "--quality", "80"],
    ]
    .concat()));
    assert_eq!(&std::fs::read(&jpeg).unwrap()[..3], b"\xFF\xD8\xFF");
    let png = out("frame.png");
    let summary = success_json(&run(&[
        &["rendered"],
        &instance[..],
        &[
            "--frames",
            "2",
            "--media-type",
            "image/png",
            "--window",
            "128,256,linear",
            "--out",
            &png,
        ],
    ]
    .concat()));
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    assert_eq!(summary["files"][0]["path"], png.as_str());
    let line = one_line_error(&run(&[
        "rendered",
        "--study",
        &spec.study,
        "--frames",
        "1",
        "--out",
        &png,
    ]));
    assert!(line.contains("--instance"), "{line}");

    // Bulk data, by the BulkDataURI the metadata gives.
    let metadata = success_json(&run(&[&["metadata"], &instance[..]].concat()));
    let uri = metadata[0]["7FE00010"]["BulkDataURI"]
        .as_str()
        .unwrap()
        .to_owned();
    let pixels = out("pixels.raw");
    success_json(&run(&["bulkdata", "--uri", &uri, "--out", &pixels]));
    let all: Vec<u8> = (1..=3).flat_map(frame_bytes).collect();
    assert_eq!(std::fs::read(&pixels).unwrap(), all);
    let line = one_line_error(&run(&[
        "bulkdata",
        "--uri",
        "http://elsewhere.example/bulk/1",
        "--out",
        &pixels,
    ]));
    assert!(line.contains("elsewhere.example"), "{line}");
}
