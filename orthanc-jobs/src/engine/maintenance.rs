//! The maintenance task: retry timers, requests from other processes, heartbeats, and
//! taking back the jobs of engines that stopped sending heartbeats.

use std::sync::Arc;
use std::time::SystemTime;

use crate::engine::{Shared, lock};
use crate::id::JobId;
use crate::state::{Recovery, Request};

/// The maintenance loop, until the engine shuts down.
pub(crate) async fn run(shared: Arc<Shared>) {
    let heartbeat_every = shared.config.lease / 3;
    let mut next_heartbeat = shared.clock.now() + heartbeat_every;
    loop {
        let notified = shared.wake_maintenance.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let now = shared.clock.now();

        let next_retry = match shared.store.wake_retries(now).await {
            Ok(wakeup) => {
                if wakeup.woken > 0 {
                    shared.wake_workers();
                }
                wakeup.next_retry
            }
            Err(error) => {
                tracing::warn!(%error, "waking retried jobs failed");
                None
            }
        };

        if now >= next_heartbeat {
            next_heartbeat = now + heartbeat_every;
            let lease_until = now + shared.config.lease;
            let held: Vec<(JobId, u64)> = lock(&shared.running)
                .iter()
                .map(|(id, run)| (*id, run.generation))
                .collect();
            let beat = shared
                .store
                .heartbeat(&shared.owner, held, now, lease_until);
            match beat.await {
                Ok(requests) => fire_cancels(&shared, &requests),
                Err(error) => tracing::warn!(%error, "heartbeat failed"),
            }
            match shared.store.recover(Recovery::ExpiredLeases, now).await {
                Ok(0) => {}
                Ok(_) => shared.wake_workers(),
                Err(error) => tracing::warn!(%error, "taking back expired jobs failed"),
            }
        } else if !lock(&shared.running).is_empty() {
            match shared.store.requests(&shared.owner).await {
                Ok(requests) => fire_cancels(&shared, &requests),
                Err(error) => tracing::warn!(%error, "reading job requests failed"),
            }
        }

        let mut wake_at: SystemTime = now + shared.config.poll_interval;
        wake_at = wake_at.min(next_heartbeat);
        if let Some(retry) = next_retry {
            wake_at = wake_at.min(retry);
        }
        let sleep = shared.clock.sleep_until(wake_at);
        tokio::select! {
            () = sleep => {}
            () = &mut notified => {}
            () = shared.shutdown.cancelled() => return,
        }
    }
}

/// A cancel asked for by another process reaches the running step through its token.
fn fire_cancels(shared: &Shared, requests: &[(JobId, Request)]) {
    let running = lock(&shared.running);
    for (id, request) in requests {
        if *request == Request::Cancel
            && let Some(run) = running.get(id)
        {
            run.token.cancel();
        }
    }
}
