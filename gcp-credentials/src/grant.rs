//! Sans-IO token grants: build each token request, parse each reply.
//!
//! Nothing here touches a socket or a clock: the time of the assertion comes in as `iat`, the
//! request goes out as an [`http::Request`], and the reply comes back as an [`http::Response`]
//! over borrowed bytes. Any HTTP stack can drive these functions; [`crate::TokenProvider`] is
//! one driver.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use std::time::Duration;

use crate::credentials::{
    AuthorizedUser, Credentials, DEFAULT_TOKEN_URI, MetadataServer, ServiceAccountKey, json_type,
};
use crate::error::{Error, Result};
use crate::jwt::{AssertionClaims, sign_assertion};
use crate::secret::AccessToken;

/// The `grant_type` of the service account (JWT bearer) grant.
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The scope that covers the Cloud Healthcare API.
pub const CLOUD_HEALTHCARE_SCOPE: &str = "https://www.googleapis.com/auth/cloud-healthcare";

/// The scope that covers every Google Cloud API.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The header that every metadata server request and reply carries.
pub const METADATA_FLAVOR: &str = "metadata-flavor";

/// The header that names the project billed for a user's requests.
pub const USER_PROJECT_HEADER: &str = "x-goog-user-project";

/// A token the endpoint issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The access token.
    pub access_token: AccessToken,
    /// How long it stays valid from when it was issued (`expires_in`); `None` means no
    /// expiry was given.
    pub expires_in: Option<Duration>,
    /// `token_type`, normally `Bearer`.
    pub token_type: String,
}

/// Builds the token request for `credentials`, or `None` for a static token.
///
/// `issued_at` is the current Unix time in seconds (used only by service accounts);
/// `token_uri` overrides the endpoint named by the credentials file.
pub fn token_request(
    credentials: &Credentials,
    scopes: &[String],
    issued_at: u64,
    token_uri: Option<&str>,
) -> Result<Option<Request<Bytes>>> {
    match credentials {
        Credentials::ServiceAccount(key) => {
            service_account_request(key, scopes, issued_at, token_uri).map(Some)
        }
        Credentials::AuthorizedUser(user) => authorized_user_request(user, token_uri).map(Some),
        Credentials::MetadataServer(server) => metadata_token_request(server, scopes).map(Some),
        Credentials::Static(_) => Ok(None),
    }
}

/// The JWT bearer grant: `POST token_uri` with
/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>`.
///
/// The endpoint is `token_uri` if given, else the key's `token_uri`, else
/// [`DEFAULT_TOKEN_URI`]; the assertion's `aud` is always `https://oauth2.googleapis.com/token`.
pub fn service_account_request(
    key: &ServiceAccountKey,
    scopes: &[String],
    issued_at: u64,
    token_uri: Option<&str>,
) -> Result<Request<Bytes>> {
    let mut claims = AssertionClaims::new(&key.client_email, scopes, issued_at);
    claims.subject.clone_from(&key.subject);
    let assertion = sign_assertion(&key.signer, key.private_key_id.as_deref(), &claims)?;
    let uri = token_uri
        .or(key.token_uri.as_deref())
        .unwrap_or(DEFAULT_TOKEN_URI);
    let body = form(&[
        ("grant_type", JWT_BEARER_GRANT_TYPE),
        ("assertion", &assertion),
    ]);
    form_post(uri, body, None)
}

/// The refresh-token grant: `POST token_uri` with `grant_type=refresh_token`, `client_id`,
/// `client_secret` and `refresh_token`, plus `x-goog-user-project` when the file names a
/// quota project.
pub fn authorized_user_request(
    user: &AuthorizedUser,
    token_uri: Option<&str>,
) -> Result<Request<Bytes>> {
    let uri = token_uri
        .or(user.token_uri.as_deref())
        .unwrap_or(DEFAULT_TOKEN_URI);
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("client_id", &user.client_id),
        ("client_secret", user.client_secret.secret()),
        ("refresh_token", user.refresh_token.secret()),
    ]);
    form_post(uri, body, user.quota_project_id.as_deref())
}

/// `GET http://HOST/computeMetadata/v1/instance/service-accounts/default/token?scopes=a,b`
/// with `Metadata-Flavor: Google`.
pub fn metadata_token_request(
    server: &MetadataServer,
    scopes: &[String],
) -> Result<Request<Bytes>> {
    let mut uri = format!(
        "http://{}/computeMetadata/v1/instance/service-accounts/default/token",
        server.host
    );
    if !scopes.is_empty() {
        uri.push_str("?scopes=");
        uri.push_str(&encode_component(&scopes.join(",")));
    }
    metadata_get(&uri)
}

/// The metadata server detection request: `GET http://HOST/` with `Metadata-Flavor: Google`.
/// A metadata server answers with the same header (see [`is_metadata_server_response`]).
pub fn metadata_ping_request(server: &MetadataServer) -> Result<Request<Bytes>> {
    metadata_get(&format!("http://{}/", server.host))
}

/// Whether a reply to [`metadata_ping_request`] came from a metadata server.
pub fn is_metadata_server_response<B>(response: &Response<B>) -> bool {
    response.status().is_success()
        && response
            .headers()
            .get(METADATA_FLAVOR)
            .is_some_and(|v| v.as_bytes() == b"Google")
}

/// Parses a token endpoint's (or the metadata server's) reply.
///
/// Success is a JSON object with `access_token`, `expires_in` and `token_type`; an OAuth2
/// error reply (`error`, `error_description`) becomes [`Error::OAuth`]; anything else becomes
/// [`Error::UnexpectedResponse`] saying what came.
pub fn parse_token_response(response: Response<&[u8]>) -> Result<Token> {
    let status = response.status().as_u16();
    let body = *response.body();
    let unexpected = |reason: String| Error::UnexpectedResponse { status, reason };
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let object = match parsed {
        Some(Value::Object(object)) => object,
        other => {
            let found = match &other {
                Some(value) => json_type(value).to_owned(),
                None => describe_non_json(body),
            };
            return Err(unexpected(format!("expected a JSON object, found {found}")));
        }
    };
    if let Some(error) = object.get("error") {
        let error = match error {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let description = object
            .get("error_description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Err(Error::OAuth {
            status,
            error,
            description,
        });
    }
    if !response.status().is_success() {
        return Err(unexpected(
            "expected a token or an OAuth2 error, found a JSON object with neither".to_owned(),
        ));
    }
    let access_token = match object.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => AccessToken::new(s.as_str()),
        Some(other) => {
            return Err(unexpected(format!(
                "expected \"access_token\" to be a non-empty string, found {}",
                if other.is_string() {
                    "an empty string"
                } else {
                    json_type(other)
                }
            )));
        }
        None => {
            return Err(unexpected(
                "expected a field \"access_token\", found none".to_owned(),
            ));
        }
    };
    let expires_in = match object.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_u64().ok_or_else(|| {
            unexpected(format!(
                "expected \"expires_in\" to be a whole number of seconds, found {n}"
            ))
        })?),
        Some(Value::String(s)) => Some(s.trim().parse::<u64>().map_err(|_| {
            unexpected(format!(
                "expected \"expires_in\" to be a whole number of seconds, found {s:?}"
            ))
        })?),
        Some(other) => {
            return Err(unexpected(format!(
                "expected \"expires_in\" to be a number, found {}",
                json_type(other)
            )));
        }
    }
    .map(Duration::from_secs);
    let token_type = object
        .get("token_type")
        .and_then(Value::as_str)
        .unwrap_or("Bearer")
        .to_owned();
    Ok(Token {
        access_token,
        expires_in,
        token_type,
    })
}

/// What a non-JSON body looks like, without quoting more than a short printable prefix.
fn describe_non_json(body: &[u8]) -> String {
    if body.is_empty() {
        return "an empty body".to_owned();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]);
    let shown: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "{} bytes that are not JSON, starting {:?}",
        body.len(),
        shown.trim()
    )
}

/// Characters a form value keeps as they are: the unreserved set `A-Z a-z 0-9 - . _ ~`.
const FORM_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, FORM_VALUE).to_string()
}

fn form(pairs: &[(&str, &str)]) -> Bytes {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    Bytes::from(encoded.join("&"))
}

fn form_post(uri: &str, body: Bytes, user_project: Option<&str>) -> Result<Request<Bytes>> {
    let uri = checked_uri(uri)?;
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json");
    if let Some(project) = user_project {
        let value = HeaderValue::from_str(project).map_err(|_| Error::InvalidRequest {
            reason: format!("quota project {project:?} is not a valid header value"),
        })?;
        builder = builder.header(USER_PROJECT_HEADER, value);
    }
    builder.body(body).map_err(|e| Error::InvalidRequest {
        reason: e.to_string(),
    })
}

fn metadata_get(uri: &str) -> Result<Request<Bytes>> {
    Request::builder()
        .method(Method::GET)
        .uri(checked_uri(uri)?)
        .header(METADATA_FLAVOR, "Google")
        .body(Bytes::new())
        .map_err(|e| Error::InvalidRequest {
            reason: e.to_string(),
        })
}

fn checked_uri(uri: &str) -> Result<http::Uri> {
    let parsed: http::Uri = uri.parse().map_err(|e| Error::InvalidRequest {
        reason: format!(
            "expected an absolute http(s) URL for the token endpoint, found {uri:?} ({e})"
        ),
    })?;
    match parsed.scheme_str() {
        Some("http" | "https") if parsed.authority().is_some() => Ok(parsed),
        _ => Err(Error::InvalidRequest {
            reason: format!(
                "expected an absolute http(s) URL for the token endpoint, found {uri:?}"
            ),
        }),
    }
}

#[cfg(test)]
#[path = "grant_tests.rs"]
mod tests;
