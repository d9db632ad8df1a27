//! The DICOM devices the adapter knows: Orthanc's `DicomModalities` configuration, in its array
//! form (`"name": ["AET", "host", port]`) and its object form (`AET`, `Host`, `Port`,
//! `UseDicomTls`, and Orthanc's other keys, which are ignored).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::Error;

/// One DICOM device: where C-MOVE sends to it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Modality {
    /// Its AE title.
    pub aet: String,
    /// Its host name or address.
    pub host: String,
    /// Its DICOM port.
    pub port: u16,
    /// Whether it expects DICOM over TLS (`UseDicomTls`).
    pub tls: bool,
}

impl Modality {
    /// A device at `host:port` with AE title `aet`, without TLS.
    pub fn new(aet: impl Into<String>, host: impl Into<String>, port: u16) -> Modality {
        Modality {
            aet: aet.into(),
            host: host.into(),
            port,
            tls: false,
        }
    }
}

/// The known devices by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Modalities {
    by_name: BTreeMap<String, Modality>,
}

impl Modalities {
    /// No devices.
    pub fn new() -> Modalities {
        Modalities::default()
    }

    /// Reads the `DicomModalities` of an Orthanc configuration file, or of every `*.json` file
    /// of a folder as Orthanc does ([`dicomweb_client::orthanc_config_files`]; a later file's
    /// entry of the same name wins). Comments are allowed; a file without that key has no
    /// devices.
    pub fn load(path: impl AsRef<Path>) -> Result<Modalities, Error> {
        let path = path.as_ref();
        let files = dicomweb_client::orthanc_config_files(path).map_err(|e| Error::Modalities {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut modalities = Modalities::new();
        for file in files {
            let failed = |reason| Error::Modalities {
                path: file.clone(),
                reason,
            };
            let text = std::fs::read_to_string(&file)
                .map_err(|e| failed(format!("cannot read it: {e}")))?;
            let found = Modalities::from_orthanc_config(&text).map_err(failed)?;
            modalities.by_name.extend(found.by_name);
        }
        Ok(modalities)
    }

    /// Parses an Orthanc configuration's text; the error says what was expected and found.
    pub fn from_orthanc_config(text: &str) -> Result<Modalities, String> {
        let config = dicomweb_client::parse_orthanc_config(text)?;
        let Some(entries) = config.get("DicomModalities") else {
            return Ok(Modalities::new());
        };
        let entries = entries.as_object().ok_or_else(|| {
            format!(
                "expected DicomModalities to be an object, found {}",
                kind(entries)
            )
        })?;
        let mut modalities = Modalities::new();
        for (name, entry) in entries {
            let modality =
                parse_entry(entry).map_err(|reason| format!("DicomModalities.{name}: {reason}"))?;
            modalities.insert(name.clone(), modality);
        }
        Ok(modalities)
    }

    /// Adds or replaces a device.
    pub fn insert(&mut self, name: impl Into<String>, modality: Modality) {
        self.by_name.insert(name.into(), modality);
    }

    /// The device of that name.
    pub fn get(&self, name: &str) -> Option<&Modality> {
        self.by_name.get(name)
    }

    /// The device with that AE title (C-MOVE destinations are AE titles), compared as DICOM
    /// compares them: trailing spaces do not count.
    pub fn by_aet(&self, aet: &str) -> Option<(&str, &Modality)> {
        let aet = aet.trim();
        self.by_name
            .iter()
            .find(|(_, m)| m.aet.trim() == aet)
            .map(|(name, m)| (name.as_str(), m))
    }

    /// The devices, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Modality)> {
        self.by_name.iter().map(|(name, m)| (name.as_str(), m))
    }

    /// How many devices.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

fn parse_entry(entry: &Value) -> Result<Modality, String> {
    match entry {
        Value::Array(items) => {
            if items.len() < 3 {
                return Err(format!(
                    "expected [\"AET\", \"host\", port], found {} items",
                    items.len()
                ));
            }
            Ok(Modality {
                aet: string(&items[0], "the AE title")?,
                host: string(&items[1], "the host")?,
                port: port(&items[2])?,
                tls: false,
            })
        }
        Value::Object(fields) => {
            let field = |key: &str| {
                fields
                    .get(key)
                    .ok_or_else(|| format!("expected a field {key}, found none"))
            };
            let tls = match fields.get("UseDicomTls") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(tls)) => *tls,
                Some(other) => {
                    return Err(format!(
                        "expected UseDicomTls to be true or false, found {}",
                        kind(other)
                    ));
                }
            };
            Ok(Modality {
                aet: string(field("AET")?, "AET")?,
                host: string(field("Host")?, "Host")?,
                port: port(field("Port")?)?,
                tls,
            })
        }
        other => Err(format!(
            "expected an array or an object, found {}",
            kind(other)
        )),
    }
}

fn string(value: &Value, what: &str) -> Result<String, String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
        other => Err(format!(
            "expected {what} as a non-empty string, found {}",
            kind(other)
        )),
    }
}

/// A port as a number or a string of digits (Orthanc takes both), 1 to 65535.
fn port(value: &Value) -> Result<u16, String> {
    let number = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    number
        .filter(|n| (1..=u64::from(u16::MAX)).contains(n))
        .and_then(|n| u16::try_from(n).ok())
        .ok_or_else(|| format!("expected a port from 1 to 65535, found {value}"))
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
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms_with_comments() {
        let text = r#"{
            // Orthanc's own keys are ignored
            "Name": "x",
            "DicomModalities": {
                "ct": ["CT01", "10.0.0.5", 104],
                /* object form */
                "pacs": { "AET": "PACS", "Host": "pacs.local", "Port": "11112", "UseDicomTls": true, "Manufacturer": "Generic" },
            }
        }"#;
        let m = Modalities::from_orthanc_config(text).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m.get("ct"), Some(&Modality::new("CT01", "10.0.0.5", 104)));
        let pacs = m.get("pacs").unwrap();
        assert_eq!(
            (pacs.aet.as_str(), pacs.port, pacs.tls),
            ("PACS", 11112, true)
        );
        assert_eq!(m.by_aet("PACS  ").map(|(name, _)| name), Some("pacs"));
        assert!(m.by_aet("OTHER").is_none());
    }

    #[test]
    fn errors_say_what_and_where() {
        let cases = [
            (
                r#"{"DicomModalities": []}"#,
                "expected DicomModalities to be an object, found an array",
            ),
            (
                r#"{"DicomModalities": {"a": ["A", "h"]}}"#,
                "DicomModalities.a: expected [\"AET\", \"host\", port], found 2 items",
            ),
            (
                r#"{"DicomModalities": {"a": ["A", "h", 70000]}}"#,
                "DicomModalities.a: expected a port from 1 to 65535, found 70000",
            ),
            (
                r#"{"DicomModalities": {"a": {"AET": "A", "Port": 1}}}"#,
                "DicomModalities.a: expected a field Host, found none",
            ),
            (
                r#"{"DicomModalities": {"a": 3}}"#,
                "DicomModalities.a: expected an array or an object, found a number",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Modalities::from_orthanc_config(text).unwrap_err(), expected);
        }
        assert!(Modalities::from_orthanc_config("{}").unwrap().is_empty());
    }

    #[test]
    fn a_folder_is_read_as_orthanc_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "1-devices.json",
            r#"{"DicomModalities": {"a": ["A", "h", 104], "b": ["B", "h", 105]}}"#,
        );
        write(
            "2-more.json",
            r#"{ /* later wins */ "DicomModalities": {"b": ["B2", "h", 106]}}"#,
        );
        write("notes.txt", "not a configuration");
        let loaded = Modalities::load(dir.path()).unwrap();
        let aets: Vec<(&str, &str)> = loaded.iter().map(|(n, m)| (n, m.aet.as_str())).collect();
        assert_eq!(aets, [("a", "A"), ("b", "B2")]);

        // A bad file is named, not the folder.
        write("3-bad.json", r#"{"DicomModalities": []}"#);
        let error = Modalities::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("3-bad.json"), "{error}");
        assert!(
            error.contains("expected DicomModalities to be an object"),
            "{error}"
        );
    }
}
