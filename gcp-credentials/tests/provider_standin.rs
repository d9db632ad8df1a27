//! The async driver against stand-in token endpoints on loopback: one refresh in flight for
//! a thousand callers, timeouts, an endpoint that is down, failure and recovery.
#![allow(clippy::unwrap_used)] // helpers in test files, outside #[test] functions
#![cfg(feature = "reqwest")]

mod common;

use common::{Reply, key_file, serve};
use gcp_credentials::{Credentials, Error, RefreshPolicy, TokenProvider, TokenProviderOptions};
use std::time::{Duration, Instant};

fn provider(token_uri: String, options: TokenProviderOptions) -> TokenProvider {
    TokenProvider::with_reqwest(
        Credentials::from_file(key_file()).unwrap(),
        options.with_token_uri(token_uri),
    )
    .unwrap()
}

async fn thousand_callers(provider: &TokenProvider) -> Vec<String> {
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let provider = provider.clone();
            tokio::spawn(async move { provider.access_token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().unwrap().secret().to_owned());
    }
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_callers_without_a_token_cause_one_request() {
    let server = serve(|_, n| async move {
        Reply::token(&format!("t{n}"), 3600).delayed(Duration::from_millis(200))
    })
    .await;
    let provider = provider(server.url_for("/token"), TokenProviderOptions::default());
    let tokens = thousand_callers(&provider).await;
    assert!(tokens.iter().all(|t| t == "t0"));
    assert_eq!(server.hits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_callers_while_a_refresh_is_due_cause_one_request() {
    // Tokens live 4 s: refresh ahead in the last 2 s, wait in the last 1 s. The refresh
    // itself takes 600 ms, so callers that waited for it would see "t1".
    let server = serve(|_, n| async move {
        Reply::token(&format!("t{n}"), 4).delayed(Duration::from_millis(if n == 0 {
            0
        } else {
            600
        }))
    })
    .await;
    let provider = provider(server.url_for("/token"), TokenProviderOptions::default());
    assert_eq!(provider.access_token().await.unwrap().secret(), "t0");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // Refresh due, 1.9 s left: everyone gets the cached token at once, one refresh runs.
    let tokens = thousand_callers(&provider).await;
    assert!(tokens.iter().all(|t| t == "t0"));
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(server.hits(), 2);
    assert_eq!(provider.access_token().await.unwrap().secret(), "t1");
    assert_eq!(server.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_callers_in_the_last_moments_wait_for_one_request() {
    let server = serve(|_, n| async move {
        Reply::token(&format!("t{n}"), 2).delayed(Duration::from_millis(if n == 0 {
            0
        } else {
            100
        }))
    })
    .await;
    let provider = provider(server.url_for("/token"), TokenProviderOptions::default());
    assert_eq!(provider.access_token().await.unwrap().secret(), "t0");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let tokens = thousand_callers(&provider).await;
    assert!(tokens.iter().all(|t| t == "t1"));
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_slow_endpoint_times_out() {
    let server =
        serve(|_, _| async { Reply::token("late", 3600).delayed(Duration::from_secs(5)) }).await;
    let provider = provider(
        server.url_for("/token"),
        TokenProviderOptions::default().with_request_timeout(Duration::from_millis(200)),
    );
    let started = Instant::now();
    let err = provider.access_token().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(200)),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "token request to {} timed out after 200ms",
            server.url_for("/token")
        )
    );
    common::assert_no_secret(&err);
}

#[tokio::test]
async fn an_endpoint_that_is_down_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    drop(listener);
    let provider = provider(url.clone(), TokenProviderOptions::default());
    let err = provider.access_token().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("token request to {url} failed")),
        "{err}"
    );
    common::assert_no_secret(&err);
}

#[tokio::test]
async fn failures_back_off_and_recover() {
    let server = serve(|_, n| async move {
        if n < 2 {
            Reply::oauth_error(503, "temporarily_unavailable", "try later")
        } else {
            Reply::token("ok", 3600)
        }
    })
    .await;
    let options = TokenProviderOptions {
        policy: RefreshPolicy {
            initial_backoff: Duration::from_millis(200),
            ..RefreshPolicy::default()
        },
        ..TokenProviderOptions::default()
    };
    let provider = provider(server.url_for("/token"), options);
    let first = provider.access_token().await.unwrap_err();
    assert!(
        matches!(&first, Error::OAuth { status: 503, error, .. } if error == "temporarily_unavailable")
    );
    // Within the backoff: the same error at once, no new request.
    let second = provider.access_token().await.unwrap_err();
    assert_eq!(second.to_string(), first.to_string());
    assert_eq!(server.hits(), 1);
    // After it: tried again (fails again), then again later, and succeeds.
    tokio::time::sleep(Duration::from_millis(210)).await;
    assert!(provider.access_token().await.is_err());
    assert_eq!(server.hits(), 2);
    tokio::time::sleep(Duration::from_millis(410)).await;
    assert_eq!(provider.access_token().await.unwrap().secret(), "ok");
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn garbage_replies_are_clear_errors() {
    let server = serve(|_, _| async { Reply::json(200, "<html>captive portal</html>") }).await;
    let provider = provider(server.url_for("/token"), TokenProviderOptions::default());
    let err = provider.access_token().await.unwrap_err().to_string();
    assert!(
        err.contains("HTTP 200") && err.contains("not JSON"),
        "{err}"
    );
}

#[tokio::test]
async fn static_tokens_need_no_endpoint() {
    let provider = TokenProvider::with_reqwest(
        Credentials::Static(gcp_credentials::AccessToken::new("fixed")),
        TokenProviderOptions::default(),
    )
    .unwrap();
    assert_eq!(provider.access_token().await.unwrap().secret(), "fixed");
    assert!(format!("{provider:?}").contains("static"));
    assert!(!format!("{provider:?}").contains("fixed"));
}

#[tokio::test]
async fn tokens_expired_on_arrival_are_an_error_not_a_loop() {
    let server = serve(|_, _| async { Reply::token("instant", 0) }).await;
    let provider = provider(server.url_for("/token"), TokenProviderOptions::default());
    let err = provider.access_token().await.unwrap_err().to_string();
    assert!(err.contains("already expired on arrival"), "{err}");
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn huge_replies_are_refused() {
    let server = serve(|_, _| async { Reply::json(200, "x".repeat(2 << 20)) }).await;
    let provider = provider(server.url_for("/token"), TokenProviderOptions::default());
    let err = provider.access_token().await.unwrap_err().to_string();
    assert!(err.contains("at most 1048576 bytes"), "{err}");
}

#[tokio::test]
async fn invalidation_after_a_401_fetches_a_new_token_once() {
    let server = serve(|_, n| async move { Reply::token(&format!("t{n}"), 3600) }).await;
    let provider = provider(server.url_for("/token"), TokenProviderOptions::default());
    let refused = provider.access_token().await.unwrap();
    assert_eq!(refused.secret(), "t0");
    provider.invalidate_token(&refused);
    assert_eq!(provider.access_token().await.unwrap().secret(), "t1");
    // A late 401 for the old token does not throw the new one away.
    provider.invalidate_token(&refused);
    assert_eq!(provider.access_token().await.unwrap().secret(), "t1");
    provider.invalidate();
    assert_eq!(provider.access_token().await.unwrap().secret(), "t2");
    assert_eq!(server.hits(), 3);
}
