//! Streaming retrieve to disk and STOW-RS from files, against stand-in servers on loopback that
//! send awkward but legal multipart, cut bodies short, fail with 503 and refuse instances.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use dicomweb_client::{Client, RetrieveOptions, RetrieveSummary, RetryPolicy, StoreOptions};
use dicomweb_core::Uid;
use dicomweb_core::multipart::{BodyDecoder, MultipartLimits};
use dicomweb_core::request::{RetrieveInstances, Target};
use test_support::files::names;
use test_support::standin::{Action, Read, Recorded, StandIn, reply, serve, serve_with};

/// A small Part 10 file: preamble, `DICM`, a meta group with its length and the SOP Instance
/// UID, then `payload` bytes standing in for the data set.
fn fake_instance(uid: &str, payload: usize) -> Vec<u8> {
    let mut value = uid.as_bytes().to_vec();
    if value.len() % 2 == 1 {
        value.push(0);
    }
    let mut group = Vec::new();
    group.extend_from_slice(&[0x02, 0x00, 0x03, 0x00, b'U', b'I']);
    group.extend_from_slice(&(value.len() as u16).to_le_bytes());
    group.extend_from_slice(&value);
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    out.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0]);
    out.extend_from_slice(&(group.len() as u32).to_le_bytes());
    out.extend_from_slice(&group);
    out.extend((0..payload).map(|i| (i * 7 + uid.len()) as u8));
    out
}

fn client(url: String) -> Client {
    Client::builder(url)
        .retry(
            RetryPolicy::default()
                .with_max_retries(2)
                .with_backoff(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .build()
        .unwrap()
}

fn study() -> RetrieveInstances {
    RetrieveInstances::new(Target::study(Uid::new("1.2.3").unwrap()))
}

/// A multipart body the way RFC 2046 allows but few servers write it: a preamble, a quoted
/// boundary with a space, transport padding after delimiters, lower-case header names, no
/// final CRLF after the close delimiter.
fn awkward_multipart(parts: &[Vec<u8>]) -> (String, Vec<u8>) {
    let boundary = "a b'()+_,-./:=?";
    let mut body = b"This is the preamble.\r\n".to_vec();
    for part in parts {
        body.extend_from_slice(
            format!("--{boundary}  \t\r\ncontent-type:application/dicom\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(part);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--").as_bytes());
    let content_type =
        format!("multipart/related; boundary=\"{boundary}\"; type=\"application/dicom\"");
    (content_type, body)
}

/// A 200 reply of `parts` as [`awkward_multipart`].
fn multipart_reply(parts: &[Vec<u8>]) -> Vec<Action> {
    let (content_type, body) = awkward_multipart(parts);
    vec![Action::Write(reply(
        "200 OK",
        &[("content-type", &content_type)],
        &body,
    ))]
}

/// A stand-in answering every request with 200, this content type and body.
async fn answer_always(content_type: String, body: Vec<u8>) -> StandIn {
    serve(move |_, _| {
        vec![Action::Write(reply(
            "200 OK",
            &[("content-type", &content_type)],
            &body,
        ))]
    })
    .await
}

#[tokio::test]
async fn instances_stream_to_files_named_by_sop_instance_uid() {
    let parts = vec![
        fake_instance("1.2.3.1", 300_000),
        fake_instance("1.2.3.22", 10),
        fake_instance("1.2.3.333", 0),
    ];
    let (content_type, body) = awkward_multipart(&parts);
    let server = answer_always(content_type, body).await;
    let dir = tempfile::tempdir().unwrap();
    let summary = client(server.url())
        .retrieve_instances_to_dir(&study(), dir.path())
        .await
        .unwrap();
    assert_eq!(summary.files.len(), 3);
    assert_eq!(
        summary.bytes,
        parts.iter().map(|p| p.len() as u64).sum::<u64>()
    );
    for (file, part) in summary.files.iter().zip(&parts) {
        assert_eq!(&std::fs::read(&file.path).unwrap(), part);
        assert_eq!(
            file.path,
            dir.path().join(format!("{}.dcm", file.sop_instance_uid))
        );
    }
    assert_eq!(
        names(dir.path()),
        ["1.2.3.1.dcm", "1.2.3.22.dcm", "1.2.3.333.dcm"]
    );
    let recorded = server.recorded();
    assert_eq!(recorded[0].target, "/dicom-web/studies/1.2.3");
}

#[tokio::test]
async fn a_body_cut_short_keeps_complete_files_and_leaves_no_partial_one() {
    let parts = vec![
        fake_instance("1.2.3.1", 1000),
        fake_instance("1.2.3.2", 200_000),
    ];
    let (content_type, body) = awkward_multipart(&parts);
    let cut = body.len() - 50_000;
    let server = serve(move |_, _| {
        // Declares the whole length, sends part of it, and hangs up.
        let mut head = reply("200 OK", &[("content-type", &content_type)], &body);
        head.truncate(head.len() - (body.len() - cut));
        vec![Action::Write(head), Action::Close]
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let error = client(server.url())
        .retrieve_instances_to_dir(&study(), dir.path())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("/dicom-web/studies/1.2.3"),
        "{error}"
    );
    assert_eq!(names(dir.path()), ["1.2.3.1.dcm"]);
    assert_eq!(
        std::fs::read(dir.path().join("1.2.3.1.dcm")).unwrap(),
        parts[0]
    );
}

#[tokio::test]
async fn a_multipart_body_without_its_close_delimiter_is_an_error() {
    let parts = vec![fake_instance("1.2.3.1", 100), fake_instance("1.2.3.2", 100)];
    let (content_type, mut body) = awkward_multipart(&parts);
    body.truncate(body.len() - "--a b'()+_,-./:=?--".len());
    let server = answer_always(content_type, body).await;
    let dir = tempfile::tempdir().unwrap();
    let error = client(server.url())
        .retrieve_instances_to_dir(&study(), dir.path())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("multipart"), "{error}");
    assert_eq!(names(dir.path()), ["1.2.3.1.dcm"]);
}

#[tokio::test]
async fn a_part_that_is_not_part10_is_refused_without_a_file() {
    let (content_type, body) = awkward_multipart(&[b"<html>oops</html>".to_vec()]);
    let server = answer_always(content_type, body).await;
    let dir = tempfile::tempdir().unwrap();
    let error = client(server.url())
        .retrieve_instances_to_dir(&study(), dir.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("part 1"), "{error}");
    assert!(error.contains("meta group"), "{error}");
    assert!(names(dir.path()).is_empty());
}

#[tokio::test]
async fn a_single_part_reply_and_a_503_with_retry_after_are_handled() {
    let instance = fake_instance("1.2.3.9", 5000);
    let body = instance.clone();
    let server = serve(move |n, _| match n {
        0 => vec![Action::Write(reply(
            "503 Service Unavailable",
            &[("retry-after", "0")],
            b"busy",
        ))],
        _ => vec![Action::Write(reply(
            "200 OK",
            &[("content-type", "application/dicom")],
            &body,
        ))],
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let summary = client(server.url())
        .retrieve_instances_to_dir(&study(), dir.path())
        .await
        .unwrap();
    assert_eq!(summary.files.len(), 1);
    assert_eq!(
        std::fs::read(dir.path().join("1.2.3.9.dcm")).unwrap(),
        instance
    );
    assert_eq!(server.recorded().len(), 2);
}

/// The study retrieved from `server` into `dir` with `concurrency` requests at once; the
/// summary and the SOP Instance UIDs it lists, in order.
async fn retrieve_with(
    server: &StandIn,
    dir: &Path,
    concurrency: usize,
) -> (RetrieveSummary, Vec<String>) {
    let options = RetrieveOptions::new().concurrency(concurrency);
    let summary = client(server.url())
        .retrieve_instances_to_dir_with(&study(), dir, &options)
        .await
        .unwrap();
    let uids = summary
        .files
        .iter()
        .map(|f| f.sop_instance_uid.as_str().to_owned())
        .collect();
    (summary, uids)
}

/// A stand-in study of two series (`1.2.3.1`: two instances, `1.2.3.2`: one) that lists its
/// series with QIDO-RS (or refuses to, with 400) and answers each WADO-RS request with its
/// instances, the first series' 200 ms late.
async fn two_series(list: bool) -> StandIn {
    let one = vec![
        fake_instance("1.2.3.1.1", 200_000),
        fake_instance("1.2.3.1.2", 10),
    ];
    let two = vec![fake_instance("1.2.3.2.1", 50_000)];
    serve(move |_, seen| {
        let target = seen.target.as_str();
        if target.starts_with("/dicom-web/studies/1.2.3/series?") {
            if !list {
                return vec![Action::Write(reply(
                    "400 Bad Request",
                    &[],
                    b"no QIDO here",
                ))];
            }
            let found = r#"[{"0020000E":{"vr":"UI","Value":["1.2.3.1"]}},
                            {"0020000E":{"vr":"UI","Value":["1.2.3.2"]}}]"#;
            return vec![Action::Write(reply(
                "200 OK",
                &[("content-type", "application/dicom+json")],
                found.as_bytes(),
            ))];
        }
        match target {
            "/dicom-web/studies/1.2.3/series/1.2.3.1" => {
                let mut slow = vec![Action::Sleep(Duration::from_millis(200))];
                slow.extend(multipart_reply(&one));
                slow
            }
            "/dicom-web/studies/1.2.3/series/1.2.3.2" => multipart_reply(&two),
            "/dicom-web/studies/1.2.3" => multipart_reply(&[one.clone(), two.clone()].concat()),
            _ => vec![Action::Write(reply("404 Not Found", &[], b"no"))],
        }
    })
    .await
}

#[tokio::test]
async fn a_study_is_retrieved_a_series_a_request_several_at_once() {
    let server = two_series(true).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, uids) = retrieve_with(&server, dir.path(), 2).await;
    assert_eq!(uids, ["1.2.3.1.1", "1.2.3.1.2", "1.2.3.2.1"]);
    assert_eq!(
        names(dir.path()),
        ["1.2.3.1.1.dcm", "1.2.3.1.2.dcm", "1.2.3.2.1.dcm"]
    );
    assert_eq!(
        std::fs::read(dir.path().join("1.2.3.1.1.dcm")).unwrap(),
        fake_instance("1.2.3.1.1", 200_000)
    );
    let recorded = server.recorded();
    let targets: Vec<&str> = recorded.iter().map(|r| r.target.as_str()).collect();
    assert!(
        targets[0].starts_with("/dicom-web/studies/1.2.3/series?"),
        "{targets:?}"
    );
    let mut series = targets[1..].to_vec();
    series.sort();
    assert_eq!(
        series,
        [
            "/dicom-web/studies/1.2.3/series/1.2.3.1",
            "/dicom-web/studies/1.2.3/series/1.2.3.2"
        ]
    );
    // Both series requests were on their way at once: the second arrived while the first
    // waited for its late reply.
    let gap = recorded[2].at.duration_since(recorded[1].at);
    assert!(gap < Duration::from_millis(150), "{gap:?}");

    // A server that cannot list the series gets the one study request.
    let server = two_series(false).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, uids) = retrieve_with(&server, dir.path(), 2).await;
    assert_eq!(uids.len(), 3);
    let recorded = server.recorded();
    assert_eq!(recorded.last().unwrap().target, "/dicom-web/studies/1.2.3");
    assert!(recorded.iter().all(|r| !r.target.contains("/series/")));
}

/// A stand-in study of one series (`1.2.3.1`) of five instances of `payload` bytes that lists
/// its series and instances with QIDO-RS and answers WADO-RS for the study, the series and
/// each instance, every instance's reply taking 100 ms.
async fn one_series(payload: usize) -> StandIn {
    let uids: Vec<String> = (1..=5).map(|i| format!("1.2.3.1.{i}")).collect();
    let instances: Vec<Vec<u8>> = uids.iter().map(|u| fake_instance(u, payload)).collect();
    serve(move |_, seen| {
        let json = |found: String| {
            vec![Action::Write(reply(
                "200 OK",
                &[("content-type", "application/dicom+json")],
                found.as_bytes(),
            ))]
        };
        let target = seen.target.as_str();
        if target.starts_with("/dicom-web/studies/1.2.3/series?") {
            return json(r#"[{"0020000E":{"vr":"UI","Value":["1.2.3.1"]}}]"#.to_owned());
        }
        if target.starts_with("/dicom-web/studies/1.2.3/series/1.2.3.1/instances?") {
            let found: Vec<String> = uids
                .iter()
                .map(|u| format!(r#"{{"00080018":{{"vr":"UI","Value":["{u}"]}}}}"#))
                .collect();
            return json(format!("[{}]", found.join(",")));
        }
        if let Some(uid) = target.strip_prefix("/dicom-web/studies/1.2.3/series/1.2.3.1/instances/")
            && let Some(at) = uids.iter().position(|u| u == uid)
        {
            // The head at once, the body's second half 100 ms later: a transfer that takes
            // longer than the wait for the reply.
            let (content_type, body) = awkward_multipart(&instances[at..=at]);
            let whole = reply("200 OK", &[("content-type", &content_type)], &body);
            let (first, second) = whole.split_at(whole.len() / 2);
            return vec![
                Action::Write(first.to_vec()),
                Action::Sleep(Duration::from_millis(100)),
                Action::Write(second.to_vec()),
            ];
        }
        match target {
            "/dicom-web/studies/1.2.3" | "/dicom-web/studies/1.2.3/series/1.2.3.1" => {
                multipart_reply(&instances)
            }
            _ => vec![Action::Write(reply("404 Not Found", &[], b"no"))],
        }
    })
    .await
}

fn instance_path(uid: &str) -> String {
    format!("/dicom-web/studies/1.2.3/series/1.2.3.1/instances/{uid}")
}

/// Retrieves the [`one_series`] study with `concurrency` requests at once and checks what was
/// written: each of the five instances once, in order, byte for byte. Returns the requests the
/// server saw.
async fn retrieve_one_series(payload: usize, concurrency: usize) -> Vec<Recorded> {
    let server = one_series(payload).await;
    let dir = tempfile::tempdir().unwrap();
    let (summary, uids) = retrieve_with(&server, dir.path(), concurrency).await;
    let expected: Vec<String> = (1..=5).map(|i| format!("1.2.3.1.{i}")).collect();
    assert_eq!(uids, expected);
    for uid in &uids {
        assert_eq!(
            std::fs::read(dir.path().join(format!("{uid}.dcm"))).unwrap(),
            fake_instance(uid, payload)
        );
    }
    assert_eq!(names(dir.path()).len(), 5);
    let total: u64 = uids
        .iter()
        .map(|u| fake_instance(u, payload).len() as u64)
        .sum();
    assert_eq!(summary.bytes, total, "each instance counted once");
    server.recorded()
}

#[tokio::test]
async fn one_series_of_large_instances_is_retrieved_in_ranges_an_instance_a_request() {
    let recorded = retrieve_one_series(300 * 1024, 2).await;
    let targets: Vec<&str> = recorded.iter().map(|r| r.target.as_str()).collect();
    assert!(
        targets[0].starts_with("/dicom-web/studies/1.2.3/series?"),
        "{targets:?}"
    );
    assert!(targets[1].starts_with("/dicom-web/studies/1.2.3/series/1.2.3.1/instances?"));
    // The first instance alone, then the other four, never the whole study.
    assert_eq!(targets[2], instance_path("1.2.3.1.1"));
    let mut rest = targets[3..].to_vec();
    rest.sort();
    let expected: Vec<String> = (2..=5)
        .map(|i| instance_path(&format!("1.2.3.1.{i}")))
        .collect();
    assert_eq!(rest, expected);
    // Two ranges ([2, 3] and [4, 5]) at once: their first requests arrived together, while
    // each range's own requests follow one another.
    let at = |uid: &str| {
        recorded
            .iter()
            .find(|r| r.target == instance_path(uid))
            .unwrap()
            .at
    };
    let (two, four) = (at("1.2.3.1.2"), at("1.2.3.1.4"));
    let apart = two.max(four).duration_since(two.min(four));
    assert!(apart < Duration::from_millis(80), "{apart:?}");
    assert!(at("1.2.3.1.3").duration_since(two) >= Duration::from_millis(90));
}

#[tokio::test]
async fn one_series_of_small_instances_is_one_request_after_the_first_instance() {
    // The first instance comes twice (alone, then with the study) and is counted once.
    let recorded = retrieve_one_series(1000, 3).await;
    let targets: Vec<&str> = recorded.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets.len(), 4, "{targets:?}");
    assert_eq!(targets[2], instance_path("1.2.3.1.1"));
    assert_eq!(targets[3], "/dicom-web/studies/1.2.3");
}

#[tokio::test]
async fn an_error_status_keeps_the_servers_words() {
    let server = serve(|_, _| {
        vec![Action::Write(reply(
            "404 Not Found",
            &[("content-type", "text/plain")],
            b"no such study",
        ))]
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let error = client(server.url())
        .retrieve_instances_to_dir(&study(), dir.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("404"), "{error}");
    assert!(error.contains("no such study"), "{error}");
}

fn write_files(dir: &Path, uids: &[&str], payload: usize) -> Vec<PathBuf> {
    uids.iter()
        .map(|uid| {
            let path = dir.join(format!("{uid}.dcm"));
            std::fs::write(&path, fake_instance(uid, payload)).unwrap();
            path
        })
        .collect()
}

/// The instances of a recorded STOW-RS body, decoded with its Content-Type.
fn sent_instances(recorded: &Recorded) -> Vec<Vec<u8>> {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        recorded.header("content-type").unwrap().parse().unwrap(),
    );
    BodyDecoder::from_headers(&headers, MultipartLimits::default())
        .unwrap()
        .decode_all(recorded.body.clone().into())
        .unwrap()
        .into_iter()
        .map(|(head, body)| {
            assert_eq!(
                head.content_type().unwrap().unwrap().to_string(),
                "application/dicom"
            );
            body.to_vec()
        })
        .collect()
}

/// A STOW-RS reply listing `stored` in the ReferencedSOPSequence and `failed` (with reason
/// 0xA700) in the FailedSOPSequence.
fn stow_reply(status: &str, stored: &[&str], failed: &[&str]) -> Vec<u8> {
    let item = |uid: &str, extra: &str| {
        format!(
            r#"{{"00081150":{{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.7"]}},"00081155":{{"vr":"UI","Value":["{uid}"]}}{extra}}}"#
        )
    };
    let stored: Vec<String> = stored.iter().map(|u| item(u, "")).collect();
    let failed: Vec<String> = failed
        .iter()
        .map(|u| item(u, r#","00081197":{"vr":"US","Value":[42752]}"#))
        .collect();
    let mut body = String::from("{");
    if !stored.is_empty() {
        body += &format!(r#""00081199":{{"vr":"SQ","Value":[{}]}}"#, stored.join(","));
    }
    if !failed.is_empty() {
        if !stored.is_empty() {
            body += ",";
        }
        body += &format!(r#""00081198":{{"vr":"SQ","Value":[{}]}}"#, failed.join(","));
    }
    body += "}";
    reply(
        status,
        &[("content-type", "application/dicom+json")],
        body.as_bytes(),
    )
}

#[tokio::test]
async fn store_sends_batches_and_checks_every_instance_in_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let uids = ["1.2.3.1", "1.2.3.2", "1.2.3.3", "1.2.3.4", "1.2.3.5"];
    let files = write_files(dir.path(), &uids, 70_000);
    let server = serve(|_, request| {
        // Store everything but 1.2.3.4 (refused) and 1.2.3.5 (not mentioned at all).
        let sent = sent_instances(request);
        let mut stored = Vec::new();
        let mut failed = Vec::new();
        for instance in &sent {
            for uid in ["1.2.3.1", "1.2.3.2", "1.2.3.3", "1.2.3.4"] {
                if instance == &fake_instance(uid, 70_000) {
                    if uid == "1.2.3.4" {
                        failed.push(uid);
                    } else {
                        stored.push(uid);
                    }
                }
            }
        }
        let status = if failed.is_empty() {
            "200 OK"
        } else {
            "202 Accepted"
        };
        vec![Action::Write(stow_reply(status, &stored, &failed))]
    })
    .await;
    let client = Client::builder(server.url())
        .chunked_transfers(false)
        .build()
        .unwrap();
    let options = StoreOptions::default().batch_instances(3).concurrency(2);
    let summary = client.store_files(&files, &options).await.unwrap();
    // Two batches (3 + 2), then 1.2.3.5 (not mentioned in its batch's reply) once more, alone;
    // 1.2.3.4 was refused with a reason, so it is not sent again.
    assert_eq!(summary.requests, 3);
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 3);
    let mut all_sent: Vec<Vec<u8>> = Vec::new();
    for request in &recorded {
        assert_eq!(request.method, "POST");
        assert_eq!(request.target, "/dicom-web/studies");
        assert!(!request.chunked, "Content-Length was asked for");
        assert_eq!(
            request.header("content-length").unwrap(),
            request.body.len().to_string()
        );
        let sent = sent_instances(request);
        assert!(sent.len() <= 3);
        all_sent.extend(sent);
    }
    let alone: Vec<_> = recorded
        .iter()
        .map(sent_instances)
        .filter(|s| s.len() == 1)
        .collect();
    assert_eq!(alone, [vec![fake_instance("1.2.3.5", 70_000)]]);
    all_sent.sort();
    let mut expected: Vec<Vec<u8>> = uids.iter().map(|u| fake_instance(u, 70_000)).collect();
    expected.push(fake_instance("1.2.3.5", 70_000));
    expected.sort();
    assert_eq!(
        all_sent, expected,
        "every file was sent byte for byte, once per attempt"
    );

    let mut stored: Vec<&str> = summary
        .stored
        .iter()
        .map(|s| s.sop_instance_uid.as_str())
        .collect();
    stored.sort();
    assert_eq!(stored, ["1.2.3.1", "1.2.3.2", "1.2.3.3"]);
    let mut failed = summary.failed.clone();
    failed.sort_by(|a, b| a.source.cmp(&b.source));
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0].failure_reason, Some(0xA700));
    assert!(failed[0].reason.contains("A700H"), "{}", failed[0].reason);
    assert_eq!(failed[1].failure_reason, None);
    assert!(
        failed[1].reason.contains("does not mention"),
        "{}",
        failed[1].reason
    );
    assert!(!summary.is_success());
}

#[tokio::test]
async fn a_409_reply_and_unreadable_files_are_failures_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = write_files(dir.path(), &["1.2.3.1"], 10);
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not DICOM").unwrap();
    files.push(text.clone());
    files.push(dir.path().join("missing.dcm"));
    let server =
        serve(|_, _| vec![Action::Write(stow_reply("409 Conflict", &[], &["1.2.3.1"]))]).await;
    let summary = client(server.url())
        .store_files(&files, &StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(server.recorded().len(), 1, "only the DICOM file was sent");
    assert!(summary.stored.is_empty());
    assert_eq!(summary.failed.len(), 3);
    let reason_of = |path: &Path| {
        summary
            .failed
            .iter()
            .find(|f| f.source.path() == Some(path))
            .map(|f| f.reason.clone())
            .unwrap()
    };
    assert!(reason_of(&files[0]).contains("A700H"));
    assert!(
        reason_of(&text).contains("not a DICOM Part 10 file"),
        "{}",
        reason_of(&text)
    );
    assert!(
        reason_of(&files[2]).contains("cannot open"),
        "{}",
        reason_of(&files[2])
    );
}

#[tokio::test]
async fn a_retried_upload_resends_the_whole_body_from_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_files(dir.path(), &["1.2.3.1", "1.2.3.2"], 600_000);
    // The first attempt is cut off after 100 kB of body; the second is answered.
    let server = serve_with(
        |n| {
            if n == 0 {
                Read::Partial(100_000)
            } else {
                Read::All
            }
        },
        |n, _| match n {
            0 => vec![Action::Close],
            _ => vec![Action::Write(stow_reply(
                "200 OK",
                &["1.2.3.1", "1.2.3.2"],
                &[],
            ))],
        },
    )
    .await;
    let summary = client(server.url())
        .store_files(&files, &StoreOptions::default())
        .await
        .unwrap();
    assert!(summary.is_success(), "{:?}", summary.failed);
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    assert!(recorded[1].chunked, "chunked by default");
    let sent = sent_instances(&recorded[1]);
    assert_eq!(
        sent,
        [
            fake_instance("1.2.3.1", 600_000),
            fake_instance("1.2.3.2", 600_000)
        ]
    );
}

#[tokio::test]
async fn a_batch_that_fails_as_a_whole_marks_its_instances_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_files(dir.path(), &["1.2.3.1", "1.2.3.2"], 10);
    let server = serve(|_, request| {
        let sent = sent_instances(request);
        if sent[0] == fake_instance("1.2.3.1", 10) {
            vec![Action::Write(reply(
                "413 Payload Too Large",
                &[],
                b"too big",
            ))]
        } else {
            vec![Action::Write(stow_reply("200 OK", &["1.2.3.2"], &[]))]
        }
    })
    .await;
    let summary = client(server.url())
        .store_files(&files, &StoreOptions::default().batch_instances(1))
        .await
        .unwrap();
    assert_eq!(summary.stored.len(), 1);
    assert_eq!(summary.failed.len(), 1);
    assert!(
        summary.failed[0].reason.contains("413"),
        "{}",
        summary.failed[0].reason
    );
}

#[tokio::test]
async fn one_bad_file_in_a_refused_batch_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_files(dir.path(), &["1.2.3.1", "1.2.3.666", "1.2.3.3"], 100);
    // Like Orthanc: a batch holding a file it cannot parse is refused whole, with 400.
    let server = serve(|_, request| {
        let sent = sent_instances(request);
        if sent.contains(&fake_instance("1.2.3.666", 100)) {
            return vec![Action::Write(reply(
                "400 Bad Request",
                &[],
                b"cannot parse",
            ))];
        }
        let stored: Vec<&str> = ["1.2.3.1", "1.2.3.3"]
            .into_iter()
            .filter(|u| sent.contains(&fake_instance(u, 100)))
            .collect();
        vec![Action::Write(stow_reply("200 OK", &stored, &[]))]
    })
    .await;
    let summary = client(server.url())
        .store_files(&files, &StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(summary.requests, 4, "one batch, then each instance alone");
    assert_eq!(server.recorded().len(), 4);
    let mut stored: Vec<&str> = summary
        .stored
        .iter()
        .map(|s| s.sop_instance_uid.as_str())
        .collect();
    stored.sort();
    assert_eq!(stored, ["1.2.3.1", "1.2.3.3"]);
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.failed[0].source.path(), Some(files[1].as_path()));
    assert!(
        summary.failed[0].reason.contains("400"),
        "{}",
        summary.failed[0].reason
    );
    assert!(
        summary.failed[0].reason.contains("cannot parse"),
        "{}",
        summary.failed[0].reason
    );
}

#[tokio::test]
async fn a_single_instance_reported_under_its_data_set_uid_is_stored() {
    // The file's meta group says 1.2.3.1; its data set (what servers report) says 1.9.9.9.
    let server = serve(|_, _| vec![Action::Write(stow_reply("200 OK", &["1.9.9.9"], &[]))]).await;
    let summary = client(server.url())
        .store_instances(
            vec![fake_instance("1.2.3.1", 10).into()],
            &StoreOptions::default(),
        )
        .await
        .unwrap();
    assert!(summary.is_success(), "{:?}", summary.failed);
    assert_eq!(summary.stored[0].sop_instance_uid.as_str(), "1.9.9.9");
    // In a batch of several, an unmentioned instance is sent again alone, then judged.
    let server = serve(|n, _| match n {
        0 => vec![Action::Write(stow_reply("200 OK", &["1.2.3.2"], &[]))],
        _ => vec![Action::Write(stow_reply("409 Conflict", &[], &["1.9.9.9"]))],
    })
    .await;
    let instances = vec![
        fake_instance("1.2.3.1", 10).into(),
        fake_instance("1.2.3.2", 10).into(),
    ];
    let summary = client(server.url())
        .store_instances(instances, &StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(summary.requests, 2);
    assert_eq!(summary.stored.len(), 1);
    assert_eq!(summary.failed[0].failure_reason, Some(0xA700));
}

#[tokio::test]
async fn instances_in_memory_are_stored_without_files() {
    let instances: Vec<bytes::Bytes> = ["1.2.3.1", "1.2.3.2"]
        .iter()
        .map(|uid| fake_instance(uid, 1000).into())
        .chain([bytes::Bytes::from_static(b"not DICOM")])
        .collect();
    let server = serve(|_, request| {
        let sent = sent_instances(request);
        assert_eq!(
            sent,
            [
                fake_instance("1.2.3.1", 1000),
                fake_instance("1.2.3.2", 1000)
            ]
        );
        vec![Action::Write(stow_reply(
            "200 OK",
            &["1.2.3.1", "1.2.3.2"],
            &[],
        ))]
    })
    .await;
    let summary = client(server.url())
        .store_instances(instances, &StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(summary.requests, 1);
    let stored: Vec<String> = summary
        .stored
        .iter()
        .map(|s| s.source.to_string())
        .collect();
    assert_eq!(stored, ["instance #0", "instance #1"]);
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(
        summary.failed[0].source,
        dicomweb_client::InstanceSource::Memory(2)
    );
    assert!(
        summary.failed[0]
            .reason
            .contains("not a DICOM Part 10 file"),
        "{}",
        summary.failed[0].reason
    );
}

#[test]
fn collect_files_walks_folders_in_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
    for name in ["b/c/2.dcm", "b/1.dcm", "a.dcm"] {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    let found = dicomweb_client::collect_files(&[dir.path().to_path_buf()]).unwrap();
    let relative: Vec<String> = found
        .iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(relative, ["a.dcm", "b/1.dcm", "b/c/2.dcm"]);
    let missing = dicomweb_client::collect_files(&[dir.path().join("nope")]).unwrap_err();
    assert!(missing.to_string().contains("nope"), "{missing}");
}
