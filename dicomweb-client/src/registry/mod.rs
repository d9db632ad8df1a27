//! A registry of DICOMweb servers read from Orthanc's `DicomWeb.Servers` configuration, as is.
//! With the `gcp` feature, the accounts of Orthanc's Google Cloud plugin
//! (`GoogleCloudPlatform.Accounts`) are servers too, whose clients get their tokens from the
//! account's credentials ([`ClientBuilder::from_server`](crate::ClientBuilder::from_server)).
//!
//! Both of Orthanc's forms are accepted, comments and all:
//!
//! ```
//! use dicomweb_client::ServerRegistry;
//!
//! let config = r#"{
//!   "DicomWeb" : {
//!     "Servers" : {
//!       // array form: [ url ] or [ url, username, password ]
//!       "local" : [ "http://127.0.0.1:8042/dicom-web/", "alice", "s3cret" ],
//!       /* object form */
//!       "google" : {
//!         "Url" : "https://healthcare.googleapis.com/v1/projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb",
//!         "HttpHeaders" : { "x-goog-user-project" : "p" },
//!         "HasDelete" : true,
//!         "ChunkedTransfers" : false,
//!         "Timeout" : 30
//!       }
//!     }
//!   }
//! }"#;
//! let registry = ServerRegistry::from_orthanc_config(config)?;
//! let local = registry.server("local").unwrap();
//! assert_eq!(local.username.as_deref(), Some("alice"));
//! assert_eq!(registry.server("google").unwrap().chunked_transfers, Some(false));
//! # Ok::<(), dicomweb_client::Error>(())
//! ```

mod jsonc;

pub use jsonc::strip as strip_config_comments;

/// An Orthanc configuration's text as JSON: comments removed ([`strip_config_comments`]),
/// then parsed. Every reader of `--config` parses through it; the error says what was
/// expected and what came.
pub fn parse_orthanc_config(text: &str) -> Result<Value, String> {
    let clean = jsonc::strip(text)?;
    serde_json::from_str(&clean).map_err(|e| format!("expected JSON: {e}"))
}

/// The files an Orthanc configuration path stands for, as Orthanc reads it: the file itself,
/// or every `*.json` file of a folder, in name order (later files' keys win). Every reader of
/// `--config` (servers, DICOM devices, DICOM TLS files) goes through it.
pub fn orthanc_config_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|source| Error::Io {
            doing: "read",
            path: path.to_owned(),
            source,
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::{Error, Password};

/// One remote DICOMweb server, as Orthanc's `DicomWeb.Servers` describes it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The DICOMweb root (`Url`).
    pub url: String,
    /// HTTP basic user name (`Username`).
    pub username: Option<String>,
    /// HTTP basic password (`Password`).
    pub password: Option<Password>,
    /// Extra headers sent with every request (`HttpHeaders`), in file order.
    pub http_headers: Vec<(String, String)>,
    /// Whether the server supports DELETE (`HasDelete`).
    pub has_delete: Option<bool>,
    /// Whether uploads may use chunked transfer encoding (`ChunkedTransfers`); when false,
    /// bodies carry `Content-Length`.
    pub chunked_transfers: Option<bool>,
    /// The HTTP timeout (`Timeout`, in seconds; 0 means none).
    pub timeout: Option<Duration>,
    /// The client certificate, PEM (`CertificateFile`).
    pub certificate_file: Option<PathBuf>,
    /// The client certificate's private key, PEM (`CertificateKeyFile`).
    pub certificate_key_file: Option<PathBuf>,
    /// The private key's pass phrase (`CertificateKeyPassword`).
    pub certificate_key_password: Option<Password>,
    /// Keys this crate does not interpret (Orthanc's user properties, `Pkcs11`, ...).
    pub other: BTreeMap<String, Value>,
    /// A Cloud Healthcare API account from Orthanc's GCP plugin configuration
    /// (`GoogleCloudPlatform.Accounts`): clients of this entry get their tokens from it.
    #[cfg(feature = "gcp")]
    pub gcp_account: Option<gcp_credentials::OrthancGcpAccount>,
}

impl ServerConfig {
    /// A server at `url` with nothing else configured.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            username: None,
            password: None,
            http_headers: Vec::new(),
            has_delete: None,
            chunked_transfers: None,
            timeout: None,
            certificate_file: None,
            certificate_key_file: None,
            certificate_key_password: None,
            other: BTreeMap::new(),
            #[cfg(feature = "gcp")]
            gcp_account: None,
        }
    }

    /// Reads one entry of `DicomWeb.Servers`: `[url]`, `[url, username, password]` or an object.
    /// Relative certificate paths are resolved against `base_dir` when given.
    pub fn from_json(value: &Value, base_dir: Option<&Path>) -> Result<Self, String> {
        let mut server = match value {
            Value::Array(items) => from_array(items)?,
            Value::Object(map) => from_object(map)?,
            other => {
                return Err(format!(
                    "expected an array [url, username, password] or an object with \"Url\", got {}",
                    kind(other)
                ));
            }
        };
        if let Some(dir) = base_dir {
            for path in [
                &mut server.certificate_file,
                &mut server.certificate_key_file,
            ]
            .into_iter()
            .flatten()
            {
                if path.is_relative() {
                    *path = dir.join(&*path);
                }
            }
        }
        Ok(server)
    }
}

/// The DICOMweb servers known by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerRegistry {
    servers: BTreeMap<String, ServerConfig>,
}

impl ServerRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads an Orthanc configuration's text (comments allowed): its `DicomWeb.Servers`.
    /// A configuration without that section gives an empty registry.
    pub fn from_orthanc_config(text: &str) -> Result<Self, Error> {
        Self::parse(text, "(text)", None)
    }

    /// Reads an Orthanc configuration file, or every `*.json` file of a folder (as Orthanc
    /// does). Relative certificate paths are resolved against the file's folder.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let mut registry = Self::new();
        for file in orthanc_config_files(path.as_ref())? {
            registry.servers.extend(Self::load_file(&file)?.servers);
        }
        Ok(registry)
    }

    fn load_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            doing: "read",
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string(), path.parent())
    }

    fn parse(text: &str, origin: &str, base_dir: Option<&Path>) -> Result<Self, Error> {
        let fail = |message: String| Error::Registry {
            origin: origin.to_owned(),
            message,
        };
        let value = parse_orthanc_config(text).map_err(fail)?;
        let Some(root) = value.as_object() else {
            return Err(fail(format!(
                "expected a JSON object, got {}",
                kind(&value)
            )));
        };
        let mut registry = Self::new();
        // With the `gcp` feature, the GCP plugin's accounts are servers too (a DicomWeb.Servers
        // entry of the same name wins).
        #[cfg(feature = "gcp")]
        for account in
            gcp_credentials::read_orthanc_gcp_accounts(&value).map_err(|e| fail(e.to_string()))?
        {
            let mut server = ServerConfig::new(account.dicomweb_root());
            let name = account.name.clone();
            server.gcp_account = Some(account);
            registry.servers.insert(name, server);
        }
        let servers = match root.get("DicomWeb") {
            None => return Ok(registry),
            Some(Value::Object(dicomweb)) => match dicomweb.get("Servers") {
                None => return Ok(registry),
                Some(Value::Object(servers)) => servers,
                Some(other) => {
                    return Err(fail(format!(
                        "expected \"DicomWeb.Servers\" to be an object, got {}",
                        kind(other)
                    )));
                }
            },
            Some(other) => {
                return Err(fail(format!(
                    "expected \"DicomWeb\" to be an object, got {}",
                    kind(other)
                )));
            }
        };
        for (name, value) in servers {
            let server = ServerConfig::from_json(value, base_dir)
                .map_err(|m| fail(format!("server {name:?}: {m}")))?;
            registry.servers.insert(name.clone(), server);
        }
        Ok(registry)
    }

    /// Adds or replaces a server.
    pub fn insert(&mut self, name: impl Into<String>, server: ServerConfig) {
        self.servers.insert(name.into(), server);
    }

    /// The server called `name`.
    pub fn server(&self, name: &str) -> Option<&ServerConfig> {
        self.servers.get(name)
    }

    /// The server called `name`, or an error listing the known names.
    pub fn require(&self, name: &str) -> Result<&ServerConfig, Error> {
        self.server(name).ok_or_else(|| {
            let known: Vec<&str> = self.servers.keys().map(String::as_str).collect();
            Error::config(format!(
                "no DICOMweb server named {name:?}; known: {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        })
    }

    /// All servers, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ServerConfig)> {
        self.servers.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many servers.
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }
}

fn from_array(items: &[Value]) -> Result<ServerConfig, String> {
    let text = |i: usize, what: &str| -> Result<String, String> {
        match &items[i] {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!(
                "expected the {what} as a string, got {}",
                kind(other)
            )),
        }
    };
    match items.len() {
        1 => Ok(ServerConfig::new(text(0, "URL")?)),
        3 => {
            let mut server = ServerConfig::new(text(0, "URL")?);
            server.username = Some(text(1, "username")?);
            server.password = Some(Password::new(text(2, "password")?));
            Ok(server)
        }
        n => Err(format!(
            "expected an array of 1 item [url] or 3 items [url, username, password], got {n} items"
        )),
    }
}

fn from_object(map: &Map<String, Value>) -> Result<ServerConfig, String> {
    let url = match map.get("Url") {
        Some(Value::String(url)) => url.clone(),
        Some(other) => {
            return Err(format!(
                "expected \"Url\" to be a string, got {}",
                kind(other)
            ));
        }
        None => return Err("expected a \"Url\" key, found none".to_owned()),
    };
    let mut server = ServerConfig::new(url);
    for (key, value) in map {
        match key.as_str() {
            "Url" => {}
            "Username" => server.username = Some(string(key, value)?),
            "Password" => server.password = Some(Password::new(string(key, value)?)),
            "HttpHeaders" => {
                let Value::Object(headers) = value else {
                    return Err(format!(
                        "expected \"HttpHeaders\" to be an object, got {}",
                        kind(value)
                    ));
                };
                for (name, v) in headers {
                    let v = string(&format!("HttpHeaders.{name}"), v)?;
                    server.http_headers.push((name.clone(), v));
                }
            }
            "HasDelete" => server.has_delete = Some(boolean(key, value)?),
            "ChunkedTransfers" => server.chunked_transfers = Some(boolean(key, value)?),
            "Timeout" => {
                let seconds = match value {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                }
                .ok_or_else(|| {
                    format!("expected \"Timeout\" to be whole seconds (0 or more), got {value}")
                })?;
                server.timeout = (seconds > 0).then(|| Duration::from_secs(seconds));
            }
            "CertificateFile" => server.certificate_file = Some(string(key, value)?.into()),
            "CertificateKeyFile" => server.certificate_key_file = Some(string(key, value)?.into()),
            "CertificateKeyPassword" => {
                server.certificate_key_password = Some(Password::new(string(key, value)?));
            }
            _ => {
                server.other.insert(key.clone(), value.clone());
            }
        }
    }
    if server.certificate_key_file.is_some() != server.certificate_file.is_some() {
        return Err(
            "expected \"CertificateFile\" and \"CertificateKeyFile\" together, got only one"
                .to_owned(),
        );
    }
    Ok(server)
}

fn string(key: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!(
            "expected {key:?} to be a string, got {}",
            kind(other)
        )),
    }
}

fn boolean(key: &str, value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if matches!(s.as_str(), "true" | "1") => Ok(true),
        Value::String(s) if matches!(s.as_str(), "false" | "0") => Ok(false),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        other => Err(format!("expected {key:?} to be true or false, got {other}")),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
