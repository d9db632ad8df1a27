//! The crate's one error type.

use crate::id::JobId;
use crate::state::{Action, JobState};

/// Everything that can go wrong in the job engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No job with this id (it never existed or left the bounded history).
    #[error("no job with id {id}")]
    NotFound {
        /// The id asked for.
        id: JobId,
    },
    /// The action is not allowed in the job's current state (Orthanc's table).
    #[error("cannot {action} a job that is {state}")]
    ActionNotAllowed {
        /// The action asked for.
        action: Action,
        /// The job's state when it was asked.
        state: JobState,
    },
    /// A stored job names a type that the engine's registry does not know.
    #[error("job type {type_name:?} is not registered (registered: {registered})")]
    UnknownJobType {
        /// The stored type name.
        type_name: String,
        /// The registered names, comma-separated.
        registered: String,
    },
    /// A job's state could not be serialized or restored.
    #[error("cannot {operation} the state of a {type_name:?} job: {source}")]
    JobState {
        /// `"serialize"` or `"restore"`.
        operation: &'static str,
        /// The job's type name.
        type_name: String,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },
    /// Text that should be a job id is not one.
    #[error(
        "expected a job id (a UUID such as 6f1c2b7e-0c1d-4c53-9d2e-3b4a5c6d7e8f), found {found:?}"
    )]
    InvalidId {
        /// The text found.
        found: String,
    },
    /// Another engine holds the job now (its lease expired and it was taken back).
    #[error("job {id} is no longer held by this engine (its lease expired and it was reclaimed)")]
    LeaseLost {
        /// The job.
        id: JobId,
    },
    /// A stored value does not have the expected form.
    #[error("stored {what} is corrupt: expected {expected}, found {found:?}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// What it should look like.
        expected: &'static str,
        /// What was found.
        found: String,
    },
    /// The engine is shut down.
    #[error("the job engine is shut down")]
    ShutDown,
    /// The SQLite store failed.
    #[cfg(feature = "sqlite")]
    #[error("SQLite job store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL store failed.
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL job store: {context}: {}", crate::store::describe_pg(.source))]
    Postgres {
        /// What was being done.
        context: &'static str,
        /// What the driver said.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The PostgreSQL store could not get a connection (the database is down or unreachable).
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL job store: no connection: {}", crate::store::describe_pool(.source))]
    PostgresPool {
        /// What the pool said.
        #[source]
        source: deadpool_postgres::PoolError,
    },
    /// A database URL cannot be used.
    #[cfg(feature = "postgres")]
    #[error("cannot use the job database {url}: expected {expected}, found {found}")]
    DatabaseUrl {
        /// The URL, password redacted.
        url: String,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        found: String,
    },
    /// Reading or writing a file (an output, the store) failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}
