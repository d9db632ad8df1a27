//! The SQL of [`PostgresStore`](super::PostgresStore): one function per store call.
//!
//! Leases are judged by the database's clock (`orthanc_jobs_now_us()`, its `now()` in
//! microseconds); every other time (submission, changes, retry deadlines) is the engine's.
//! Every write on a running job names `(id, owner, generation)`.

use std::time::{Duration, SystemTime};

use deadpool_postgres::{Object, Transaction};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::error::Error;
use crate::id::{JobId, OwnerId};
use crate::job::{JobOutput, OutputBody};
use crate::record::{JobError, JobRecord};
use crate::state::{self, Action, JobState, Recovery, Request, StepEnd, Transition};
use crate::store::columns::{count, duration_micros, micros, parse_json, stored_count, time_of};
use crate::store::postgres::{SavedStep, pg_error};
use crate::store::{ActionReport, Claim, ClaimedJob, NewJob, StateCounts, StepReport, Wakeup};

/// The channel engines `LISTEN` on; the payload is `submitted` or `action`.
pub(crate) const CHANNEL: &str = "orthanc_jobs";

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

async fn execute(tx: &Transaction<'_>, sql: &str, params: Params<'_>) -> Result<u64, Error> {
    let statement = tx
        .prepare_cached(sql)
        .await
        .map_err(pg_error("preparing a statement"))?;
    tx.execute(&statement, params)
        .await
        .map_err(pg_error("writing jobs"))
}

async fn query(tx: &Transaction<'_>, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
    let statement = tx
        .prepare_cached(sql)
        .await
        .map_err(pg_error("preparing a statement"))?;
    tx.query(&statement, params)
        .await
        .map_err(pg_error("reading jobs"))
}

async fn client_query(client: &Object, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
    let statement = client
        .prepare_cached(sql)
        .await
        .map_err(pg_error("preparing a statement"))?;
    client
        .query(&statement, params)
        .await
        .map_err(pg_error("reading jobs"))
}

/// Tell the engines listening (delivered when the transaction commits).
async fn notify(tx: &Transaction<'_>, payload: &str) -> Result<(), Error> {
    execute(tx, "SELECT pg_notify($1, $2)", &[&CHANNEL, &payload]).await?;
    Ok(())
}

fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    index: usize,
) -> Result<T, Error> {
    row.try_get(index).map_err(pg_error("reading a job column"))
}

fn job_id(row: &Row, index: usize) -> Result<JobId, Error> {
    column::<&str>(row, index)?.parse()
}

fn lease_micros(now: SystemTime, until: SystemTime) -> i64 {
    duration_micros(until.duration_since(now).unwrap_or(Duration::ZERO))
}

pub(crate) async fn insert(tx: &Transaction<'_>, jobs: &[NewJob]) -> Result<(), Error> {
    for job in jobs {
        let id = job.id.to_string();
        let data = job.data.to_string();
        let content = job.content.to_string();
        let progress = i32::from(job.progress.min(100));
        execute(
            tx,
            "INSERT INTO orthanc_jobs (id, type, priority, state, data, content, progress, \
             created_us, changed_us, affinity) \
             VALUES ($1, $2, $3, 'Pending', $4, $5, $6, $7, $7, $8) \
             ON CONFLICT (id) DO NOTHING",
            &[
                &id,
                &job.type_name,
                &job.priority,
                &data,
                &content,
                &progress,
                &micros(job.creation_time),
                &job.affinity,
            ],
        )
        .await?;
    }
    if !jobs.is_empty() {
        notify(tx, "submitted").await?;
    }
    Ok(())
}

/// One statement: engines on several hosts never claim the same job and never wait on each
/// other (`SKIP LOCKED`); the lease runs from the database's `now()`.
pub(crate) async fn claim(client: &Object, claim: &Claim) -> Result<Vec<ClaimedJob>, Error> {
    let limit = stored_count(claim.limit as u64);
    let lease = lease_micros(claim.now, claim.lease_until);
    let owner = claim.owner.as_str();
    let now = micros(claim.now);
    // An engine without a name walks only the index of jobs without affinity, in order.
    let rows = match &claim.affinity {
        Some(name) => {
            let sql = claim_sql(if claim.pinned_only {
                "affinity = $5"
            } else {
                "(affinity IS NULL OR affinity = $5)"
            });
            client_query(client, &sql, &[&owner, &lease, &limit, &now, name]).await?
        }
        None => {
            let sql = claim_sql("affinity IS NULL");
            client_query(client, &sql, &[&owner, &lease, &limit, &now]).await?
        }
    };
    let mut claimed = Vec::with_capacity(rows.len());
    for row in &rows {
        let job = ClaimedJob {
            id: job_id(row, 1)?,
            type_name: column::<String>(row, 2)?,
            priority: column(row, 3)?,
            data: parse_json(column(row, 4)?, "job data")?,
            steps: count(column(row, 5)?),
            reset: column(row, 6)?,
            effective_runtime: Duration::from_micros(count(column(row, 7)?)),
            generation: count(column(row, 8)?),
        };
        claimed.push((column::<i64>(row, 0)?, job));
    }
    claimed.sort_by_key(|(seq, job)| (std::cmp::Reverse(job.priority), *seq));
    Ok(claimed.into_iter().map(|(_, job)| job).collect())
}

/// The claim statement, taking pending jobs that match `which` (an affinity condition).
fn claim_sql(which: &str) -> String {
    format!(
        "WITH picked AS (SELECT seq FROM orthanc_jobs WHERE state = 'Pending' AND {which} \
         ORDER BY priority DESC, seq LIMIT $3 FOR UPDATE SKIP LOCKED) \
         UPDATE orthanc_jobs AS j SET state = 'Running', owner = $1, \
         lease_us = orthanc_jobs_now_us() + $2, generation = j.generation + 1, \
         request = NULL, changed_us = $4 FROM picked WHERE j.seq = picked.seq \
         RETURNING j.seq, j.id, j.type, j.priority, j.data, j.steps, j.reset, j.runtime_us, \
         j.generation"
    )
}

/// Move a job to `to` with its bookkeeping: owner, lease and request go when it stops
/// running; a finished job gets a completion time and a place in the history.
async fn move_to(
    tx: &Transaction<'_>,
    id: &str,
    to: JobState,
    now: SystemTime,
) -> Result<(), Error> {
    execute(
        tx,
        "UPDATE orthanc_jobs SET state = $2, changed_us = $3, owner = NULL, lease_us = NULL, \
         request = NULL, \
         retry_at_us = CASE WHEN $2 = 'Retry' THEN retry_at_us ELSE NULL END, \
         completed_us = CASE WHEN $4 THEN $3 ELSE completed_us END, \
         finished_seq = CASE WHEN $4 THEN nextval('orthanc_jobs_finished') ELSE NULL END \
         WHERE id = $1",
        &[&id, &to.as_str(), &micros(now), &to.is_finished()],
    )
    .await?;
    if to == JobState::Pending {
        notify(tx, "submitted").await?;
    }
    Ok(())
}

/// Drop the oldest finished jobs beyond `keep`. Rows another transaction holds are skipped
/// (the next prune takes them), so pruning never waits and never deadlocks.
async fn prune_history(tx: &Transaction<'_>, keep: usize) -> Result<(), Error> {
    let keep = stored_count(keep as u64);
    execute(
        tx,
        "DELETE FROM orthanc_jobs WHERE seq IN (SELECT seq FROM orthanc_jobs \
         WHERE finished_seq IS NOT NULL ORDER BY finished_seq DESC OFFSET $1 \
         FOR UPDATE SKIP LOCKED)",
        &[&keep],
    )
    .await?;
    Ok(())
}

/// The columns an action or a step report decides on, with the row locked.
struct Control {
    state: JobState,
    request: Option<Request>,
    owner: Option<String>,
    generation: u64,
}

async fn control(tx: &Transaction<'_>, id: &str) -> Result<Option<Control>, Error> {
    let rows = query(
        tx,
        "SELECT state, request, owner, generation FROM orthanc_jobs WHERE id = $1 FOR UPDATE",
        &[&id],
    )
    .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(Control {
        state: column::<&str>(row, 0)?.parse()?,
        request: column::<Option<&str>>(row, 1)?
            .map(Request::parse)
            .transpose()?,
        owner: column(row, 2)?,
        generation: count(column(row, 3)?),
    }))
}

/// The common case in one statement (one round trip, no transaction block): a step that
/// continues, on a job still held under `(owner, generation)` with no request left on it, is
/// saved and logged. Returns false when the job does not match; then [`report_step`] decides.
pub(crate) async fn continue_step(client: &Object, report: &StepReport) -> Result<bool, Error> {
    let data = report.data.to_string();
    let content = report.content.to_string();
    let progress = i32::from(report.progress.min(100));
    let rows = client_query(
        client,
        "WITH saved AS (UPDATE orthanc_jobs SET data = $4, progress = $5, content = $6, \
         runtime_us = $7, steps = steps + 1, changed_us = $8, reset = FALSE \
         WHERE id = $1 AND owner = $2 AND generation = $3 AND state = 'Running' \
         AND request IS NULL RETURNING id, steps) \
         INSERT INTO orthanc_job_steps (job_id, step, owner, generation, saved_us) \
         SELECT id, steps, $2::TEXT, $3::BIGINT, orthanc_jobs_now_us() FROM saved RETURNING step",
        &[
            &report.id.to_string(),
            &report.owner.as_str(),
            &stored_count(report.generation),
            &data,
            &progress,
            &content,
            &duration_micros(report.effective_runtime),
            &micros(report.now),
        ],
    )
    .await?;
    Ok(!rows.is_empty())
}

pub(crate) async fn report_step(
    tx: &Transaction<'_>,
    report: StepReport,
) -> Result<JobState, Error> {
    let id = report.id.to_string();
    let request = match control(tx, &id).await? {
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
        i32::from(report.progress.min(100))
    };
    let retry_at = (to == JobState::Retry)
        .then(|| report.retry_at.map(micros))
        .flatten();
    let data = report.data.to_string();
    let content = report.content.to_string();
    let generation = stored_count(report.generation);
    execute(
        tx,
        "WITH saved AS (UPDATE orthanc_jobs SET data = $2, progress = $3, content = $4, \
         runtime_us = $5, steps = steps + 1, changed_us = $6, reset = FALSE, retry_at_us = $7, \
         error_code = COALESCE($8, error_code), \
         error_description = COALESCE($9, error_description) \
         WHERE id = $1 RETURNING id, steps) \
         INSERT INTO orthanc_job_steps (job_id, step, owner, generation, saved_us) \
         SELECT id, steps, $10::TEXT, $11::BIGINT, orthanc_jobs_now_us() FROM saved",
        &[
            &id,
            &data,
            &progress,
            &content,
            &duration_micros(report.effective_runtime),
            &micros(report.now),
            &retry_at,
            &error.as_ref().map(|e| e.code),
            &error.as_ref().map(|e| e.description.as_str()),
            &report.owner.as_str(),
            &generation,
        ],
    )
    .await?;
    if to != JobState::Running {
        move_to(tx, &id, to, report.now).await?;
    }
    if to == JobState::Success {
        save_outputs(tx, &id, &report.outputs).await?;
    }
    if to.is_finished() {
        prune_history(tx, report.history_size).await?;
    }
    Ok(to)
}

async fn save_outputs(tx: &Transaction<'_>, id: &str, outputs: &[JobOutput]) -> Result<(), Error> {
    for output in outputs {
        let (data, path) = match &output.body {
            OutputBody::Bytes(bytes) => (Some(bytes.as_ref()), None),
            OutputBody::File(path) => (None, Some(path.to_string_lossy().into_owned())),
        };
        execute(
            tx,
            "INSERT INTO orthanc_job_outputs (job_id, name, content_type, filename, data, path) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (job_id, name) DO UPDATE SET \
             content_type = EXCLUDED.content_type, filename = EXCLUDED.filename, \
             data = EXCLUDED.data, path = EXCLUDED.path",
            &[
                &id,
                &output.name,
                &output.content_type,
                &output.filename,
                &data,
                &path,
            ],
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn release(
    tx: &Transaction<'_>,
    owner: &OwnerId,
    held: &[(JobId, u64)],
    now: SystemTime,
) -> Result<(), Error> {
    let mut released = 0;
    for (id, generation) in held {
        released += execute(
            tx,
            "UPDATE orthanc_jobs SET state = 'Pending', owner = NULL, lease_us = NULL, \
             request = NULL, changed_us = $3 \
             WHERE id = $1 AND state = 'Running' AND owner = $2 AND generation = $4",
            &[
                &id.to_string(),
                &owner.as_str(),
                &micros(now),
                &stored_count(*generation),
            ],
        )
        .await?;
    }
    if released > 0 {
        notify(tx, "submitted").await?;
    }
    Ok(())
}

pub(crate) async fn act(
    tx: &Transaction<'_>,
    id: JobId,
    action: Action,
    now: SystemTime,
    history_size: usize,
) -> Result<ActionReport, Error> {
    let key = id.to_string();
    let found = control(tx, &key).await?.ok_or(Error::NotFound { id })?;
    let (before, request) = (found.state, found.request);
    let transition = state::apply(before, action)?;
    let after = match transition {
        Transition::To(to) => {
            if action == Action::Cancel {
                let canceled = JobError::canceled();
                execute(
                    tx,
                    "UPDATE orthanc_jobs SET error_code = $2, error_description = $3 WHERE id = $1",
                    &[&key, &canceled.code, &canceled.description],
                )
                .await?;
            }
            if action == Action::Resubmit {
                execute(
                    tx,
                    "UPDATE orthanc_jobs SET reset = TRUE, error_code = NULL, \
                     error_description = NULL, completed_us = NULL, progress = 0, steps = 0, \
                     runtime_us = 0 WHERE id = $1",
                    &[&key],
                )
                .await?;
                execute(
                    tx,
                    "DELETE FROM orthanc_job_outputs WHERE job_id = $1",
                    &[&key],
                )
                .await?;
            }
            move_to(tx, &key, to, now).await?;
            if to.is_finished() {
                prune_history(tx, history_size).await?;
            }
            to
        }
        Transition::Request(new) => {
            let merged = Request::merge(request, new);
            execute(
                tx,
                "UPDATE orthanc_jobs SET request = $2, changed_us = $3 WHERE id = $1",
                &[&key, &merged.as_str(), &micros(now)],
            )
            .await?;
            notify(tx, "action").await?;
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

/// Extend the named leases from the database's `now()`, then read the owner's requests.
pub(crate) async fn heartbeat(
    tx: &Transaction<'_>,
    owner: &OwnerId,
    held: &[(JobId, u64)],
    lease: Duration,
) -> Result<Vec<(JobId, Request)>, Error> {
    let ids: Vec<String> = held.iter().map(|(id, _)| id.to_string()).collect();
    let generations: Vec<i64> = held.iter().map(|(_, g)| stored_count(*g)).collect();
    execute(
        tx,
        "UPDATE orthanc_jobs AS j SET lease_us = orthanc_jobs_now_us() + $2 \
         FROM unnest($3::TEXT[], $4::BIGINT[]) AS held (id, generation) \
         WHERE j.id = held.id AND j.generation = held.generation \
         AND j.owner = $1 AND j.state = 'Running'",
        &[&owner.as_str(), &duration_micros(lease), &ids, &generations],
    )
    .await?;
    requests(tx, owner).await
}

pub(crate) async fn requests(
    tx: &Transaction<'_>,
    owner: &OwnerId,
) -> Result<Vec<(JobId, Request)>, Error> {
    let rows = query(
        tx,
        "SELECT id, request FROM orthanc_jobs WHERE owner = $1 AND state = 'Running' \
         AND request IS NOT NULL",
        &[&owner.as_str()],
    )
    .await?;
    rows.iter()
        .map(|row| Ok((job_id(row, 0)?, Request::parse(column(row, 1)?)?)))
        .collect()
}

/// Take jobs back through [`state::after_restart`]; whether a lease expired is the
/// database's judgement. Rows another transaction holds are skipped.
pub(crate) async fn recover(
    tx: &Transaction<'_>,
    recovery: Recovery,
    now: SystemTime,
) -> Result<u64, Error> {
    let all = recovery == Recovery::AllRunning;
    let rows = query(
        tx,
        "SELECT id, state, lease_us IS NULL OR lease_us <= orthanc_jobs_now_us(), request \
         FROM orthanc_jobs WHERE (state = 'Running' AND (lease_us IS NULL \
         OR lease_us <= orthanc_jobs_now_us())) OR ($1 AND state IN ('Running', 'Retry')) \
         FOR UPDATE SKIP LOCKED",
        &[&all],
    )
    .await?;
    let mut moved = 0;
    for row in &rows {
        let id: &str = column(row, 0)?;
        let from: JobState = column::<&str>(row, 1)?.parse()?;
        let expired: bool = column(row, 2)?;
        let request = column::<Option<&str>>(row, 3)?
            .map(Request::parse)
            .transpose()?;
        let to = state::after_restart(from, recovery, expired, request);
        if to == from {
            continue;
        }
        if to == JobState::Failure {
            let canceled = JobError::canceled();
            execute(
                tx,
                "UPDATE orthanc_jobs SET error_code = $2, error_description = $3 WHERE id = $1",
                &[&id, &canceled.code, &canceled.description],
            )
            .await?;
        }
        move_to(tx, id, to, now).await?;
        moved += u64::from(to == JobState::Pending);
    }
    Ok(moved)
}

pub(crate) async fn wake_retries(tx: &Transaction<'_>, now: SystemTime) -> Result<Wakeup, Error> {
    let woken = execute(
        tx,
        "UPDATE orthanc_jobs SET state = 'Pending', retry_at_us = NULL, changed_us = $1 \
         WHERE state = 'Retry' AND retry_at_us <= $1",
        &[&micros(now)],
    )
    .await?;
    let rows = query(
        tx,
        "SELECT MIN(retry_at_us) FROM orthanc_jobs WHERE state = 'Retry'",
        &[],
    )
    .await?;
    let next = match rows.first() {
        Some(row) => column::<Option<i64>>(row, 0)?,
        None => None,
    };
    if woken > 0 {
        notify(tx, "submitted").await?;
    }
    Ok(Wakeup {
        woken,
        next_retry: next.map(time_of),
    })
}

const RECORD_COLUMNS: &str = "SELECT seq, id, type, priority, state, data, content, progress, \
    steps, error_code, error_description, created_us, completed_us, changed_us, runtime_us, \
    retry_at_us, request, owner, lease_us, generation, affinity FROM orthanc_jobs";

fn record(row: &Row) -> Result<JobRecord, Error> {
    let error = match (
        column::<Option<i32>>(row, 9)?,
        column::<Option<String>>(row, 10)?,
    ) {
        (Some(code), description) => Some(JobError {
            code,
            description: description.unwrap_or_default(),
        }),
        _ => None,
    };
    let progress = u8::try_from(column::<i32>(row, 7)?.clamp(0, 100)).unwrap_or(0);
    Ok(JobRecord {
        sequence: count(column(row, 0)?),
        id: job_id(row, 1)?,
        type_name: column(row, 2)?,
        priority: column(row, 3)?,
        state: column::<&str>(row, 4)?.parse()?,
        data: parse_json(column(row, 5)?, "job data")?,
        content: parse_json(column(row, 6)?, "job content")?,
        progress,
        steps: count(column(row, 8)?),
        error,
        creation_time: time_of(column(row, 11)?),
        completion_time: column::<Option<i64>>(row, 12)?.map(time_of),
        last_change: time_of(column(row, 13)?),
        effective_runtime: Duration::from_micros(count(column(row, 14)?)),
        retry_at: column::<Option<i64>>(row, 15)?.map(time_of),
        request: column::<Option<&str>>(row, 16)?
            .map(Request::parse)
            .transpose()?,
        owner: column::<Option<&str>>(row, 17)?.map(OwnerId::from_stored),
        lease_until: column::<Option<i64>>(row, 18)?.map(time_of),
        generation: count(column(row, 19)?),
        affinity: column(row, 20)?,
    })
}

pub(crate) async fn get(client: &Object, id: JobId) -> Result<Option<JobRecord>, Error> {
    let sql = format!("{RECORD_COLUMNS} WHERE id = $1");
    let rows = client_query(client, &sql, &[&id.to_string()]).await?;
    rows.first().map(record).transpose()
}

pub(crate) async fn list(client: &Object) -> Result<Vec<JobRecord>, Error> {
    let sql = format!("{RECORD_COLUMNS} ORDER BY seq");
    let rows = client_query(client, &sql, &[]).await?;
    rows.iter().map(record).collect()
}

pub(crate) async fn counts(client: &Object) -> Result<StateCounts, Error> {
    let rows = client_query(
        client,
        "SELECT state, COUNT(*) FROM orthanc_jobs GROUP BY state",
        &[],
    )
    .await?;
    let mut counts = StateCounts::default();
    for row in &rows {
        let state: JobState = column::<&str>(row, 0)?.parse()?;
        *counts.slot(state) = count(column(row, 1)?);
    }
    Ok(counts)
}

pub(crate) async fn output(
    client: &Object,
    id: JobId,
    name: &str,
) -> Result<Option<JobOutput>, Error> {
    let rows = client_query(
        client,
        "SELECT content_type, filename, data, path FROM orthanc_job_outputs \
         WHERE job_id = $1 AND name = $2",
        &[&id.to_string(), &name],
    )
    .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let data: Option<Vec<u8>> = column(row, 2)?;
    let path: Option<String> = column(row, 3)?;
    Ok(Some(JobOutput {
        name: name.to_owned(),
        content_type: column(row, 0)?,
        filename: column(row, 1)?,
        body: match (data, path) {
            (_, Some(path)) => OutputBody::File(path.into()),
            (data, None) => OutputBody::Bytes(data.unwrap_or_default().into()),
        },
    }))
}

pub(crate) async fn saved_steps(client: &Object) -> Result<Vec<SavedStep>, Error> {
    let rows = client_query(
        client,
        "SELECT job_id, step, owner, generation, saved_us FROM orthanc_job_steps ORDER BY seq",
        &[],
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SavedStep {
                id: job_id(row, 0)?,
                step: count(column(row, 1)?),
                owner: OwnerId::from_stored(column(row, 2)?),
                generation: count(column(row, 3)?),
                saved_at: time_of(column(row, 4)?),
            })
        })
        .collect()
}
