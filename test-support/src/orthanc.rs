//! A real Orthanc with its DICOMweb plugin, started for a test on a free loopback port.
//!
//! [`Orthanc::start`] writes a configuration into a temporary directory (storage and index
//! there too), starts the `Orthanc` binary on free ports of 127.0.0.1, and waits until its REST
//! API answers. Dropping the value kills the process and removes the directory. Nothing here
//! uses an async runtime: the few HTTP calls a test needs go through [`Orthanc::request`], a
//! minimal HTTP/1.1 client over `std::net::TcpStream`.
//!
//! When Orthanc or its DICOMweb plugin is not installed, `start` fails with a message naming
//! the command that installs them, so that a test fails loudly instead of passing silently.
//!
//! [`Orthanc::start_with_users`] turns on HTTP basic authentication (`AuthenticationEnabled`,
//! `RegisteredUsers`); [`Orthanc::request`] then authenticates as the first user.
//! [`Orthanc::start_with_config`] adds configuration of its own (e.g. `OrthancPeers`, or
//! `DicomWeb.Servers`), merged into the generated one.

use std::fmt;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The command that installs what [`Orthanc::start`] needs on Debian or Ubuntu.
pub const SETUP_COMMAND: &str = "apt-get install -y orthanc orthanc-dicomweb";

/// Where Debian's `orthanc-dicomweb` package puts the plugin.
pub const DICOMWEB_PLUGIN: &str = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

/// How long [`Orthanc::start`] waits for the REST API to answer.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running Orthanc, killed on drop.
pub struct Orthanc {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    /// The `Authorization` value of [`Orthanc::request`] when authentication is on.
    authorization: Option<String>,
}

/// Why Orthanc could not be started or asked.
#[derive(Debug)]
pub struct OrthancError(String);

impl fmt::Display for OrthancError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OrthancError {}

fn fail<T>(message: impl Into<String>) -> Result<T, OrthancError> {
    Err(OrthancError(message.into()))
}

/// A response from [`Orthanc::request`].
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The header fields, names in lower case, in the order they came.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header field with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Orthanc {
    /// Starts Orthanc with the DICOMweb plugin at `/dicom-web/`, on free loopback ports.
    pub fn start() -> Result<Orthanc, OrthancError> {
        Orthanc::start_with_users(&[])
    }

    /// Like [`Orthanc::start`], with HTTP basic authentication required for these
    /// (user, password) pairs when there is at least one.
    pub fn start_with_users(users: &[(&str, &str)]) -> Result<Orthanc, OrthancError> {
        Orthanc::launch(users, &serde_json::Value::Null)
    }

    /// Like [`Orthanc::start`], with `extra` (a JSON object) merged into the configuration:
    /// its members are added, and where both sides hold an object (e.g. `DicomWeb`) the two
    /// are merged member by member, `extra`'s values winning. For example
    /// `{"OrthancPeers": {"dst": ["http://127.0.0.1:41234/"]}}` or
    /// `{"DicomWeb": {"Servers": {"dst": ["http://127.0.0.1:41234/dicom-web/"]}}}`.
    pub fn start_with_config(extra: &serde_json::Value) -> Result<Orthanc, OrthancError> {
        if !extra.is_object() {
            return fail(format!(
                "the extra Orthanc configuration must be a JSON object, not {extra}"
            ));
        }
        Orthanc::launch(&[], extra)
    }

    fn launch(users: &[(&str, &str)], extra: &serde_json::Value) -> Result<Orthanc, OrthancError> {
        let binary = find_binary()?;
        let plugin = std::env::var_os("ORTHANC_DICOMWEB_PLUGIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DICOMWEB_PLUGIN));
        if !plugin.exists() {
            return fail(format!(
                "Orthanc's DICOMweb plugin is not at {}; install it with `{SETUP_COMMAND}` \
                 (or set ORTHANC_DICOMWEB_PLUGIN)",
                plugin.display()
            ));
        }
        let dir =
            tempfile::tempdir().map_err(|e| OrthancError(format!("temporary directory: {e}")))?;
        let http_port = free_port()?;
        let dicom_port = free_port()?;
        let config = config_json(dir.path(), http_port, dicom_port, &plugin, users, extra);
        let config_path = dir.path().join("orthanc.json");
        std::fs::write(&config_path, config)
            .map_err(|e| OrthancError(format!("writing the configuration: {e}")))?;
        let log = std::fs::File::create(dir.path().join("orthanc.log"))
            .map_err(|e| OrthancError(format!("creating the log file: {e}")))?;
        let log_err = log
            .try_clone()
            .map_err(|e| OrthancError(format!("log file: {e}")))?;
        let child = Command::new(&binary)
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| OrthancError(format!("starting {}: {e}", binary.display())))?;
        let authorization = users.first().map(|(user, password)| {
            use base64::Engine as _;
            let pair = format!("{user}:{password}");
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        let mut orthanc = Orthanc {
            child,
            port: http_port,
            dir,
            authorization,
        };
        orthanc.wait_until_ready()?;
        Ok(orthanc)
    }

    /// The REST API's base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's process ID (for a benchmark that counts its processor time).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The DICOMweb root, e.g. `http://127.0.0.1:41234/dicom-web` (no trailing slash).
    pub fn dicomweb_url(&self) -> String {
        format!("{}/dicom-web", self.http_url())
    }

    /// The HTTP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Orthanc's log so far (stdout and stderr), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("orthanc.log")).unwrap_or_default()
    }

    /// Uploads a Part 10 file through `POST /instances`; returns Orthanc's JSON answer.
    pub fn upload(&self, part10: &[u8]) -> Result<String, OrthancError> {
        let response = self.request(
            "POST",
            "/instances",
            &[("Content-Type", "application/dicom")],
            part10,
        )?;
        if response.status != 200 {
            return fail(format!(
                "POST /instances answered {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            ));
        }
        String::from_utf8(response.body).map_err(|e| OrthancError(format!("POST /instances: {e}")))
    }

    /// Orthanc's resources with this DICOM UID (`POST /tools/lookup`): (type, Orthanc ID)
    /// pairs, e.g. `("Instance", "0f1e…")`.
    pub fn lookup(&self, uid: &str) -> Result<Vec<(String, String)>, OrthancError> {
        let answer = self.request("POST", "/tools/lookup", &[], uid.as_bytes())?;
        let list: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|e| OrthancError(format!("POST /tools/lookup answered no JSON: {e}")))?;
        Ok(list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| {
                Some((
                    item["Type"].as_str()?.to_owned(),
                    item["ID"].as_str()?.to_owned(),
                ))
            })
            .collect())
    }

    /// The file Orthanc stored for the instance with this SOP Instance UID
    /// (`GET /instances/{id}/file`), or `None` when it has no such instance.
    pub fn stored_file(&self, sop_instance_uid: &str) -> Result<Option<Vec<u8>>, OrthancError> {
        let found = self.lookup(sop_instance_uid)?;
        let Some((_, id)) = found.iter().find(|(kind, _)| kind == "Instance") else {
            return Ok(None);
        };
        let file = self.request("GET", &format!("/instances/{id}/file"), &[], b"")?;
        if file.status != 200 {
            return fail(format!("GET /instances/{id}/file answered {}", file.status));
        }
        Ok(Some(file.body))
    }

    /// How many instances Orthanc holds (`GET /statistics`).
    pub fn count_instances(&self) -> Result<u64, OrthancError> {
        let answer = self.request("GET", "/statistics", &[], b"")?;
        let stats: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|e| OrthancError(format!("GET /statistics answered no JSON: {e}")))?;
        stats["CountInstances"]
            .as_u64()
            .ok_or_else(|| OrthancError(format!("GET /statistics has no CountInstances: {stats}")))
    }

    /// Deletes the study with this Study Instance UID through the REST API, if Orthanc has it.
    pub fn delete_study(&self, study_instance_uid: &str) -> Result<(), OrthancError> {
        for (kind, id) in self.lookup(study_instance_uid)? {
            if kind == "Study" {
                let answer = self.request("DELETE", &format!("/studies/{id}"), &[], b"")?;
                if answer.status != 200 {
                    return fail(format!("DELETE /studies/{id} answered {}", answer.status));
                }
            }
        }
        Ok(())
    }

    /// Sends one HTTP/1.1 request to this Orthanc (`path` starts with `/`) and reads the reply.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<HttpResponse, OrthancError> {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(value) = &self.authorization {
            all.push(("Authorization", value));
        }
        http_request(self.port, method, path, &all, body)
    }

    fn wait_until_ready(&mut self) -> Result<(), OrthancError> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return fail(format!(
                    "Orthanc exited at startup ({status}); its log:\n{}",
                    self.log()
                ));
            }
            if let Ok(response) = self.request("GET", "/system", &[], b"")
                && response.status == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return fail(format!(
                    "Orthanc did not answer GET /system within {STARTUP_TIMEOUT:?}; its log:\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Orthanc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_binary() -> Result<PathBuf, OrthancError> {
    if let Some(path) = std::env::var_os("ORTHANC_BINARY") {
        return Ok(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("Orthanc"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([
            PathBuf::from("/usr/sbin/Orthanc"),
            PathBuf::from("/usr/bin/Orthanc"),
        ])
        .find(|p| p.is_file())
        .map_or_else(
            || {
                fail(format!(
                    "the Orthanc binary is neither on PATH nor in /usr/sbin; install it with \
                     `{SETUP_COMMAND}` (or set ORTHANC_BINARY)"
                ))
            },
            Ok,
        )
}

fn free_port() -> Result<u16, OrthancError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| OrthancError(format!("finding a free loopback port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| OrthancError(format!("finding a free loopback port: {e}")))
}

fn config_json(
    dir: &Path,
    http_port: u16,
    dicom_port: u16,
    plugin: &Path,
    users: &[(&str, &str)],
    extra: &serde_json::Value,
) -> String {
    let storage = dir.join("storage");
    let registered: serde_json::Map<String, serde_json::Value> = users
        .iter()
        .map(|(user, password)| ((*user).to_owned(), (*password).into()))
        .collect();
    let mut config = serde_json::json!({
        "Name": "dicomweb-rs-tests",
        "StorageDirectory": storage,
        "IndexDirectory": storage,
        "HttpPort": http_port,
        "HttpServerEnabled": true,
        "RemoteAccessAllowed": false,
        "AuthenticationEnabled": !users.is_empty(),
        "RegisteredUsers": registered,
        "DicomServerEnabled": true,
        "DicomPort": dicom_port,
        "DicomAet": "DICOMWEBRS",
        "ConcurrentJobs": 2,
        "HttpThreadsCount": 8,
        "StableAge": 1,
        "Plugins": [plugin],
        "DicomWeb": {
            "Enable": true,
            "Root": "/dicom-web/",
            "EnableWado": true,
            "WadoRoot": "/wado",
            "Ssl": false,
            "StudiesMetadata": "Full",
            "SeriesMetadata": "Full"
        }
    });
    if extra.is_object() {
        merge(&mut config, extra);
    }
    serde_json::to_string_pretty(&config).unwrap_or_default()
}

/// Merges `extra` into `base`: objects member by member (recursively), anything else replaced.
fn merge(base: &mut serde_json::Value, extra: &serde_json::Value) {
    match (base, extra) {
        (serde_json::Value::Object(base), serde_json::Value::Object(extra)) => {
            for (key, value) in extra {
                match base.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, extra) => *base = extra.clone(),
    }
}

/// A minimal HTTP/1.1 exchange on 127.0.0.1 with `Connection: close`.
fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse, OrthancError> {
    let io = |e: std::io::Error| OrthancError(format!("{method} {path} on 127.0.0.1:{port}: {e}"));
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(io)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(body).map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
    parse_response(&raw).ok_or_else(|| {
        OrthancError(format!(
            "{method} {path}: malformed HTTP response: {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(200)])
        ))
    })
}

fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chunked_and_plain_responses() {
        let plain = parse_response(b"HTTP/1.1 200 OK\r\nContent-Type: a/b\r\n\r\nhello").unwrap();
        assert_eq!((plain.status, plain.body.as_slice()), (200, &b"hello"[..]));
        assert_eq!(plain.header("content-type"), Some("a/b"));
        let chunked =
            parse_response(b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                .unwrap();
        assert_eq!(
            (chunked.status, chunked.body.as_slice()),
            (404, &b"abcde"[..])
        );
        assert!(parse_response(b"garbage").is_none());
    }

    #[test]
    fn extra_configuration_merges_into_nested_objects() {
        let mut base =
            serde_json::json!({"Name": "a", "DicomWeb": {"Enable": true, "Root": "/dicom-web/"}});
        let extra = serde_json::json!({
            "DicomWeb": {"Servers": {"dst": ["http://127.0.0.1:1/dicom-web/"]}, "Root": "/dw/"},
            "OrthancPeers": {"peer": ["http://127.0.0.1:2/"]}
        });
        merge(&mut base, &extra);
        assert_eq!(
            base,
            serde_json::json!({
                "Name": "a",
                "DicomWeb": {"Enable": true, "Root": "/dw/", "Servers": {"dst": ["http://127.0.0.1:1/dicom-web/"]}},
                "OrthancPeers": {"peer": ["http://127.0.0.1:2/"]}
            })
        );
    }
}
