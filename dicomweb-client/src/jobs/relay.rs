//! A batch relayed from one server to another without touching disk: the WADO-RS replies'
//! parts are streamed, chunk by chunk, into the body of one STOW-RS request to the destination.
//!
//! The STOW-RS body is a [`BodySource`]: each [`open`](BodySource::open) starts the retrieves
//! again, so a retried request re-sends the whole body, fetched anew from the source. A task
//! reads the source's replies (a few requests in flight, their bodies read in order) and hands
//! chunks to the request through a small queue, so memory is bounded by chunks, not by
//! instances. Each part's SOP Instance UID is read from its file meta group before its first
//! byte goes out: an instance that is not in the batch, returned twice, or missing from the
//! source's replies stops the body with an error that names it.
//!
//! Batches overlap: [`InFlight::finish`] starts the next batch's request as soon as the
//! current batch's body is out, so the destination receives one batch while it stores the
//! one before (at most two of a job's requests at once). The request runs in a task of its
//! own, so it goes on while the engine saves the step; dropping an [`InFlight`] aborts it.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use dicomweb_core::Uid;
use dicomweb_core::file_meta::{FileMeta, MAX_META_BYTES};
use dicomweb_core::media_type::MediaType;
use dicomweb_core::multipart::{Boundary, MultipartFraming};
use dicomweb_core::request::{RetrieveInstances, Store, Target};
use dicomweb_core::response::{StowOutcome, parse_store};
use futures_util::{StreamExt, stream};
use http::{HeaderMap, StatusCode};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::progress::ProgressEvent;
use crate::{BodySource, Client, Error, PartStream, RequestBody, TransportError};

/// WADO-RS requests of one batch in flight at once (their bodies are read in order).
const REQUESTS_IN_FLIGHT: usize = 4;

/// Chunks queued between the source's replies and the destination's request.
const CHUNKS_QUEUED: usize = 8;

/// What the destination said about each instance of a relayed batch, the instance bytes
/// sent in the request that got the reply, and the next batch's request, when it was started.
pub(super) struct Relayed {
    pub(super) outcomes: Vec<(Uid, StowOutcome)>,
    pub(super) bytes: u64,
    pub(super) next: Option<InFlight>,
}

/// A batch's STOW-RS request, started ([`InFlight::start`]) and running in a task of its own;
/// [`InFlight::finish`] waits for its reply. Dropped unfinished, it is aborted.
pub(super) struct InFlight {
    shared: Arc<Shared>,
    destination: Client,
    label: String,
    task: JoinHandle<Result<(StatusCode, HeaderMap, Bytes), Error>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl InFlight {
    /// Starts storing `batch` at `destination`, streamed from `source`'s replies to the WADO-RS
    /// requests `targets` (which together return exactly the batch's instances).
    pub(super) fn start(
        source: &Client,
        destination: &Client,
        targets: Vec<Target>,
        batch: Vec<Uid>,
    ) -> Result<InFlight, Error> {
        let dicom = MediaType::new("application", "dicom");
        let store = Store::new(Boundary::from_random_bytes(rand::random::<[u8; 24]>()))
            .related_type(dicom.clone());
        let head = store.to_request_head(destination.base_url())?;
        let label = format!("{} {}", head.method(), head.uri());
        let shared = Arc::new(Shared {
            source: source.clone(),
            targets,
            batch,
            framing: store.framing(),
            dicom,
            sent: Notify::new(),
            bytes: AtomicU64::new(0),
            error: Mutex::new(None),
        });
        let body = {
            let shared = shared.clone();
            BodySource::new(move || open(shared.clone()))
        };
        let task = {
            let destination = destination.clone();
            tokio::spawn(async move {
                destination
                    .fetch_body(head.map(|()| RequestBody::Source(body)))
                    .await
            })
        };
        Ok(InFlight {
            shared,
            destination: destination.clone(),
            label,
            task,
        })
    }

    /// The instances this request stores.
    pub(super) fn batch(&self) -> &[Uid] {
        &self.shared.batch
    }

    /// Waits for the destination's reply and classifies it instance by instance. Once this
    /// batch's body is out, `next` is called to start the next batch's request.
    pub(super) async fn finish(
        mut self,
        next: Option<impl FnOnce() -> Result<InFlight, Error>>,
    ) -> Result<Relayed, Error> {
        let mut started = None;
        let reply = match next {
            None => (&mut self.task).await,
            Some(next) => tokio::select! {
                biased;
                () = self.shared.sent.notified() => {
                    started = Some(next()?);
                    (&mut self.task).await
                }
                reply = &mut self.task => reply,
            },
        };
        let reply = reply.unwrap_or_else(|joined| {
            Err(Error::Transport {
                request: self.label.clone(),
                source: TransportError::body(format!("the request's task ended: {joined}")),
            })
        });
        let (status, headers, text) = match reply {
            Ok(reply) => reply,
            // The source's error, when the body broke because of it, says more than the
            // destination's side of the broken request.
            Err(error) => return Err(self.shared.take_error().unwrap_or(error)),
        };
        let destination = &self.destination;
        let result = parse_store(status, &headers, &text, destination.read_options())?;
        let batch = &self.shared.batch;
        let outcomes: Vec<_> = batch.iter().cloned().zip(result.classify(batch)).collect();
        let stored = outcomes
            .iter()
            .filter(|(_, outcome)| outcome.is_stored())
            .count();
        destination.report(ProgressEvent::InstancesSent {
            count: stored as u64,
        });
        Ok(Relayed {
            outcomes,
            bytes: self.shared.bytes.load(Ordering::Relaxed),
            next: started,
        })
    }
}

/// What every opening of the body shares.
struct Shared {
    source: Client,
    targets: Vec<Target>,
    batch: Vec<Uid>,
    framing: MultipartFraming,
    dicom: MediaType,
    /// Told when an opening has handed over the whole body.
    sent: Notify,
    /// Instance bytes sent by the latest opening.
    bytes: AtomicU64,
    /// The latest opening's error from the source side.
    error: Mutex<Option<Error>>,
}

impl Shared {
    fn take_error(&self) -> Option<Error> {
        self.error.lock().ok().and_then(|mut slot| slot.take())
    }

    fn set_error(&self, error: Error) {
        if let Ok(mut slot) = self.error.lock() {
            *slot = Some(error);
        }
    }
}

/// One opening of the body: a task relays the source's parts into a queue that the request
/// reads. When the request is dropped, the task stops at its next chunk.
fn open(shared: Arc<Shared>) -> impl futures_util::Stream<Item = Result<Bytes, io::Error>> {
    let (sender, receiver) = mpsc::channel(CHUNKS_QUEUED);
    shared.bytes.store(0, Ordering::Relaxed);
    tokio::spawn(async move {
        let mut out = Out { sender, bytes: 0 };
        match produce(&shared, &mut out).await {
            Ok(()) => {
                shared.bytes.store(out.bytes, Ordering::Relaxed);
                shared.sent.notify_one();
            }
            Err(Stop::Gone) => {}
            Err(Stop::Failed(error)) => {
                let message = error.to_string();
                shared.set_error(error);
                // The request may already be gone; then nobody needs to hear it.
                let _ = out.sender.send(Err(io::Error::other(message))).await;
            }
        }
    });
    stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}

/// Why relaying stopped early.
enum Stop {
    /// The request no longer reads the body (it failed, or was abandoned).
    Gone,
    /// The source's reply was not the batch.
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(error: Error) -> Self {
        Stop::Failed(error)
    }
}

/// The request's end of the queue.
struct Out {
    sender: mpsc::Sender<Result<Bytes, io::Error>>,
    bytes: u64,
}

impl Out {
    async fn send(&mut self, chunk: Bytes) -> Result<(), Stop> {
        self.sender.send(Ok(chunk)).await.map_err(|_| Stop::Gone)
    }
}

/// The whole body: each part of each reply with its head, then the close delimiter.
async fn produce(shared: &Shared, out: &mut Out) -> Result<(), Stop> {
    let wanted: HashSet<&str> = shared.batch.iter().map(Uid::as_str).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let source = &shared.source;
    let mut replies = stream::iter(shared.targets.iter().cloned())
        .map(|target| async move {
            source
                .retrieve_instances(&RetrieveInstances::new(target))
                .await
        })
        .buffered(REQUESTS_IN_FLIGHT);
    while let Some(parts) = replies.next().await {
        let mut parts = parts?;
        while let Some(part) = parts.next_part().await? {
            let index = seen.len();
            let (uid, first) = read_meta(&mut parts, index).await?;
            if !wanted.contains(uid.as_str()) {
                return Err(unexpected(format!(
                    "instance {uid}, which is not in the batch being moved"
                )));
            }
            if !seen.insert(uid.as_str().to_owned()) {
                return Err(unexpected(format!("instance {uid} a second time")));
            }
            let head = match part.content_length() {
                Some(length) => shared.framing.part_head(index, &shared.dicom, length),
                None => shared.framing.part_head_unsized(index, &shared.dicom),
            }
            .map_err(Error::Protocol)?;
            out.send(head).await?;
            for chunk in first {
                out.bytes += chunk.len() as u64;
                out.send(chunk).await?;
            }
            while let Some(chunk) = parts.next_chunk().await? {
                out.bytes += chunk.len() as u64;
                out.send(chunk).await?;
            }
            source.report(ProgressEvent::InstancesReceived { count: 1 });
        }
    }
    let missing: Vec<&str> = shared
        .batch
        .iter()
        .map(Uid::as_str)
        .filter(|uid| !seen.contains(*uid))
        .collect();
    if !missing.is_empty() {
        return Err(Stop::Failed(Error::Protocol(
            dicomweb_core::Error::UnexpectedResponse {
                expected: "every instance of the batch from the source",
                found: format!("no instance {} in its replies", missing.join(", ")),
            },
        )));
    }
    out.send(shared.framing.close_delimiter()).await
}

/// Reads the start of the current part until its file meta group is complete: the part's
/// SOP Instance UID, and the chunks read so far (still to be sent).
async fn read_meta(parts: &mut PartStream, index: usize) -> Result<(Uid, Vec<Bytes>), Stop> {
    let mut chunks = Vec::new();
    let mut prefix = BytesMut::new();
    loop {
        let Some(chunk) = parts.next_chunk().await? else {
            return Err(not_an_instance(
                index,
                "it ended inside its file meta group",
            ));
        };
        let meta = if chunks.is_empty() {
            FileMeta::read(&chunk)
        } else {
            prefix.extend_from_slice(&chunk);
            FileMeta::read(&prefix)
        };
        if chunks.is_empty() {
            prefix.extend_from_slice(&chunk[..chunk.len().min(MAX_META_BYTES)]);
        }
        chunks.push(chunk);
        match meta {
            Err(error) => return Err(not_an_instance(index, error)),
            Ok(Some(meta)) => {
                let text = meta.sop_instance_uid.unwrap_or_default();
                let uid = Uid::new(text).map_err(|error| {
                    not_an_instance(
                        index,
                        format!("its Media Storage SOP Instance UID: {error}"),
                    )
                })?;
                return Ok((uid, chunks));
            }
            Ok(None) if prefix.len() >= MAX_META_BYTES => {
                return Err(not_an_instance(
                    index,
                    "no complete file meta group in its first 64 KiB",
                ));
            }
            Ok(None) => {}
        }
    }
}

fn unexpected(found: String) -> Stop {
    Stop::Failed(Error::Protocol(dicomweb_core::Error::UnexpectedResponse {
        expected: "only the instances of the batch from the source, each once",
        found,
    }))
}

fn not_an_instance(index: usize, why: impl std::fmt::Display) -> Stop {
    Stop::Failed(Error::Protocol(dicomweb_core::Error::UnexpectedResponse {
        expected: "a DICOM Part 10 instance in every part from the source",
        found: format!("part {}: {why}", index + 1),
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use dicomweb_core::multipart::{BodyDecoder, MultipartLimits};
    use test_support::part10::{Instance, instance};
    use test_support::standin::multipart;

    use super::*;
    use crate::{FnTransport, ResponseBody, TransportError};

    const STUDY: &str = "1.2.3";
    const SERIES: &str = "1.2.3.4";

    fn part10(sop: &str) -> Vec<u8> {
        instance(&Instance {
            patient_id: "P",
            patient_name: "Doe^J",
            study_uid: STUDY,
            series_uid: SERIES,
            sop_uid: sop,
            study_date: "20250101",
            instance_number: 1,
        })
    }

    /// A source that answers every request with `sops` as one multipart reply, counting them.
    fn source(sops: &'static [&'static str], requests: Arc<AtomicUsize>) -> Client {
        Client::builder("http://source/dicom-web")
            .transport(FnTransport::new(move |_request| {
                requests.fetch_add(1, Ordering::SeqCst);
                let parts: Vec<Vec<u8>> = sops.iter().map(|sop| part10(sop)).collect();
                let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                let (content_type, body) = multipart(&parts);
                async move {
                    let mut response = http::Response::new(ResponseBody::from_bytes(body));
                    response
                        .headers_mut()
                        .insert(http::header::CONTENT_TYPE, content_type.parse().unwrap());
                    Ok::<_, TransportError>(response)
                }
            }))
            .build()
            .unwrap()
    }

    /// A destination that refuses the first `refusals` requests with 503 and then stores
    /// what it is sent, keeping each request's decoded parts.
    fn destination(refusals: usize, bodies: Arc<Mutex<Vec<Vec<Bytes>>>>) -> Client {
        holding_destination(refusals, bodies, None)
    }

    /// [`destination`]; given `answered_first_with`, it answers its first request only once
    /// a second request's body has arrived (or after 5 s), and notes there how many bodies it
    /// had when it answered.
    fn holding_destination(
        refusals: usize,
        bodies: Arc<Mutex<Vec<Vec<Bytes>>>>,
        answered_first_with: Option<Arc<Mutex<Option<usize>>>>,
    ) -> Client {
        let seen = Arc::new(AtomicUsize::new(0));
        Client::builder("http://destination/dicom-web")
            .transport(FnTransport::new(move |request: http::Request<RequestBody>| {
                let (bodies, seen) = (bodies.clone(), seen.clone());
                let answered_first_with = answered_first_with.clone();
                async move {
                    let (head, body) = request.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map_err(|e| TransportError::body(e.to_string()))?;
                    let parts: Vec<Bytes> =
                        BodyDecoder::from_headers(&head.headers, MultipartLimits::default())
                            .unwrap()
                            .decode_all(body)
                            .unwrap()
                            .into_iter()
                            .map(|(_, part)| part)
                            .collect();
                    let uids: Vec<String> = parts
                        .iter()
                        .map(|p| FileMeta::read(p).unwrap().unwrap().sop_instance_uid.unwrap())
                        .collect();
                    bodies.lock().unwrap().push(parts);
                    let index = seen.fetch_add(1, Ordering::SeqCst);
                    if let (0, Some(answered_first_with)) = (index, answered_first_with) {
                        let waited = std::time::Instant::now();
                        while bodies.lock().unwrap().len() < 2
                            && waited.elapsed() < std::time::Duration::from_secs(5)
                        {
                            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                        }
                        *answered_first_with.lock().unwrap() = Some(bodies.lock().unwrap().len());
                    }
                    if index < refusals {
                        let mut response = http::Response::new(ResponseBody::empty());
                        *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
                        response
                            .headers_mut()
                            .insert(http::header::RETRY_AFTER, "0".parse().unwrap());
                        return Ok(response);
                    }
                    let items: Vec<String> = uids
                        .iter()
                        .map(|uid| {
                            format!(
                                r#"{{"00081150":{{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.7"]}},"00081155":{{"vr":"UI","Value":["{uid}"]}}}}"#
                            )
                        })
                        .collect();
                    let reply = format!(
                        r#"{{"00081199":{{"vr":"SQ","Value":[{}]}}}}"#,
                        items.join(",")
                    );
                    let mut response = http::Response::new(ResponseBody::from_bytes(reply));
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        "application/dicom+json".parse().unwrap(),
                    );
                    Ok::<_, TransportError>(response)
                }
            }))
            .build()
            .unwrap()
    }

    fn uids(sops: &[&str]) -> Vec<Uid> {
        sops.iter().map(|sop| Uid::new(*sop).unwrap()).collect()
    }

    /// Stores `batch` at `destination` from `source`'s replies to `targets`, starting nothing
    /// after it.
    async fn relay(
        source: &Client,
        destination: &Client,
        targets: Vec<Target>,
        batch: Vec<Uid>,
    ) -> Result<Relayed, Error> {
        let current = InFlight::start(source, destination, targets, batch)?;
        current
            .finish(None::<fn() -> Result<InFlight, Error>>)
            .await
    }

    fn series() -> Vec<Target> {
        vec![Target::series(
            Uid::new(STUDY).unwrap(),
            Uid::new(SERIES).unwrap(),
        )]
    }

    #[tokio::test]
    async fn the_replys_parts_become_the_store_requests_parts_byte_for_byte() {
        let requests = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let relayed = relay(
            &source(&["1.2.3.4.1", "1.2.3.4.2"], requests.clone()),
            &destination(0, bodies.clone()),
            series(),
            uids(&["1.2.3.4.1", "1.2.3.4.2"]),
        )
        .await
        .unwrap();
        assert!(relayed.outcomes.iter().all(|(_, o)| o.is_stored()));
        let sent = bodies.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0], vec![part10("1.2.3.4.1"), part10("1.2.3.4.2")]);
        let length: usize = sent[0].iter().map(Bytes::len).sum();
        assert_eq!(relayed.bytes, length as u64);
        assert_eq!(requests.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_retried_store_retrieves_the_batch_again_and_resends_all_of_it() {
        let requests = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let relayed = relay(
            &source(&["1.2.3.4.1", "1.2.3.4.2"], requests.clone()),
            &destination(1, bodies.clone()),
            series(),
            uids(&["1.2.3.4.1", "1.2.3.4.2"]),
        )
        .await
        .unwrap();
        assert!(relayed.outcomes.iter().all(|(_, o)| o.is_stored()));
        let sent = bodies.lock().unwrap().clone();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0], sent[1]);
        assert_eq!(sent[1], vec![part10("1.2.3.4.1"), part10("1.2.3.4.2")]);
        assert_eq!(requests.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_instance_outside_the_batch_or_missing_from_the_source_is_an_error_naming_it() {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let extra = relay(
            &source(&["1.2.3.4.1", "1.2.3.4.9"], Arc::default()),
            &destination(0, bodies.clone()),
            series(),
            uids(&["1.2.3.4.1"]),
        )
        .await
        .err()
        .unwrap()
        .to_string();
        assert!(
            extra.contains("1.2.3.4.9") && extra.contains("not in the batch"),
            "{extra}"
        );

        let missing = relay(
            &source(&["1.2.3.4.1"], Arc::default()),
            &destination(0, bodies),
            series(),
            uids(&["1.2.3.4.1", "1.2.3.4.2"]),
        )
        .await
        .err()
        .unwrap()
        .to_string();
        assert!(missing.contains("no instance 1.2.3.4.2"), "{missing}");
    }

    #[tokio::test]
    async fn the_next_batch_is_sent_while_the_destination_stores_the_current_one() {
        let requests = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let answered_first_with = Arc::new(Mutex::new(None));
        let (source, destination) = (
            source(&["1.2.3.4.1"], requests.clone()),
            holding_destination(0, bodies.clone(), Some(answered_first_with.clone())),
        );
        let first = InFlight::start(&source, &destination, series(), uids(&["1.2.3.4.1"]));
        let next = || InFlight::start(&source, &destination, series(), uids(&["1.2.3.4.1"]));
        let first = first.unwrap().finish(Some(next)).await.unwrap();
        assert!(first.outcomes.iter().all(|(_, o)| o.is_stored()));
        assert_eq!(
            *answered_first_with.lock().unwrap(),
            Some(2),
            "the second batch's body arrived before the first batch's reply"
        );
        let second = first.next.expect("the next batch was started");
        assert_eq!(second.batch(), uids(&["1.2.3.4.1"]).as_slice());
        let second = second
            .finish(None::<fn() -> Result<InFlight, Error>>)
            .await
            .unwrap();
        assert!(second.outcomes.iter().all(|(_, o)| o.is_stored()));
        assert!(second.next.is_none());
        assert_eq!(requests.load(Ordering::SeqCst), 2);
        assert_eq!(bodies.lock().unwrap()[1], vec![part10("1.2.3.4.1")]);

        // A request dropped unfinished is aborted (here before its task ever ran).
        let abandoned = InFlight::start(&source, &destination, series(), uids(&["1.2.3.4.1"]));
        drop(abandoned.unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(bodies.lock().unwrap().len(), 2);
        assert_eq!(requests.load(Ordering::SeqCst), 2);
    }
}
