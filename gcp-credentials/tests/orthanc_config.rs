//! Orthanc's GoogleCloudPlatform plugin configuration, read as-is.
#![allow(clippy::unwrap_used)] // helpers in test files, outside #[test] functions

use gcp_credentials::{AccountCredentials, Credentials, read_orthanc_gcp_accounts};
use serde_json::json;
use std::path::PathBuf;

#[test]
fn reads_every_kind_of_account() {
    let key = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/service-account.json");
    let config = json!({
        "Name": "MyOrthanc",
        "Plugins": ["/usr/share/orthanc/plugins"],
        "GoogleCloudPlatform": {
            "BaseUrl": "https://healthcare.googleapis.com/v1beta1/",
            "Accounts": {
                "my-google": {
                    "Project": "yourprojectid",
                    "Location": "europe-west2",
                    "Dataset": "tutorial",
                    "DicomStore": "tutorial",
                    "ServiceAccountFile": key.to_str().unwrap()
                },
                "my-google-2": {
                    "Project": "p2", "Location": "us-central1", "Dataset": "d2", "DicomStore": "s2",
                    "AuthorizedUserFile": "/home/me/.config/gcloud/application_default_credentials.json",
                    "BaseUrl": "http://127.0.0.1:8042/v1"
                },
                "my-google-3": {
                    "Project": "p3", "Location": "l3", "Dataset": "d3", "DicomStore": "s3",
                    "AuthorizedUserClientId": "id.apps.googleusercontent.com",
                    "AuthorizedUserClientSecret": "client-SECRET",
                    "AuthorizedUserRefreshToken": "1//refresh-SECRET"
                }
            }
        }
    });
    let accounts = read_orthanc_gcp_accounts(&config).unwrap();
    assert_eq!(accounts.len(), 3);
    let first = &accounts[0];
    assert_eq!(first.name, "my-google");
    assert_eq!(
        first.store.to_string(),
        "projects/yourprojectid/locations/europe-west2/datasets/tutorial/dicomStores/tutorial"
    );
    assert_eq!(
        first.dicomweb_root(),
        "https://healthcare.googleapis.com/v1beta1/projects/yourprojectid/locations/europe-west2/datasets/tutorial/dicomStores/tutorial/dicomWeb"
    );
    assert_eq!(
        first.credentials,
        AccountCredentials::ServiceAccountFile(key.clone())
    );
    assert_eq!(first.load_credentials().unwrap().kind(), "service_account");

    let second = &accounts[1];
    assert_eq!(second.base_url, "http://127.0.0.1:8042/v1");
    assert!(
        matches!(&second.credentials, AccountCredentials::AuthorizedUserFile(p) if p.ends_with("application_default_credentials.json"))
    );

    let third = &accounts[2];
    let AccountCredentials::AuthorizedUser {
        client_id,
        client_secret,
        refresh_token,
    } = &third.credentials
    else {
        panic!("{third:?}");
    };
    assert_eq!(client_id, "id.apps.googleusercontent.com");
    assert_eq!(client_secret.secret(), "client-SECRET");
    assert_eq!(refresh_token.secret(), "1//refresh-SECRET");
    assert!(!format!("{accounts:?}").contains("SECRET"));
    assert!(matches!(
        third.load_credentials().unwrap(),
        Credentials::AuthorizedUser(_)
    ));

    // The section alone reads the same; a configuration without it has no accounts.
    assert_eq!(
        read_orthanc_gcp_accounts(&config["GoogleCloudPlatform"]).unwrap(),
        accounts
    );
    assert!(
        read_orthanc_gcp_accounts(&json!({"Name": "x"}))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_default_base_url_is_healthcare_v1() {
    let config = json!({"GoogleCloudPlatform": {"Accounts": {"a": {
        "Project": "p", "Location": "l", "Dataset": "d", "DicomStore": "s",
        "ServiceAccountFile": "k.json"
    }}}});
    let accounts = read_orthanc_gcp_accounts(&config).unwrap();
    assert_eq!(
        accounts[0].dicomweb_root(),
        "https://healthcare.googleapis.com/v1/projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb"
    );
}

#[test]
fn malformed_sections_say_where() {
    for (config, expect) in [
        (
            json!([]),
            "configuration to be a JSON object, found an array",
        ),
        (
            json!({"GoogleCloudPlatform": 1}),
            "\"GoogleCloudPlatform\" to be an object, found a number",
        ),
        (
            json!({"GoogleCloudPlatform": {"Accounts": []}}),
            "Accounts\" to be an object, found an array",
        ),
        (
            json!({"GoogleCloudPlatform": {"Accounts": {"a": "x"}}}),
            "GoogleCloudPlatform.Accounts.a to be an object",
        ),
        (
            json!({"GoogleCloudPlatform": {"Accounts": {"a": {"Project": "p", "Location": "l", "Dataset": "d"}}}}),
            "expected a string \"DicomStore\" in GoogleCloudPlatform.Accounts.a, found none",
        ),
        (
            json!({"GoogleCloudPlatform": {"Accounts": {"a": {"Project": "p", "Location": "l", "Dataset": "d", "DicomStore": 7}}}}),
            "\"DicomStore\" in GoogleCloudPlatform.Accounts.a to be a string, found a number",
        ),
        (
            json!({"GoogleCloudPlatform": {"Accounts": {"a": {"Project": "p/x", "Location": "l", "Dataset": "d", "DicomStore": "s", "ServiceAccountFile": "k"}}}}),
            "GoogleCloudPlatform.Accounts.a: invalid DICOM store name",
        ),
        (
            json!({"GoogleCloudPlatform": {"Accounts": {"a": {"Project": "p", "Location": "l", "Dataset": "d", "DicomStore": "s"}}}}),
            "expected credentials in GoogleCloudPlatform.Accounts.a",
        ),
        (
            json!({"GoogleCloudPlatform": {"Accounts": {"a": {"Project": "p", "Location": "l", "Dataset": "d", "DicomStore": "s",
                "AuthorizedUserClientId": "id", "AuthorizedUserRefreshToken": "1//refresh-SECRET"}}}}),
            "expected a string \"AuthorizedUserClientSecret\"",
        ),
    ] {
        let err = read_orthanc_gcp_accounts(&config).unwrap_err().to_string();
        assert!(err.contains(expect), "expected {expect:?} in {err}");
        assert!(!err.contains("SECRET"), "{err}");
    }
}
