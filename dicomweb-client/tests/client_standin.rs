//! The client against scripted stand-in servers on loopback: retries, timeouts, broken
//! bodies, replayed uploads, authentication.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dicomweb_client::{
    AccessToken, BodySource, Client, ClientBuilder, Error, ProgressTotals, RequestBody,
    RetryPolicy, ServerRegistry, TokenFuture, TokenProvider, TransportErrorKind,
};
use futures_util::{StreamExt, stream};
use test_support::standin::{Action, Read, reply, serve, serve_with};

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(10), Duration::from_millis(50))
}

fn client(url: String) -> ClientBuilder {
    Client::builder(url).retry(fast_retries())
}

fn get(client: &Client, path: &str) -> http::Request<RequestBody> {
    http::Request::get(format!("{}{path}", client.base_url()))
        .body(RequestBody::empty())
        .unwrap()
}

async fn read_body(
    response: http::Response<dicomweb_client::ResponseBody>,
) -> Result<Vec<u8>, dicomweb_client::TransportError> {
    let mut body = response.into_body();
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

#[tokio::test]
async fn retry_after_503_waits_then_succeeds() {
    let server = serve(|n, _| match n {
        0 => vec![Action::Write(reply(
            "503 Service Unavailable",
            &[("retry-after", "1")],
            b"busy",
        ))],
        _ => vec![Action::Write(reply(
            "200 OK",
            &[("content-type", "application/dicom+json")],
            b"[]",
        ))],
    })
    .await;
    let totals = Arc::new(ProgressTotals::new());
    let c = client(server.url())
        .progress(totals.clone())
        .build()
        .unwrap();
    let response = c.execute(get(&c, "/studies")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(read_body(response).await.unwrap(), b"[]");
    let seen = server.recorded();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        server.connections(),
        1,
        "the 503's body was drained and its connection reused"
    );
    assert_eq!(seen[1].target, "/dicom-web/studies");
    let waited = seen[1].at - seen[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "retried after {waited:?}, Retry-After said 1 s"
    );
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    let s = totals.snapshot();
    assert_eq!((s.retries, s.bytes_received), (1, 2));
}

#[tokio::test]
async fn retry_after_beyond_the_cap_returns_the_response() {
    let server = serve(|_, _| {
        vec![Action::Write(reply(
            "429 Too Many Requests",
            &[("retry-after", "3600")],
            b"",
        ))]
    })
    .await;
    let c = client(server.url()).build().unwrap();
    let response = c.execute(get(&c, "/studies")).await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(server.recorded().len(), 1);
}

#[tokio::test]
async fn retries_are_bounded_then_the_last_response_is_returned() {
    let server = serve(|_, _| vec![Action::Write(reply("502 Bad Gateway", &[], b""))]).await;
    let c = client(server.url()).max_retries(2).build().unwrap();
    let response = c.execute(get(&c, "/studies")).await.unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(server.recorded().len(), 3);
}

#[tokio::test]
async fn no_retry_on_404() {
    let server = serve(|_, _| vec![Action::Write(reply("404 Not Found", &[], b""))]).await;
    let c = client(server.url()).build().unwrap();
    assert_eq!(
        c.execute(get(&c, "/studies/1.2")).await.unwrap().status(),
        404
    );
    assert_eq!(server.recorded().len(), 1);
}

#[tokio::test]
async fn connection_dropped_mid_body_is_an_error() {
    let server = serve(|_, _| {
        let mut head = b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n".to_vec();
        head.extend_from_slice(&[7u8; 400]);
        vec![Action::Write(head), Action::Close]
    })
    .await;
    let c = client(server.url()).build().unwrap();
    let response = c
        .execute(get(&c, "/studies/1/series/2/instances/3"))
        .await
        .unwrap();
    let e = read_body(response).await.unwrap_err();
    assert_eq!(e.kind(), TransportErrorKind::Body, "{e}");
}

#[tokio::test]
async fn chunked_body_without_its_last_chunk_is_an_error() {
    let server = serve(|_, _| {
        vec![
            Action::Write(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n".to_vec(),
            ),
            Action::Close,
        ]
    })
    .await;
    let c = client(server.url()).build().unwrap();
    let response = c.execute(get(&c, "/studies")).await.unwrap();
    let e = read_body(response).await.unwrap_err();
    assert_eq!(e.kind(), TransportErrorKind::Body, "{e}");
}

#[tokio::test]
async fn idle_timeout_between_body_chunks() {
    let server = serve(|_, _| {
        vec![
            Action::Write(b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\n0123456789".to_vec()),
            Action::Sleep(Duration::from_secs(5)),
            Action::Write(b"0123456789".to_vec()),
        ]
    })
    .await;
    let c = client(server.url())
        .idle_timeout(Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let start = Instant::now();
    let response = c.execute(get(&c, "/studies")).await.unwrap();
    let e = read_body(response).await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("after 10 bytes"), "{e}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn idle_timeout_waiting_for_the_head() {
    let server = serve(|_, _| {
        vec![
            Action::Sleep(Duration::from_secs(5)),
            Action::Write(reply("200 OK", &[], b"")),
        ]
    })
    .await;
    let c = client(server.url())
        .idle_timeout(Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let start = Instant::now();
    let e = c.execute(get(&c, "/studies")).await.unwrap_err();
    assert!(e.transport().is_some_and(|t| t.is_timeout()), "{e}");
    assert!(start.elapsed() < Duration::from_secs(2));
    // A timeout is not retried: the server saw one request.
    assert_eq!(server.recorded().len(), 1);
}

#[tokio::test]
async fn total_timeout_fires_on_a_trickling_body() {
    let server = serve(|_, _| {
        let mut actions = vec![Action::Write(
            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n".to_vec(),
        )];
        for _ in 0..100 {
            actions.push(Action::Write(b"x".to_vec()));
            actions.push(Action::Sleep(Duration::from_millis(50)));
        }
        actions
    })
    .await;
    let c = client(server.url())
        .idle_timeout(Some(Duration::from_secs(1)))
        .total_timeout(Some(Duration::from_millis(400)))
        .build()
        .unwrap();
    let start = Instant::now();
    let response = c.execute(get(&c, "/studies")).await.unwrap();
    let e = read_body(response).await.unwrap_err();
    assert!(
        e.is_timeout() && e.to_string().contains("total timeout"),
        "{e}"
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(380) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}

/// 1 MiB of a recognisable pattern, in 64 KiB chunks, counting how often it is opened.
fn upload_source(opens: Arc<AtomicUsize>, with_length: bool) -> (BodySource, Vec<u8>) {
    let whole: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let chunks: Arc<Vec<Bytes>> = Arc::new(
        whole
            .chunks(64 * 1024)
            .map(Bytes::copy_from_slice)
            .collect(),
    );
    let source = BodySource::new(move || {
        opens.fetch_add(1, Ordering::SeqCst);
        stream::iter(chunks.as_ref().clone().into_iter().map(Ok))
    });
    let source = if with_length {
        source.with_length(whole.len() as u64)
    } else {
        source
    };
    (source, whole)
}

#[tokio::test]
async fn a_retried_upload_resends_the_whole_body_from_its_source() {
    let server = serve_with(
        // The first attempt is cut off after 100 KB; the second gets 503; the third succeeds.
        |n| {
            if n == 0 {
                Read::Partial(100_000)
            } else {
                Read::All
            }
        },
        |n, _| match n {
            0 => vec![Action::Close],
            1 => vec![Action::Write(reply(
                "503 Service Unavailable",
                &[("retry-after", "0")],
                b"",
            ))],
            _ => vec![Action::Write(reply("200 OK", &[], b"{}"))],
        },
    )
    .await;
    let opens = Arc::new(AtomicUsize::new(0));
    let (source, whole) = upload_source(opens.clone(), false);
    let c = client(server.url()).build().unwrap();
    let request = http::Request::post(format!("{}/studies", c.base_url()))
        .header(
            "content-type",
            "multipart/related; type=\"application/dicom\"; boundary=b",
        )
        .body(RequestBody::from(source))
        .unwrap();
    let response = c.execute(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let seen = server.recorded();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[0].body.len() < whole.len());
    let lengths: Vec<_> = seen.iter().map(|r| (r.body.len(), r.chunked)).collect();
    assert!(
        seen[1].body == whole && seen[2].body == whole,
        "a retry sent a partial body: {lengths:?}"
    );
    assert!(
        seen[2].chunked,
        "no length given: chunked transfer encoding"
    );
    assert_eq!(opens.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_upload_with_a_length_carries_content_length() {
    let server = serve(|_, _| vec![Action::Write(reply("200 OK", &[], b""))]).await;
    let (source, whole) = upload_source(Arc::new(AtomicUsize::new(0)), true);
    let totals = Arc::new(ProgressTotals::new());
    let c = client(server.url())
        .progress(totals.clone())
        .build()
        .unwrap();
    let request = http::Request::post(format!("{}/studies", c.base_url()))
        .body(RequestBody::from(source))
        .unwrap();
    c.execute(request).await.unwrap();
    let seen = server.recorded();
    assert!(!seen[0].chunked);
    assert_eq!(seen[0].header("content-length"), Some("1048576"));
    assert_eq!(seen[0].body, whole);
    assert_eq!(totals.snapshot().bytes_sent, whole.len() as u64);
}

#[tokio::test]
async fn a_one_shot_body_is_never_retried() {
    let server = serve(|_, _| {
        vec![Action::Write(reply(
            "503 Service Unavailable",
            &[("retry-after", "0")],
            b"",
        ))]
    })
    .await;
    let c = client(server.url()).build().unwrap();
    let body = RequestBody::one_shot(stream::iter([Ok(Bytes::from_static(b"once"))]));
    let request = http::Request::post(format!("{}/studies", c.base_url()))
        .body(body)
        .unwrap();
    assert_eq!(c.execute(request).await.unwrap().status(), 503);
    let seen = server.recorded();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body, b"once");
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/dicom-web", listener.local_addr().unwrap());
    drop(listener);
    let totals = Arc::new(ProgressTotals::new());
    let c = client(url)
        .max_retries(2)
        .progress(totals.clone())
        .build()
        .unwrap();
    let e = c.execute(get(&c, "/studies")).await.unwrap_err();
    assert_eq!(
        e.transport().map(|t| t.kind()),
        Some(TransportErrorKind::Connect),
        "{e}"
    );
    assert!(e.to_string().contains("(after 3 attempts)"), "{e}");
    assert!(e.to_string().starts_with("GET http://127.0.0.1:"), "{e}");
    assert_eq!(totals.snapshot().retries, 2);
}

struct Tokens {
    issued: AtomicUsize,
    invalidated: AtomicUsize,
}

impl TokenProvider for Tokens {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let n = self.invalidated.load(Ordering::SeqCst) + 1;
            self.issued.fetch_add(1, Ordering::SeqCst);
            Ok(AccessToken::new(format!("t{n}")))
        })
    }

    fn invalidate(&self, rejected: &AccessToken) {
        assert_eq!(rejected.secret(), "t1", "the refused token is named");
        self.invalidated.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_401_refreshes_the_token_and_retries_once() {
    let server = serve(|_, req| match req.header("authorization") {
        Some("Bearer t2") => vec![Action::Write(reply("200 OK", &[], b"[]"))],
        _ => vec![Action::Write(reply("401 Unauthorized", &[], b""))],
    })
    .await;
    let tokens = Arc::new(Tokens {
        issued: AtomicUsize::new(0),
        invalidated: AtomicUsize::new(0),
    });
    let c = client(server.url())
        .token_provider(tokens.clone())
        .build()
        .unwrap();
    assert_eq!(c.execute(get(&c, "/studies")).await.unwrap().status(), 200);
    let auth: Vec<_> = server
        .recorded()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(auth, ["Bearer t1", "Bearer t2"]);
    assert_eq!(tokens.invalidated.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_second_401_is_returned() {
    let server = serve(|_, _| vec![Action::Write(reply("401 Unauthorized", &[], b""))]).await;
    let tokens = Arc::new(Tokens {
        issued: AtomicUsize::new(0),
        invalidated: AtomicUsize::new(0),
    });
    let c = client(server.url())
        .token_provider(tokens.clone())
        .build()
        .unwrap();
    assert_eq!(c.execute(get(&c, "/studies")).await.unwrap().status(), 401);
    assert_eq!(server.recorded().len(), 2);
    assert_eq!(tokens.invalidated.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failing_token_provider_is_reported() {
    struct Broken;
    impl TokenProvider for Broken {
        fn token(&self) -> TokenFuture<'_> {
            Box::pin(async { Err("metadata server unreachable".into()) })
        }
        fn invalidate(&self, _: &AccessToken) {}
    }
    let c = client("http://127.0.0.1:9/dicom-web".to_owned())
        .token_provider(Arc::new(Broken))
        .build()
        .unwrap();
    let e = c.execute(get(&c, "/studies")).await.unwrap_err();
    assert!(matches!(e, Error::Token { .. }));
    assert_eq!(
        e.to_string(),
        "the token provider failed: metadata server unreachable"
    );
}

#[tokio::test]
async fn basic_auth_and_headers_from_an_orthanc_registry() {
    let server = serve(|_, _| vec![Action::Write(reply("200 OK", &[], b""))]).await;
    let config = format!(
        r#"{{ "DicomWeb" : {{ "Servers" : {{
            // array form
            "a" : [ "{url}", "alice", "s3cret" ],
            /* object form */
            "b" : {{ "Url" : "{url}/", "Username" : "bob", "Password" : "pw",
                     "HttpHeaders" : {{ "X-Site" : "north" }}, "Timeout" : 5 }}
        }} }} }}"#,
        url = server.url()
    );
    let registry = ServerRegistry::from_orthanc_config(&config).unwrap();
    for name in ["a", "b"] {
        let c = ClientBuilder::from_server(registry.server(name).unwrap())
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(c.base_url().to_string(), server.url());
        c.execute(get(&c, "/studies")).await.unwrap();
    }
    let seen = server.recorded();
    assert_eq!(
        seen[0].header("authorization"),
        Some("Basic YWxpY2U6czNjcmV0")
    );
    assert_eq!(seen[0].header("x-site"), None);
    assert_eq!(seen[1].header("authorization"), Some("Basic Ym9iOnB3"));
    assert_eq!(seen[1].header("x-site"), Some("north"));
}

#[tokio::test]
async fn request_headers_win_over_client_headers() {
    let server = serve(|_, _| vec![Action::Write(reply("200 OK", &[], b""))]).await;
    let c = client(server.url())
        .basic_auth("alice", "x")
        .header(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/dicom+json"),
        )
        .build()
        .unwrap();
    let request = http::Request::get(format!("{}/studies", c.base_url()))
        .header("accept", "application/dicom+xml")
        .header("authorization", "Bearer mine")
        .body(RequestBody::empty())
        .unwrap();
    c.execute(request).await.unwrap();
    let seen = &server.recorded()[0];
    assert_eq!(seen.header("accept"), Some("application/dicom+xml"));
    assert_eq!(seen.header("authorization"), Some("Bearer mine"));
}

#[tokio::test]
async fn connections_are_reused_even_across_retries() {
    let server = serve(|n, _| match n {
        1 => vec![Action::Write(reply(
            "503 Service Unavailable",
            &[("retry-after", "0")],
            b"try again",
        ))],
        _ => vec![Action::Write(reply("200 OK", &[], b"ok"))],
    })
    .await;
    let c = client(server.url()).build().unwrap();
    for _ in 0..5 {
        let response = c.execute(get(&c, "/studies")).await.unwrap();
        assert_eq!(read_body(response).await.unwrap(), b"ok");
    }
    assert_eq!(server.recorded().len(), 6);
    assert_eq!(server.connections(), 1);
}

/// A source that yields `chunks` chunks of 1 KiB, pausing `pause` before each.
fn slow_source(chunks: usize, pause: Duration) -> BodySource {
    BodySource::new(move || {
        stream::iter(0..chunks).then(move |_| async move {
            tokio::time::sleep(pause).await;
            Ok(Bytes::from(vec![b'x'; 1024]))
        })
    })
}

#[tokio::test]
async fn a_slow_but_moving_upload_is_not_idle() {
    let server = serve(|_, _| vec![Action::Write(reply("200 OK", &[], b""))]).await;
    let c = client(server.url())
        .idle_timeout(Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    // 10 chunks, 100 ms apart: 1 s in all, but never 300 ms without a byte.
    let request = http::Request::post(format!("{}/studies", c.base_url()))
        .body(RequestBody::from(slow_source(
            10,
            Duration::from_millis(100),
        )))
        .unwrap();
    assert_eq!(c.execute(request).await.unwrap().status(), 200);
    assert_eq!(server.recorded()[0].body.len(), 10 * 1024);
}

#[tokio::test]
async fn a_stalled_upload_hits_the_idle_timeout() {
    let server = serve(|_, _| vec![Action::Write(reply("200 OK", &[], b""))]).await;
    let c = client(server.url())
        .idle_timeout(Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let request = http::Request::post(format!("{}/studies", c.base_url()))
        .body(RequestBody::from(slow_source(2, Duration::from_secs(3))))
        .unwrap();
    let start = Instant::now();
    let e = c.execute(request).await.unwrap_err();
    assert!(e.transport().is_some_and(|t| t.is_timeout()), "{e}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn client_and_its_futures_can_cross_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let c = Client::builder("http://127.0.0.1:9/dicom-web")
        .build()
        .unwrap();
    send_sync(&c);
    let request = http::Request::get("http://127.0.0.1:9/dicom-web/studies")
        .body(RequestBody::empty())
        .unwrap();
    send(c.execute(request));
    send(c.search(&dicomweb_core::request::Search::studies()));
}

#[test]
fn a_bad_base_url_is_refused() {
    for bad in ["ftp://h/dicom-web", "/dicom-web", "http://u:p@h/dicom-web"] {
        let e = Client::builder(bad).build().unwrap_err();
        assert!(
            matches!(e, Error::Protocol(dicomweb_core::Error::InvalidUrl { .. })),
            "{bad}: {e}"
        );
    }
}

#[test]
fn header_text_is_checked() {
    let ok = Client::builder("http://127.0.0.1:9/dicom-web").try_header("X-Site", " north ");
    assert!(ok.is_ok());
    let e = Client::builder("http://127.0.0.1:9/dicom-web")
        .try_header("bad name", "v")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid client configuration: expected an HTTP header name, got \"bad name\""
    );
    assert!(
        Client::builder("http://127.0.0.1:9/dicom-web")
            .try_header("X", "a\r\nInjected: 1")
            .is_err()
    );
}

#[tokio::test]
async fn repeated_client_headers_are_all_sent() {
    let server = serve(|_, _| vec![Action::Write(reply("200 OK", &[], b""))]).await;
    let c = client(server.url())
        .try_header("X-Tag", "one")
        .unwrap()
        .try_header("X-Tag", "two")
        .unwrap()
        .build()
        .unwrap();
    c.execute(get(&c, "/studies")).await.unwrap();
    let seen = &server.recorded()[0];
    let values: Vec<_> = seen
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-tag"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(values, ["one", "two"]);
}

#[tokio::test]
async fn connect_timeout_fires_when_the_server_never_accepts() {
    // A listener with a backlog of one that never accepts: once its queue is full, the
    // kernel drops new SYNs and a connect hangs.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    let c = Client::builder(format!("http://{addr}/dicom-web"))
        .connect_timeout(Some(Duration::from_millis(300)))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let start = Instant::now();
    let e = c.execute(get(&c, "/studies")).await.unwrap_err();
    assert_eq!(
        e.transport().map(|t| t.kind()),
        Some(TransportErrorKind::Connect),
        "{e}"
    );
    assert!(
        e.to_string()
            .ends_with("connection failed: no connection within the connect timeout of 300ms"),
        "{e}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    drop((listener, fillers));
}

#[tokio::test]
async fn a_fixed_bearer_token_is_sent() {
    let server = serve(|_, _| vec![Action::Write(reply("200 OK", &[], b""))]).await;
    let c = client(server.url())
        .bearer_token("abc.def")
        .build()
        .unwrap();
    c.execute(get(&c, "/studies")).await.unwrap();
    assert_eq!(
        server.recorded()[0].header("authorization"),
        Some("Bearer abc.def")
    );
}
