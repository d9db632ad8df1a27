//! The stand-in server itself, driven by a plain blocking client: started from a synchronous
//! test and from an async one (and dropped there), requests numbered and recorded in order,
//! bodies read in part, replies cut short, forms decoded.

#![cfg(feature = "standin")]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use test_support::standin::{Read, StandIn, cut_short, form, respond, serve};

/// Sends `request` on a new connection and returns everything the stand-in sent until it
/// closed the connection.
fn exchange(stand_in: &StandIn, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(stand_in.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    answer
}

#[test]
fn a_synchronous_test_scripts_replies_and_reads_the_record() {
    let stand_in = StandIn::start(|n, request| {
        let mut actions = respond(
            "200 OK",
            &[("connection", "close")],
            format!("{n} {} {}", request.method, request.target).as_bytes(),
        );
        actions.push(test_support::standin::Action::Close);
        actions
    });
    for n in 0..3 {
        let answer = exchange(
            &stand_in,
            format!("POST /p{n}?q=1 HTTP/1.1\r\nX-Test: {n}\r\ncontent-length: 5\r\n\r\nhello")
                .as_bytes(),
        );
        let text = String::from_utf8(answer).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.ends_with(&format!("{n} POST /p{n}?q=1")), "{text}");
    }
    let recorded = stand_in.recorded();
    assert_eq!(recorded.len(), 3);
    assert_eq!(stand_in.hits(), 3);
    assert_eq!(stand_in.connections(), 3);
    for (n, request) in recorded.iter().enumerate() {
        assert_eq!(request.index, n);
        assert_eq!(request.header("x-test"), Some(n.to_string().as_str()));
        assert_eq!(request.body, b"hello");
        assert!(!request.chunked);
    }
    assert_eq!(stand_in.last().target, "/p2?q=1");
}

#[test]
fn a_body_is_read_in_part_and_a_reply_cut_short() {
    let stand_in = StandIn::start_with(
        |_| Read::Partial(4),
        |_, _| cut_short("200 OK", &[], b"0123456789", 3),
    );
    let answer = exchange(
        &stand_in,
        b"PUT /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n8\r\nabcdefgh\r\n0\r\n\r\n",
    );
    assert_eq!(
        String::from_utf8(answer).unwrap(),
        "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n012"
    );
    // Of a chunked body, whole chunks until at least 4 bytes.
    let request = stand_in.last();
    assert!(request.chunked);
    assert_eq!(request.body, b"abcdefgh");
}

#[test]
fn forms_are_decoded() {
    let fields = form(b"grant_type=urn%3Aietf%3Aparams&scope=a+b&scope=second&bare");
    assert_eq!(fields["grant_type"], "urn:ietf:params");
    assert_eq!(fields["scope"], "a b");
    assert_eq!(fields.len(), 2);
}

#[tokio::test]
async fn an_async_test_starts_and_drops_one() {
    let stand_in = serve(|_, _| respond("204 No Content", &[], b"")).await;
    let addr = stand_in.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        head
    })
    .await
    .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 204");
    // Dropping it inside the async test neither blocks nor panics, and it stops listening.
    drop(stand_in);
    let mut still_listening = true;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if TcpStream::connect(addr).is_err() {
            still_listening = false;
            break;
        }
    }
    assert!(
        !still_listening,
        "the dropped stand-in still accepts connections"
    );
}
