use super::*;

const ORTHANC: &str = r#"{
  /**
   * Orthanc's own comments, as in /etc/orthanc/dicomweb.json
   **/
  "Name" : "MyOrthanc",   // other sections are ignored
  "DicomWeb" : {
    "Enable" : true,
    "Root" : "/dicom-web/",
    "Servers" : {
      "plain" : [ "http://127.0.0.1:8042/dicom-web/" ],
      "array" : [ "http://127.0.0.1:8043/dicom-web/", "alice", "pa//ss" ],
      "object" : {
        "Url" : "https://pacs.example.org/dicom-web",  // no trailing slash
        "Username" : "bob",
        "Password" : "/* not a comment */",
        "HttpHeaders" : { "Authorization" : "Bearer abc", "X-Site" : "1" },
        "HasDelete" : true,
        "ChunkedTransfers" : "0",
        "Timeout" : 30,
        "CertificateFile" : "client.crt",
        "CertificateKeyFile" : "/etc/keys/client.key",
        "CertificateKeyPassword" : "k",
        "Pkcs11" : false,
      },
    }
  }
}"#;

#[test]
fn both_forms_with_comments() {
    let r = ServerRegistry::from_orthanc_config(ORTHANC).unwrap();
    assert_eq!(r.len(), 3);
    let plain = r.server("plain").unwrap();
    assert_eq!(
        plain,
        &ServerConfig::new("http://127.0.0.1:8042/dicom-web/")
    );
    let array = r.server("array").unwrap();
    assert_eq!(array.username.as_deref(), Some("alice"));
    assert_eq!(array.password.as_ref().unwrap().secret(), "pa//ss");
    let o = r.server("object").unwrap();
    assert_eq!(o.url, "https://pacs.example.org/dicom-web");
    assert_eq!(o.password.as_ref().unwrap().secret(), "/* not a comment */");
    assert_eq!(
        o.http_headers,
        vec![
            ("Authorization".to_owned(), "Bearer abc".to_owned()),
            ("X-Site".to_owned(), "1".to_owned())
        ]
    );
    assert_eq!(o.has_delete, Some(true));
    assert_eq!(o.chunked_transfers, Some(false));
    assert_eq!(o.timeout, Some(Duration::from_secs(30)));
    assert_eq!(o.certificate_file.as_deref(), Some(Path::new("client.crt")));
    assert_eq!(o.certificate_key_password.as_ref().unwrap().secret(), "k");
    assert_eq!(o.other.get("Pkcs11"), Some(&Value::Bool(false)));
    // Secrets stay out of Debug output.
    let debug = format!("{r:?}");
    assert!(
        !debug.contains("pa//ss") && !debug.contains("not a comment"),
        "{debug}"
    );
}

#[test]
fn no_servers_is_empty() {
    let r = ServerRegistry::from_orthanc_config(r#"{ "DicomWeb" : { "Enable" : true } }"#).unwrap();
    assert!(r.is_empty());
    assert!(
        ServerRegistry::from_orthanc_config("{}")
            .unwrap()
            .is_empty()
    );
    let e = r.require("x").unwrap_err().to_string();
    assert!(
        e.contains("no DICOMweb server named \"x\"; known: none"),
        "{e}"
    );
}

#[test]
fn errors_say_what_and_where() {
    let cases = [
        (
            r#"{"DicomWeb":{"Servers":{"a":["u","v"]}}}"#,
            "server \"a\": expected an array of 1 item [url] or 3 items [url, username, password], got 2 items",
        ),
        (
            r#"{"DicomWeb":{"Servers":{"a":{"Username":"x"}}}}"#,
            "server \"a\": expected a \"Url\" key, found none",
        ),
        (
            r#"{"DicomWeb":{"Servers":{"a":{"Url":"u","Timeout":-1}}}}"#,
            "expected \"Timeout\" to be whole seconds (0 or more), got -1",
        ),
        (
            r#"{"DicomWeb":{"Servers":{"a":{"Url":"u","HasDelete":"maybe"}}}}"#,
            "expected \"HasDelete\" to be true or false, got \"maybe\"",
        ),
        (
            r#"{"DicomWeb":{"Servers":{"a":{"Url":"u","CertificateFile":"c"}}}}"#,
            "expected \"CertificateFile\" and \"CertificateKeyFile\" together",
        ),
        (r#"{"DicomWeb":{"Servers":{"a":42}}}"#, "got a number"),
        (
            r#"{"DicomWeb":{"Servers":[]}}"#,
            "expected \"DicomWeb.Servers\" to be an object, got an array",
        ),
        ("{\n /* open", "unterminated /* comment at line 2 column 2"),
        ("[1]", "expected a JSON object, got an array"),
    ];
    for (text, expected) in cases {
        let e = ServerRegistry::from_orthanc_config(text)
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{text}: {e}");
    }
}

#[test]
fn load_folder_resolves_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        r#"{"DicomWeb":{"Servers":{"one":["http://a/"]}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        r#"{"DicomWeb":{"Servers":{"two":{"Url":"http://b/","CertificateFile":"c.pem","CertificateKeyFile":"k.pem"}}}}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let r = ServerRegistry::load(dir.path()).unwrap();
    assert_eq!(r.len(), 2);
    let two = r.server("two").unwrap();
    assert_eq!(
        two.certificate_file.as_deref(),
        Some(dir.path().join("c.pem").as_path())
    );
    let e = ServerRegistry::load(dir.path().join("missing.json"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cannot read"), "{e}");
}
