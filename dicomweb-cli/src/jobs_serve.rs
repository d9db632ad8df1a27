//! `dicomweb jobs serve`: a worker that runs jobs from the store until SIGTERM or Ctrl-C, and
//! serves Orthanc's jobs REST API (`/jobs`, `/jobs?expand`, `/jobs/{id}`,
//! `POST /jobs/{id}/pause|resume|cancel|resubmit`, `/jobs/{id}/{output}`) and Prometheus
//! `/metrics`.
//!
//! On PostgreSQL (`--jobs-db`) any number of these, on any number of hosts, share one queue:
//! each claims jobs under leases it renews, and takes back the jobs of a worker that stopped
//! renewing. On a signal it stops taking jobs, lets running steps end, and gives their jobs
//! back (saved at their last step) for another worker to continue. Its engine has no
//! affinity name, so it takes only jobs without affinity: the upload jobs of `dicomweb adapter`
//! replicas on the same database are pinned to their replica (their files are on its disk) and
//! never reach it.
//!
//! Listening beyond loopback requires credentials of its own (`--api-user`/`--api-password`,
//! or `--api-token` for `Authorization: Bearer`; the global `--user`, `--password` and
//! `--token` are the DICOMweb endpoints'); the policy is [`check_listen`], a pure function.
//! Once listening it prints one JSON line, `{"Listening": "HOST:PORT", "Owner": "…"}`;
//! warnings (the database away, a job taken over) go to standard error (`RUST_LOG`).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use orthanc_jobs::{EngineConfig, JobsHandle};

use crate::Failure;
use crate::endpoint::Endpoints;
use crate::jobs::{JobStore, start_engine_with};
use crate::output::print_json;

/// `dicomweb jobs serve …`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Where to serve the jobs API and /metrics (port 0: any free port).
    #[arg(long, value_name = "HOST:PORT")]
    listen: String,
    /// How many jobs run at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    workers: u32,
    /// User name clients of this API give with HTTP basic authentication (with
    /// --api-password; the global --user is for the DICOMweb endpoints).
    #[arg(long, value_name = "USER", requires = "api_password")]
    api_user: Option<String>,
    /// Password for --api-user.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "DICOMWEB_API_PASSWORD",
        hide_env_values = true,
        requires = "api_user"
    )]
    api_password: Option<Secret>,
    /// A token clients of this API send as `Authorization: Bearer TOKEN`.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "DICOMWEB_API_TOKEN",
        hide_env_values = true
    )]
    api_token: Option<Secret>,
    /// How long a claimed job is held without a heartbeat (heartbeats go every third of it).
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    lease_ms: u64,
    /// How often to look for work when no notification came.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    poll_ms: u64,
}

/// A password or token: never shown.
#[derive(Clone)]
pub struct Secret(String);

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(text.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The `Authorization` values the server accepts (empty: no authentication).
#[derive(Clone, Default)]
struct Accepted(Vec<String>);

impl Accepted {
    fn from_args(args: &ServeArgs) -> Accepted {
        use base64::Engine as _;
        let mut values = Vec::new();
        if let (Some(user), Some(Secret(password))) = (&args.api_user, &args.api_password) {
            let pair =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            values.push(format!("Basic {pair}"));
        }
        if let Some(Secret(token)) = &args.api_token {
            values.push(format!("Bearer {token}"));
        }
        Accepted(values)
    }

    /// Whether a request with this `Authorization` value may pass.
    fn allows(&self, authorization: Option<&[u8]>) -> bool {
        self.0.is_empty()
            || authorization.is_some_and(|given| {
                self.0
                    .iter()
                    .any(|want| constant_time_eq(want.as_bytes(), given))
            })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Listening beyond loopback needs credentials: a pure check of the address and whether
/// any were given.
pub fn check_listen(address: SocketAddr, has_credentials: bool) -> Result<(), Failure> {
    if address.ip().is_loopback() || has_credentials {
        Ok(())
    } else {
        Err(Failure(format!(
            "listening on {address}, beyond loopback, requires credentials: give --api-user and \
             --api-password, or --api-token"
        )))
    }
}

/// Runs `dicomweb jobs serve`.
pub async fn run(args: &ServeArgs, store: JobStore, endpoints: Endpoints) -> Result<(), Failure> {
    // A long-running worker says on standard error what went wrong (a database away, a job
    // taken over by another worker); RUST_LOG chooses more or less.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let address = tokio::net::lookup_host(&args.listen)
        .await
        .map_err(|e| Failure(format!("cannot resolve --listen {}: {e}", args.listen)))?
        .next()
        .ok_or_else(|| Failure(format!("--listen {} resolves to no address", args.listen)))?;
    let accepted = Accepted::from_args(args);
    check_listen(address, !accepted.0.is_empty())?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| Failure(format!("cannot listen on {address}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Failure(format!("cannot read the listening address: {e}")))?;

    let mut config = EngineConfig::new();
    config
        .concurrent_jobs(args.workers as usize)
        .history_size(1000)
        .lease(Duration::from_millis(args.lease_ms))
        .poll_interval(Duration::from_millis(args.poll_ms));
    let engine = start_engine_with(&store, &endpoints, config).await?;
    let app = routes(engine.handle().clone(), accepted);
    print_json(&serde_json::json!({
        "Listening": bound.to_string(),
        "Owner": engine.owner().as_str(),
    }))?;

    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await;
    // Running steps end and their jobs go back to the store for another worker.
    engine.shutdown().await;
    served.map_err(|e| Failure(format!("serving on {bound} failed: {e}")))
}

fn routes(handle: JobsHandle, accepted: Accepted) -> Router {
    orthanc_jobs::http::router(handle.clone())
        .route("/metrics", get(metrics).with_state(handle))
        .layer(middleware::from_fn_with_state(accepted, authenticate))
}

async fn metrics(State(handle): State<JobsHandle>) -> Response {
    match handle.metrics().await {
        Ok(text) => {
            let mut response = text.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            response
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

async fn authenticate(State(accepted): State<Accepted>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    if accepted.allows(given) {
        return next.run(request).await;
    }
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"dicomweb jobs\""),
    );
    response
}

/// SIGTERM or Ctrl-C.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_loopback_needs_credentials() {
        let loopback: SocketAddr = "127.0.0.1:8042".parse().unwrap();
        let v6: SocketAddr = "[::1]:8042".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8042".parse().unwrap();
        assert!(check_listen(loopback, false).is_ok());
        assert!(check_listen(v6, false).is_ok());
        assert!(check_listen(any, true).is_ok());
        let err = check_listen(any, false).unwrap_err();
        assert!(
            err.0
                .contains("--api-user and --api-password, or --api-token"),
            "{}",
            err.0
        );
    }

    #[test]
    fn credentials_are_checked_and_never_shown() {
        let args = ServeArgs {
            listen: "0.0.0.0:0".into(),
            workers: 1,
            api_user: Some("ops".into()),
            api_password: Some(Secret("hunter2".into())),
            api_token: Some(Secret("t0ken".into())),
            lease_ms: 30_000,
            poll_ms: 500,
        };
        assert!(!format!("{args:?}").contains("hunter2"));
        assert!(!format!("{args:?}").contains("t0ken"));
        let accepted = Accepted::from_args(&args);
        assert!(accepted.allows(Some(b"Basic b3BzOmh1bnRlcjI=")));
        assert!(accepted.allows(Some(b"Bearer t0ken")));
        assert!(!accepted.allows(Some(b"Bearer t0keN")));
        assert!(!accepted.allows(None));
        assert!(Accepted::default().allows(None));
    }
}
