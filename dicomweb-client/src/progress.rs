//! Progress events for callers: bytes and instances moved, retries.
//!
//! Events carry deltas, so one observer can add up several concurrent requests.
//! [`ProgressTotals`] is a ready-made observer that keeps running totals.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Something that moved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// Request body bytes handed to the transport.
    BytesSent {
        /// How many, since the previous event.
        bytes: u64,
    },
    /// Response body bytes received.
    BytesReceived {
        /// How many, since the previous event.
        bytes: u64,
    },
    /// Instances sent (STOW-RS) and acknowledged.
    InstancesSent {
        /// How many, since the previous event.
        count: u64,
    },
    /// Instances received (WADO-RS) completely.
    InstancesReceived {
        /// How many, since the previous event.
        count: u64,
    },
    /// A request is about to be sent again; bytes it sent before count again.
    Retrying {
        /// The retry number, from 1.
        retry: u32,
        /// The wait before it.
        delay: Duration,
        /// Why: a status code or the transport error.
        reason: String,
    },
}

/// Receives [`ProgressEvent`]s. Called inline on the transfer's task: keep it quick.
pub trait ProgressObserver: Send + Sync {
    /// Called for every event.
    fn on_progress(&self, event: &ProgressEvent);
}

impl<F: Fn(&ProgressEvent) + Send + Sync> ProgressObserver for F {
    fn on_progress(&self, event: &ProgressEvent) {
        self(event)
    }
}

/// Running totals of every event, readable from any thread.
#[derive(Debug, Default)]
pub struct ProgressTotals {
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    instances_sent: AtomicU64,
    instances_received: AtomicU64,
    retries: AtomicU64,
}

/// A copy of [`ProgressTotals`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgressSnapshot {
    /// Request body bytes sent (retries included).
    pub bytes_sent: u64,
    /// Response body bytes received.
    pub bytes_received: u64,
    /// Instances sent.
    pub instances_sent: u64,
    /// Instances received.
    pub instances_received: u64,
    /// Retries.
    pub retries: u64,
}

impl ProgressTotals {
    /// All zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The totals now.
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
            instances_sent: self.instances_sent.load(Ordering::Relaxed),
            instances_received: self.instances_received.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

impl ProgressObserver for ProgressTotals {
    fn on_progress(&self, event: &ProgressEvent) {
        let (counter, n) = match event {
            ProgressEvent::BytesSent { bytes } => (&self.bytes_sent, *bytes),
            ProgressEvent::BytesReceived { bytes } => (&self.bytes_received, *bytes),
            ProgressEvent::InstancesSent { count } => (&self.instances_sent, *count),
            ProgressEvent::InstancesReceived { count } => (&self.instances_received, *count),
            ProgressEvent::Retrying { .. } => (&self.retries, 1),
        };
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up() {
        let t = ProgressTotals::new();
        t.on_progress(&ProgressEvent::BytesReceived { bytes: 10 });
        t.on_progress(&ProgressEvent::BytesReceived { bytes: 5 });
        t.on_progress(&ProgressEvent::InstancesSent { count: 2 });
        let s = t.snapshot();
        assert_eq!(
            (s.bytes_received, s.instances_sent, s.bytes_sent),
            (15, 2, 0)
        );
    }
}
