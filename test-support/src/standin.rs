//! A stand-in HTTP/1.1 server on loopback whose every byte and pause is scripted by the test
//! (feature `standin`): for what a real server will not do on demand — 503 with `Retry-After`,
//! a connection dropped before or during a reply, a request body read only in part, a reply
//! cut short, a slow answer, a token endpoint that checks what it is sent.
//!
//! The one stand-in of the workspace: the client's, the program's, the examples' and
//! gcp-credentials' tests all use it. It runs on a tokio runtime of its own, so a synchronous
//! test (one that runs the `dicomweb` program) and an async test start it the same way, and
//! its handler may block (forward a request to a real Orthanc, say). It stops when dropped.
//!
//! Requests are recorded as received (method, target, headers, de-chunked body), numbered from
//! 0 across connections. Each request is answered by the list of [`Action`]s the test's
//! handler returns; connections are kept alive between requests unless an action closes them.

// Test support: a failed unwrap here is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the stand-in received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Its number, from 0, in order of arrival across connections.
    pub index: usize,
    /// The request method.
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// The header fields, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body as read (de-chunked; cut where [`Read::Partial`] said).
    pub body: Vec<u8>,
    /// Whether the body came with chunked transfer encoding.
    pub chunked: bool,
    /// When the request head arrived.
    pub at: Instant,
}

impl Recorded {
    /// The first value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body read as an `application/x-www-form-urlencoded` form (see [`form`]).
    pub fn form(&self) -> HashMap<String, String> {
        form(&self.body)
    }
}

/// An `application/x-www-form-urlencoded` body's fields: each field's first value, names and
/// values percent-decoded (`+` is a space).
pub fn form(body: &[u8]) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    let text = String::from_utf8_lossy(body).replace('+', " ");
    for (name, value) in text.split('&').filter_map(|pair| pair.split_once('=')) {
        fields
            .entry(percent_decode(name))
            .or_insert_with(|| percent_decode(value));
    }
    fields
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// What the stand-in does in reply.
#[derive(Clone, Debug)]
pub enum Action {
    /// Writes these bytes (see [`reply`]).
    Write(Vec<u8>),
    /// Waits.
    Sleep(Duration),
    /// Closes the connection (after a partial reply, or instead of one).
    Close,
}

/// How much of the request body to read before acting.
#[derive(Clone, Copy, Debug)]
pub enum Read {
    /// Read the whole body.
    All,
    /// Read this many body bytes (of a chunked body, whole chunks until at least this many),
    /// then act, then close the connection (the rest is never read).
    Partial(usize),
}

/// A whole HTTP/1.1 response with `Content-Length`: `status` is e.g. `"200 OK"`.
pub fn reply(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = head(status, headers, body.len());
    out.extend_from_slice(body);
    out
}

/// The actions that send one whole response: [`reply`] written at once.
pub fn respond(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<Action> {
    vec![Action::Write(reply(status, headers, body))]
}

/// A response that declares all of `body` but sends only its first `sent` bytes, waits a
/// moment (so they are on their way) and closes the connection: a reply cut short.
pub fn cut_short(status: &str, headers: &[(&str, &str)], body: &[u8], sent: usize) -> Vec<Action> {
    let mut out = head(status, headers, body.len());
    out.extend_from_slice(&body[..sent.min(body.len())]);
    vec![
        Action::Write(out),
        Action::Sleep(Duration::from_millis(300)),
        Action::Close,
    ]
}

fn head(status: &str, headers: &[(&str, &str)], length: usize) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("content-length: {length}\r\n\r\n").as_bytes());
    out
}

/// A `multipart/related; type="application/dicom"` body of Part 10 instances, with its
/// Content-Type: what a WADO-RS server answers.
pub fn multipart(parts: &[&[u8]]) -> (String, Vec<u8>) {
    let boundary = "stand-in-boundary-1234";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(part);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type =
        format!("multipart/related; type=\"application/dicom\"; boundary={boundary}");
    (content_type, body)
}

/// A running stand-in; it serves until dropped.
pub struct StandIn {
    /// Where it listens.
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    connections: Arc<AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl StandIn {
    /// Starts a stand-in that reads every body whole; `handler` scripts the reply to request
    /// number n (from 0, across connections). The handler may block.
    pub fn start(
        handler: impl Fn(usize, &Recorded) -> Vec<Action> + Send + Sync + 'static,
    ) -> StandIn {
        StandIn::start_with(|_| Read::All, handler)
    }

    /// Starts a stand-in; `read` says how much of request number n's body to read, `handler`
    /// scripts the reply to request number n (from 0, across connections). The handler may
    /// block.
    pub fn start_with(
        read: impl Fn(usize) -> Read + Send + Sync + 'static,
        handler: impl Fn(usize, &Recorded) -> Vec<Action> + Send + Sync + 'static,
    ) -> StandIn {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("stand-in")
            .enable_all()
            .build()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let server = Server {
            handler: Arc::new(handler),
            read: Arc::new(read),
            recorded: requests.clone(),
            next: Arc::new(AtomicUsize::new(0)),
        };
        let accepted = connections.clone();
        runtime.spawn(async move {
            let listener = TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(server.clone().connection(stream));
            }
        });
        StandIn {
            addr,
            requests,
            connections,
            runtime: Some(runtime),
        }
    }

    /// `http://{addr}`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://{addr}{path}`.
    pub fn url_for(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://{addr}/dicom-web`: a DICOMweb base URL.
    pub fn url(&self) -> String {
        self.url_for("/dicom-web")
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// A copy of every request received so far, in order of arrival.
    pub fn recorded(&self) -> Vec<Recorded> {
        let mut all = self.requests.lock().unwrap().clone();
        all.sort_by_key(|r| r.index);
        all
    }

    /// How many requests were received so far.
    pub fn hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// The request received last; panics when there was none.
    pub fn last(&self) -> Recorded {
        self.recorded()
            .pop()
            .expect("the stand-in received no request")
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Never blocks, so a stand-in may be dropped inside an async test.
            runtime.shutdown_background();
        }
    }
}

/// Starts [`StandIn::start`] from an async test.
pub async fn serve(
    handler: impl Fn(usize, &Recorded) -> Vec<Action> + Send + Sync + 'static,
) -> StandIn {
    StandIn::start(handler)
}

/// Starts [`StandIn::start_with`] from an async test.
pub async fn serve_with(
    read: impl Fn(usize) -> Read + Send + Sync + 'static,
    handler: impl Fn(usize, &Recorded) -> Vec<Action> + Send + Sync + 'static,
) -> StandIn {
    StandIn::start_with(read, handler)
}

type Handler = dyn Fn(usize, &Recorded) -> Vec<Action> + Send + Sync;
type ReadPolicy = dyn Fn(usize) -> Read + Send + Sync;

/// What every connection of one stand-in shares.
#[derive(Clone)]
struct Server {
    handler: Arc<Handler>,
    read: Arc<ReadPolicy>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    next: Arc<AtomicUsize>,
}

impl Server {
    async fn connection(self, mut stream: TcpStream) {
        let mut buf = Vec::new();
        loop {
            let Some(head_end) = fill_until(&mut stream, &mut buf, b"\r\n\r\n").await else {
                return;
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            buf.drain(..head_end + 4);
            let mut lines = head.split("\r\n");
            let mut first = lines.next().unwrap_or("").split(' ');
            let method = first.next().unwrap_or("").to_owned();
            let target = first.next().unwrap_or("").to_owned();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .collect();
            let index = self.next.fetch_add(1, Ordering::SeqCst);
            let mut req = Recorded {
                index,
                method,
                target,
                headers,
                body: Vec::new(),
                chunked: false,
                at: Instant::now(),
            };
            let read = (self.read)(index);
            let limit = match read {
                Read::All => usize::MAX,
                Read::Partial(n) => n,
            };
            let complete = if let Some(len) = req.header("content-length") {
                let len: usize = len.parse().unwrap();
                read_exact_into(&mut stream, &mut buf, len.min(limit), &mut req.body).await
            } else if req
                .header("transfer-encoding")
                .is_some_and(|v| v.contains("chunked"))
            {
                req.chunked = true;
                read_chunked(&mut stream, &mut buf, limit, &mut req.body).await
            } else {
                true
            };
            self.recorded.lock().unwrap().push(req.clone());
            let handler = self.handler.clone();
            // The handler may block: it runs where blocking is allowed.
            let Ok(actions) = tokio::task::spawn_blocking(move || handler(index, &req)).await
            else {
                return;
            };
            for action in actions {
                match action {
                    Action::Write(bytes) => {
                        if stream.write_all(&bytes).await.is_err() {
                            return;
                        }
                        let _ = stream.flush().await;
                    }
                    Action::Sleep(d) => tokio::time::sleep(d).await,
                    Action::Close => return,
                }
            }
            if !complete || matches!(read, Read::Partial(_)) {
                return;
            }
        }
    }
}

async fn fill_until(stream: &mut TcpStream, buf: &mut Vec<u8>, pat: &[u8]) -> Option<usize> {
    loop {
        if let Some(p) = buf.windows(pat.len()).position(|w| w == pat) {
            return Some(p);
        }
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn read_exact_into(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    len: usize,
    out: &mut Vec<u8>,
) -> bool {
    while buf.len() < len {
        let mut chunk = [0u8; 65536];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                out.append(buf);
                return false;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    out.extend(buf.drain(..len));
    true
}

async fn read_chunked(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    limit: usize,
    out: &mut Vec<u8>,
) -> bool {
    loop {
        let Some(end) = fill_until(stream, buf, b"\r\n").await else {
            return false;
        };
        let size_line = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end + 2);
        let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            let _ = fill_until(stream, buf, b"\r\n").await;
            buf.drain(..2.min(buf.len()));
            return true;
        }
        if !read_exact_into(stream, buf, size, out).await {
            return false;
        }
        if out.len() >= limit {
            return false;
        }
        if fill_until(stream, buf, b"\r\n").await.is_none() {
            return false;
        }
        buf.drain(..2);
    }
}
