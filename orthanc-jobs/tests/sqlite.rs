//! The SQLite store: persistence across reopening, control from another process, and crash
//! recovery after SIGKILL (the test binary re-runs itself as the child process).
#![allow(clippy::unwrap_used)]
#![cfg(feature = "sqlite")]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Probe, Steps, registry, wait_state};
use orthanc_jobs::{
    Engine, EngineConfig, Job, JobError, JobRegistry, JobState, JobsHandle, OutputBody,
    SqliteStore, StepContext, StepFuture, StepOutcome, Store,
};
use serde::{Deserialize, Serialize};

const CHILD_DB: &str = "ORTHANC_JOBS_TEST_CHILD_DB";

/// A job whose steps append their index to a file, so steps run by any process are seen.
#[derive(Serialize, Deserialize)]
struct FileSteps {
    total: u32,
    next: u32,
    step_ms: u64,
    log: PathBuf,
}

impl Job for FileSteps {
    fn type_name(&self) -> &str {
        "FileSteps"
    }

    fn step<'a>(&'a mut self, ctx: &'a StepContext) -> StepFuture<'a> {
        Box::pin(async move {
            if !ctx.sleep(Duration::from_millis(self.step_ms)).await {
                return StepOutcome::Continue;
            }
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .unwrap();
            writeln!(file, "{} {}", self.next, std::process::id()).unwrap();
            self.next += 1;
            if self.next == self.total {
                StepOutcome::Success
            } else {
                StepOutcome::Continue
            }
        })
    }

    fn progress(&self) -> u8 {
        (self.next * 100 / self.total) as u8
    }

    fn save(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(self)
    }

    fn reset(&mut self) {
        self.next = 0;
    }
}

fn file_registry() -> JobRegistry {
    let mut registry = JobRegistry::new();
    registry.register_serde::<FileSteps>("FileSteps");
    registry
}

fn fast_config() -> EngineConfig {
    let mut config = EngineConfig::new();
    config
        .concurrent_jobs(2)
        .poll_interval(Duration::from_millis(20));
    config
}

/// Runs only as the child process: an engine on the given database, until killed.
#[tokio::test]
async fn child_worker() {
    let Ok(db) = std::env::var(CHILD_DB) else {
        return;
    };
    let store = Arc::new(SqliteStore::open(&db).unwrap());
    let engine = Engine::start(store, file_registry(), fast_config())
        .await
        .unwrap();
    eprintln!("child engine {} running on {db}", engine.owner());
    tokio::time::sleep(Duration::from_secs(120)).await;
    panic!("the child engine was not killed");
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(db: &Path) -> Killed {
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_worker", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, db)
        .spawn()
        .unwrap();
    Killed(child)
}

fn log_lines(path: &Path) -> Vec<(u32, u32)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let (step, pid) = line.split_once(' ').unwrap();
            (step.parse().unwrap(), pid.parse().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn sigkill_mid_job_then_a_second_engine_resumes_from_the_last_saved_step() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let log = dir.path().join("steps.log");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
    let handle = JobsHandle::new(store.clone());
    let total = 30;
    let id = handle
        .submit(
            FileSteps {
                total,
                next: 0,
                step_ms: 40,
                log: log.clone(),
            },
            0,
        )
        .await
        .unwrap();

    let mut child = spawn_child(&db);
    let child_pid = child.0.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let record = handle.get(id).await.unwrap();
        if record.state == JobState::Running && record.steps >= 8 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "child made no progress: {record:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();

    let crashed = handle.get(id).await.unwrap();
    assert_eq!(
        crashed.state,
        JobState::Running,
        "the killed engine left it Running"
    );
    let saved = u32::try_from(crashed.steps).unwrap();
    let before = log_lines(&log);
    assert!(before.iter().all(|&(_, pid)| pid == child_pid));
    // The child logged every saved step, and at most the one in flight besides.
    assert!(
        before.len() as u32 == saved || before.len() as u32 == saved + 1,
        "{before:?} vs {saved}"
    );

    let engine = Engine::start(store, file_registry(), fast_config())
        .await
        .unwrap();
    let done = engine.wait(id).await.unwrap();
    assert_eq!(
        (done.state, done.steps),
        (JobState::Success, u64::from(total))
    );
    engine.shutdown().await;

    let after = log_lines(&log);
    let resumed: Vec<u32> = after[before.len()..]
        .iter()
        .map(|&(step, _)| step)
        .collect();
    // The second engine started at the first unsaved step: no finished step ran again.
    assert_eq!(resumed, (saved..total).collect::<Vec<_>>());
    assert!(
        after[before.len()..]
            .iter()
            .all(|&(_, pid)| pid == std::process::id())
    );
}

#[tokio::test]
async fn pause_resume_and_cancel_from_another_process_reach_the_running_engine() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let log = dir.path().join("steps.log");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
    let handle = JobsHandle::new(store.clone());
    let id = handle
        .submit(
            FileSteps {
                total: 1000,
                next: 0,
                step_ms: 30,
                log: log.clone(),
            },
            0,
        )
        .await
        .unwrap();
    let _child = spawn_child(&db);
    let running = wait_state(&handle, id, JobState::Running, Duration::from_secs(30)).await;
    assert!(running.owner.is_some());

    handle.pause(id).await.unwrap();
    let paused = wait_state(&handle, id, JobState::Paused, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let still = handle.get(id).await.unwrap();
    assert_eq!((still.state, still.steps), (JobState::Paused, paused.steps));
    assert_eq!(
        log_lines(&log).len() as u64,
        paused.steps,
        "no step ran while paused"
    );

    handle.resume(id).await.unwrap();
    let resumed = wait_state(&handle, id, JobState::Running, Duration::from_secs(5)).await;
    while handle.get(id).await.unwrap().steps < resumed.steps + 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let asked = Instant::now();
    handle.cancel(id).await.unwrap();
    let canceled = wait_state(&handle, id, JobState::Failure, Duration::from_secs(5)).await;
    let took = asked.elapsed();
    assert_eq!(canceled.error, Some(JobError::canceled()));
    assert!(
        took < Duration::from_millis(500),
        "cancel from another process took {took:?}"
    );
    // Steps are contiguous and none ran twice.
    let steps: Vec<u32> = log_lines(&log).iter().map(|&(s, _)| s).collect();
    assert_eq!(steps, (0..steps.len() as u32).collect::<Vec<_>>());
}

#[tokio::test]
async fn everything_survives_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let probe = Arc::new(Probe::default());
    let (done, paused, failed, pending);
    {
        let store = Arc::new(SqliteStore::open(&db).unwrap());
        let mut config = fast_config();
        config.concurrent_jobs(1);
        let engine = Engine::start(store, registry(&probe), config)
            .await
            .unwrap();
        done = engine
            .submit_and_wait(Steps::new("done", 3, 0, &probe), 0)
            .await
            .unwrap();
        let mut job = Steps::new("failed", 2, 0, &probe);
        job.fail_at = Some(1);
        failed = engine.submit_and_wait(job, 0).await.unwrap();
        let blocker = engine
            .submit(Steps::new("blocker", 1, 60_000, &probe), 9)
            .await
            .unwrap();
        wait_state(&engine, blocker, JobState::Running, Duration::from_secs(5)).await;
        paused = engine
            .submit(Steps::new("paused", 2, 0, &probe), 0)
            .await
            .unwrap();
        engine.pause(paused).await.unwrap();
        pending = engine
            .submit(Steps::new("pending", 2, 0, &probe), 3)
            .await
            .unwrap();
        engine.cancel(blocker).await.unwrap();
        // Dropped without shutdown: as good as a crash for the store's content.
        drop(engine);
    }
    let store = Arc::new(SqliteStore::open(&db).unwrap());
    let handle = JobsHandle::new(store.clone());
    let listed = handle.list().await.unwrap();
    let state_of = |id| listed.iter().find(|r| r.id == id).map(|r| r.state);
    assert_eq!(state_of(done.id), Some(JobState::Success));
    assert_eq!(state_of(failed.id), Some(JobState::Failure));
    assert_eq!(state_of(paused), Some(JobState::Paused));
    let reread = handle.get(done.id).await.unwrap();
    assert_eq!(reread.steps, 3);
    assert_eq!(reread.content, done.content);
    assert_eq!(reread.creation_time, done.creation_time);
    assert_eq!(reread.completion_time, done.completion_time);
    let output = handle.output(done.id, "report").await.unwrap().unwrap();
    assert_eq!(output.body, OutputBody::Bytes("{\"steps\":3}".into()));
    assert_eq!(output.filename.as_deref(), Some("report.json"));
    let error = handle.get(failed.id).await.unwrap().error.unwrap();
    assert_eq!(
        (error.code, error.description.as_str()),
        (1000, "step 1 failed")
    );

    let engine = Engine::start(store, registry(&probe), fast_config())
        .await
        .unwrap();
    assert_eq!(engine.wait(pending).await.unwrap().state, JobState::Success);
    // Paused stays paused across a restart, and runs once resumed.
    assert_eq!(engine.get(paused).await.unwrap().state, JobState::Paused);
    engine.resume(paused).await.unwrap();
    assert_eq!(engine.wait(paused).await.unwrap().state, JobState::Success);
    engine.shutdown().await;
}

#[tokio::test]
async fn sqlite_history_is_bounded_and_order_kept() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(Probe::default());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("j.db")).unwrap());
    let submitter = JobsHandle::new(store.clone());
    let mut ids = Vec::new();
    for (i, priority) in [0, 2, 1, 2, 0, 1].into_iter().enumerate() {
        ids.push(
            submitter
                .submit(Steps::new(&format!("{i}"), 1, 0, &probe), priority)
                .await
                .unwrap(),
        );
    }
    let mut config = fast_config();
    config.concurrent_jobs(1).history_size(4);
    let engine = Engine::start(store, registry(&probe), config)
        .await
        .unwrap();
    loop {
        let metrics = engine.metrics().await.unwrap();
        if ["completed 4", "pending 0", "running 0"]
            .iter()
            .all(|m| metrics.contains(&format!("orthanc_jobs_{m}\n")))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(probe.log(), ["1:0", "3:0", "2:0", "5:0", "0:0", "4:0"]);
    let kept: Vec<_> = engine
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    // The four finished last (2, 5, 0, 4), listed in submission order.
    assert_eq!(kept, [ids[0], ids[2], ids[4], ids[5]]);
    engine.shutdown().await;
}

#[tokio::test]
async fn two_engines_on_one_database_run_each_step_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let probe = Arc::new(Probe::default());
    let mut config = fast_config();
    config
        .concurrent_jobs(3)
        .history_size(100)
        .recovery(orthanc_jobs::Recovery::ExpiredLeases);
    let first = Engine::start(
        Arc::new(SqliteStore::open(&db).unwrap()),
        registry(&probe),
        config.clone(),
    )
    .await
    .unwrap();
    let second = Engine::start(
        Arc::new(SqliteStore::open(&db).unwrap()),
        registry(&probe),
        config,
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..40 {
        let engine = if i % 2 == 0 { &first } else { &second };
        ids.push(
            engine
                .submit(Steps::new(&format!("j{i}"), 3, 2, &probe), 0)
                .await
                .unwrap(),
        );
    }
    for id in &ids {
        assert_eq!(first.wait(*id).await.unwrap().state, JobState::Success);
    }
    let mut log = probe.log();
    assert_eq!(log.len(), 120, "every step of every job, once");
    log.sort();
    log.dedup();
    assert_eq!(log.len(), 120);
    // Both engines did some of the work.
    assert!(first.counters().claimed > 0 && second.counters().claimed > 0);
    first.shutdown().await;
    second.shutdown().await;
}

/// A file written before jobs had an affinity (no `affinity` column, the old claim index)
/// opens: its jobs have none and run on any engine, and new jobs can be pinned.
#[tokio::test]
async fn a_file_from_before_affinity_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let probe = Arc::new(Probe::default());
    let data = serde_json::to_string(&Steps::new("old", 1, 0, &probe)).unwrap();
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, \
             type TEXT NOT NULL, priority INTEGER NOT NULL, state TEXT NOT NULL, \
             data TEXT NOT NULL, content TEXT NOT NULL, progress INTEGER NOT NULL, \
             steps INTEGER NOT NULL, error_code INTEGER, error_description TEXT, \
             created_us INTEGER NOT NULL, completed_us INTEGER, changed_us INTEGER NOT NULL, \
             runtime_us INTEGER NOT NULL, retry_at_us INTEGER, request TEXT, owner TEXT, \
             lease_us INTEGER, reset INTEGER NOT NULL DEFAULT 0, finished_seq INTEGER, \
             generation INTEGER NOT NULL DEFAULT 0); \
             CREATE INDEX jobs_pending ON jobs (priority DESC, seq) WHERE state = 'Pending';",
        )
        .unwrap();
        c.execute(
            "INSERT INTO jobs (id, type, priority, state, data, content, progress, steps, \
             created_us, changed_us, runtime_us) \
             VALUES ('00000000-0000-4000-8000-000000000001', 'Steps', 0, 'Pending', ?1, '{}', \
             0, 0, 1, 1, 0)",
            [data],
        )
        .unwrap();
    }
    let store = Arc::new(SqliteStore::open(&db).unwrap());
    let old = JobsHandle::new(store.clone()).list().await.unwrap();
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].affinity, None);
    let mut config = fast_config();
    config.affinity("here");
    let engine = Engine::start(store, registry(&probe), config)
        .await
        .unwrap();
    assert_eq!(
        engine.wait(old[0].id).await.unwrap().state,
        JobState::Success
    );
    let pinned = engine
        .local_handle()
        .submit_and_wait(Steps::new("pinned", 1, 0, &probe), 0)
        .await
        .unwrap();
    assert_eq!(
        (pinned.state, pinned.affinity.as_deref()),
        (JobState::Success, Some("here"))
    );
    assert_eq!(probe.log(), ["old:0", "pinned:0"]);
    engine.shutdown().await;
}
