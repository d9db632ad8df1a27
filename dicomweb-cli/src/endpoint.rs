//! The endpoints of `transfer` and `jobs`: each side is a DICOMweb root URL, or the name of an
//! entry in `--config FILE` (Orthanc's configuration format): a `DicomWeb.Servers` entry (its
//! URL, user and password, headers, client certificate) or a `GoogleCloudPlatform.Accounts`
//! entry (a Healthcare API store, tokens from that account's credentials). A destination may
//! also be a DICOM device: a `DicomModalities` entry or `dimse://AET@host:port` (C-STORE;
//! `dimses://` over TLS). A device marked for TLS (`UseDicomTls`, or `dimses://`) is reached
//! with the DICOM TLS files `--config` names at its top level, as Orthanc reads them:
//! `DicomTlsCertificate`, `DicomTlsPrivateKey`, `DicomTlsTrustedCertificates`.
//!
//! A URL gets the global `--user`/`--password`/`--token`/`-H` options; a name gets only its
//! entry's credentials, never the global ones. Jobs save the endpoint as given — a name or a
//! URL, never a secret — and `jobs run` resolves names in the `--config` given to it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use dicomweb_client::jobs::Connect;
use dicomweb_client::{Error, ServerConfig, ServerRegistry};
use dicomweb_dimse::export::{Device, Resolve, is_dimse_url, parse_dimse_url};
use dicomweb_dimse::{DicomTls, Modalities, TlsFiles};

/// How `transfer` and `jobs` reach their endpoints: DICOMweb clients, and DICOM devices.
#[derive(Clone)]
pub struct Endpoints {
    /// Clients for DICOMweb endpoints.
    pub connect: Connect,
    /// DICOM devices by name (`DicomModalities`) or `dimse://` URL.
    pub resolve: Resolve,
    /// The names of `--config`'s DICOMweb entries and of its devices.
    servers: Arc<BTreeSet<String>>,
    devices: Arc<BTreeSet<String>>,
}

impl Endpoints {
    /// The endpoints of `connect`, and the devices of `devices` (with the file they came from),
    /// reached over TLS with `tls` when marked for it (the files are read, and an error in
    /// finding them reported, when such a device is resolved).
    pub fn new(
        connect: Connect,
        servers: BTreeSet<String>,
        devices: Option<(PathBuf, Modalities)>,
        tls: Result<Option<TlsFiles>, String>,
    ) -> Endpoints {
        let names: BTreeSet<String> = devices
            .as_ref()
            .map(|(_, known)| known.iter().map(|(name, _)| name.to_owned()).collect())
            .unwrap_or_default();
        let resolve: Resolve = Arc::new(move |endpoint: &str| {
            let with_tls = |modality: dicomweb_dimse::Modality| {
                let device = Device::new(modality);
                if !device.modality.tls {
                    return Ok(device);
                }
                match &tls {
                    Err(reason) => Err(dicomweb_dimse::Error::Config(format!(
                        "the device {endpoint:?} wants DICOM over TLS: {reason}"
                    ))),
                    Ok(Some(files)) if files.trusted.is_some() => {
                        Ok(device.with_tls(DicomTls::load(files)?))
                    }
                    Ok(_) => Err(dicomweb_dimse::Error::Config(format!(
                        "the device {endpoint:?} wants DICOM over TLS: expected --config FILE \
                         to name DicomTlsCertificate, DicomTlsPrivateKey and \
                         DicomTlsTrustedCertificates (the CAs that verify the device), found {}",
                        if matches!(tls, Ok(Some(_))) {
                            "no DicomTlsTrustedCertificates"
                        } else {
                            "none of them"
                        }
                    ))),
                }
            };
            if let Some(device) = parse_dimse_url(endpoint) {
                return with_tls(device?);
            }
            let Some((path, known)) = &devices else {
                return Err(dicomweb_dimse::Error::Config(format!(
                    "the device {endpoint:?} is not a dimse:// URL, so it names a DicomModalities \
                     entry of a configuration file, but no --config FILE was given"
                )));
            };
            let modality = known.get(endpoint).cloned().ok_or_else(|| {
                let names: Vec<&str> = known.iter().map(|(name, _)| name).collect();
                dicomweb_dimse::Error::Config(format!(
                    "{}: no DicomModalities entry {endpoint:?} (known: {})",
                    path.display(),
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ))
            })?;
            with_tls(modality)
        });
        Endpoints {
            connect,
            resolve,
            servers: Arc::new(servers),
            devices: Arc::new(names),
        }
    }

    /// Whether `endpoint` is a DICOM device (a `dimse://` URL, or a `DicomModalities` name
    /// that is not also a DICOMweb entry's) rather than a DICOMweb endpoint.
    pub fn is_device(&self, endpoint: &str) -> Result<bool, Error> {
        if is_dimse_url(endpoint) {
            return Ok(true);
        }
        match (
            self.devices.contains(endpoint),
            self.servers.contains(endpoint),
        ) {
            (true, true) => Err(config_error(format!(
                "{endpoint:?} names both a DICOMweb server and a DicomModalities entry in \
                 --config; rename one of them"
            ))),
            (device, _) => Ok(device),
        }
    }
}

/// One side of a transfer, as the user wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'a> {
    /// A DICOMweb root (anything with a scheme, `http://…`, `https://…`).
    Url(&'a str),
    /// The name of an entry in `--config`.
    Name(&'a str),
}

impl<'a> Endpoint<'a> {
    /// A URL when the text has a scheme (`://`), else a name.
    pub fn parse(text: &'a str) -> Endpoint<'a> {
        if text.contains("://") {
            Endpoint::Url(text)
        } else {
            Endpoint::Name(text)
        }
    }
}

/// The entry called `name` in the configuration file, or an error naming the entry and the
/// file (or saying that no `--config` was given).
pub fn lookup<'r>(
    name: &str,
    config: Option<&'r (PathBuf, ServerRegistry)>,
) -> Result<&'r ServerConfig, Error> {
    let Some((path, registry)) = config else {
        return Err(config_error(format!(
            "the endpoint {name:?} is not a URL, so it names an entry of a configuration \
             file, but no --config FILE was given"
        )));
    };
    registry.require(name).map_err(|e| match e {
        Error::Config { message } => config_error(format!(
            "{}: {message} (the entries of DicomWeb.Servers and GoogleCloudPlatform.Accounts)",
            path.display()
        )),
        other => other,
    })
}

fn config_error(message: String) -> Error {
    Error::Config { message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_have_a_scheme_and_names_do_not() {
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:8042/dicom-web"),
            Endpoint::Url("http://127.0.0.1:8042/dicom-web")
        );
        assert_eq!(Endpoint::parse("cloud"), Endpoint::Name("cloud"));
    }

    #[test]
    fn a_missing_name_names_the_entry_and_the_file() {
        let registry = ServerRegistry::from_orthanc_config(
            r#"{"DicomWeb": {"Servers": {"src": ["http://127.0.0.1:1/dicom-web"]}}}"#,
        )
        .unwrap();
        let config = (PathBuf::from("/etc/orthanc/orthanc.json"), registry);
        assert!(lookup("src", Some(&config)).is_ok());
        let error = lookup("cloud", Some(&config)).unwrap_err().to_string();
        assert!(error.contains("\"cloud\""), "{error}");
        assert!(error.contains("/etc/orthanc/orthanc.json"), "{error}");
        assert!(error.contains("known: src"), "{error}");
        let error = lookup("cloud", None).unwrap_err().to_string();
        assert!(
            error.contains("\"cloud\"") && error.contains("--config"),
            "{error}"
        );
    }
}
