//! Orthanc's Google Cloud Platform plugin configuration, read as-is.
//!
//! The plugin's section looks like this (every account names its store and one way to get
//! credentials):
//!
//! ```json
//! "GoogleCloudPlatform": {
//!   "Accounts": {
//!     "my-google": {
//!       "Project": "my-project", "Location": "europe-west2",
//!       "Dataset": "tutorial", "DicomStore": "tutorial",
//!       "ServiceAccountFile": "/etc/orthanc/dicom-store-credentials.json"
//!     },
//!     "my-user": {
//!       "Project": "p", "Location": "l", "Dataset": "d", "DicomStore": "s",
//!       "AuthorizedUserClientId": "...", "AuthorizedUserClientSecret": "...",
//!       "AuthorizedUserRefreshToken": "..."
//!     }
//!   }
//! }
//! ```
//!
//! `BaseUrl` may be given per account or for the whole section.

use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

use crate::credentials::{AuthorizedUser, Credentials, json_type};
use crate::error::{Error, Result};
use crate::healthcare::{DEFAULT_HEALTHCARE_BASE_URL, HealthcareStore};
use crate::secret::{ClientSecret, RefreshToken};

/// How an account gets its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountCredentials {
    /// `ServiceAccountFile`: a service account key file.
    ServiceAccountFile(PathBuf),
    /// `AuthorizedUserFile`: a gcloud `authorized_user` file.
    AuthorizedUserFile(PathBuf),
    /// `AuthorizedUserClientId`, `AuthorizedUserClientSecret`, `AuthorizedUserRefreshToken`.
    AuthorizedUser {
        /// The OAuth client ID.
        client_id: String,
        /// The OAuth client secret.
        client_secret: ClientSecret,
        /// The refresh token.
        refresh_token: RefreshToken,
    },
}

/// One entry of `GoogleCloudPlatform.Accounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrthancGcpAccount {
    /// The account's name (its key in `Accounts`).
    pub name: String,
    /// `Project`, `Location`, `Dataset`, `DicomStore`.
    pub store: HealthcareStore,
    /// `BaseUrl` of the account, else of the section, else [`DEFAULT_HEALTHCARE_BASE_URL`].
    pub base_url: String,
    /// Where the credentials come from.
    pub credentials: AccountCredentials,
}

impl OrthancGcpAccount {
    /// The store's DICOMweb root under this account's base URL.
    pub fn dicomweb_root(&self) -> String {
        self.store.dicomweb_root(&self.base_url)
    }

    /// Loads the credentials (reading the named file, if any).
    pub fn load_credentials(&self) -> Result<Credentials> {
        match &self.credentials {
            AccountCredentials::ServiceAccountFile(path)
            | AccountCredentials::AuthorizedUserFile(path) => Credentials::from_file(path),
            AccountCredentials::AuthorizedUser {
                client_id,
                client_secret,
                refresh_token,
            } => Ok(Credentials::AuthorizedUser(Arc::new(AuthorizedUser {
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                refresh_token: refresh_token.clone(),
                quota_project_id: None,
                token_uri: None,
            }))),
        }
    }
}

/// Reads the accounts from an Orthanc configuration: either the whole configuration (with a
/// `GoogleCloudPlatform` key) or the `GoogleCloudPlatform` section itself. Accounts come sorted by
/// name. A configuration without the section has no accounts.
pub fn read_orthanc_gcp_accounts(config: &Value) -> Result<Vec<OrthancGcpAccount>> {
    let Value::Object(root) = config else {
        return Err(invalid(format!(
            "expected the configuration to be a JSON object, found {}",
            json_type(config)
        )));
    };
    let section = match root.get("GoogleCloudPlatform") {
        Some(Value::Object(section)) => section,
        Some(other) => {
            return Err(invalid(format!(
                "expected \"GoogleCloudPlatform\" to be an object, found {}",
                json_type(other)
            )));
        }
        None if root.contains_key("Accounts") => root,
        None => return Ok(Vec::new()),
    };
    let section_base = text(section, "BaseUrl", "GoogleCloudPlatform")?;
    let accounts = match section.get("Accounts") {
        None => return Ok(Vec::new()),
        Some(Value::Object(accounts)) => accounts,
        Some(other) => {
            return Err(invalid(format!(
                "expected \"GoogleCloudPlatform.Accounts\" to be an object, found {}",
                json_type(other)
            )));
        }
    };
    accounts
        .iter()
        .map(|(name, account)| read_account(name, account, section_base.as_deref()))
        .collect()
}

fn read_account(
    name: &str,
    value: &Value,
    section_base: Option<&str>,
) -> Result<OrthancGcpAccount> {
    let at = format!("GoogleCloudPlatform.Accounts.{name}");
    let Value::Object(account) = value else {
        return Err(invalid(format!(
            "expected {at} to be an object, found {}",
            json_type(value)
        )));
    };
    let required = |key: &str| -> Result<String> {
        text(account, key, &at)?
            .ok_or_else(|| invalid(format!("expected a string \"{key}\" in {at}, found none")))
    };
    let store = HealthcareStore::new(
        &required("Project")?,
        &required("Location")?,
        &required("Dataset")?,
        &required("DicomStore")?,
    )
    .map_err(|e| invalid(format!("{at}: {e}")))?;
    let base_url = text(account, "BaseUrl", &at)?
        .or_else(|| section_base.map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_HEALTHCARE_BASE_URL.to_owned());
    let credentials = if let Some(path) = text(account, "ServiceAccountFile", &at)? {
        AccountCredentials::ServiceAccountFile(PathBuf::from(path))
    } else if let Some(path) = text(account, "AuthorizedUserFile", &at)? {
        AccountCredentials::AuthorizedUserFile(PathBuf::from(path))
    } else if account.contains_key("AuthorizedUserClientId")
        || account.contains_key("AuthorizedUserClientSecret")
        || account.contains_key("AuthorizedUserRefreshToken")
    {
        AccountCredentials::AuthorizedUser {
            client_id: required("AuthorizedUserClientId")?,
            client_secret: ClientSecret::new(required("AuthorizedUserClientSecret")?),
            refresh_token: RefreshToken::new(required("AuthorizedUserRefreshToken")?),
        }
    } else {
        return Err(invalid(format!(
            "expected credentials in {at}: \"ServiceAccountFile\", \"AuthorizedUserFile\", or \
             \"AuthorizedUserClientId\" with \"AuthorizedUserClientSecret\" and \
             \"AuthorizedUserRefreshToken\"; found none"
        )));
    };
    Ok(OrthancGcpAccount {
        name: name.to_owned(),
        store,
        base_url,
        credentials,
    })
}

/// An optional string field; any other JSON type is an error that names the field, not its
/// value.
fn text(object: &Map<String, Value>, key: &str, at: &str) -> Result<Option<String>> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(format!(
            "expected \"{key}\" in {at} to be a string, found {}",
            json_type(other)
        ))),
    }
}

fn invalid(reason: String) -> Error {
    Error::InvalidOrthancConfig { reason }
}
