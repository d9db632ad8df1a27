//! A stand-in HTTP server on loopback (axum on a runtime of its own), for what Orthanc will not
//! do on demand: record requests, answer 503, cut a body short, play the Healthcare API.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::HeaderMap;

/// A request as the stand-in received it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

type Handler = dyn Fn(&Seen, usize) -> Response + Send + Sync;

#[derive(Clone)]
struct Shared {
    handler: Arc<Handler>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A running stand-in; stops when dropped.
pub struct StandIn {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl StandIn {
    /// Serves `handler` (given each request and its index from 0; it may block) on a free
    /// loopback port.
    pub fn start(handler: impl Fn(&Seen, usize) -> Response + Send + Sync + 'static) -> StandIn {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            handler: Arc::new(handler),
            seen: seen.clone(),
        };
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(serve).with_state(shared);
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn {
            url,
            seen,
            runtime: Some(runtime),
        }
    }

    /// The requests so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn serve(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 256 << 20)
        .await
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default(),
        headers: parts.headers,
        body,
    };
    let index = {
        let mut all = shared.seen.lock().unwrap();
        all.push(seen.clone());
        all.len() - 1
    };
    let handler = shared.handler.clone();
    tokio::task::spawn_blocking(move || handler(&seen, index))
        .await
        .unwrap()
}

/// A response with a status, headers and a body.
pub fn reply(status: u16, headers: &[(&str, &str)], body: impl Into<Body>) -> Response {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body.into()).unwrap()
}

/// A multipart/related body of Part 10 instances, with its Content-Type.
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

/// A 200 whose body sends `prefix` and then fails: the connection ends mid-body.
pub fn cut_short(content_type: &str, prefix: Vec<u8>) -> Response {
    use futures_util::StreamExt;
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(prefix))]);
    // The error comes a moment later, once the prefix is on its way.
    let then = futures_util::stream::once(async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        Err(std::io::Error::other("the stand-in cuts the body short"))
    });
    reply(
        200,
        &[("content-type", content_type)],
        Body::from_stream(first.chain(then)),
    )
}
