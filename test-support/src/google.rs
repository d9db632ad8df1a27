//! What a stand-in Google token endpoint checks (feature `standin`): a service account's JWT
//! bearer grant (RFC 7523) verified the way Google's endpoint does — the RS256 signature with
//! the key's public half, the header and every claim — so a test's stand-in issues tokens only
//! for assertions Google would accept. Used by gcp-credentials' tests and the program's.

// Test support: a failed unwrap here is a failed test.
#![allow(clippy::unwrap_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::standin::Recorded;

/// What a stand-in token endpoint expects of a service account assertion.
#[derive(Clone, Debug)]
pub struct Expect {
    /// The service account key's public half, DER (what `ring` verifies with).
    pub public_key_der: Vec<u8>,
    /// The key's id, the JWT header's `kid`.
    pub kid: String,
    /// The service account's email, the `iss` claim.
    pub iss: String,
    /// The space-separated scopes, the `scope` claim.
    pub scope: String,
}

/// Checks a JWT bearer grant the way Google's endpoint would: signature with the public key,
/// header, and every claim (`iat` within a minute of now, `exp` an hour later, `aud` Google's
/// token endpoint whatever the key file's `token_uri`). Returns the reason on failure.
pub fn verify_grant(seen: &Recorded, expect: &Expect) -> Result<(), String> {
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
