//! Where the PostgreSQL store connects: a `postgres://` URL read as libpq reads it
//! (`sslmode`, `sslrootcert`, `PGUSER`, `PGPASSWORD`, `.pgpass`), and that URL with its
//! password redacted for messages.
//!
//! The parsing is pure ([`Target::parse`] takes the environment as an argument); only
//! [`Environment::process`] reads the process's variables and the password file.

use std::path::PathBuf;
use std::str::FromStr;

use crate::error::Error;

/// How the store talks TLS to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// Plain TCP (no `sslmode`, or `disable`/`prefer`/`allow`).
    Off,
    /// TLS through rustls, the server's certificate and name verified against `root_cert`
    /// (PEM) or the system's roots (`sslmode=require`, `verify-ca`, `verify-full`).
    Verified {
        /// `sslrootcert`, when the URL gives one.
        root_cert: Option<PathBuf>,
    },
}

/// What the connection may take from the environment when the URL does not say.
#[derive(Debug, Clone, Default)]
pub(crate) struct Environment {
    /// `PGUSER`, else the login name (`USER`).
    pub(crate) user: Option<String>,
    /// `PGPASSWORD`.
    pub(crate) password: Option<String>,
    /// The text of the password file (`PGPASSFILE`, else `~/.pgpass`), if readable.
    pub(crate) pgpass: Option<String>,
}

impl Environment {
    /// Read `PGUSER`/`USER`, `PGPASSWORD` and the password file of this process.
    pub(crate) fn process() -> Environment {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let pgpass_path = var("PGPASSFILE")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".pgpass")));
        Environment {
            user: var("PGUSER").or_else(|| var("USER")),
            password: var("PGPASSWORD"),
            pgpass: pgpass_path.and_then(|path| std::fs::read_to_string(path).ok()),
        }
    }
}

/// A parsed database URL: the driver's configuration, the TLS mode, and the URL to print.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) tls: TlsMode,
    pub(crate) redacted: String,
}

impl Target {
    /// Parse `url` (`postgres://` or `postgresql://`), filling the user and password from
    /// `env` when the URL has none.
    pub(crate) fn parse(url: &str, env: &Environment) -> Result<Target, Error> {
        let redacted = redact_url(url);
        let invalid = |found: String| Error::DatabaseUrl {
            url: redacted.clone(),
            expected: "a postgres:// or postgresql:// URL \
                       (postgres://user[:password]@host[:port]/database[?sslmode=require])",
            found,
        };
        if !is_postgres_url(url) {
            return Err(invalid("another scheme".into()));
        }
        let (driver_url, tls) = split_tls_options(url);
        let mut config = tokio_postgres::Config::from_str(&driver_url)
            .map_err(|error| invalid(error.to_string()))?;
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        if config.get_user().is_none() {
            match &env.user {
                Some(user) => config.user(user),
                None => return Err(invalid("no user (name one in the URL or in PGUSER)".into())),
            };
        }
        if config.get_password().is_none() {
            let password = env.password.clone().or_else(|| {
                let text = env.pgpass.as_deref()?;
                let host = match config.get_hosts().first() {
                    Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
                    _ => "localhost".to_owned(),
                };
                let port = config.get_ports().first().copied().unwrap_or(5432);
                let user = config.get_user().unwrap_or_default().to_owned();
                let database = config.get_dbname().unwrap_or(&user).to_owned();
                pgpass_lookup(text, &host, port, &database, &user)
            });
            if let Some(password) = password {
                config.password(password);
            }
        }
        if tls != TlsMode::Off {
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
        }
        Ok(Target {
            config,
            tls,
            redacted,
        })
    }
}

/// Whether `url` names PostgreSQL (`postgres://` or `postgresql://`, any case).
pub fn is_postgres_url(url: &str) -> bool {
    let lower = url.get(..13).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// `url` with its password (in the user part or a `password=` parameter) replaced by
/// `[redacted]`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let mut out = url[..scheme_end].to_owned();
    match authority.rfind('@') {
        Some(at) => {
            let user_info = &authority[..at];
            match user_info.find(':') {
                Some(colon) => {
                    out.push_str(&user_info[..colon]);
                    out.push_str(":[redacted]");
                }
                None => out.push_str(user_info),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let tail = &rest[authority_end..];
    match tail.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let parameters: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=[redacted]")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            out.push_str(&parameters.join("&"));
        }
        None => out.push_str(tail),
    }
    out
}

/// Take the TLS parameters the driver does not know (`sslmode=verify-ca|verify-full`,
/// `sslrootcert`) out of the URL, and decide the TLS mode.
fn split_tls_options(url: &str) -> (String, TlsMode) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), TlsMode::Off);
    };
    let mut kept = Vec::new();
    let mut verified = false;
    let mut root_cert = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (key, value) {
            ("sslmode", "require" | "verify-ca" | "verify-full") => verified = true,
            ("sslmode", _) => {}
            ("sslrootcert", path) => root_cert = Some(PathBuf::from(percent_decode(path))),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let tls = if verified {
        TlsMode::Verified { root_cert }
    } else {
        TlsMode::Off
    };
    (url, tls)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = text
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The password for (host, port, database, user) in a `.pgpass` text, as libpq reads it:
/// `host:port:database:user:password` lines, `*` matches anything, `\:` and `\\` escape,
/// `#` starts a comment; the first matching line wins.
pub(crate) fn pgpass_lookup(
    text: &str,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Option<String> {
    let port = port.to_string();
    let wanted = [host, port.as_str(), database, user];
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let fields = pgpass_fields(line);
            (fields.len() == 5).then_some(fields)
        })
        .find(|fields| {
            fields
                .iter()
                .zip(wanted)
                .all(|(field, value)| field == "*" || field == value)
        })
        .and_then(|mut fields| fields.pop())
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact_url("postgres://jobs:s3cr%40t@db.example:5433/jobs?sslmode=require"),
            "postgres://jobs:[redacted]@db.example:5433/jobs?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://db/jobs?user=a&password=hunter2"),
            "postgresql://db/jobs?user=a&password=[redacted]"
        );
        assert_eq!(redact_url("postgres://a@h/d"), "postgres://a@h/d");
        let env = Environment::default();
        let err = Target::parse("postgres://u:hunter2@h/d?nonsense=1", &env).unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("postgres://u:[redacted]@h/d"), "{text}");
        assert!(
            !format!("{:?}", Target::parse("postgres://u:hunter2@h/d", &env)).contains("hunter2")
        );
    }

    #[test]
    fn schemes_and_tls_modes() {
        assert!(is_postgres_url("postgres://h/d"));
        assert!(is_postgres_url("PostgreSQL://h/d"));
        assert!(!is_postgres_url("/var/lib/jobs"));
        assert!(!is_postgres_url("sqlite://x"));
        let env = Environment {
            user: Some("me".into()),
            ..Environment::default()
        };
        let plain = Target::parse("postgres://h/d", &env).unwrap();
        assert_eq!(plain.tls, TlsMode::Off);
        assert_eq!(plain.config.get_user(), Some("me"));
        let full = Target::parse(
            "postgres://u@h/d?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
            &env,
        )
        .unwrap();
        assert_eq!(
            full.tls,
            TlsMode::Verified {
                root_cert: Some("/etc/ca.pem".into())
            }
        );
        assert_eq!(full.config.get_application_name(), Some("x"));
        let required = Target::parse("postgres://u@h/d?sslmode=require", &env).unwrap();
        assert_eq!(required.tls, TlsMode::Verified { root_cert: None });
        let err = Target::parse("mysql://h/d", &env).unwrap_err();
        assert!(err.to_string().contains("expected a postgres://"), "{err}");
    }

    #[test]
    fn passwords_come_from_the_url_then_pgpassword_then_pgpass() {
        let pgpass = "# comment\nother:*:*:*:nope\nh:5433:jobs:u:from\\:file\n*:*:*:*:any\n";
        let env = Environment {
            user: None,
            password: None,
            pgpass: Some(pgpass.into()),
        };
        let password = |url: &str, env: &Environment| {
            let target = Target::parse(url, env).unwrap();
            target
                .config
                .get_password()
                .map(|p| String::from_utf8_lossy(p).into_owned())
        };
        assert_eq!(
            password("postgres://u:url@h:5433/jobs", &env).as_deref(),
            Some("url")
        );
        assert_eq!(
            password("postgres://u@h:5433/jobs", &env).as_deref(),
            Some("from:file")
        );
        assert_eq!(
            password("postgres://u@h/jobs", &env).as_deref(),
            Some("any")
        );
        let with_env = Environment {
            password: Some("env".into()),
            ..env.clone()
        };
        assert_eq!(
            password("postgres://u@h:5433/jobs", &with_env).as_deref(),
            Some("env")
        );
        assert_eq!(pgpass_lookup("h:1:d:u", "h", 1, "d", "u"), None);
    }
}
