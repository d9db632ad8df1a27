//! Time as the engine sees it: a [`Clock`] gives wall-clock timestamps and sleeps.
//!
//! The default [`TokioClock`] derives wall time from tokio's clock, so a test that pauses
//! tokio's time (`tokio::time::pause`, `#[tokio::test(start_paused = true)]`) drives both the
//! timestamps and every retry timer of the engine, without waiting for real.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// A future returned by [`Clock::sleep_until`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The engine's source of time.
pub trait Clock: Send + Sync + 'static {
    /// The current wall-clock time (for timestamps, retry deadlines and leases).
    fn now(&self) -> SystemTime;

    /// A future that completes at `deadline` (at once if it has passed).
    fn sleep_until(&self, deadline: SystemTime) -> Sleep;
}

/// Wall time anchored once to the system clock, then advanced by tokio's monotonic clock.
///
/// Under tokio's paused time, `now()` moves only when tokio's time moves.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    wall: SystemTime,
    monotonic: tokio::time::Instant,
}

impl TokioClock {
    /// A clock anchored at the current system time. Call it inside a tokio runtime if
    /// the runtime's time may be paused, so both clocks agree from the start.
    pub fn new() -> TokioClock {
        TokioClock {
            wall: SystemTime::now(),
            monotonic: tokio::time::Instant::now(),
        }
    }

    fn instant_of(&self, deadline: SystemTime) -> tokio::time::Instant {
        let offset = deadline.duration_since(self.wall).unwrap_or(Duration::ZERO);
        self.monotonic + offset
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> SystemTime {
        self.wall + self.monotonic.elapsed()
    }

    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        Box::pin(tokio::time::sleep_until(self.instant_of(deadline)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_paused_tokio_time() {
        let clock = TokioClock::new();
        let start = clock.now();
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(
            clock.now().duration_since(start).ok(),
            Some(Duration::from_secs(90))
        );
        let deadline = clock.now() + Duration::from_secs(10);
        clock.sleep_until(deadline).await;
        assert!(clock.now() >= deadline);
    }
}
