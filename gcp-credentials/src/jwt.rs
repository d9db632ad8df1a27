//! RS256 JSON Web Tokens for the service account grant, signed with `ring`.
//!
//! The header and claims are serialized exactly as google-auth (Python) serializes them
//! (`json.dumps` with its default separators and ASCII escaping), so for the same key, claims
//! and `iat` the JWT is byte for byte the one google-auth sends: RSASSA-PKCS1-v1_5 signatures
//! are deterministic. A test vector made by google-auth checks this.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::secret::PrivateKeyPem;

/// The audience google-auth puts in every service account assertion, whatever the key file's
/// `token_uri` says.
pub const GOOGLE_TOKEN_AUDIENCE: &str = "https://oauth2.googleapis.com/token";

/// The lifetime of an assertion: `exp = iat + 3600`, the maximum Google accepts.
pub const ASSERTION_LIFETIME_SECS: u64 = 3600;

/// An RSA private key ready to sign RS256 assertions. `Debug` never shows the key.
#[derive(Clone)]
pub struct RsaSigner {
    key_pair: Arc<RsaKeyPair>,
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaSigner([redacted])")
    }
}

impl RsaSigner {
    /// Decodes a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`, what Google issues) or
    /// PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(pem: &PrivateKeyPem) -> Result<Self> {
        let (label, der) = decode_pem(pem.secret())?;
        let key_pair = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            other => {
                return Err(invalid_key(format!(
                    "expected a PEM block labelled \"PRIVATE KEY\" or \"RSA PRIVATE KEY\", found {other:?}"
                )));
            }
        }
        .map_err(|e| invalid_key(format!("not an RSA key usable for RS256 ({e})")))?;
        Ok(Self {
            key_pair: Arc::new(key_pair),
        })
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 and SHA-256.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let mut signature = vec![0; self.key_pair.public().modulus_len()];
        let rng = ring::rand::SystemRandom::new();
        self.key_pair
            .sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
            .map_err(|_| invalid_key("RS256 signing failed".to_owned()))?;
        Ok(signature)
    }

    /// The DER `RSAPublicKey` of the key's public half (for verifying in tests and tools).
    pub fn public_key_der(&self) -> Vec<u8> {
        use ring::signature::KeyPair as _;
        self.key_pair.public_key().as_ref().to_vec()
    }
}

/// The claims of a service account assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionClaims {
    /// `iss`: the service account's email.
    pub issuer: String,
    /// `scope`: the scopes, joined with spaces.
    pub scope: String,
    /// `aud`: normally [`GOOGLE_TOKEN_AUDIENCE`].
    pub audience: String,
    /// `iat`: seconds since the Unix epoch.
    pub issued_at: u64,
    /// `exp`: seconds since the Unix epoch, normally `iat + 3600`.
    pub expires_at: u64,
    /// `sub`: a user to impersonate through domain-wide delegation, if any.
    pub subject: Option<String>,
}

impl AssertionClaims {
    /// The claims google-auth builds: `aud` constant, `exp = iat + 3600`.
    pub fn new(issuer: &str, scopes: &[impl AsRef<str>], issued_at: u64) -> Self {
        Self {
            issuer: issuer.to_owned(),
            scope: scopes
                .iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(" "),
            audience: GOOGLE_TOKEN_AUDIENCE.to_owned(),
            issued_at,
            expires_at: issued_at.saturating_add(ASSERTION_LIFETIME_SECS),
            subject: None,
        }
    }

    fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str(&format!(
            "{{\"iat\": {}, \"exp\": {}, \"iss\": ",
            self.issued_at, self.expires_at
        ));
        push_json_string(&mut out, &self.issuer);
        out.push_str(", \"aud\": ");
        push_json_string(&mut out, &self.audience);
        out.push_str(", \"scope\": ");
        push_json_string(&mut out, &self.scope);
        if let Some(subject) = &self.subject {
            out.push_str(", \"sub\": ");
            push_json_string(&mut out, subject);
        }
        out.push('}');
        out
    }
}

/// Builds and signs the assertion: `base64url(header) . base64url(claims) . base64url(signature)`,
/// with header `{"typ": "JWT", "alg": "RS256", "kid": <key_id>}` (`kid` left out when `None`).
pub fn sign_assertion(
    signer: &RsaSigner,
    key_id: Option<&str>,
    claims: &AssertionClaims,
) -> Result<String> {
    let mut header = String::from("{\"typ\": \"JWT\", \"alg\": \"RS256\"");
    if let Some(kid) = key_id {
        header.push_str(", \"kid\": ");
        push_json_string(&mut header, kid);
    }
    header.push('}');
    let mut jwt = URL_SAFE_NO_PAD.encode(header.as_bytes());
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(claims.to_json().as_bytes()));
    let signature = signer.sign(jwt.as_bytes())?;
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(jwt)
}

/// Writes `s` as a JSON string the way Python's `json.dumps` does by default: ASCII only,
/// `\uXXXX` escapes (surrogate pairs above the BMP), short escapes for `\" \\ \n \r \t \b \f`.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Splits one PEM block into its label and DER bytes. Never echoes the input.
fn decode_pem(text: &str) -> Result<(String, Vec<u8>)> {
    let begin = text.find("-----BEGIN ").ok_or_else(|| {
        invalid_key("expected a PEM block (\"-----BEGIN ...\"), found none".to_owned())
    })?;
    let after_begin = &text[begin + "-----BEGIN ".len()..];
    let label_end = after_begin
        .find("-----")
        .ok_or_else(|| invalid_key("PEM BEGIN line is not closed with \"-----\"".to_owned()))?;
    let label = after_begin[..label_end].to_owned();
    let body_and_rest = &after_begin[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let body_end = body_and_rest
        .find(&end_marker)
        .ok_or_else(|| invalid_key(format!("PEM block {label:?} has no matching END line")))?;
    let body: String = body_and_rest[..body_end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| invalid_key(format!("PEM block {label:?} is not valid base64")))?;
    if der.is_empty() {
        return Err(invalid_key(format!("PEM block {label:?} is empty")));
    }
    Ok((label, der))
}

fn invalid_key(reason: String) -> Error {
    Error::InvalidPrivateKey { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_match_python() {
        let mut s = String::new();
        push_json_string(&mut s, "a\"b\\c\n\u{1}é😀\u{7f}");
        // What Python prints for json.dumps("a\"b\\c\n\x01é😀\x7f").
        assert_eq!(s, r#""a\"b\\c\n\u0001\u00e9\ud83d\ude00\u007f""#);
    }

    #[test]
    fn claims_follow_google_auth() {
        let claims = AssertionClaims::new("sa@p.iam.gserviceaccount.com", &["a", "b"], 1000);
        assert_eq!(
            claims.to_json(),
            "{\"iat\": 1000, \"exp\": 4600, \"iss\": \"sa@p.iam.gserviceaccount.com\", \
             \"aud\": \"https://oauth2.googleapis.com/token\", \"scope\": \"a b\"}"
        );
    }

    #[test]
    fn bad_pem_is_a_clear_error_without_the_input() {
        for (input, expect) in [
            ("not a key at all SECRETSECRET", "found none"),
            (
                "-----BEGIN PRIVATE KEY-----\nSECRET!!\n-----END PRIVATE KEY-----\n",
                "base64",
            ),
            ("-----BEGIN PRIVATE KEY-----\nU0VDUkVU\n", "no matching END"),
            (
                "-----BEGIN PRIVATE KEY-----\nU0VDUkVU\n-----END PRIVATE KEY-----",
                "RSA key",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nU0VDUkVU\n-----END CERTIFICATE-----",
                "CERTIFICATE",
            ),
        ] {
            let err = RsaSigner::from_pem(&PrivateKeyPem::new(input)).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(expect), "{text}");
            assert!(
                !text.contains("SECRET") && !text.contains("U0VDUkVU"),
                "{text}"
            );
        }
    }
}
