//! The [`Adapter`]: its configuration ([`AdapterBuilder`]), the listening socket, admission of
//! new connections, and the task of each association.
//!
//! [`Adapter::run`] accepts connections until its shutdown future resolves; then it stops
//! accepting, lets each association finish the message in progress (idle ones are aborted),
//! hands what waits for a batch to the upload queue and stops the queue's engine. Beyond
//! `max_associations` open at once, a new connection's A-ASSOCIATE-RQ is answered with
//! A-ASSOCIATE-RJ transient, temporary congestion. With [`DicomTls`] settings it listens for
//! TLS only: each connection's TLS handshake comes first (within the idle timeout), and a
//! connection that does not complete one is closed without an association.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use dicom_ul::association::AsyncServerAssociation;
use dicom_ul::pdu::{
    AssociationRJ, AssociationRJResult, AssociationRJServiceProviderPresentationReason,
    AssociationRJSource,
};
use dicom_ul::{Pdu, ServerAssociationOptions};
use dicomweb_client::Client;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::association::Stream;
use crate::modalities::Modalities;
use crate::policy::{AcceptProposedRoles, Admission, AeTitles, admit_connection};
use crate::spool::Spool;
use crate::tls::DicomTls;
use crate::upload::policy::UploadOptions;
use crate::upload::{QueueStore, UploadQueue};
use crate::{Error, association};

/// How the adapter runs; see [`Adapter::builder`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AdapterConfig {
    /// The adapter's AE title (the called AE title associations must use).
    pub aet: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Known DICOM devices.
    pub modalities: Modalities,
    /// The state folder: `spool/`, `failed/` and the upload queue's `uploads.sqlite`.
    pub state: PathBuf,
    /// Where the upload queue's jobs live (default: the state folder).
    pub queue_store: QueueStore,
    /// Calling AE titles allowed; empty: any.
    pub allowed: Vec<String>,
    /// At most this many associations at once.
    pub max_associations: usize,
    /// An association idle (no PDU) for this long is aborted.
    pub idle_timeout: Duration,
    /// Answer each C-STORE only after its STOW-RS request succeeded.
    pub sync: bool,
    /// Below this much free disk under the state folder, C-STOREs are refused (A700).
    pub min_free_bytes: u64,
    /// The largest PDU the adapter accepts.
    pub max_pdu_length: u32,
    /// Batching and retries of the upload queue.
    pub upload: UploadOptions,
    /// How many upload batches are sent at once.
    pub upload_workers: usize,
    /// DICOM TLS: listen for TLS only, and reach devices marked `UseDicomTls` with it.
    pub tls: Option<DicomTls>,
    /// How long a storage commitment request waits for its instances still in the upload
    /// queue before they are reported failed (0110).
    pub commitment_wait: Duration,
}

/// Configures an [`Adapter`]: `&mut self` setters, then [`bind`](AdapterBuilder::bind).
#[derive(Clone, Debug)]
pub struct AdapterBuilder {
    client: Client,
    config: AdapterConfig,
}

impl AdapterBuilder {
    /// Where to listen (default `0.0.0.0:104`).
    pub fn listen(&mut self, address: SocketAddr) -> &mut Self {
        self.config.listen = address;
        self
    }

    /// The devices C-MOVE may send to.
    pub fn modalities(&mut self, modalities: Modalities) -> &mut Self {
        self.config.modalities = modalities;
        self
    }

    /// The state folder (default `./dicomweb-dimse`).
    pub fn state(&mut self, folder: impl Into<PathBuf>) -> &mut Self {
        self.config.state = folder.into();
        self
    }

    /// Keeps the upload queue's jobs in `store`, shared with other replicas of the adapter
    /// (orthanc-jobs' `PostgresStore`, feature `postgres`), as replica `replica`: its jobs are
    /// pinned to that name, which must stay the same across restarts (see [`QueueStore`]).
    /// The spool stays in this replica's own state folder.
    pub fn shared_queue(
        &mut self,
        store: Arc<dyn orthanc_jobs::Store>,
        replica: impl Into<String>,
    ) -> &mut Self {
        self.config.queue_store = QueueStore::Shared {
            store,
            replica: replica.into(),
        };
        self
    }

    /// Allows this calling AE title; once one is allowed, all others are refused.
    pub fn allow(&mut self, aet: impl Into<String>) -> &mut Self {
        self.config.allowed.push(aet.into());
        self
    }

    /// At most `n` associations at once (default 32).
    pub fn max_associations(&mut self, n: usize) -> &mut Self {
        self.config.max_associations = n.max(1);
        self
    }

    /// Abort associations idle this long (default 60 s).
    pub fn idle_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// Synchronous mode: each C-STORE answered after its STOW-RS.
    pub fn sync(&mut self, sync: bool) -> &mut Self {
        self.config.sync = sync;
        self
    }

    /// Free disk to keep (default 256 MiB).
    pub fn min_free_bytes(&mut self, bytes: u64) -> &mut Self {
        self.config.min_free_bytes = bytes;
        self
    }

    /// The largest PDU accepted (default 64 KiB; at least 4 KiB).
    pub fn max_pdu_length(&mut self, bytes: u32) -> &mut Self {
        self.config.max_pdu_length = bytes.max(4096);
        self
    }

    /// The upload queue's batching and retries.
    pub fn upload(&mut self, options: UploadOptions) -> &mut Self {
        self.config.upload = options;
        self
    }

    /// DICOM TLS (see [`DicomTls`]): the adapter then listens for TLS only (requiring client
    /// certificates when the settings trust CAs), and C-MOVE sub-operations to devices marked
    /// `UseDicomTls` go over TLS too.
    pub fn tls(&mut self, tls: DicomTls) -> &mut Self {
        self.config.tls = Some(tls);
        self
    }

    /// How long a storage commitment waits for instances still in the upload queue (default
    /// 2 minutes).
    pub fn commitment_wait(&mut self, wait: Duration) -> &mut Self {
        self.config.commitment_wait = wait;
        self
    }

    /// The configuration so far.
    pub fn config(&self) -> &AdapterConfig {
        &self.config
    }

    /// Checks the configuration, opens the state folder and the upload queue (which resumes
    /// earlier uploads), and binds the listening socket.
    pub async fn bind(&self) -> Result<Adapter, Error> {
        let config = self.config.clone();
        let aet = config.aet.trim();
        if aet.is_empty() || aet.len() > 16 || aet.contains('\\') || !aet.is_ascii() {
            return Err(Error::Config(format!(
                "expected an AE title of 1 to 16 ASCII characters without a backslash, found {:?}",
                config.aet
            )));
        }
        let spool = Spool::open(&config.state)?;
        let queue = if config.sync {
            None
        } else {
            Some(
                UploadQueue::start(
                    self.client.clone(),
                    spool.clone(),
                    &config.state,
                    &config.queue_store,
                    config.upload.clone(),
                    config.upload_workers,
                )
                .await?,
            )
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", config.listen)))?;
        let mut options = ServerAssociationOptions::new()
            .ae_access_control(AeTitles {
                allowed: config.allowed.clone(),
            })
            .with_negotiation(AcceptProposedRoles)
            .ae_title(aet.to_owned())
            .promiscuous(true)
            .max_pdu_length(config.max_pdu_length)
            .strict(true)
            .read_timeout(config.idle_timeout);
        if let Some(tls) = &config.tls {
            options = options.tls_config(tls.server_config());
        }
        Ok(Adapter {
            listener,
            options: Arc::new(options),
            shared: Arc::new(Shared {
                client: self.client.clone(),
                spool,
                queue,
                shutdown: CancellationToken::new(),
                commitments: TaskTracker::new(),
                config,
            }),
        })
    }
}

/// What every association's task shares.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) config: AdapterConfig,
    pub(crate) spool: Spool,
    pub(crate) queue: Option<UploadQueue>,
    pub(crate) shutdown: CancellationToken,
    /// Storage commitments being decided or reported.
    pub(crate) commitments: TaskTracker,
}

type Options = ServerAssociationOptions<'static, AeTitles, AcceptProposedRoles>;

/// A DIMSE service provider in front of a DICOMweb server, bound and ready to
/// [`run`](Adapter::run).
pub struct Adapter {
    listener: TcpListener,
    options: Arc<Options>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Adapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapter")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Adapter {
    /// A builder for an adapter with AE title `aet` in front of `client`'s server.
    pub fn builder(client: Client, aet: impl Into<String>) -> AdapterBuilder {
        AdapterBuilder {
            client,
            config: AdapterConfig {
                aet: aet.into(),
                listen: SocketAddr::from(([0, 0, 0, 0], 104)),
                modalities: Modalities::new(),
                state: PathBuf::from("dicomweb-dimse"),
                queue_store: QueueStore::StateFolder,
                allowed: Vec::new(),
                max_associations: 32,
                idle_timeout: Duration::from_secs(60),
                sync: false,
                min_free_bytes: 256 * 1024 * 1024,
                max_pdu_length: 64 * 1024,
                upload: UploadOptions::default(),
                upload_workers: 2,
                tls: None,
                commitment_wait: Duration::from_secs(120),
            },
        }
    }

    /// The address it listens on (with the port chosen when it was 0).
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener
            .local_addr()
            .map_err(|e| Error::Config(format!("cannot read the listening address: {e}")))
    }

    /// Serves associations until `shutdown` resolves, then finishes the messages in progress,
    /// hands waiting instances to the upload queue and stops.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let Adapter {
            listener,
            options,
            shared,
        } = self;
        let tracker = TaskTracker::new();
        let open = Arc::new(AtomicUsize::new(0));
        let tls = shared.config.tls.as_ref().map(DicomTls::server_config);
        tracing::info!(aet = shared.config.aet, address = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), sync = shared.config.sync, tls = tls.is_some(), client_certificates = shared.config.tls.as_ref().is_some_and(DicomTls::verifies_clients), "DIMSE adapter listening");
        tokio::pin!(shutdown);
        loop {
            let (socket, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = socket.set_nodelay(true);
            if admit_connection(open.load(Ordering::SeqCst), shared.config.max_associations)
                == Admission::Congested
            {
                tracing::warn!(%peer, max = shared.config.max_associations, "too many associations: refused, temporary congestion");
                let (max_pdu_length, idle) =
                    (shared.config.max_pdu_length, shared.config.idle_timeout);
                match &tls {
                    None => tracker.spawn(reject_congested(socket, max_pdu_length)),
                    Some(config) => {
                        let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
                        tracker.spawn(async move {
                            if let Ok(Ok(socket)) =
                                tokio::time::timeout(idle, acceptor.accept(socket)).await
                            {
                                reject_congested(socket, max_pdu_length).await;
                            }
                        })
                    }
                };
                continue;
            }
            open.fetch_add(1, Ordering::SeqCst);
            let guard = OpenGuard(open.clone());
            let options = options.clone();
            let shared = shared.clone();
            let over_tls = tls.is_some();
            tracker.spawn(async move {
                let _guard = guard;
                if !over_tls {
                    return established(options.establish_async(socket).await, peer, shared).await;
                }
                // dicom-ul's read timeout starts after the handshake: the idle timeout covers
                // both, so a connection that says nothing cannot hold a place for ever.
                let idle = shared.config.idle_timeout;
                match tokio::time::timeout(idle, options.establish_tls_async(socket)).await {
                    Ok(result) => established(result, peer, shared).await,
                    Err(_) => tracing::warn!(%peer, "association not established: no TLS handshake and association request within the idle timeout"),
                }
            });
        }
        tracing::info!(
            associations = open.load(Ordering::SeqCst),
            "shutting down: no new associations; finishing those in progress"
        );
        drop(listener);
        shared.shutdown.cancel();
        tracker.close();
        tracker.wait().await;
        // Storage commitments decide what they can now and send their results.
        shared.commitments.close();
        shared.commitments.wait().await;
        match Arc::try_unwrap(shared) {
            Ok(shared) => {
                if let Some(queue) = shared.queue {
                    queue.shutdown().await;
                }
            }
            Err(_) => tracing::warn!(
                "an association task still holds the adapter: upload queue not drained"
            ),
        }
        tracing::info!("DIMSE adapter stopped");
        Ok(())
    }
}

/// Serves an association that negotiation established, or logs why there is none.
async fn established<S: Stream>(
    result: Result<AsyncServerAssociation<S>, dicom_ul::association::Error>,
    peer: SocketAddr,
    shared: Arc<Shared>,
) {
    match result {
        Ok(association) => {
            use dicom_ul::association::Association as _;
            let accepted = association
                .presentation_contexts()
                .iter()
                .filter(|pc| {
                    pc.reason == dicom_ul::pdu::PresentationContextResultReason::Acceptance
                })
                .count();
            tracing::info!(%peer, calling = association.peer_ae_title().trim(), contexts = accepted, "association accepted");
            association::serve(association, shared).await;
        }
        Err(error) => {
            let error = crate::error::causes(&error);
            tracing::warn!(%peer, %error, "association not established");
        }
    }
}

/// Counts an association as open while alive.
struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Reads the A-ASSOCIATE-RQ and answers A-ASSOCIATE-RJ transient, temporary congestion.
async fn reject_congested<S>(mut socket: S, max_pdu_length: u32)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buffer = BytesMut::new();
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        dicom_ul::association::read_pdu_from_wire_async(
            &mut socket,
            &mut buffer,
            max_pdu_length,
            true,
        ),
    )
    .await;
    if !matches!(read, Ok(Ok(Pdu::AssociationRQ(_)))) {
        return;
    }
    let reject = Pdu::AssociationRJ(AssociationRJ {
        result: AssociationRJResult::Transient,
        source: AssociationRJSource::ServiceProviderPresentation(
            AssociationRJServiceProviderPresentationReason::TemporaryCongestion,
        ),
    });
    let mut bytes = Vec::new();
    if dicom_ul::write_pdu(&mut bytes, &reject).is_ok() {
        let _ = socket.write_all(&bytes).await;
        let _ = socket.shutdown().await;
    }
}
