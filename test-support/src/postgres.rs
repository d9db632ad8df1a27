//! A real PostgreSQL, started for a test in a temporary folder on a free loopback port.
//!
//! [`Postgres::start`] runs Debian's `initdb` and `pg_ctl` (the newest version under
//! `/usr/lib/postgresql/*/bin`, or `PG_BIN`) on a fresh cluster with trust authentication on
//! loopback, and waits until it accepts connections. PostgreSQL refuses to run as root: when
//! the test runs as root, the folder is given to the `postgres` user and the binaries run as
//! that user (`runuser -u postgres --`). Dropping the value stops the server (immediate
//! shutdown) and removes the folder. Durability is off (`fsync=off`): tests want speed.
//! [`Postgres::enable_tls`] turns TLS on with a certificate from a test authority of its own.
//!
//! When the binaries are missing, `start` fails with a message naming the command that
//! installs them, so that a test fails loudly instead of passing silently.

use std::fmt;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The command that installs what [`Postgres::start`] needs on Debian or Ubuntu.
pub const SETUP_COMMAND: &str = "apt-get install -y postgresql";

/// The user PostgreSQL runs as when the test runs as root.
const SERVICE_USER: &str = "postgres";

/// A running PostgreSQL cluster of its own, stopped on drop.
pub struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_service_user: bool,
    running: bool,
}

/// Why PostgreSQL could not be started or stopped.
#[derive(Debug)]
pub struct PostgresError(String);

impl fmt::Display for PostgresError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PostgresError {}

fn fail<T>(message: impl Into<String>) -> Result<T, PostgresError> {
    Err(PostgresError(message.into()))
}

impl Postgres {
    /// Create a cluster in a temporary folder and start it on a free loopback port.
    pub fn start() -> Result<Postgres, PostgresError> {
        let bin = find_bin()?;
        let as_service_user = running_as_root();
        let dir = if as_service_user {
            // The service user must reach the folder: not under root's own TMPDIR.
            tempfile::Builder::new()
                .prefix("pg-test-")
                .tempdir_in("/tmp")
        } else {
            tempfile::Builder::new().prefix("pg-test-").tempdir()
        }
        .map_err(|e| PostgresError(format!("temporary directory: {e}")))?;
        if as_service_user {
            give_to_service_user(dir.path())?;
        }
        let mut postgres = Postgres {
            bin,
            port: free_port()?,
            dir,
            as_service_user,
            running: false,
        };
        let data = postgres.data_dir();
        postgres.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        postgres.start_again()?;
        Ok(postgres)
    }

    /// The URL of the `postgres` database, as the `postgres` superuser (no password).
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The URL of database `name`, as the `postgres` superuser (no password).
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Create database `name` and return its URL.
    pub fn create_database(&self, name: &str) -> Result<String, PostgresError> {
        let port = self.port.to_string();
        self.run(
            "createdb",
            &[
                "-h".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                port.as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                name.as_ref(),
            ],
        )?;
        Ok(self.database_url(name))
    }

    /// Stop the server (fast shutdown: connections are cut), keeping its data.
    pub fn stop(&mut self) -> Result<(), PostgresError> {
        self.pg_ctl_stop("fast")?;
        self.running = false;
        Ok(())
    }

    /// Start the server again on the same port, after [`Postgres::stop`].
    pub fn start_again(&mut self) -> Result<(), PostgresError> {
        let data = self.data_dir();
        let log = self.dir.path().join("postgres.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "start".as_ref(),
            ],
        )?;
        self.running = true;
        Ok(())
    }

    /// Turn TLS on, restarting the server, with a certificate for `127.0.0.1` and `localhost`
    /// signed by a new certificate authority (made with the `openssl` program); returns the
    /// authority's certificate, the root a client must trust (`sslrootcert`).
    pub fn enable_tls(&mut self) -> Result<PathBuf, PostgresError> {
        let data = self.data_dir();
        let dir = self.dir.path();
        let (ca_cert, ca_key) = (dir.join("ca.crt"), dir.join("ca.key"));
        let (cert, key, request) = (
            data.join("server.crt"),
            data.join("server.key"),
            dir.join("server.csr"),
        );
        let extensions = dir.join("server.ext");
        std::fs::write(
            &extensions,
            "subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = CA:FALSE\n\
             keyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n",
        )
        .map_err(|e| PostgresError(format!("writing {}: {e}", extensions.display())))?;
        let os = |path: &Path| path.as_os_str().to_owned();
        let steps: [Vec<std::ffi::OsString>; 3] = [
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=test CA",
                "-keyout",
            ]
            .iter()
            .map(Into::into)
            .chain([os(&ca_key), "-out".into(), os(&ca_cert)])
            .collect(),
            [
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
            ]
            .iter()
            .map(Into::into)
            .chain([os(&key), "-out".into(), os(&request)])
            .collect(),
            ["x509", "-req", "-days", "2", "-CAcreateserial", "-in"]
                .iter()
                .map(Into::into)
                .chain([os(&request), "-CA".into(), os(&ca_cert), "-CAkey".into()])
                .chain([
                    os(&ca_key),
                    "-extfile".into(),
                    os(&extensions),
                    "-out".into(),
                ])
                .chain([os(&cert)])
                .collect(),
        ];
        for args in steps {
            let output = Command::new("openssl")
                .args(&args)
                .current_dir(dir)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| PostgresError(format!("running openssl: {e}")))?;
            if !output.status.success() {
                return fail(format!(
                    "openssl {args:?} failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }
        let mut key_mode = Command::new("chmod");
        key_mode.arg("600").arg(&key);
        let mut owner = Command::new("chown");
        owner.arg(format!("{SERVICE_USER}:")).arg(&cert).arg(&key);
        let mut commands = vec![key_mode];
        if self.as_service_user {
            commands.push(owner);
        }
        for mut command in commands {
            let status = command
                .status()
                .map_err(|e| PostgresError(format!("{command:?}: {e}")))?;
            if !status.success() {
                return fail(format!("{command:?} failed: {status}"));
            }
        }
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf)
            .map_err(|e| PostgresError(format!("reading {}: {e}", conf.display())))?;
        text.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(&conf, text)
            .map_err(|e| PostgresError(format!("writing {}: {e}", conf.display())))?;
        self.stop()?;
        self.start_again()?;
        Ok(ca_cert)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl_stop(&self, mode: &str) -> Result<(), PostgresError> {
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                mode.as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )
        .map(|_| ())
    }

    /// Run one of PostgreSQL's programs (as the service user when we are root).
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<Output, PostgresError> {
        let path = self.bin.join(program);
        let mut command = if self.as_service_user {
            let mut command = Command::new("runuser");
            command.args(["-u", SERVICE_USER, "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| PostgresError(format!("running {}: {e}", path.display())))?;
        if !output.status.success() {
            return fail(format!(
                "{} failed ({}): {}{}\n{}",
                path.display(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                self.log()
            ));
        }
        Ok(output)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let _ = self.pg_ctl_stop("immediate");
        }
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb` and `pg_ctl`, or `PG_BIN`.
fn find_bin() -> Result<PathBuf, PostgresError> {
    if let Some(path) = std::env::var_os("PG_BIN") {
        return Ok(PathBuf::from(path));
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => Ok(bin),
        None => fail(format!(
            "PostgreSQL's initdb and pg_ctl are not under {}/<version>/bin; install them with \
             `{SETUP_COMMAND}` (or set PG_BIN to the folder holding them)",
            root.display()
        )),
    }
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            let effective = line.split_whitespace().nth(2)?;
            Some(effective == "0")
        })
        .unwrap_or(false)
}

fn give_to_service_user(dir: &Path) -> Result<(), PostgresError> {
    let output = Command::new("chown")
        .arg(format!("{SERVICE_USER}:"))
        .arg(dir)
        .output()
        .map_err(|e| PostgresError(format!("running chown: {e}")))?;
    if !output.status.success() {
        return fail(format!(
            "cannot give {} to the {SERVICE_USER} user (PostgreSQL refuses to run as root; \
             `{SETUP_COMMAND}` creates that user): {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

fn free_port() -> Result<u16, PostgresError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| PostgresError(format!("finding a free loopback port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| PostgresError(format!("finding a free loopback port: {e}")))
}
