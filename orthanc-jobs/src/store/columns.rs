//! How the SQL stores write times, durations and JSON in columns: microseconds since the
//! Unix epoch in 64-bit integers, JSON as text.

#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::error::Error;

/// A time as microseconds since the Unix epoch (times before it become 0).
pub(crate) fn micros(time: SystemTime) -> i64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

/// The time `micros` microseconds after the Unix epoch (negative values become the epoch).
pub(crate) fn time_of(micros: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(u64::try_from(micros).unwrap_or(0))
}

/// A duration in microseconds.
pub(crate) fn duration_micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(feature = "postgres")]
/// A stored count (negative values, which a store never writes, read as 0).
pub(crate) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[cfg(feature = "postgres")]
/// A count to store.
pub(crate) fn stored_count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Stored JSON text.
pub(crate) fn parse_json(text: &str, what: &'static str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|_| Error::Corrupt {
        what,
        expected: "JSON",
        found: text.chars().take(80).collect(),
    })
}
