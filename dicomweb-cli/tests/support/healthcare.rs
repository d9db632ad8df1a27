//! A stand-in Cloud Healthcare API on loopback: a token endpoint that checks each service
//! account assertion (RS256 signature with the key's public half, header and claims) and
//! issues tokens, and `/v1/projects/…/dicomWeb/*` served from a real Orthanc, only with a
//! token it issued.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use gcp_credentials::Credentials;
use test_support::google::{Expect, verify_grant};
use test_support::orthanc::Orthanc;
use test_support::standin::{Action, Recorded, StandIn, respond};

pub const STORE: &str =
    "projects/test-project/locations/europe-west4/datasets/ds-1/dicomStores/store.1";
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The test key of gcp-credentials.
pub fn key_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gcp-credentials/tests/data/service-account.json")
}

/// The stand-in Google: what it checks and what it issued.
pub struct Google {
    pub server: StandIn,
    pub issued: Arc<Mutex<Vec<String>>>,
}

impl Google {
    /// Starts the stand-in in front of `orthanc` (an `Orthanc`, or an `Arc` of one the test
    /// keeps asking directly).
    pub fn start(orthanc: impl Into<Arc<Orthanc>>) -> Google {
        let orthanc: Arc<Orthanc> = orthanc.into();
        let key = match Credentials::from_file(key_file()).unwrap() {
            Credentials::ServiceAccount(key) => key,
            other => panic!("expected a service account key, found {}", other.kind()),
        };
        let expect = Expect {
            public_key_der: key.signer.public_key_der(),
            kid: key.private_key_id.clone().unwrap(),
            iss: key.client_email.clone(),
            scope: SCOPE.to_owned(),
        };
        let issued = Arc::new(Mutex::new(Vec::<String>::new()));
        let tokens = issued.clone();
        let server = StandIn::start(move |_, seen| {
            if seen.target == "/token" {
                return match verify_grant(seen, &expect) {
                    Ok(()) => {
                        let mut tokens = tokens.lock().unwrap();
                        let token = format!("ya29.stand-in-{}", tokens.len());
                        tokens.push(token.clone());
                        let body = format!(
                            r#"{{"access_token":"{token}","expires_in":3599,"token_type":"Bearer"}}"#
                        );
                        respond(
                            "200 OK",
                            &[("content-type", "application/json")],
                            body.as_bytes(),
                        )
                    }
                    Err(why) => respond(
                        "400 Bad Request",
                        &[("content-type", "application/json")],
                        serde_json::json!({"error": "invalid_grant", "error_description": why})
                            .to_string()
                            .as_bytes(),
                    ),
                };
            }
            let prefix = format!("/v1/{STORE}/dicomWeb");
            let Some(rest) = seen.target.strip_prefix(&prefix) else {
                return respond("404 Not Found", &[], b"no such resource");
            };
            let authorized = seen
                .header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|t| tokens.lock().unwrap().iter().any(|i| i == t));
            if !authorized {
                return respond(
                    "401 Unauthorized",
                    &[],
                    b"Request had invalid authentication credentials.",
                );
            }
            forward(&orthanc, seen, rest)
        });
        Google { server, issued }
    }

    pub fn base_url(&self) -> String {
        self.server.url_for("/v1")
    }

    pub fn token_uri(&self) -> String {
        self.server.url_for("/token")
    }

    pub fn token_requests(&self) -> usize {
        self.server
            .recorded()
            .iter()
            .filter(|s| s.target == "/token")
            .count()
    }
}

/// Sends the request on to Orthanc's DICOMweb root and returns its answer.
pub fn forward(orthanc: &Orthanc, seen: &Recorded, rest: &str) -> Vec<Action> {
    let headers: Vec<(&str, &str)> = ["accept", "content-type"]
        .into_iter()
        .filter_map(|name| seen.header(name).map(|v| (name, v)))
        .collect();
    let answer = orthanc
        .request(
            &seen.method,
            &format!("/dicom-web{rest}"),
            &headers,
            &seen.body,
        )
        .unwrap();
    let kept: Vec<(&str, &str)> = answer
        .headers
        .iter()
        .filter(|(n, _)| n == "content-type" || n == "warning")
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    // The stand-in writes its own Content-Length; any reason phrase will do.
    respond(&format!("{} Forwarded", answer.status), &kept, &answer.body)
}
