//! What the adapter's in-process tests share: an adapter builder listening on a free loopback
//! port, for a DICOMweb server or for one that is not there, and the adapter run in a task
//! until told to stop.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dicomweb_client::Client;
use dicomweb_dimse::scu::{FileChunks, StoreScu, SubOutcome};
use dicomweb_dimse::{Adapter, AdapterBuilder, Modality};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The adapter's AE title in these tests.
pub const AET: &str = "ADAPTER";

/// Storage of Secondary Capture images, the generated studies' SOP class.
pub const SECONDARY_CAPTURE: &str = "1.2.840.10008.5.1.4.1.1.7";

/// A client of the DICOMweb server at `url` that does not retry.
pub fn client(url: &str) -> Client {
    Client::builder(url).max_retries(0).build().unwrap()
}

/// A client of a DICOMweb server that is not there (a loopback port nobody listens on): the
/// spool keeps what arrives.
pub fn client_of_nobody() -> Client {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    client(&format!("http://{dead}/dicom-web"))
}

/// A builder for an adapter in front of `client`, listening on a free loopback port, with its
/// state in `state`.
pub fn builder(client: Client, state: &Path) -> AdapterBuilder {
    let mut builder = Adapter::builder(client, AET);
    builder.listen("127.0.0.1:0".parse().unwrap()).state(state);
    builder
}

/// The adapter bound and run in a task: its address, the sender that stops it (sent or
/// dropped), and the task, which ends once the adapter has stopped cleanly.
pub async fn start(builder: &AdapterBuilder) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<()>) {
    let adapter = builder.bind().await.unwrap();
    let address = adapter.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(async move {
        adapter
            .run(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (address, stop, task)
}

/// A C-STORE SCU ("SENDER") associated with the adapter at `address`, proposing Secondary
/// Capture only.
pub async fn sender(address: SocketAddr) -> StoreScu {
    let modality = Modality::new(AET, "127.0.0.1", address.port());
    StoreScu::connect(
        "SENDER",
        &modality,
        &[SECONDARY_CAPTURE],
        16 * 1024,
        Duration::from_secs(5),
    )
    .await
    .unwrap()
}

/// Sends each of `files` on `scu`, each one completed.
pub async fn store_each(scu: &mut StoreScu, files: &[PathBuf]) {
    for file in files {
        let outcome = scu
            .store(&mut FileChunks::open(file).await.unwrap())
            .await
            .unwrap();
        assert_eq!(outcome, SubOutcome::Completed, "{}", file.display());
    }
}
