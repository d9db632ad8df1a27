//! What a store knows about a job ([`JobRecord`]), and its Orthanc JSON form.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::id::{JobId, OwnerId};
use crate::state::{JobState, Request};

/// A job's error: Orthanc's `ErrorCode` and `ErrorDescription`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    /// The code (Orthanc's error codes where one fits).
    pub code: i32,
    /// What went wrong.
    pub description: String,
}

impl JobError {
    /// Orthanc's `ErrorCode_CanceledJob`.
    pub const CANCELED: i32 = 37;
    /// Orthanc's `ErrorCode_InternalError`.
    pub const INTERNAL: i32 = -1;

    /// The error of a canceled job (Orthanc's code and text).
    pub fn canceled() -> JobError {
        JobError {
            code: JobError::CANCELED,
            description: "This job was canceled".to_owned(),
        }
    }

    /// Whether this is the canceled error.
    pub fn is_canceled(&self) -> bool {
        self.code == JobError::CANCELED
    }
}

/// Everything a store holds about one job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// The job's id.
    pub id: JobId,
    /// Its type name.
    pub type_name: String,
    /// Its priority (higher runs first).
    pub priority: i32,
    /// Its state.
    pub state: JobState,
    /// Progress, 0 to 100.
    pub progress: u8,
    /// What to show about it (Orthanc's `Content`).
    pub content: Value,
    /// The job's saved state, as given to its registry's restore function.
    pub data: Value,
    /// Set when it failed (or was canceled).
    pub error: Option<JobError>,
    /// When it was submitted.
    pub creation_time: SystemTime,
    /// When it finished (Success or Failure).
    pub completion_time: Option<SystemTime>,
    /// When its state or saved step last changed.
    pub last_change: SystemTime,
    /// Time spent in its steps.
    pub effective_runtime: Duration,
    /// Steps finished and saved since it was submitted (or resubmitted).
    pub steps: u64,
    /// When a job in `Retry` becomes `Pending`.
    pub retry_at: Option<SystemTime>,
    /// A pause or cancel left for its worker.
    pub request: Option<Request>,
    /// The engine running it, if it is `Running`.
    pub owner: Option<OwnerId>,
    /// Until when the owner's lease holds.
    pub lease_until: Option<SystemTime>,
    /// How many times it was claimed: the fencing token of its current (or last) run.
    pub generation: u64,
    /// Submission order (assigned by the store, increasing).
    pub sequence: u64,
    /// The affinity name of the only engines that may run it, if any
    /// ([`crate::store::NewJob::affinity`]).
    pub affinity: Option<String>,
}

impl JobRecord {
    /// The job in Orthanc's JSON form (`GET /jobs/{id}`), as of `now` (Orthanc's `Timestamp`
    /// is the time the description was made).
    pub fn to_orthanc_json(&self, now: SystemTime) -> Value {
        let (code, description) = match &self.error {
            Some(error) => (error.code, error.description.as_str()),
            None => (0, "Success"),
        };
        let mut object = Map::new();
        object.insert("ID".into(), json!(self.id.to_string()));
        object.insert("Type".into(), json!(self.type_name));
        object.insert("State".into(), json!(self.state.as_str()));
        object.insert("Progress".into(), json!(self.progress));
        object.insert("Priority".into(), json!(self.priority));
        object.insert(
            "CreationTime".into(),
            json!(orthanc_time(self.creation_time)),
        );
        if let Some(completion) = self.completion_time {
            object.insert("CompletionTime".into(), json!(orthanc_time(completion)));
        }
        let runtime = (self.effective_runtime.as_secs_f64() * 1000.0).round() / 1000.0;
        object.insert("EffectiveRuntime".into(), json!(runtime));
        object.insert("ErrorCode".into(), json!(code));
        object.insert("ErrorDescription".into(), json!(description));
        object.insert("ErrorDetails".into(), json!(""));
        object.insert("Content".into(), self.content.clone());
        if let Some(affinity) = &self.affinity {
            // Not one of Orthanc's fields: only jobs pinned to one engine name show it.
            object.insert("Affinity".into(), json!(affinity));
        }
        object.insert("Timestamp".into(), json!(orthanc_time(now)));
        Value::Object(object)
    }
}

/// A time in Orthanc's form: UTC, ISO 8601 basic with microseconds (`20261122T084118.385048`).
pub fn orthanc_time(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let seconds = since_epoch.as_secs();
    let days = seconds / 86_400;
    let of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}.{:06}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since_epoch.subsec_micros()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_time_like_orthanc() {
        assert_eq!(orthanc_time(UNIX_EPOCH), "19700101T000000.000000");
        // 2026-11-22T08:41:18.385048Z
        let t = UNIX_EPOCH + Duration::new(1_795_336_878, 385_048_000);
        assert_eq!(orthanc_time(t), "20261122T084118.385048");
        // 2000-02-29T23:59:59Z (leap day)
        let t = UNIX_EPOCH + Duration::from_secs(951_868_799);
        assert_eq!(orthanc_time(t), "20000229T235959.000000");
    }
}
