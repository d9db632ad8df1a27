//! DICOM over TLS with a self-signed test CA (test-support's `TestPki`): dcmtk's echoscu and
//! storescu into `dicomweb adapter --tls-cert --tls-key --tls-ca` (a real Orthanc behind it),
//! each instance found identical on the server; a plain-TCP client and clients without a
//! certificate the CA signed are refused while the adapter keeps serving; Orthanc over TLS
//! stores through the adapter, asks it for a C-MOVE to `storescp +tls` marked `UseDicomTls`
//! and for storage commitment (the result sent back over TLS); `dicomweb transfer --to` a TLS device named in `--config` (Orthanc's
//! `DicomTls*` keys) or given as `dimses://`.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use dicomweb_core::file_meta::FileMeta;
use support::dimse::*;
use support::{dicomweb, one_line_error, success_json};
use test_support::orthanc::Orthanc;
use test_support::study::StudySpec;
use test_support::tls::TestPki;

fn adapter_tls_flags(pki: &TestPki) -> Vec<&str> {
    vec![
        "--tls-cert",
        pki.server.cert_str(),
        "--tls-key",
        pki.server.key_str(),
        "--tls-ca",
        pki.ca_str(),
    ]
}

#[test]
fn dcmtk_speaks_mutual_tls_with_the_adapter_and_others_are_refused() {
    let pki = TestPki::generate().unwrap();
    let server = Orthanc::start().unwrap();
    let state = tempfile::tempdir().unwrap();
    let adapter = AdapterProcess::start(
        &server.dicomweb_url(),
        &state.path().join("state"),
        free_port(),
        &adapter_tls_flags(&pki),
    );
    let client = tls_args(&pki.client, &pki.ca);

    let said = text(&echo_with(&adapter, &client));
    assert!(
        said.starts_with("status ExitStatus(unix_wait_status(0))"),
        "{said}\n{}",
        adapter.log()
    );

    // storescu over TLS: every instance on the server, its data set as sent.
    let spec = StudySpec {
        series: 2,
        instances_per_series: 2,
        ..StudySpec::new(97)
    };
    let files_dir = tempfile::tempdir().unwrap();
    let files = spec.write_to(files_dir.path()).unwrap();
    let output = run(dcmtk("storescu")
        .args(["-aet", "MODALITY", "-aec", AET])
        .args(&client)
        .args(["127.0.0.1", &adapter.port()])
        .args(&files));
    assert!(
        output.status.success(),
        "{}\n{}",
        text(&output),
        adapter.log()
    );
    wait_for_instances(&server, 4, || adapter.log());
    for instance in spec.instances() {
        let (_, sop, data_set) = identity(&instance.bytes);
        let stored = server.stored_file(&sop).unwrap().unwrap();
        assert!(
            identity(&stored).2 == data_set,
            "{sop} differs on the server"
        );
    }

    // Plain TCP on the TLS port: refused cleanly, the adapter serves on.
    let plain = echo_with(&adapter, &[]);
    assert!(!plain.status.success(), "{}", text(&plain));
    // A certificate no trusted CA signed, and none at all.
    let stranger = echo_with(&adapter, &tls_args(&pki.stranger, &pki.ca));
    assert!(!stranger.status.success(), "{}", text(&stranger));
    let anonymous = echo_with(
        &adapter,
        &["+tla".to_owned(), "+cf".to_owned(), pki.ca_str().to_owned()],
    );
    assert!(!anonymous.status.success(), "{}", text(&anonymous));
    let said = text(&echo_with(&adapter, &client));
    assert!(
        said.starts_with("status ExitStatus(unix_wait_status(0))"),
        "{said}\n{}",
        adapter.log()
    );
    let log = adapter.log();
    assert!(!log.contains("panicked"), "{log}");
    // Each refusal logged with its reason: not TLS, an unknown issuer, no certificate.
    for reason in [
        "InvalidContentType",
        "UnknownIssuer",
        "peer sent no certificates",
    ] {
        assert!(log.contains(reason), "{reason}: {log}");
    }
    assert!(adapter.terminate().success());
}

#[test]
fn bad_tls_flags_and_files_are_refused_before_listening() {
    let pki = TestPki::generate().unwrap();
    let state = tempfile::tempdir().unwrap();
    let state = state.path().to_str().unwrap();
    let base = [
        "--url",
        "http://127.0.0.1:1/dicom-web",
        "adapter",
        "--listen",
        "127.0.0.1:0",
        "--aet",
        AET,
        "--state",
        state,
    ];
    // clap: the certificate needs its key, the CA needs a certificate.
    let mut args = base.to_vec();
    args.extend(["--tls-cert", pki.server.cert_str()]);
    let error = one_line_error(&dicomweb(&args));
    assert!(error.contains("--tls-key"), "{error}");
    let mut args = base.to_vec();
    args.extend(["--tls-ca", pki.ca_str()]);
    let error = one_line_error(&dicomweb(&args));
    assert!(error.contains("--tls-cert"), "{error}");
    // Another certificate's key: the error names the key's file.
    let mut args = base.to_vec();
    args.extend([
        "--tls-cert",
        pki.server.cert_str(),
        "--tls-key",
        pki.client.key_str(),
    ]);
    let error = one_line_error(&dicomweb(&args));
    assert!(
        error.contains(pki.client.key_str()) && error.contains("another key"),
        "{error}"
    );
}

#[test]
fn a_transfer_reaches_a_tls_device_named_in_config_or_by_dimses_url() {
    let pki = TestPki::generate().unwrap();
    let orthanc = Orthanc::start().unwrap();
    let spec = StudySpec {
        series: 1,
        instances_per_series: 3,
        ..StudySpec::new(98)
    };
    let expected = upload_study(&orthanc, &spec);
    let received = tempfile::tempdir().unwrap();
    let (mut scp, port) = storescp_with(received.path(), &tls_args(&pki.server, &pki.ca));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("orthanc.json");
    // Relative to the configuration file's folder, as Orthanc reads them.
    for (from, to) in [
        (&pki.client.cert, "client.crt"),
        (&pki.client.key, "client.key"),
        (&pki.ca, "ca.pem"),
    ] {
        std::fs::copy(from, dir.path().join(to)).unwrap();
    }
    std::fs::write(
        &config,
        format!(
            r#"{{ "DicomTlsCertificate": "client.crt", "DicomTlsPrivateKey": "client.key",
                 "DicomTlsTrustedCertificates": "ca.pem",
                 "DicomModalities": {{
                   "dest": {{ "AET": "DEST", "Host": "localhost", "Port": {port}, "UseDicomTls": true }} }} }}"#
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let transfer = |config: &Path, to: &str| {
        let url = orthanc.dicomweb_url();
        dicomweb(&[
            "--quiet",
            "--config",
            config.to_str().unwrap(),
            "transfer",
            "--from",
            &url,
            "--to",
            to,
            "--study",
            &spec.study_uid(),
            "--state",
            state.to_str().unwrap(),
        ])
    };
    let records = success_json(&transfer(&config, "dest"));
    assert_eq!(records[0]["State"], "Success", "{records}");
    assert_eq!(records[0]["Content"]["Sent"], 3, "{records}");
    assert_eq!(data_sets_in(received.path()), expected);

    for entry in std::fs::read_dir(received.path()).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let device = format!("dimses://DEST@127.0.0.1:{port}");
    let records = success_json(&transfer(&config, &device));
    assert_eq!(records[0]["State"], "Success", "{records}");
    assert_eq!(data_sets_in(received.path()), expected);

    // Marked for TLS, but the configuration names no TLS files: said before any job runs.
    let bare = dir.path().join("bare.json");
    std::fs::write(&bare, format!(r#"{{ "DicomModalities": {{ "dest": {{ "AET": "DEST", "Host": "127.0.0.1", "Port": {port}, "UseDicomTls": true }} }} }}"#)).unwrap();
    let error = one_line_error(&transfer(&bare, "dest"));
    assert!(
        error.contains("DicomTlsTrustedCertificates") && error.contains("\"dest\""),
        "{error}"
    );
    let _ = scp.kill();
    let _ = scp.wait();

    // A device whose certificate no trusted CA signed: the job fails at once, naming the
    // reason, instead of retrying a refusal that only new settings can lift.
    let (mut scp, port) = storescp_with(received.path(), &tls_args(&pki.stranger, &pki.ca));
    let started = std::time::Instant::now();
    let output = transfer(&config, &format!("dimses://DEST@127.0.0.1:{port}"));
    let took = started.elapsed();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "{said}");
    assert!(said.contains("UnknownIssuer"), "{said}");
    assert!(
        took < std::time::Duration::from_secs(30),
        "{took:?}: {said}"
    );
    let _ = scp.kill();
    let _ = scp.wait();
}

#[test]
fn orthanc_over_tls_stores_through_the_adapter_and_moves_to_a_tls_storescp() {
    let pki = TestPki::generate().unwrap();
    let adapter_port = free_port();
    let peer_port = free_port();
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    // The DIMSE peer, over TLS with the client certificate.
    let peer = Orthanc::start_with_config(&serde_json::json!({
        "DicomAet": "PEER",
        "DicomPort": peer_port,
        "DicomTlsEnabled": true,
        "DicomTlsCertificate": path(&pki.client.cert),
        "DicomTlsPrivateKey": path(&pki.client.key),
        "DicomTlsTrustedCertificates": path(&pki.ca),
        "DicomModalities": {
            "adapter": { "AET": AET, "Host": "127.0.0.1", "Port": adapter_port, "UseDicomTls": true }
        }
    }))
    .unwrap();
    let server = Orthanc::start().unwrap();
    let spec = StudySpec {
        series: 2,
        instances_per_series: 2,
        ..StudySpec::new(99)
    };
    let expected = upload_study(&peer, &spec);
    let received = tempfile::tempdir().unwrap();
    let (mut scp, scp_port) = storescp_with(received.path(), &tls_args(&pki.server, &pki.ca));
    let config = tempfile::tempdir().unwrap();
    let modalities = config.path().join("orthanc.json");
    std::fs::write(
        &modalities,
        format!(
            r#"{{ "DicomModalities": {{
                 "dest": {{ "AET": "DEST", "Host": "localhost", "Port": {scp_port}, "UseDicomTls": true }},
                 "peer": {{ "AET": "PEER", "Host": "localhost", "Port": {peer_port}, "UseDicomTls": true }} }} }}"#
        ),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut flags = adapter_tls_flags(&pki);
    flags.extend(["--modalities", modalities.to_str().unwrap()]);
    let adapter = AdapterProcess::start(
        &server.dicomweb_url(),
        &state.path().join("state"),
        adapter_port,
        &flags,
    );

    // Orthanc → TLS → adapter → STOW-RS → the server.
    peer_stores_study(&peer, &spec.study_uid(), || adapter.log());
    wait_for_instances(&server, 4, || adapter.log());

    // Orthanc asks the adapter over TLS for a C-MOVE to storescp, reached over TLS too.
    let body = serde_json::json!({
        "Level": "Study",
        "Resources": [{ "StudyInstanceUID": spec.study_uid() }],
        "TargetAet": "DEST",
        "Synchronous": true
    });
    rest_post(&peer, "/modalities/adapter/move", &body, || adapter.log());
    assert_eq!(data_sets_in(received.path()), expected, "{}", adapter.log());

    // Storage commitment over TLS both ways: Orthanc's N-ACTION on its association, the
    // adapter's result on a new one to Orthanc's TLS port.
    let asked: Vec<serde_json::Value> = spec
        .instances()
        .map(|instance| {
            let meta = FileMeta::read(&instance.bytes).unwrap().unwrap();
            let uid = |uid: Option<String>| uid.unwrap().trim_end_matches('\0').to_owned();
            serde_json::json!({
                "SOPClassUID": uid(meta.sop_class_uid),
                "SOPInstanceUID": uid(meta.sop_instance_uid),
            })
        })
        .collect();
    let report = commitment(&peer, &asked, || adapter.log());
    assert_eq!(report["Status"], "Success", "{report}\n{}", adapter.log());
    assert_eq!(
        uids(&report["Success"]),
        uids(&serde_json::Value::from(asked))
    );
    adapter.wait_for_log("result sent on a new association");
    let _ = scp.kill();
    let _ = scp.wait();
}
