//! `dicomweb adapter`: a DIMSE service provider (C-ECHO, C-STORE, C-FIND, C-MOVE, C-GET,
//! storage commitment) in front of the DICOMweb server of the global options (dicomweb-dimse's
//! [`Adapter`]). Logs go to standard error (`RUST_LOG` filters them,
//! `info` by default); SIGTERM or Ctrl-C stops accepting, finishes the operations in flight
//! and exits. With `--tls-cert` and `--tls-key` it listens for DICOM over TLS only (with
//! `--tls-ca`, clients must present a certificate that CA signed), and C-MOVEs to devices
//! marked `UseDicomTls` go over TLS with the same files.
//!
//! With `--jobs-db`, the upload queue lives in that PostgreSQL database, shared with the other
//! replicas of the adapter (and with `transfer`/`jobs` if they use it): each replica's upload
//! jobs are pinned to its `--replica` name, since their files are on its own disk.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use dicomweb_client::Client;
use dicomweb_dimse::{Adapter, DicomTls, Modalities, TlsFiles};

use crate::Failure;
use crate::jobs::JobsDbArg;

/// `dicomweb adapter …`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to listen for associations, HOST:PORT (e.g. 0.0.0.0:11112).
    #[arg(long, value_name = "HOST:PORT")]
    listen: String,
    /// The adapter's AE title: associations must call it.
    #[arg(long, value_name = "AET")]
    aet: String,
    /// An Orthanc configuration file whose DicomModalities lists the known DICOM devices (the
    /// destinations C-MOVE may send to).
    #[arg(long, value_name = "FILE")]
    modalities: Option<PathBuf>,
    /// The state folder: spooled instances, refused ones (failed/) and the upload queue
    /// (default: $XDG_DATA_HOME/dicomweb/adapter, else ~/.local/share/dicomweb/adapter).
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    #[command(flatten)]
    jobs_db: JobsDbArg,
    /// This replica's name in the shared --jobs-db queue, the same across restarts (in a
    /// Kubernetes StatefulSet, the pod name); its upload jobs run only here (default: the
    /// HOSTNAME environment variable, else the host name).
    #[arg(long, value_name = "NAME")]
    replica: Option<String>,
    /// Accept associations only from this calling AE title (repeat for more; default: any).
    #[arg(long = "allow", value_name = "AET")]
    allow: Vec<String>,
    /// Answer each C-STORE only after its STOW-RS request succeeded (no queue).
    #[arg(long)]
    sync: bool,
    /// At most this many associations at once; more are refused (temporary congestion).
    #[arg(long, value_name = "N", default_value_t = 32)]
    max_associations: usize,
    /// Refuse C-STOREs (A700) when less than this many MiB are free under the state folder.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    min_free_mib: u64,
    /// Abort an association idle for this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    idle_timeout: u64,
    /// Listen for DICOM over TLS only, presenting this certificate (PEM; then any
    /// intermediate certificates). C-MOVEs to devices marked UseDicomTls go over TLS too.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM, not encrypted).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Trusted CA certificates (PEM): clients must present a certificate one of them signed
    /// (mutual TLS), and C-MOVE destinations over TLS are verified against them.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_ca: Option<PathBuf>,
}

/// Runs the adapter until SIGTERM or Ctrl-C.
pub async fn run(args: &Args, client: &Client) -> Result<(), Failure> {
    init_logging();
    let listen = resolve(&args.listen)?;
    let state = match &args.state {
        Some(dir) => dir.clone(),
        None => crate::jobs::default_state_dir()?.join("adapter"),
    };
    let mut builder = Adapter::builder(client.clone(), args.aet.clone());
    builder
        .listen(listen)
        .state(state)
        .sync(args.sync)
        .max_associations(args.max_associations)
        .min_free_bytes(args.min_free_mib.saturating_mul(1024 * 1024))
        .idle_timeout(std::time::Duration::from_secs(args.idle_timeout.max(1)));
    if let Some(file) = &args.modalities {
        builder.modalities(Modalities::load(file)?);
    }
    for aet in &args.allow {
        builder.allow(aet.clone());
    }
    if let (Some(certificate), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let files = TlsFiles::new(certificate, key, args.tls_ca.clone());
        builder.tls(DicomTls::load(&files)?);
    }
    if let Some(shared) = args.jobs_db.open().await? {
        let replica = match &args.replica {
            Some(name) => name.clone(),
            None => host_name()?,
        };
        builder.shared_queue(shared.store, replica);
    }
    let adapter = builder.bind().await?;
    adapter.run(stop_signal()).await?;
    Ok(())
}

/// The default replica name: `HOSTNAME` (set in containers to the pod name), else the
/// kernel's host name.
fn host_name() -> Result<String, Failure> {
    let from_env = std::env::var("HOSTNAME").ok();
    let name = from_env
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| {
            rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned()
        });
    if name.trim().is_empty() {
        return Err(Failure(
            "--replica: expected a name for this replica, found no HOSTNAME and an empty host \
             name"
                .into(),
        ));
    }
    Ok(name.trim().to_owned())
}

/// `HOST:PORT` to the first address it names.
fn resolve(listen: &str) -> Result<SocketAddr, Failure> {
    listen
        .to_socket_addrs()
        .map_err(|e| {
            Failure(format!(
                "--listen: expected HOST:PORT, found {listen:?} ({e})"
            ))
        })?
        .next()
        .ok_or_else(|| Failure(format!("--listen: {listen:?} names no address")))
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Log lines on standard error, filtered by `RUST_LOG` (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
