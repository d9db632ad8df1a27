//! Helpers of the integration tests around test-support's stand-in HTTP server: token
//! endpoint and metadata server replies, a token endpoint's check of service account
//! assertions with the key's public half, and the secrets that must never print.
#![allow(dead_code, clippy::unwrap_used)]

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

/// What a stand-in token endpoint expects of a service account assertion.
#[derive(Clone)]
pub struct Expect {
    pub public_key_der: Vec<u8>,
    pub kid: String,
    pub iss: String,
    pub scope: String,
}

/// Checks a JWT bearer grant the way Google's endpoint would: signature with the public key,
/// header, and every claim. Returns the reason on failure.
pub fn verify_grant(seen: &Seen, expect: &Expect) -> Result<(), String> {
    if seen.method != "POST" {
        return Err(format!("method {}", seen.method));
    }
    if seen.header("content-type") != Some("application/x-www-form-urlencoded") {
        return Err("content-type".into());
    }
    let form = seen.form();
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return Err("grant_type".into());
    }
    let jwt = form.get("assertion").ok_or("no assertion")?;
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err("assertion is not three segments".into());
    }
    let signature = URL_SAFE_NO_PAD
        .decode(parts[2])
        .map_err(|e| e.to_string())?;
    let signed = format!("{}.{}", parts[0], parts[1]);
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &expect.public_key_der,
    )
    .verify(signed.as_bytes(), &signature)
    .map_err(|_| "Invalid JWT Signature.".to_string())?;
    let json = |s: &str| -> Result<serde_json::Value, String> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())
    };
    let header = json(parts[0])?;
    let claims = json(parts[1])?;
    let want_header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": expect.kid});
    if header != want_header {
        return Err(format!("header {header}"));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let iat = claims["iat"].as_u64().ok_or("iat")?;
    if iat.abs_diff(now) > 60 {
        return Err(format!("iat {iat} is not now ({now})"));
    }
    let want = serde_json::json!({
        "iss": expect.iss,
        "scope": expect.scope,
        "aud": "https://oauth2.googleapis.com/token",
        "iat": iat,
        "exp": iat + 3600,
    });
    if claims != want {
        return Err(format!("claims {claims}, expected {want}"));
    }
    Ok(())
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
