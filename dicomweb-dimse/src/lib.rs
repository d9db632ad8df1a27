//! A DIMSE ⇄ DICOMweb adapter: DICOM devices (modalities, PACS) store to and query a DICOMweb
//! server through it, and nothing they were told is stored gets lost.
//!
//! - **C-ECHO**.
//! - **C-STORE** for every storage SOP class of the standard dictionary, in whatever transfer
//!   syntax the sender proposes (no transcoding). Each instance is written to a spool file as
//!   its fragments arrive (memory holds one PDU), as a Part 10 file with its meta group, and
//!   synced with its folder before the success response. A durable upload queue (jobs on
//!   [`orthanc_jobs`] over SQLite in the state folder, or over a store several replicas
//!   share, such as PostgreSQL: see [`QueueStore`]) sends spooled instances by STOW-RS in
//!   batches, retries transient failures with backoff (for ever by default), moves instances
//!   the server refuses for good to `failed/` beside a JSON record of why, and deletes a spool
//!   file only once the server's reply lists it as stored. After a crash, everything that got
//!   a success response is sent on the next start. Below a free-disk threshold C-STOREs are
//!   refused with A700. In synchronous mode each C-STORE is answered after its STOW-RS.
//!   On a shared store each upload job is pinned to the replica that spooled its files (job
//!   affinity): only that replica runs it, also after it crashed and came back under the
//!   same name, and no other engine on the store (a `dicomweb jobs serve` worker) takes it.
//! - **C-FIND**, Study Root and Patient Root, at PATIENT, STUDY, SERIES and IMAGE level,
//!   answered with QIDO-RS ([`find::query`] holds the mapping): matching keys become QIDO-RS
//!   parameters, return keys `includefield`, one pending response per match, C-CANCEL
//!   honoured, keys the server did not give sent empty.
//! - **C-MOVE** and **C-GET** ([`retrieve`]): the instances named are found with QIDO-RS,
//!   fetched with WADO-RS and sent by C-STORE sub-operations, streamed as they arrive, to a
//!   destination of the known modalities (A801 for any other) or back over the C-GET's own
//!   association; pending responses carry the sub-operation counts, and a failed
//!   sub-operation is counted, never dropped. The C-STORE SCU is public ([`scu::StoreScu`]).
//! - **Storage commitment**, Push Model SCP ([`commitment`]): an N-ACTION is checked and
//!   answered at once; each instance it names is committed when the DICOMweb server has it
//!   (QIDO-RS by SOP Instance UID, in batches), instances still in the upload queue being
//!   waited for up to [`AdapterConfig::commitment_wait`]; failures carry their Failure Reason
//!   (0112 no such object instance, 0119 another SOP class, 0110 the server could not be
//!   asked or the instance is still queued). The N-EVENT-REPORT goes out on the requester's
//!   association while it is open, else on a new association to it (its calling AE title
//!   among the known modalities; over TLS when it is marked `UseDicomTls`), with SCP/SCU
//!   role selection.
//! - **Transfers to a device** ([`export::DimseTransferJob`]): a study copied from a DICOMweb
//!   server to a DICOM device by C-STORE as a persistent, resumable job (`dicomweb transfer
//!   --to` a `DicomModalities` name, `dimse://AET@host:port`, or `dimses://…` over TLS).
//! - **DICOM TLS** ([`tls`]): with [`DicomTls`] settings the adapter listens for TLS only
//!   (client certificates required and verified when CAs are trusted: mutual TLS), and
//!   C-STOREs to devices marked `UseDicomTls` (or `dimses://`) go over TLS, the device's
//!   certificate verified against those CAs. rustls with the `ring` provider.
//! - Association policy: the called AE title must be the adapter's, the calling one any or
//!   one of those allowed; beyond `max_associations`, A-ASSOCIATE-RJ (transient, temporary
//!   congestion); idle associations are aborted. Each association and operation is logged
//!   with `tracing`.
//!
//! Associations, PDUs and presentation-context negotiation are dicom-rs's `dicom-ul`; command
//! sets and meta groups are encoded by `dicom-object`. DICOMweb requests go through a
//! [`dicomweb_client::Client`], so its retries, timeouts and authentication apply.
//!
//! # Example
//!
//! ```no_run
//! use dicomweb_dimse::Adapter;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = dicomweb_client::Client::builder("http://127.0.0.1:8042/dicom-web").build()?;
//! let mut builder = Adapter::builder(client, "DICOMWEB");
//! builder.listen("0.0.0.0:11112".parse()?).state("/var/lib/dicomweb-dimse");
//! let adapter = builder.bind().await?;
//! adapter.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # What it does not do (yet)
//!
//! TLS settings are read once (a renewed certificate takes a new [`Adapter`]), and one set
//! serves both directions. There is no Storage Commitment Pull Model, and an N-ACTION's Action
//! Information is limited to 1 MiB (several thousand instances). Negotiation accepts every
//! proposed abstract syntax whose transfer syntax
//! dicom-rs knows (the standard dictionary can be asked about a UID but not listed), and
//! commands on SOP classes the adapter does not serve are refused with 0122.

#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's examples compile as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod adapter;
mod association;
pub mod command;
pub mod commitment;
pub mod disk;
mod error;
pub mod export;
pub mod find;
pub mod modalities;
pub mod policy;
pub mod retrieve;
pub mod scu;
pub mod sop_classes;
pub mod spool;
mod store;
pub mod tls;
pub mod upload;

pub use adapter::{Adapter, AdapterBuilder, AdapterConfig};
pub use error::Error;
pub use modalities::{Modalities, Modality};
pub use tls::{DicomTls, TlsFiles};
pub use upload::QueueStore;
pub use upload::policy::UploadOptions;

/// The crates whose types this one's API exposes, re-exported so users match versions.
pub use {dicom_ul, dicomweb_client, orthanc_jobs, rustls};
