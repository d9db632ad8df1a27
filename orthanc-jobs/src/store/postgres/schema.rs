//! The PostgreSQL store's schema: versioned migrations, applied in one transaction under an
//! advisory lock so that engines starting together on several hosts do not race.

use deadpool_postgres::Object;

use crate::error::Error;
use crate::store::postgres::pg_error;

/// The advisory lock key taken while migrating (an arbitrary constant: "orthjobs" in ASCII).
const MIGRATION_LOCK: i64 = 0x6f72_7468_6a6f_6273;

/// Every migration, in order. A migration is never edited once released: add a new one.
pub(crate) const MIGRATIONS: &[(i32, &str)] = &[(1, V1), (2, V2)];

/// Jobs, their outputs, the step log, and the database clock the leases are judged by.
const V1: &str = "
CREATE FUNCTION orthanc_jobs_now_us() RETURNS BIGINT LANGUAGE sql STABLE
    AS $$ SELECT (extract(epoch FROM now()) * 1000000)::BIGINT $$;
CREATE SEQUENCE orthanc_jobs_finished;
CREATE TABLE orthanc_jobs (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    priority INTEGER NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    content TEXT NOT NULL,
    progress INTEGER NOT NULL,
    steps BIGINT NOT NULL DEFAULT 0,
    error_code INTEGER,
    error_description TEXT,
    created_us BIGINT NOT NULL,
    completed_us BIGINT,
    changed_us BIGINT NOT NULL,
    runtime_us BIGINT NOT NULL DEFAULT 0,
    retry_at_us BIGINT,
    request TEXT,
    owner TEXT,
    lease_us BIGINT,
    generation BIGINT NOT NULL DEFAULT 0,
    reset BOOLEAN NOT NULL DEFAULT FALSE,
    finished_seq BIGINT
);
CREATE INDEX orthanc_jobs_pending ON orthanc_jobs (priority DESC, seq) WHERE state = 'Pending';
CREATE INDEX orthanc_jobs_retrying ON orthanc_jobs (retry_at_us) WHERE state = 'Retry';
CREATE INDEX orthanc_jobs_running ON orthanc_jobs (owner) WHERE state = 'Running';
CREATE INDEX orthanc_jobs_history ON orthanc_jobs (finished_seq) WHERE finished_seq IS NOT NULL;
CREATE TABLE orthanc_job_outputs (
    job_id TEXT NOT NULL REFERENCES orthanc_jobs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    filename TEXT,
    data BYTEA,
    path TEXT,
    PRIMARY KEY (job_id, name)
);
CREATE TABLE orthanc_job_steps (
    seq BIGSERIAL PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES orthanc_jobs (id) ON DELETE CASCADE,
    step BIGINT NOT NULL,
    owner TEXT NOT NULL,
    generation BIGINT NOT NULL,
    saved_us BIGINT NOT NULL
);
CREATE INDEX orthanc_job_steps_job ON orthanc_job_steps (job_id);
";

/// Job affinity: a job may be pinned to the engines of one name. Claims walk one of two
/// partial indexes of pending jobs: those without affinity in claim order (all an engine
/// without a name looks at), and those with one, by name and then claim order.
const V2: &str = "
ALTER TABLE orthanc_jobs ADD COLUMN affinity TEXT;
DROP INDEX orthanc_jobs_pending;
CREATE INDEX orthanc_jobs_pending_free ON orthanc_jobs (priority DESC, seq)
    WHERE state = 'Pending' AND affinity IS NULL;
CREATE INDEX orthanc_jobs_pending_pinned ON orthanc_jobs (affinity, priority DESC, seq)
    WHERE state = 'Pending' AND affinity IS NOT NULL;
";

/// Bring the database's schema to the newest version; returns the version it was at.
pub(crate) async fn migrate(client: &mut Object) -> Result<i32, Error> {
    let transaction = client
        .transaction()
        .await
        .map_err(pg_error("starting the migration"))?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_error("taking the migration lock"))?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS orthanc_jobs_schema (
                version INTEGER PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(pg_error("creating the schema table"))?;
    let row = transaction
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM orthanc_jobs_schema",
            &[],
        )
        .await
        .map_err(pg_error("reading the schema version"))?;
    let current: i32 = row.get(0);
    let newest = MIGRATIONS.last().map_or(0, |(version, _)| *version);
    if current > newest {
        return Err(Error::Corrupt {
            what: "PostgreSQL job schema version",
            expected: "a version this program knows (a newer program migrated the database)",
            found: format!("version {current}, newest known {newest}"),
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        transaction
            .batch_execute(sql)
            .await
            .map_err(pg_error("applying a schema migration"))?;
        transaction
            .execute(
                "INSERT INTO orthanc_jobs_schema (version) VALUES ($1)",
                &[version],
            )
            .await
            .map_err(pg_error("recording a schema migration"))?;
    }
    transaction
        .commit()
        .await
        .map_err(pg_error("committing the migration"))?;
    Ok(current)
}
