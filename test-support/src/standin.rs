//! A stand-in HTTP/1.1 server on loopback whose every byte and pause is scripted by the test
//! (feature `standin`): for what a real server will not do on demand — 503 with `Retry-After`,
//! a connection dropped mid-body, a reply cut short, a slow answer.
//!
//! Requests are recorded as received (method, target, headers, de-chunked body). Each request
//! is answered by a list of [`Action`]s the test's handler returns.

// Test support: a failed unwrap here is a failed test.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the stand-in received it.
#[derive(Clone, Debug)]
pub struct Recorded {
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
    /// Read this many body bytes, then act (the rest is never read).
    Partial(usize),
}

/// A whole HTTP/1.1 response with `Content-Length`: `status` is e.g. `"200 OK"`.
pub fn reply(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// A running stand-in; it serves until the test's runtime ends.
pub struct StandIn {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every request received, in order.
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    connections: Arc<AtomicUsize>,
}

impl StandIn {
    /// `http://{addr}/dicom-web`.
    pub fn url(&self) -> String {
        format!("http://{}/dicom-web", self.addr)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// A copy of every request received so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

type Handler = dyn Fn(usize, &Recorded) -> Vec<Action> + Send + Sync;

/// Starts a stand-in; `read` says how much of request number n's body to read, `handler`
/// scripts the reply to request number n (from 0, across connections).
pub async fn serve_with(
    read: impl Fn(usize) -> Read + Send + Sync + 'static,
    handler: impl Fn(usize, &Recorded) -> Vec<Action> + Send + Sync + 'static,
) -> StandIn {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<Handler> = Arc::new(handler);
    let read: Arc<dyn Fn(usize) -> Read + Send + Sync> = Arc::new(read);
    let recorded = requests.clone();
    let connections = Arc::new(AtomicUsize::new(0));
    let accepted = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            accepted.fetch_add(1, Ordering::SeqCst);
            let (handler, read, recorded) = (handler.clone(), read.clone(), recorded.clone());
            tokio::spawn(connection(stream, handler, read, recorded));
        }
    });
    StandIn {
        addr,
        requests,
        connections,
    }
}

/// Starts a stand-in that reads every body whole; `handler` scripts the reply to request
/// number n.
pub async fn serve(
    handler: impl Fn(usize, &Recorded) -> Vec<Action> + Send + Sync + 'static,
) -> StandIn {
    serve_with(|_| Read::All, handler).await
}

async fn connection(
    mut stream: TcpStream,
    handler: Arc<Handler>,
    read: Arc<dyn Fn(usize) -> Read + Send + Sync>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
) {
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
        let mut req = Recorded {
            method,
            target,
            headers,
            body: Vec::new(),
            chunked: false,
            at: Instant::now(),
        };
        let index = {
            let r = recorded.lock().unwrap();
            r.len()
        };
        let limit = match read(index) {
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
        recorded.lock().unwrap().push(req.clone());
        let actions = handler(index, &req);
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
        if !complete || matches!(read(index), Read::Partial(_)) {
            return;
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
