//! The global options (which server, how to authenticate, timeouts, retries) and the
//! [`Client`] built from them.
//!
//! The server comes from exactly one of `--url` (or `DICOMWEB_URL`), `--config FILE --server
//! NAME` (Orthanc's `DicomWeb.Servers`) or `--gcp-store` (a Cloud Healthcare API DICOM store).
//! Authentication comes from at most one of `--token`, `--user`/`--password`,
//! `--gcp-credentials` and `--gcp-adc`; a `--gcp-store` without any of them uses Application
//! Default Credentials. Contradictory options are refused before anything is sent.
//!
//! `transfer` and `jobs` talk to endpoints instead (see [`crate::endpoint`]): each a URL, which
//! gets these options' authentication, or a name in `--config`, which gets its entry's own.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dicomweb_client::jobs::Connect;
use dicomweb_client::{
    Client, ClientBuilder, ProgressObserver, ServerRegistry, TransportHttpClient,
};
use gcp_credentials::{
    AdcEnvironment, Credentials, DEFAULT_HEALTHCARE_BASE_URL, HealthcareStore,
    TokenProviderOptions, application_default_credentials,
};

use crate::Failure;
use dicomweb_dimse::{Modalities, TlsFiles};

use crate::endpoint::{self, Endpoint, Endpoints};

/// The environment variable that gives the DICOMweb root when no other server option does.
pub const URL_VARIABLE: &str = "DICOMWEB_URL";

/// The environment variable that gives the password of `--user` when `--password` is absent.
pub const PASSWORD_VARIABLE: &str = "DICOMWEB_PASSWORD";

/// Global options: the server and how to talk to it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Options {
    /// The DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web (default: $DICOMWEB_URL).
    #[arg(long, global = true, value_name = "URL", conflicts_with_all = ["config", "server", "gcp_store"])]
    pub url: Option<String>,
    /// An Orthanc configuration file: its DicomWeb.Servers and GoogleCloudPlatform.Accounts
    /// name the server (--server) or transfer endpoints (--from, --to).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The server's name in --config's DicomWeb.Servers.
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        requires = "config",
        conflicts_with = "gcp_store"
    )]
    pub server: Option<String>,
    /// HTTP basic authentication: the user name.
    #[arg(long, global = true, value_name = "USER", conflicts_with_all = ["token", "gcp_credentials", "gcp_adc"])]
    pub user: Option<String>,
    /// HTTP basic authentication: the password (default: $DICOMWEB_PASSWORD, else empty).
    #[arg(long, global = true, value_name = "PASSWORD", requires = "user")]
    pub password: Option<String>,
    /// A bearer token sent with every request.
    #[arg(long, global = true, value_name = "TOKEN", conflicts_with_all = ["gcp_credentials", "gcp_adc"])]
    pub token: Option<String>,
    /// An extra header sent with every request, as 'Name: value' (repeatable).
    #[arg(
        short = 'H',
        long = "header",
        global = true,
        value_name = "NAME: VALUE"
    )]
    pub headers: Vec<String>,
    /// Seconds to wait for a connection, and for bytes to move once connected.
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// How many times a failed request is retried (connection errors, 408, 429, 5xx).
    #[arg(long, global = true, value_name = "N")]
    pub retries: Option<u32>,
    /// No progress bar and no notes about retries.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Google Cloud credentials: a service account key or gcloud's authorized_user file.
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "gcp_adc")]
    pub gcp_credentials: Option<PathBuf>,
    /// Google Cloud Application Default Credentials (the default with --gcp-store).
    #[arg(long, global = true)]
    pub gcp_adc: bool,
    /// A Cloud Healthcare API DICOM store, projects/P/locations/L/datasets/D/dicomStores/S,
    /// as the server.
    #[arg(long, global = true, value_name = "STORE", value_parser = parse_store)]
    pub gcp_store: Option<HealthcareStore>,
    /// The Healthcare API's base URL, version included.
    #[arg(long, global = true, value_name = "URL")]
    pub gcp_base_url: Option<String>,
    /// The OAuth 2.0 token endpoint, instead of the one the credentials name.
    #[arg(long, global = true, value_name = "URL")]
    pub gcp_token_uri: Option<String>,
}

impl Options {
    /// The client these options describe, reporting progress to `progress`.
    pub async fn client(&self, progress: Arc<dyn ProgressObserver>) -> Result<Client, Failure> {
        let builder = self.server_builder()?;
        Ok(self.settings(builder, progress).await?.build()?)
    }

    /// Builds clients for the endpoints of `transfer` and `jobs` (see [`crate::endpoint`]): a
    /// URL with these options' authentication and headers, a name from `--config` with its
    /// entry's own; both with these options' timeouts and retries. The server options
    /// (`--url`, `--server`, `--gcp-store`) are not used. DICOM devices come from `--config`'s
    /// `DicomModalities`, or `dimse://` URLs.
    pub async fn connector(
        &self,
        progress: Arc<dyn ProgressObserver>,
    ) -> Result<Endpoints, Failure> {
        let for_urls = self
            .settings(Client::builder("http://unused.invalid/"), progress.clone())
            .await?;
        let config = match &self.config {
            Some(path) => Some((path.clone(), ServerRegistry::load(path)?)),
            None => None,
        };
        let devices = match &self.config {
            Some(path) => Some((path.clone(), Modalities::load(path)?)),
            None => None,
        };
        // Needed only for a device marked for TLS: an error waits until one is resolved.
        let tls = match &self.config {
            Some(path) => TlsFiles::load_orthanc_config(path).map_err(|e| e.to_string()),
            None => Ok(None),
        };
        let servers = config
            .iter()
            .flat_map(|(_, registry)| registry.iter().map(|(name, _)| name.to_owned()))
            .collect();
        let options = self.clone();
        let connect: Connect = Arc::new(move |endpoint: &str| match Endpoint::parse(endpoint) {
            Endpoint::Url(url) => for_urls.clone().base_url(url).build(),
            Endpoint::Name(name) => {
                let server = endpoint::lookup(name, config.as_ref())?;
                let builder = ClientBuilder::from_server(server)?;
                options.limits(builder).progress(progress.clone()).build()
            }
        });
        Ok(Endpoints::new(connect, servers, devices, tls))
    }

    /// The timeouts and retries the options ask for, on top of `builder`.
    fn limits(&self, builder: ClientBuilder) -> ClientBuilder {
        let mut builder = builder;
        if let Some(timeout) = self.timeout {
            builder = builder
                .connect_timeout(Some(timeout))
                .idle_timeout(Some(timeout));
        }
        if let Some(retries) = self.retries {
            builder = builder.max_retries(retries);
        }
        builder
    }

    /// Authentication, headers, timeouts, retries and progress on top of `builder`.
    /// Authentication comes last: finding Application Default Credentials may ask the
    /// metadata server, over a transport with the settings before it.
    async fn settings(
        &self,
        builder: ClientBuilder,
        progress: Arc<dyn ProgressObserver>,
    ) -> Result<ClientBuilder, Failure> {
        let mut builder = builder;
        for header in &self.headers {
            let Some((name, value)) = header.split_once(':') else {
                return Err(Failure(format!(
                    "expected a header as -H 'Name: value', got {header:?} (no ':')"
                )));
            };
            builder = builder.try_header(name, value)?;
        }
        let builder = self.limits(builder);
        let builder = self.auth(builder).await?;
        Ok(builder.progress(progress))
    }

    /// The server's URL and the settings its registry entry carries.
    fn server_builder(&self) -> Result<ClientBuilder, Failure> {
        if let (Some(config), Some(name)) = (&self.config, &self.server) {
            let config = (config.clone(), ServerRegistry::load(config)?);
            let server = endpoint::lookup(name, Some(&config))?;
            return Ok(ClientBuilder::from_server(server)?);
        }
        if self.config.is_some() {
            return Err(Failure(
                "--config FILE needs --server NAME to name the server (transfer and jobs take \
                 the names in --from and --to instead)"
                    .to_owned(),
            ));
        }
        if self.gcp_base_url.is_some() && self.gcp_store.is_none() {
            return Err(Failure(
                "--gcp-base-url needs --gcp-store projects/P/locations/L/datasets/D/dicomStores/S"
                    .to_owned(),
            ));
        }
        if let Some(store) = &self.gcp_store {
            let base = self
                .gcp_base_url
                .as_deref()
                .unwrap_or(DEFAULT_HEALTHCARE_BASE_URL);
            return Ok(Client::builder(store.dicomweb_root(base)));
        }
        let url = match &self.url {
            Some(url) => url.clone(),
            None => std::env::var(URL_VARIABLE).map_err(|_| {
                Failure(format!(
                    "no server: give --url URL (or set {URL_VARIABLE}), --config FILE --server NAME, \
                     or --gcp-store projects/P/locations/L/datasets/D/dicomStores/S"
                ))
            })?,
        };
        Ok(Client::builder(url))
    }

    /// Adds the authentication the options ask for; a registry entry's stays otherwise.
    /// Google Cloud token requests go over the client's own transport (its TLS settings and
    /// connect timeout).
    async fn auth(&self, builder: ClientBuilder) -> Result<ClientBuilder, Failure> {
        let gcp_options = || {
            let options = TokenProviderOptions::default();
            match &self.gcp_token_uri {
                Some(uri) => options.with_token_uri(uri.clone()),
                None => options,
            }
        };
        if let Some(token) = &self.token {
            return Ok(builder.bearer_token(token.clone()));
        }
        if let Some(user) = &self.user {
            let password = match &self.password {
                Some(password) => password.clone(),
                None => std::env::var(PASSWORD_VARIABLE).unwrap_or_default(),
            };
            return Ok(builder.basic_auth(user.clone(), password));
        }
        if let Some(path) = &self.gcp_credentials {
            let credentials = Credentials::from_file(path)?;
            return Ok(builder.gcp_credentials(credentials, gcp_options()));
        }
        if self.gcp_adc || self.gcp_store.is_some() {
            let http = TransportHttpClient::new(builder.build_transport()?);
            let environment = AdcEnvironment::from_process();
            let credentials = application_default_credentials(&environment, &http).await?;
            return Ok(builder.gcp_credentials(credentials, gcp_options()));
        }
        if self.gcp_token_uri.is_some() {
            return Err(Failure(
                "--gcp-token-uri needs Google Cloud credentials: --gcp-credentials FILE, \
                 --gcp-adc or --gcp-store"
                    .to_owned(),
            ));
        }
        Ok(builder)
    }
}

/// `--timeout`: a positive number of seconds, fractions allowed.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of seconds, got {text:?}"))?;
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 1e9) {
        return Err(format!(
            "expected a positive number of seconds, got {text:?}"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `--gcp-store`: a DICOM store's resource name.
fn parse_store(text: &str) -> Result<HealthcareStore, String> {
    text.parse()
        .map_err(|e: gcp_credentials::Error| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_positive_numbers() {
        assert_eq!(parse_seconds("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_seconds("30"), Ok(Duration::from_secs(30)));
        for bad in ["0", "-1", "abc", "inf", "NaN", ""] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn store_names_are_checked() {
        let store = parse_store("projects/p/locations/l/datasets/d/dicomStores/s");
        assert_eq!(
            store.map(|s| s.dicomweb_root("http://127.0.0.1:1/v1")),
            Ok(
                "http://127.0.0.1:1/v1/projects/p/locations/l/datasets/d/dicomStores/s/dicomWeb"
                    .to_owned()
            )
        );
        let error = parse_store("projects/p/datasets/d").unwrap_err();
        assert!(error.contains("expected 8 segments"), "{error}");
    }
}
