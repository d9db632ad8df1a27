//! The [`JobRegistry`]: restores stored jobs by their type name.

use std::collections::HashMap;
use std::fmt;

use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::job::Job;

type RestoreFn =
    Box<dyn Fn(serde_json::Value) -> Result<Box<dyn Job>, serde_json::Error> + Send + Sync>;

/// Maps job type names to the functions that restore a job from its saved state.
///
/// An engine can run a stored job only if its type is registered; a job of an unknown type
/// ends as `Failure` with an error saying which types are known.
#[derive(Default)]
pub struct JobRegistry {
    restore: HashMap<String, RestoreFn>,
}

impl JobRegistry {
    /// An empty registry.
    pub fn new() -> JobRegistry {
        JobRegistry::default()
    }

    /// Register a restore function for `type_name` (replacing any earlier one).
    pub fn register<F>(&mut self, type_name: impl Into<String>, restore: F) -> &mut Self
    where
        F: Fn(serde_json::Value) -> Result<Box<dyn Job>, serde_json::Error> + Send + Sync + 'static,
    {
        self.restore.insert(type_name.into(), Box::new(restore));
        self
    }

    /// Register a job type whose saved state is its serde form: `J::save` should then be
    /// `serde_json::to_value(self)`.
    pub fn register_serde<J>(&mut self, type_name: impl Into<String>) -> &mut Self
    where
        J: Job + DeserializeOwned,
    {
        self.register(type_name, |value| {
            serde_json::from_value::<J>(value).map(|job| Box::new(job) as Box<dyn Job>)
        })
    }

    /// Whether `type_name` is registered.
    pub fn contains(&self, type_name: &str) -> bool {
        self.restore.contains_key(type_name)
    }

    /// Restore a job of `type_name` from its saved state.
    pub fn restore(
        &self,
        type_name: &str,
        state: serde_json::Value,
    ) -> Result<Box<dyn Job>, Error> {
        let restore = self
            .restore
            .get(type_name)
            .ok_or_else(|| Error::UnknownJobType {
                type_name: type_name.to_owned(),
                registered: self.names().join(", "),
            })?;
        restore(state).map_err(|source| Error::JobState {
            operation: "restore",
            type_name: type_name.to_owned(),
            source,
        })
    }

    /// The registered type names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.restore.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

impl fmt::Debug for JobRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobRegistry")
            .field("types", &self.names())
            .finish()
    }
}
