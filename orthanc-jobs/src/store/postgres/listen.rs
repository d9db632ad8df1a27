//! The listener: one connection of its own that `LISTEN`s on the store's channel and calls
//! the engines' wake hooks on every notification, reconnecting (with backoff) when the
//! database goes away. After a reconnect it sends [`Notice::Resync`]: notices sent while it
//! was away are lost, so engines look at everything once.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio_postgres::{AsyncMessage, Client, NoTls};

use crate::store::postgres::connect::Tls;
use crate::store::postgres::ops::CHANNEL;
use crate::store::{Notice, WakeHook};

/// The hooks to call, shared between the store and its listener task.
pub(crate) type Hooks = Arc<Mutex<Vec<WakeHook>>>;

type Messages = Pin<Box<dyn Stream<Item = Result<AsyncMessage, tokio_postgres::Error>> + Send>>;

/// The wait before reconnecting after `failures` failed attempts in a row: 50 ms doubling,
/// at most 2 s.
pub(crate) fn reconnect_delay(failures: u32) -> Duration {
    let doubled = 50u64.saturating_mul(1 << failures.min(6));
    Duration::from_millis(doubled.min(2000))
}

/// What a notification's payload means.
pub(crate) fn notice_of(payload: &str) -> Notice {
    match payload {
        "submitted" => Notice::Submitted,
        _ => Notice::Action,
    }
}

fn fire(hooks: &Hooks, notice: Notice) {
    let hooks: Vec<WakeHook> = hooks
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    for hook in hooks {
        hook(notice);
    }
}

async fn open(
    config: &tokio_postgres::Config,
    tls: &Tls,
) -> Result<(Client, Messages), tokio_postgres::Error> {
    match tls {
        Tls::Off => {
            let (client, mut connection) = config.connect(NoTls).await?;
            let messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            Ok((client, Box::pin(messages)))
        }
        Tls::Rustls(make) => {
            let (client, mut connection) = config.connect(make.clone()).await?;
            let messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            Ok((client, Box::pin(messages)))
        }
    }
}

/// The listener task: runs until aborted (the store dropped).
pub(crate) async fn run(config: tokio_postgres::Config, tls: Tls, hooks: Hooks, url: String) {
    let mut failures = 0u32;
    let mut connected_before = false;
    loop {
        match open(&config, &tls).await {
            Ok((client, mut messages)) => {
                let statement = format!("LISTEN {CHANNEL}");
                let listen = client.batch_execute(&statement);
                tokio::pin!(listen);
                let mut listening = false;
                loop {
                    tokio::select! {
                        result = &mut listen, if !listening => match result {
                            Ok(()) => {
                                listening = true;
                                failures = 0;
                                if connected_before {
                                    fire(&hooks, Notice::Resync);
                                }
                                connected_before = true;
                            }
                            Err(error) => {
                                tracing::warn!(%error, url, "LISTEN failed");
                                break;
                            }
                        },
                        message = messages.next() => match message {
                            Some(Ok(AsyncMessage::Notification(notification))) => {
                                fire(&hooks, notice_of(notification.payload()));
                            }
                            Some(Ok(_)) => {}
                            Some(Err(error)) => {
                                tracing::warn!(%error, url, "job notifications connection lost");
                                break;
                            }
                            None => break,
                        },
                    }
                }
            }
            Err(error) => {
                tracing::debug!(%error, url, "connecting for job notifications failed");
            }
        }
        failures = failures.saturating_add(1);
        tokio::time::sleep(reconnect_delay(failures)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnects_back_off_to_two_seconds() {
        assert_eq!(reconnect_delay(0), Duration::from_millis(50));
        assert_eq!(reconnect_delay(1), Duration::from_millis(100));
        assert_eq!(reconnect_delay(5), Duration::from_millis(1600));
        assert_eq!(reconnect_delay(6), Duration::from_secs(2));
        assert_eq!(reconnect_delay(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn payloads() {
        assert_eq!(notice_of("submitted"), Notice::Submitted);
        assert_eq!(notice_of("action"), Notice::Action);
        assert_eq!(notice_of("anything else"), Notice::Action);
    }
}
