//! Credentials files and the [`Credentials`] a token provider works from.
//!
//! Parsing reads the JSON into a tree first and picks each field by hand, so that an error names
//! the field and the JSON type that came, and never quotes a value (values may be secrets).

use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::jwt::RsaSigner;
use crate::secret::{AccessToken, ClientSecret, PrivateKeyPem, RefreshToken};

/// Google's OAuth2 token endpoint, used when a credentials file names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The metadata server's host name on GCE and GKE.
pub const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";

/// A service account key file (`"type": "service_account"`).
#[derive(Debug, Clone)]
pub struct ServiceAccountKey {
    /// `client_email`: the service account, used as the assertion's `iss`.
    pub client_email: String,
    /// `private_key_id`: goes into the JWT header as `kid`.
    pub private_key_id: Option<String>,
    /// `private_key`: the PEM text.
    pub private_key: PrivateKeyPem,
    /// `token_uri`: where the grant is sent ([`DEFAULT_TOKEN_URI`] when absent).
    pub token_uri: Option<String>,
    /// `project_id`, if present.
    pub project_id: Option<String>,
    /// A user to impersonate through domain-wide delegation (the assertion's `sub`), if any.
    pub subject: Option<String>,
    /// The decoded private key.
    pub signer: RsaSigner,
}

/// gcloud's user credentials (`"type": "authorized_user"`).
#[derive(Debug, Clone)]
pub struct AuthorizedUser {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: ClientSecret,
    /// `refresh_token`.
    pub refresh_token: RefreshToken,
    /// `quota_project_id`: sent as `x-goog-user-project` when present.
    pub quota_project_id: Option<String>,
    /// `token_uri`, if the file names one.
    pub token_uri: Option<String>,
}

/// The GCE/GKE metadata server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataServer {
    /// Host (and optional port) to ask for tokens, e.g. `metadata.google.internal` or the value
    /// of `GCE_METADATA_HOST`.
    pub host: String,
}

impl Default for MetadataServer {
    fn default() -> Self {
        Self {
            host: DEFAULT_METADATA_HOST.to_owned(),
        }
    }
}

/// Where access tokens come from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A service account key: JWT bearer grant.
    ServiceAccount(Arc<ServiceAccountKey>),
    /// gcloud user credentials: refresh-token grant.
    AuthorizedUser(Arc<AuthorizedUser>),
    /// The GCE/GKE metadata server.
    MetadataServer(MetadataServer),
    /// A fixed token that never expires (for tests and short scripts).
    Static(AccessToken),
}

impl Credentials {
    /// Reads a credentials file (service account key or gcloud `authorized_user`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            path: path.to_owned(),
            source: Arc::new(e),
        })?;
        Self::from_json(&bytes, Some(&path.display().to_string()))
    }

    /// Parses a credentials file's JSON. `origin` (a path or a description) goes into errors.
    pub fn from_json(json: &[u8], origin: Option<&str>) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidCredentials {
            origin: origin.map(str::to_owned),
            reason,
        };
        let value: Value = serde_json::from_slice(json).map_err(|e| {
            invalid(format!(
                "expected a JSON object, the JSON is malformed: {e}"
            ))
        })?;
        let Value::Object(object) = value else {
            return Err(invalid(format!(
                "expected a JSON object, found {}",
                json_type(&value)
            )));
        };
        let fields = Fields {
            object: &object,
            origin,
        };
        let kind = fields.required("type")?;
        match kind.as_str() {
            "service_account" => {
                let private_key = PrivateKeyPem::new(fields.required("private_key")?);
                let signer = RsaSigner::from_pem(&private_key)
                    .map_err(|e| invalid(format!("field \"private_key\": {e}")))?;
                Ok(Self::ServiceAccount(Arc::new(ServiceAccountKey {
                    client_email: fields.required("client_email")?,
                    private_key_id: fields.optional("private_key_id")?,
                    private_key,
                    token_uri: fields.optional("token_uri")?,
                    project_id: fields.optional("project_id")?,
                    subject: None,
                    signer,
                })))
            }
            "authorized_user" => Ok(Self::AuthorizedUser(Arc::new(AuthorizedUser {
                client_id: fields.required("client_id")?,
                client_secret: ClientSecret::new(fields.required("client_secret")?),
                refresh_token: RefreshToken::new(fields.required("refresh_token")?),
                quota_project_id: fields.optional("quota_project_id")?,
                token_uri: fields.optional("token_uri")?,
            }))),
            _ => Err(Error::UnsupportedCredentialsType {
                found: kind,
                origin: origin.map(str::to_owned),
            }),
        }
    }

    /// A short name of the source, for logs: `service_account`, `authorized_user`,
    /// `metadata_server` or `static`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ServiceAccount(_) => "service_account",
            Self::AuthorizedUser(_) => "authorized_user",
            Self::MetadataServer(_) => "metadata_server",
            Self::Static(_) => "static",
        }
    }
}

struct Fields<'a> {
    object: &'a Map<String, Value>,
    origin: Option<&'a str>,
}

impl Fields<'_> {
    fn optional(&self, name: &str) -> Result<Option<String>> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Error::InvalidCredentials {
                origin: self.origin.map(str::to_owned),
                reason: format!(
                    "expected field {name:?} to be a string, found {}",
                    json_type(other)
                ),
            }),
        }
    }

    fn required(&self, name: &str) -> Result<String> {
        match self.optional(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            found => Err(Error::InvalidCredentials {
                origin: self.origin.map(str::to_owned),
                reason: format!(
                    "expected a non-empty string field {name:?}, found {}",
                    if found.is_some() {
                        "an empty string"
                    } else {
                        "none"
                    }
                ),
            }),
        }
    }
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
