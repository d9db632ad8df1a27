//! Helpers of the integration tests around test-support's stand-in HTTP server: token
//! endpoint and metadata server replies, and the secrets that must never print. The token
//! endpoint's check of service account assertions is test-support's (`google`).
#![allow(dead_code, clippy::unwrap_used)]

use std::future::Future;
use std::time::Duration;

use test_support::standin::{Action, StandIn, reply};

/// A request as the stand-in saw it.
pub use test_support::standin::Recorded as Seen;

/// A reply to send.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn token(token: &str, expires_in: u64) -> Self {
        Self::json(
            200,
            format!(
                r#"{{"access_token":"{token}","expires_in":{expires_in},"token_type":"Bearer"}}"#
            ),
        )
    }

    pub fn oauth_error(status: u16, error: &str, description: &str) -> Self {
        Self::json(
            status,
            format!(r#"{{"error":"{error}","error_description":"{description}"}}"#),
        )
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// What the stand-in does: wait `delay`, then answer and close the connection.
    fn actions(&self) -> Vec<Action> {
        let mut headers: Vec<(&str, &str)> = vec![("Connection", "close")];
        headers.extend(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let status = format!("{} X", self.status);
        vec![
            Action::Sleep(self.delay),
            Action::Write(reply(&status, &headers, self.body.as_bytes())),
            Action::Close,
        ]
    }
}

/// Serves `handler` on a free loopback port (test-support's stand-in). `handler` gets the
/// request and its 0-based index.
pub async fn serve<F, Fut>(handler: F) -> StandIn
where
    F: Fn(Seen, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    StandIn::start(move |n, seen| {
        // The stand-in calls handlers where blocking is allowed, inside its runtime.
        tokio::runtime::Handle::current()
            .block_on(handler(seen.clone(), n))
            .actions()
    })
}

/// The test key file shipped in tests/data.
pub fn key_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/service-account.json")
}

/// Every secret of the test data; none may appear in an error's Display or Debug.
pub fn assert_no_secret(err: &gcp_credentials::Error) {
    let key = std::fs::read_to_string(key_file()).unwrap();
    let key: serde_json::Value = serde_json::from_str(&key).unwrap();
    let pem = key["private_key"].as_str().unwrap();
    let body_line = pem.lines().nth(5).unwrap();
    for shown in [err.to_string(), format!("{err:?}")] {
        for secret in [
            body_line,
            "1//refresh-SECRET",
            "client-SECRET",
            "ya29.SECRET",
        ] {
            assert!(!shown.contains(secret), "secret {secret:?} in {shown}");
        }
    }
}
