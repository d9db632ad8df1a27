//! The SQL of [`SqliteStore`](super::SqliteStore): schema and one function per store call,
//! each run inside the writer thread's transaction.

use std::time::{Duration, SystemTime};

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

use crate::error::Error;
use crate::id::{JobId, OwnerId};
use crate::job::{JobOutput, OutputBody};
use crate::record::{JobError, JobRecord};
use crate::state::{self, Action, JobState, Recovery, Request, StepEnd, Transition};
use crate::store::columns::{duration_micros, micros, parse_json, time_of};
use crate::store::{ActionReport, Claim, ClaimedJob, NewJob, StateCounts, StepReport, Wakeup};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    priority INTEGER NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    content TEXT NOT NULL,
    progress INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    error_code INTEGER,
    error_description TEXT,
    created_us INTEGER NOT NULL,
    completed_us INTEGER,
    changed_us INTEGER NOT NULL,
    runtime_us INTEGER NOT NULL,
    retry_at_us INTEGER,
    request TEXT,
    owner TEXT,
    lease_us INTEGER,
    reset INTEGER NOT NULL DEFAULT 0,
    finished_seq INTEGER,
    generation INTEGER NOT NULL DEFAULT 0,
    affinity TEXT
);
CREATE INDEX IF NOT EXISTS jobs_retrying ON jobs (retry_at_us) WHERE state = 'Retry';
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (state) WHERE state IN ('Running', 'Retry');
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner) WHERE owner IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_history ON jobs (finished_seq) WHERE finished_seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS outputs (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    filename TEXT,
    data BLOB,
    path TEXT,
    PRIMARY KEY (job_id, name)
);
";

const RECORD_COLUMNS: &str = "seq, id, type, priority, state, data, content, progress, steps, \
    error_code, error_description, created_us, completed_us, changed_us, runtime_us, \
    retry_at_us, request, owner, lease_us, generation, affinity";

/// The indexes claims use: pending jobs without affinity in claim order, and pending jobs
/// pinned to an engine name, by name and then claim order.
const CLAIM_INDEXES: &str = "
DROP INDEX IF EXISTS jobs_pending;
CREATE INDEX IF NOT EXISTS jobs_pending_free ON jobs (priority DESC, seq)
    WHERE state = 'Pending' AND affinity IS NULL;
CREATE INDEX IF NOT EXISTS jobs_pending_pinned ON jobs (affinity, priority DESC, seq)
    WHERE state = 'Pending' AND affinity IS NOT NULL;
";

pub(crate) fn create_schema(c: &Connection) -> Result<(), Error> {
    c.execute_batch(SCHEMA)?;
    // Files written before claims carried a fencing token get the column, starting at 0.
    if !has_column(c, "generation")? {
        c.execute_batch("ALTER TABLE jobs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0")?;
    }
    // Files written before jobs had an affinity get the column: their jobs have none.
    if !has_column(c, "affinity")? {
        c.execute_batch("ALTER TABLE jobs ADD COLUMN affinity TEXT")?;
    }
    c.execute_batch(CLAIM_INDEXES)?;
    Ok(())
}

fn has_column(c: &Connection, name: &str) -> Result<bool, Error> {
    Ok(
        c.prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = ?1")?
            .exists(params![name])?,
    )
}

fn column_error(index: usize, error: Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(error))
}

fn unsigned(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, i64>(index)?).unwrap_or(0))
}

fn job_id(row: &Row<'_>, index: usize) -> rusqlite::Result<JobId> {
    let text: String = row.get(index)?;
    text.parse().map_err(|e| column_error(index, e))
}

pub(crate) fn insert(c: &Connection, jobs: &[NewJob]) -> Result<(), Error> {
    let mut statement = c.prepare_cached(
        "INSERT INTO jobs (id, type, priority, state, data, content, progress, steps, \
         created_us, changed_us, runtime_us, affinity) \
         VALUES (?1, ?2, ?3, 'Pending', ?4, ?5, ?6, 0, ?7, ?7, 0, ?8)",
    )?;
    for job in jobs {
        statement.execute(params![
            job.id.to_string(),
            job.type_name,
            job.priority,
            job.data.to_string(),
            job.content.to_string(),
            job.progress.min(100),
            micros(job.creation_time),
            job.affinity,
        ])?;
    }
    Ok(())
}

pub(crate) fn claim(c: &Connection, claim: &Claim) -> Result<Vec<ClaimedJob>, Error> {
    // An engine without a name takes only jobs without affinity (one ordered index walk).
    let which = match (&claim.affinity, claim.pinned_only) {
        (Some(_), false) => "(affinity IS NULL OR affinity = ?5)",
        (Some(_), true) => "affinity = ?5",
        (None, _) => "affinity IS NULL",
    };
    let sql = format!(
        "UPDATE jobs SET state = 'Running', owner = ?1, lease_us = ?2, request = NULL, \
         changed_us = ?3, generation = generation + 1 \
         WHERE seq IN (SELECT seq FROM jobs WHERE state = 'Pending' AND {which} \
         ORDER BY priority DESC, seq LIMIT ?4) \
         RETURNING seq, id, type, priority, data, steps, reset, runtime_us, generation"
    );
    let mut statement = c.prepare_cached(&sql)?;
    let owner = claim.owner.as_str();
    let lease = micros(claim.lease_until);
    let now = micros(claim.now);
    let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
    let rows = match &claim.affinity {
        Some(name) => statement
            .query_map(params![owner, lease, now, limit, name], claimed_row)?
            .collect::<Result<Vec<_>, _>>()?,
        None => statement
            .query_map(params![owner, lease, now, limit], claimed_row)?
            .collect::<Result<Vec<_>, _>>()?,
    };
    let mut claimed = rows;
    claimed.sort_by_key(|(seq, job)| (std::cmp::Reverse(job.priority), *seq));
    Ok(claimed.into_iter().map(|(_, job)| job).collect())
}

/// A claimed job and its sequence number, from the claim's `RETURNING` columns.
fn claimed_row(row: &Row<'_>) -> rusqlite::Result<(i64, ClaimedJob)> {
    let data: String = row.get(4)?;
    Ok((
        row.get::<_, i64>(0)?,
        ClaimedJob {
            id: job_id(row, 1)?,
            type_name: row.get(2)?,
            priority: row.get(3)?,
            data: parse_json(&data, "job data").map_err(|e| column_error(4, e))?,
            steps: unsigned(row, 5)?,
            reset: row.get(6)?,
            effective_runtime: Duration::from_micros(unsigned(row, 7)?),
            generation: unsigned(row, 8)?,
        },
    ))
}

/// Move a job to `to` with its bookkeeping: owner, lease and request go when it stops
/// running; a finished job gets a completion time and a place in the history.
fn move_to(c: &Connection, id: &str, to: JobState, now: SystemTime) -> Result<(), Error> {
    let mut statement = c.prepare_cached(
        "UPDATE jobs SET state = ?2, changed_us = ?3, owner = NULL, lease_us = NULL, \
         request = NULL, \
         retry_at_us = CASE WHEN ?2 = 'Retry' THEN retry_at_us ELSE NULL END, \
         completed_us = CASE WHEN ?4 THEN ?3 ELSE completed_us END, \
         finished_seq = CASE WHEN ?4 THEN (SELECT COALESCE(MAX(finished_seq), 0) + 1 \
             FROM jobs WHERE finished_seq IS NOT NULL) ELSE NULL END \
         WHERE id = ?1",
    )?;
    statement.execute(params![id, to.as_str(), micros(now), to.is_finished()])?;
    Ok(())
}

fn prune_history(c: &Connection, keep: usize) -> Result<(), Error> {
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    let mut statement = c.prepare_cached(
        "DELETE FROM jobs WHERE finished_seq IS NOT NULL AND finished_seq <= \
         (SELECT finished_seq FROM jobs WHERE finished_seq IS NOT NULL \
          ORDER BY finished_seq DESC LIMIT 1 OFFSET ?1)",
    )?;
    statement.execute(params![keep])?;
    Ok(())
}

/// The columns an action or a step report decides on.
struct Control {
    state: JobState,
    request: Option<Request>,
    owner: Option<String>,
    generation: u64,
}

fn control(c: &Connection, id: &str) -> Result<Option<Control>, Error> {
    let mut statement =
        c.prepare_cached("SELECT state, request, owner, generation FROM jobs WHERE id = ?1")?;
    let row = statement
        .query_row(params![id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
                unsigned(row, 3)?,
            ))
        })
        .optional()?;
    row.map(|(state, request, owner, generation)| {
        Ok(Control {
            state: state.parse()?,
            request: request.as_deref().map(Request::parse).transpose()?,
            owner,
            generation,
        })
    })
    .transpose()
}

pub(crate) fn report_step(c: &Connection, report: StepReport) -> Result<JobState, Error> {
    let id = report.id.to_string();
    let request = match control(c, &id)? {
        Some(Control {
            state: JobState::Running,
            request,
            owner: Some(owner),
            generation,
        }) if owner == report.owner.as_str() && generation == report.generation => request,
        _ => return Err(Error::LeaseLost { id: report.id }),
    };
    let to = state::settle(report.end, request);
    let error = match to {
        JobState::Failure => Some(match (report.end, report.error) {
            (StepEnd::Failure, Some(error)) => error,
            _ => JobError::canceled(),
        }),
        _ => None,
    };
    let progress = if to == JobState::Success {
        100
    } else {
        report.progress.min(100)
    };
    let retry_at = (to == JobState::Retry)
        .then(|| report.retry_at.map(micros))
        .flatten();
    let mut statement = c.prepare_cached(
        "UPDATE jobs SET data = ?2, progress = ?3, content = ?4, runtime_us = ?5, \
         steps = steps + 1, changed_us = ?6, reset = 0, retry_at_us = ?7, \
         error_code = COALESCE(?8, error_code), error_description = COALESCE(?9, error_description) \
         WHERE id = ?1",
    )?;
    statement.execute(params![
        id,
        report.data.to_string(),
        progress,
        report.content.to_string(),
        duration_micros(report.effective_runtime),
        micros(report.now),
        retry_at,
        error.as_ref().map(|e| e.code),
        error.as_ref().map(|e| e.description.as_str()),
    ])?;
    if to != JobState::Running {
        move_to(c, &id, to, report.now)?;
    }
    if to == JobState::Success {
        save_outputs(c, &id, &report.outputs)?;
    }
    if to.is_finished() {
        prune_history(c, report.history_size)?;
    }
    Ok(to)
}

fn save_outputs(c: &Connection, id: &str, outputs: &[JobOutput]) -> Result<(), Error> {
    let mut statement = c.prepare_cached(
        "INSERT OR REPLACE INTO outputs (job_id, name, content_type, filename, data, path) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for output in outputs {
        let (data, path) = match &output.body {
            OutputBody::Bytes(bytes) => (Some(bytes.as_ref()), None),
            OutputBody::File(path) => (None, Some(path.to_string_lossy().into_owned())),
        };
        statement.execute(params![
            id,
            output.name,
            output.content_type,
            output.filename,
            data,
            path
        ])?;
    }
    Ok(())
}

pub(crate) fn release(
    c: &Connection,
    owner: &OwnerId,
    held: &[(JobId, u64)],
    now: SystemTime,
) -> Result<(), Error> {
    let mut statement = c.prepare_cached(
        "UPDATE jobs SET state = 'Pending', owner = NULL, lease_us = NULL, request = NULL, \
         changed_us = ?3 WHERE id = ?1 AND state = 'Running' AND owner = ?2 \
         AND generation = ?4",
    )?;
    for (id, generation) in held {
        let generation = i64::try_from(*generation).unwrap_or(i64::MAX);
        statement.execute(params![
            id.to_string(),
            owner.as_str(),
            micros(now),
            generation
        ])?;
    }
    Ok(())
}

pub(crate) fn act(
    c: &Connection,
    id: JobId,
    action: Action,
    now: SystemTime,
    history_size: usize,
) -> Result<ActionReport, Error> {
    let key = id.to_string();
    let found = control(c, &key)?.ok_or(Error::NotFound { id })?;
    let (before, request) = (found.state, found.request);
    let transition = state::apply(before, action)?;
    let after = match transition {
        Transition::To(to) => {
            if action == Action::Cancel {
                let canceled = JobError::canceled();
                c.prepare_cached(
                    "UPDATE jobs SET error_code = ?2, error_description = ?3 WHERE id = ?1",
                )?
                .execute(params![key, canceled.code, canceled.description])?;
            }
            if action == Action::Resubmit {
                c.prepare_cached(
                    "UPDATE jobs SET reset = 1, error_code = NULL, error_description = NULL, \
                     completed_us = NULL, progress = 0, steps = 0, runtime_us = 0 WHERE id = ?1",
                )?
                .execute(params![key])?;
                c.prepare_cached("DELETE FROM outputs WHERE job_id = ?1")?
                    .execute(params![key])?;
            }
            move_to(c, &key, to, now)?;
            if to.is_finished() {
                prune_history(c, history_size)?;
            }
            to
        }
        Transition::Request(new) => {
            let merged = Request::merge(request, new);
            c.prepare_cached("UPDATE jobs SET request = ?2, changed_us = ?3 WHERE id = ?1")?
                .execute(params![key, merged.as_str(), micros(now)])?;
            before
        }
        Transition::NoOp => before,
    };
    Ok(ActionReport {
        before,
        after,
        transition,
    })
}

pub(crate) fn extend_leases(
    c: &Connection,
    owner: &OwnerId,
    held: &[(JobId, u64)],
    until: SystemTime,
) -> Result<(), Error> {
    let mut statement = c.prepare_cached(
        "UPDATE jobs SET lease_us = ?2 WHERE id = ?3 AND owner = ?1 AND state = 'Running' \
         AND generation = ?4",
    )?;
    for (id, generation) in held {
        let generation = i64::try_from(*generation).unwrap_or(i64::MAX);
        statement.execute(params![
            owner.as_str(),
            micros(until),
            id.to_string(),
            generation
        ])?;
    }
    Ok(())
}

pub(crate) fn requests(c: &Connection, owner: &OwnerId) -> Result<Vec<(JobId, Request)>, Error> {
    let mut statement = c.prepare_cached(
        "SELECT id, request FROM jobs WHERE owner = ?1 AND state = 'Running' \
         AND request IS NOT NULL",
    )?;
    let rows = statement.query_map(params![owner.as_str()], |row| {
        Ok((job_id(row, 0)?, row.get::<_, String>(1)?))
    })?;
    let mut requests = Vec::new();
    for row in rows {
        let (id, request) = row?;
        requests.push((id, Request::parse(&request)?));
    }
    Ok(requests)
}

pub(crate) fn recover(c: &Connection, recovery: Recovery, now: SystemTime) -> Result<u64, Error> {
    type Candidate = (String, String, Option<i64>, Option<String>);
    let candidates: Vec<Candidate> = {
        let mut statement = c.prepare_cached(
            "SELECT id, state, lease_us, request FROM jobs WHERE state IN ('Running', 'Retry')",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let now_us = micros(now);
    let mut moved = 0;
    for (id, from, lease, request) in candidates {
        let from: JobState = from.parse()?;
        let request = request.as_deref().map(Request::parse).transpose()?;
        let expired = lease.is_none_or(|until| until <= now_us);
        let to = state::after_restart(from, recovery, expired, request);
        if to == from {
            continue;
        }
        if to == JobState::Failure {
            let canceled = JobError::canceled();
            c.prepare_cached(
                "UPDATE jobs SET error_code = ?2, error_description = ?3 WHERE id = ?1",
            )?
            .execute(params![id, canceled.code, canceled.description])?;
        }
        move_to(c, &id, to, now)?;
        moved += u64::from(to == JobState::Pending);
    }
    Ok(moved)
}

pub(crate) fn wake_retries(c: &Connection, now: SystemTime) -> Result<Wakeup, Error> {
    let now_us = micros(now);
    let woken = c
        .prepare_cached(
            "UPDATE jobs SET state = 'Pending', retry_at_us = NULL, changed_us = ?1 \
             WHERE state = 'Retry' AND retry_at_us <= ?1",
        )?
        .execute(params![now_us])?;
    let next: Option<i64> = c
        .prepare_cached("SELECT MIN(retry_at_us) FROM jobs WHERE state = 'Retry'")?
        .query_row([], |row| row.get(0))?;
    Ok(Wakeup {
        woken: woken as u64,
        next_retry: next.map(time_of),
    })
}

fn record(row: &Row<'_>) -> rusqlite::Result<JobRecord> {
    let text = |index: usize| row.get::<_, String>(index);
    let json = |index: usize| -> rusqlite::Result<Value> {
        parse_json(&text(index)?, "job JSON").map_err(|e| column_error(index, e))
    };
    let error = match (
        row.get::<_, Option<i32>>(9)?,
        row.get::<_, Option<String>>(10)?,
    ) {
        (Some(code), description) => Some(JobError {
            code,
            description: description.unwrap_or_default(),
        }),
        _ => None,
    };
    let request = row
        .get::<_, Option<String>>(16)?
        .map(|r| Request::parse(&r).map_err(|e| column_error(16, e)))
        .transpose()?;
    Ok(JobRecord {
        sequence: unsigned(row, 0)?,
        id: job_id(row, 1)?,
        type_name: text(2)?,
        priority: row.get(3)?,
        state: text(4)?.parse().map_err(|e| column_error(4, e))?,
        data: json(5)?,
        content: json(6)?,
        progress: row.get(7)?,
        steps: unsigned(row, 8)?,
        error,
        creation_time: time_of(row.get(11)?),
        completion_time: row.get::<_, Option<i64>>(12)?.map(time_of),
        last_change: time_of(row.get(13)?),
        effective_runtime: Duration::from_micros(unsigned(row, 14)?),
        retry_at: row.get::<_, Option<i64>>(15)?.map(time_of),
        request,
        owner: row
            .get::<_, Option<String>>(17)?
            .map(|o| OwnerId::from_stored(&o)),
        lease_until: row.get::<_, Option<i64>>(18)?.map(time_of),
        generation: unsigned(row, 19)?,
        affinity: row.get(20)?,
    })
}

pub(crate) fn get(c: &Connection, id: JobId) -> Result<Option<JobRecord>, Error> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM jobs WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row(params![id.to_string()], record)
        .optional()?)
}

pub(crate) fn list(c: &Connection) -> Result<Vec<JobRecord>, Error> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM jobs ORDER BY seq");
    let mut statement = c.prepare_cached(&sql)?;
    let rows = statement.query_map([], record)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn counts(c: &Connection) -> Result<StateCounts, Error> {
    let mut statement = c.prepare_cached("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
    let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, unsigned(row, 1)?)))?;
    let mut counts = StateCounts::default();
    for row in rows {
        let (state, count) = row?;
        *counts.slot(state.parse()?) = count;
    }
    Ok(counts)
}

pub(crate) fn output(c: &Connection, id: JobId, name: &str) -> Result<Option<JobOutput>, Error> {
    let mut statement = c.prepare_cached(
        "SELECT content_type, filename, data, path FROM outputs WHERE job_id = ?1 AND name = ?2",
    )?;
    let row = statement
        .query_row(params![id.to_string(), name], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<Vec<u8>>>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        })
        .optional()?;
    Ok(row.map(|(content_type, filename, data, path)| JobOutput {
        name: name.to_owned(),
        content_type,
        filename,
        body: match (data, path) {
            (_, Some(path)) => OutputBody::File(path.into()),
            (data, None) => OutputBody::Bytes(data.unwrap_or_default().into()),
        },
    }))
}
