//! Application Default Credentials: find credentials the way Google's libraries do.
//!
//! The order is `GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's well-known file
//! (`$CLOUDSDK_CONFIG/application_default_credentials.json`, by default under
//! `$HOME/.config/gcloud`, or `%APPDATA%\gcloud` on Windows), then the metadata server. The
//! environment is an [`AdcEnvironment`] value, so tests (and embedders) can supply their own.

use std::path::PathBuf;
use std::time::Duration;

use crate::credentials::{Credentials, DEFAULT_METADATA_HOST, MetadataServer};
use crate::error::{Error, Result};
use crate::grant::{is_metadata_server_response, metadata_ping_request};
use crate::transport::HttpClient;

/// The metadata server's link-local address, used to detect it without a DNS lookup.
pub const DEFAULT_METADATA_IP: &str = "169.254.169.254";

/// The default time allowed for the metadata server to answer the detection request.
pub const DEFAULT_METADATA_DETECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The parts of the environment that Application Default Credentials look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdcEnvironment {
    /// `GOOGLE_APPLICATION_CREDENTIALS`: a credentials file.
    pub google_application_credentials: Option<PathBuf>,
    /// `CLOUDSDK_CONFIG`: gcloud's configuration directory, when moved.
    pub cloudsdk_config: Option<PathBuf>,
    /// `HOME` (or `APPDATA` on Windows).
    pub home: Option<PathBuf>,
    /// `GCE_METADATA_HOST`: the metadata server's host (and port).
    pub metadata_host: Option<String>,
    /// `GCE_METADATA_IP`: the address to detect the metadata server at.
    pub metadata_ip: Option<String>,
    /// How long detection of the metadata server may take.
    pub metadata_detect_timeout: Option<Duration>,
}

impl AdcEnvironment {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let text = |name: &str| var(name).and_then(|v| v.into_string().ok());
        let home = if cfg!(windows) {
            var("APPDATA")
        } else {
            var("HOME")
        };
        Self {
            google_application_credentials: var("GOOGLE_APPLICATION_CREDENTIALS")
                .map(PathBuf::from),
            cloudsdk_config: var("CLOUDSDK_CONFIG").map(PathBuf::from),
            home: home.map(PathBuf::from),
            metadata_host: text("GCE_METADATA_HOST"),
            metadata_ip: text("GCE_METADATA_IP"),
            metadata_detect_timeout: None,
        }
    }

    /// gcloud's well-known credentials file, if a home or config directory is known.
    pub fn well_known_file(&self) -> Option<PathBuf> {
        let dir = match (&self.cloudsdk_config, &self.home) {
            (Some(config), _) => config.clone(),
            (None, Some(home)) if cfg!(windows) => home.join("gcloud"),
            (None, Some(home)) => home.join(".config").join("gcloud"),
            (None, None) => return None,
        };
        Some(dir.join("application_default_credentials.json"))
    }

    /// The metadata server tokens are asked from.
    pub fn metadata_server(&self) -> MetadataServer {
        MetadataServer {
            host: self
                .metadata_host
                .clone()
                .unwrap_or_else(|| DEFAULT_METADATA_HOST.to_owned()),
        }
    }

    /// Where the metadata server is detected: `GCE_METADATA_IP`, else `GCE_METADATA_HOST`,
    /// else [`DEFAULT_METADATA_IP`].
    pub fn metadata_detection_server(&self) -> MetadataServer {
        MetadataServer {
            host: self
                .metadata_ip
                .clone()
                .or_else(|| self.metadata_host.clone())
                .unwrap_or_else(|| DEFAULT_METADATA_IP.to_owned()),
        }
    }
}

/// Finds Application Default Credentials in `env`, using `http` to detect the metadata server.
///
/// A credentials file that is named but cannot be read or parsed is an error (it does not fall
/// through to the next source); when no source gives credentials the error lists each place
/// looked at.
pub async fn application_default_credentials(
    env: &AdcEnvironment,
    http: &dyn HttpClient,
) -> Result<Credentials> {
    let mut tried = Vec::new();
    match &env.google_application_credentials {
        Some(path) => return Credentials::from_file(path),
        None => tried.push("GOOGLE_APPLICATION_CREDENTIALS is not set".to_owned()),
    }
    match env.well_known_file() {
        Some(path) if path.is_file() => return Credentials::from_file(path),
        Some(path) => tried.push(format!("no gcloud credentials at {}", path.display())),
        None => tried.push("no home directory for gcloud's credentials file".to_owned()),
    }
    let detect = env.metadata_detection_server();
    let timeout = env
        .metadata_detect_timeout
        .unwrap_or(DEFAULT_METADATA_DETECT_TIMEOUT);
    let request = metadata_ping_request(&detect)?;
    match tokio::time::timeout(timeout, http.send(request)).await {
        Ok(Ok(response)) if is_metadata_server_response(&response) => {
            return Ok(Credentials::MetadataServer(env.metadata_server()));
        }
        Ok(Ok(response)) => tried.push(format!(
            "http://{}/ answered HTTP {} without \"Metadata-Flavor: Google\"",
            detect.host,
            response.status().as_u16()
        )),
        Ok(Err(error)) => tried.push(format!(
            "no metadata server at {}: {}",
            detect.host,
            crate::error::display_chain(error.as_ref())
        )),
        Err(_) => tried.push(format!(
            "no metadata server at {} within {timeout:?}",
            detect.host
        )),
    }
    Err(Error::NoCredentials { tried })
}

#[cfg(feature = "reqwest")]
impl crate::TokenProvider {
    /// A provider over Application Default Credentials found in the process environment,
    /// using the default reqwest transport.
    pub async fn application_default(options: crate::TokenProviderOptions) -> Result<Self> {
        let client = crate::transport::ReqwestClient::new().map_err(|source| Error::Transport {
            url: "(building the HTTP client)".to_owned(),
            source,
        })?;
        let client = std::sync::Arc::new(client);
        let credentials =
            application_default_credentials(&AdcEnvironment::from_process(), client.as_ref())
                .await?;
        Ok(Self::new(credentials, client, options))
    }
}
