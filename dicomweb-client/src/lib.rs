//! Async DICOMweb client: retries, timeouts, authentication and streaming over any HTTP
//! transport.
//!
//! # What it does
//!
//! - [`Transport`]: one HTTP exchange, `http::Request<RequestBody>` in,
//!   `http::Response<ResponseBody>` out with the body as a stream of [`bytes::Bytes`].
//!   [`ReqwestTransport`] (feature `reqwest`, on by default: rustls, HTTP/1.1 and HTTP/2,
//!   pooled connections) and [`FnTransport`] (a closure, for tests and custom stacks).
//! - [`Client`]: the policies around every request. Retries with exponential backoff and full
//!   jitter on connection failures and 408/429/500/502/503/504, honouring `Retry-After`
//!   ([`RetryPolicy`]); a replayable body ([`BodySource`]) is re-sent whole from its source,
//!   a one-shot body is never retried. Connect, idle and total [`Timeouts`]. [`Auth`]: basic,
//!   bearer, or a [`TokenProvider`] refreshed once on 401; extra headers; client certificates
//!   and custom roots. [`ProgressEvent`]s and a `tracing` span per request.
//! - [`ServerRegistry`]: Orthanc's `DicomWeb.Servers` configuration read as is.
//! - DICOMweb operations, each built and parsed by [`dicomweb_core`]: searches at every level,
//!   one page or all ([`Client::search`], [`Client::search_all`], …); metadata as JSON or XML
//!   ([`Client::retrieve_metadata`]); instances, frames, pixel data, bulk data, rendered images
//!   and thumbnails as a [`PartStream`] read as it arrives, and instances straight to disk
//!   ([`Client::retrieve_instances_to_dir`]: temporary names, renamed when complete); STOW-RS
//!   from files or memory in batches, several in flight, every instance checked in the reply
//!   ([`Client::store_files`], [`Client::store_instances`]); [`Client::delete`];
//!   [`Client::capabilities`]. Anything else goes through [`Client::execute`] with a request
//!   from [`dicomweb_core::request`].
//! - Feature `jobs`: transfers and uploads as persistent, resumable jobs on `orthanc-jobs`
//!   (module `jobs`).
//!
//! One dependency is enough: the protocol core is re-exported whole as [`core`] (so its types
//! are always the version this client speaks), and the core types the client's methods take
//! and return also at the root ([`Uid`], [`Search`], [`RetrieveInstances`], [`DataSets`],
//! [`DataSet`], [`Tag`] and the named [`tags`], …); with feature `jobs` the job engine as
//! `orthanc_jobs`, with feature `gcp` the credentials crate as `gcp_credentials`.
//!
//! ```
//! use dicomweb_client::{Client, FnTransport, RequestBody, ResponseBody, TransportError};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), dicomweb_client::Error> {
//! // A stand-in server: answers every request with an empty JSON array.
//! let transport = FnTransport::new(|request: http::Request<RequestBody>| async move {
//!     assert_eq!(request.headers()["authorization"], "Basic YWxpY2U6czNjcmV0");
//!     Ok::<_, TransportError>(http::Response::new(ResponseBody::from_bytes("[]")))
//! });
//! let client = Client::builder("http://127.0.0.1:8042/dicom-web")
//!     .basic_auth("alice", "s3cret")
//!     .transport(transport)
//!     .build()?;
//! let request = http::Request::get(format!("{}/studies", client.base_url()))
//!     .body(RequestBody::empty())
//!     .expect("a valid request");
//! let response = client.execute(request).await?;
//! let body = response.into_body().bytes().await.map_err(|e| e.to_string());
//! assert_eq!(body.as_deref(), Ok(&b"[]"[..]));
//! # Ok(())
//! # }
//! ```
//!
//! # Runtimes
//!
//! The client runs on any tokio runtime. For moving large bodies, a current-thread runtime
//! is the fastest: the connection's task and the reader of its body share one thread, so no
//! body chunk costs a wake-up across threads. Run the work as a spawned task there, and
//! `block_on` its `JoinHandle`. Woken by another task, `block_on`'s own future is polled
//! only after the runtime has checked for IO events, a system call for every chunk of some
//! 8 KiB. The `dicomweb` program does this: a 480 MiB retrieve from a local Orthanc made
//! 61,500 such calls as `block_on`'s future, and 2,400 as a task.
//!
//! # What it does not do
//!
//! No protocol logic: DICOMweb requests are built and responses parsed by
//! [`dicomweb_core`]. Requests are not cached, and redirects are the transport's business (the
//! reqwest transport follows them only within the request's origin, so no body or credential
//! is re-sent to another server).

#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's examples compile and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod auth;
mod body;
mod builder;
mod client;
mod disk;
mod error;
#[cfg(feature = "gcp")]
mod gcp;
#[cfg(feature = "jobs")]
pub mod jobs;
mod operations;
pub mod policy;
pub mod progress;
mod registry;
#[cfg(feature = "reqwest")]
mod reqwest_transport;
pub mod retrieve;
mod retry;
pub mod store;
mod timeout;
mod transport;

pub use auth::{Auth, TokenFuture, TokenProvider};
pub use body::{BodySource, DownloadStream, RequestBody, ResponseBody, UploadStream};
pub use builder::ClientBuilder;
pub use client::{Client, DEFAULT_MAX_RESPONSE_BYTES};
pub use error::Error;
#[cfg(feature = "gcp")]
pub use gcp::TransportHttpClient;
/// The secret newtypes of the crate family, from `gcp-credentials`: a token its provider hands
/// out is this crate's [`AccessToken`] as it is.
pub use gcp_credentials::{AccessToken, Password};
pub use progress::{ProgressEvent, ProgressObserver, ProgressTotals};
pub use registry::{
    ServerConfig, ServerRegistry, orthanc_config_files, parse_orthanc_config, strip_config_comments,
};
#[cfg(feature = "reqwest")]
pub use reqwest_transport::{ReqwestTransport, ReqwestTransportBuilder};
pub use retrieve::{PartStream, RetrieveOptions, RetrieveSummary, RetrievedFile};
pub use retry::{RetryPolicy, retry_after};
pub use store::{Failed, InstanceSource, StoreOptions, StoreSummary, Stored, collect_files};
pub use timeout::Timeouts;
pub use transport::{FnTransport, Transport, TransportError, TransportErrorKind, TransportFuture};

/// The protocol core this client drives, whole: every request, response, data model and codec
/// type, at the version the client was built with.
pub use dicomweb_core as core;
pub use dicomweb_core::multipart::PartHeaders;
pub use dicomweb_core::request::{
    BaseUrl, RetrieveBulkData, RetrieveFrames, RetrieveInstances, RetrieveMetadata,
    RetrievePixelData, RetrieveRendered, RetrieveThumbnail, Search, SearchLevel, Target,
};
pub use dicomweb_core::response::{DataSets, Warning};
pub use dicomweb_core::{DataSet, ReadOptions, Tag, Uid, tags};
/// Google Cloud access tokens (feature `gcp`): the credential sources whose
/// `TokenProvider` plugs into [`ClientBuilder`]'s auth.
#[cfg(feature = "gcp")]
pub use gcp_credentials;
/// The job engine under [`jobs`] (feature `jobs`): engine, stores, handles.
#[cfg(feature = "jobs")]
pub use orthanc_jobs;

/// A boxed error, as token providers and body sources return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
