//! One conformance suite for every store: MemoryStore, SqliteStore and PostgresStore keep
//! the same contract (the `Store` trait's documentation).
//!
//! Each store gets one test that runs every check in turn on fresh, empty stores: Orthanc's
//! state table, priorities and submission order, the bounded history, concurrent claims,
//! leases and heartbeats, fencing, crash recovery, and an engine end to end. Leases are
//! judged against real time (PostgreSQL judges them by the database's clock), so the checks
//! use the system clock and short real leases.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::{Probe, Steps, registry, wait_state};
use orthanc_jobs::state::StepEnd;
use orthanc_jobs::store::{Claim, ClaimedJob, NewJob, StepReport};
use orthanc_jobs::{
    Action, Engine, EngineConfig, Error, JobError, JobId, JobState, JobsHandle, MemoryStore,
    OwnerId, Recovery, Request, Store, Transition,
};

const WAIT: Duration = Duration::from_secs(5);

/// An engine with a job brought into `state`.
async fn job_in(
    state: JobState,
    store: Arc<dyn Store>,
    probe: &Arc<Probe>,
) -> (Engine, JobId, Option<JobId>) {
    let mut blocking = None;
    let mut config = EngineConfig::new();
    config
        .concurrent_jobs(1)
        .poll_interval(Duration::from_millis(10));
    let engine = Engine::start(store, registry(probe), config).await.unwrap();
    let id = match state {
        JobState::Pending | JobState::Paused => {
            // Keep the single worker busy so the job stays Pending.
            let blocker = engine
                .submit(Steps::new("blocker", 1, 60_000, probe), 100)
                .await
                .unwrap();
            wait_state(&engine, blocker, JobState::Running, WAIT).await;
            blocking = Some(blocker);
            let id = engine
                .submit(Steps::new("job", 2, 0, probe), 0)
                .await
                .unwrap();
            if state == JobState::Paused {
                engine.pause(id).await.unwrap();
            }
            id
        }
        JobState::Running => engine
            .submit(Steps::new("job", 2, 300, probe), 0)
            .await
            .unwrap(),
        JobState::Retry => {
            let mut job = Steps::new("job", 1, 0, probe);
            job.retry_ms = Some(3_600_000);
            engine.submit(job, 0).await.unwrap()
        }
        JobState::Success => engine
            .submit(Steps::new("job", 1, 0, probe), 0)
            .await
            .unwrap(),
        JobState::Failure => {
            let mut job = Steps::new("job", 1, 0, probe);
            job.fail_at = Some(0);
            engine.submit(job, 0).await.unwrap()
        }
    };
    wait_state(&engine, id, state, WAIT).await;
    (engine, id, blocking)
}

/// What each action must lead to, per the design notes' table: `Err(())` for an error,
/// `Ok(state)` for the state the job ends up in (after its step, for a running job).
fn expected(state: JobState, action: Action) -> Result<JobState, ()> {
    use JobState::*;
    match (state, action) {
        (Pending | Running | Retry, Action::Pause) => Ok(Paused),
        (Paused | Success | Failure, Action::Pause) => Ok(state),
        (Paused, Action::Resume) => Ok(Pending),
        (_, Action::Resume) => Err(()),
        (Pending | Running | Retry | Paused, Action::Cancel) => Ok(Failure),
        (Success | Failure, Action::Cancel) => Ok(state),
        (Failure, Action::Resubmit) => Ok(Success), // reset, run again, and succeed
        (_, Action::Resubmit) => Err(()),
    }
}

/// Orthanc's state table: every action in every state, end to end through an engine.
async fn state_table(backend: &Backend) {
    for state in JobState::ALL {
        for action in Action::ALL {
            let probe = Arc::new(Probe::default());
            let (engine, id, blocker) = job_in(state, backend.store().await, &probe).await;
            let result = engine.act(id, action).await;
            match expected(state, action) {
                Err(()) => match result {
                    Err(Error::ActionNotAllowed {
                        action: a,
                        state: s,
                    }) => {
                        assert_eq!((a, s), (action, state));
                        assert_eq!(engine.get(id).await.unwrap().state, state);
                    }
                    other => panic!("{action} in {state}: expected an error, got {other:?}"),
                },
                Ok(want) => {
                    let report = result.unwrap_or_else(|e| panic!("{action} in {state}: {e}"));
                    assert_eq!(report.before, state);
                    if state == JobState::Running && action != Action::Resume {
                        assert!(matches!(report.transition, Transition::Request(_)));
                    }
                    let record = if want == JobState::Pending && state == JobState::Paused {
                        // Resumed behind the blocker: it stays Pending.
                        engine.get(id).await.unwrap()
                    } else {
                        wait_state(&engine, id, want, WAIT).await
                    };
                    assert_eq!(record.state, want, "{action} in {state}");
                    if action == Action::Cancel && state != want {
                        assert_eq!(
                            record.error,
                            Some(JobError::canceled()),
                            "{action} in {state}"
                        );
                    }
                    if action == Action::Resubmit {
                        assert_eq!(probe.resets.load(std::sync::atomic::Ordering::SeqCst), 1);
                    }
                }
            }
            // A job paused while running really stopped between steps: resume finishes it.
            if state == JobState::Running && action == Action::Pause {
                let record = engine.get(id).await.unwrap();
                assert_eq!(record.steps, 1);
                engine.resume(id).await.unwrap();
                let done = engine.wait(id).await.unwrap();
                assert_eq!((done.state, done.steps), (JobState::Success, 2));
                assert_eq!(probe.log(), ["job:0", "job:1"]);
            }
            if let Some(blocker) = blocker {
                engine.cancel(blocker).await.unwrap();
            }
            engine.shutdown().await;
        }
    }
}

/// Where fresh stores come from.
enum Backend {
    Memory,
    #[cfg(feature = "sqlite")]
    Sqlite(tempfile::TempDir, std::sync::atomic::AtomicUsize),
    #[cfg(feature = "postgres")]
    Postgres(
        test_support::postgres::Postgres,
        std::sync::atomic::AtomicUsize,
    ),
}

impl Backend {
    /// A new, empty store.
    async fn store(&self) -> Arc<dyn Store> {
        match self {
            Backend::Memory => Arc::new(MemoryStore::new()),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(dir, counter) => {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let path = dir.path().join(format!("jobs{n}.db"));
                Arc::new(orthanc_jobs::SqliteStore::open(path).unwrap())
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(cluster, counter) => {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let url = cluster.create_database(&format!("jobs{n}")).unwrap();
                Arc::new(orthanc_jobs::PostgresStore::connect(&url).await.unwrap())
            }
        }
    }
}

fn new_job(tag: &str, priority: i32) -> NewJob {
    let probe = Arc::new(Probe::default());
    let job = Steps::new(tag, 3, 0, &probe);
    NewJob {
        id: JobId::new(),
        type_name: "Steps".into(),
        priority,
        data: serde_json::to_value(&job).unwrap(),
        content: serde_json::json!({ "Tag": tag }),
        progress: 0,
        creation_time: SystemTime::now(),
        affinity: None,
    }
}

fn claim(owner: &OwnerId, limit: usize, lease: Duration) -> Claim {
    let now = SystemTime::now();
    Claim {
        owner: owner.clone(),
        limit,
        now,
        lease_until: now + lease,
        affinity: None,
        pinned_only: false,
    }
}

fn report(job: &ClaimedJob, owner: &OwnerId, end: StepEnd, next: u32) -> StepReport {
    let mut data = job.data.clone();
    data["next"] = next.into();
    StepReport {
        id: job.id,
        owner: owner.clone(),
        generation: job.generation,
        end,
        error: None,
        retry_at: None,
        data,
        progress: 50,
        content: serde_json::json!({ "Next": next }),
        effective_runtime: Duration::from_millis(u64::from(next)),
        outputs: Vec::new(),
        now: SystemTime::now(),
        history_size: 100,
    }
}

const LONG: Duration = Duration::from_secs(60);

/// Higher priority first, then submission order, whether claimed one by one or in a batch.
async fn priorities_and_submission_order(backend: &Backend) {
    for batch in [1, 4] {
        let store = backend.store().await;
        let jobs: Vec<NewJob> = [0, 5, 0, 5, -1, 5]
            .iter()
            .enumerate()
            .map(|(i, &p)| new_job(&format!("j{i}"), p))
            .collect();
        let ids: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
        store.insert(jobs).await.unwrap();
        let owner = OwnerId::new();
        let mut order = Vec::new();
        loop {
            let claimed = store.claim(claim(&owner, batch, LONG)).await.unwrap();
            if claimed.is_empty() {
                break;
            }
            assert!(claimed.len() <= batch);
            order.extend(claimed.iter().map(|c| c.id));
        }
        let want: Vec<JobId> = [1, 3, 5, 0, 2, 4].iter().map(|&i| ids[i]).collect();
        assert_eq!(order, want, "claimed {batch} at a time");
        let listed: Vec<JobId> = store.list().await.unwrap().iter().map(|r| r.id).collect();
        assert_eq!(listed, ids, "list is in submission order");
    }
}

/// Only the newest `history_size` finished jobs stay, with their outputs.
async fn history_is_bounded(backend: &Backend) {
    let store = backend.store().await;
    let jobs: Vec<NewJob> = (0..5).map(|i| new_job(&format!("h{i}"), 0)).collect();
    let ids: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
    store.insert(jobs).await.unwrap();
    let owner = OwnerId::new();
    for _ in 0..5 {
        let job = store.claim(claim(&owner, 1, LONG)).await.unwrap().remove(0);
        let mut done = report(&job, &owner, StepEnd::Success, 3);
        done.history_size = 3;
        done.outputs = vec![orthanc_jobs::JobOutput::bytes(
            "report",
            "text/plain",
            job.id.to_string().into(),
        )];
        assert_eq!(store.report_step(done).await.unwrap(), JobState::Success);
    }
    let listed: Vec<JobId> = store.list().await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(listed, ids[2..].to_vec());
    assert_eq!(store.counts().await.unwrap().success, 3);
    assert!(store.output(ids[0], "report").await.unwrap().is_none());
    let kept = store.output(ids[4], "report").await.unwrap().unwrap();
    assert_eq!(
        kept.body,
        orthanc_jobs::OutputBody::Bytes(ids[4].to_string().into())
    );
    assert!(store.get(ids[0]).await.unwrap().is_none());
}

/// Claimers running at once never get the same job, and every job is claimed once.
async fn concurrent_claims_never_share_a_job(backend: &Backend) {
    let store = backend.store().await;
    let jobs: Vec<NewJob> = (0..240).map(|i| new_job(&format!("c{i}"), i % 3)).collect();
    store.insert(jobs).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let owner = OwnerId::new();
            let mut mine = Vec::new();
            loop {
                let claimed = store.claim(claim(&owner, 4, LONG)).await.unwrap();
                if claimed.is_empty() {
                    return (owner, mine);
                }
                mine.extend(claimed.into_iter().map(|c| c.id));
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        let (owner, mine) = task.await.unwrap();
        for id in mine {
            assert!(seen.insert(id), "job {id} claimed twice");
            let record = store.get(id).await.unwrap().unwrap();
            assert_eq!(record.owner.as_ref(), Some(&owner));
            assert_eq!(record.generation, 1);
        }
    }
    assert_eq!(seen.len(), 240);
    assert_eq!(store.counts().await.unwrap().running, 240);
}

/// A heartbeat naming a job keeps its lease; a job whose lease ran out is taken back.
async fn leases_and_heartbeats(backend: &Backend) {
    let store = backend.store().await;
    let (kept, dropped) = (new_job("kept", 0), new_job("dropped", 0));
    let (kept_id, dropped_id) = (kept.id, dropped.id);
    store.insert(vec![kept, dropped]).await.unwrap();
    let owner = OwnerId::new();
    let lease = Duration::from_millis(600);
    let claimed = store.claim(claim(&owner, 2, lease)).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let kept_generation = claimed.iter().find(|c| c.id == kept_id).unwrap().generation;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = SystemTime::now();
        let held = vec![(kept_id, kept_generation)];
        store
            .heartbeat(&owner, held, now, now + lease)
            .await
            .unwrap();
    }
    // 900 ms after the claim: the job named in heartbeats is live, the other expired.
    let now = SystemTime::now();
    assert_eq!(
        store.recover(Recovery::ExpiredLeases, now).await.unwrap(),
        1
    );
    let kept = store.get(kept_id).await.unwrap().unwrap();
    assert_eq!(
        (kept.state, kept.owner.as_ref()),
        (JobState::Running, Some(&owner))
    );
    let dropped = store.get(dropped_id).await.unwrap().unwrap();
    assert_eq!((dropped.state, dropped.owner), (JobState::Pending, None));
    // Its lease runs out too once heartbeats stop.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let now = SystemTime::now();
    assert_eq!(
        store.recover(Recovery::ExpiredLeases, now).await.unwrap(),
        1
    );
    assert_eq!(store.counts().await.unwrap().pending, 2);
}

/// A stale owner's report and release are refused once the job was claimed again, by
/// another engine or by the same one.
async fn fencing(backend: &Backend) {
    let store = backend.store().await;
    let job = new_job("f", 0);
    let id = job.id;
    store.insert(vec![job]).await.unwrap();
    let (a, b) = (OwnerId::new(), OwnerId::new());
    let short = Duration::from_millis(150);
    let first = store.claim(claim(&a, 1, short)).await.unwrap().remove(0);
    let saved = report(&first, &a, StepEnd::Continue, 1);
    assert_eq!(store.report_step(saved).await.unwrap(), JobState::Running);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let now = SystemTime::now();
    assert_eq!(
        store.recover(Recovery::ExpiredLeases, now).await.unwrap(),
        1
    );
    let second = store.claim(claim(&b, 1, LONG)).await.unwrap().remove(0);
    assert!(second.generation > first.generation);
    assert_eq!((second.id, second.steps), (id, 1));
    assert_eq!(second.data["next"], 1);

    let late = store
        .report_step(report(&first, &a, StepEnd::Success, 3))
        .await;
    assert!(matches!(late, Err(Error::LeaseLost { .. })), "{late:?}");
    store
        .release(&a, vec![(id, first.generation)], SystemTime::now())
        .await
        .unwrap();
    let record = store.get(id).await.unwrap().unwrap();
    assert_eq!(
        (record.state, record.owner.as_ref(), record.steps),
        (JobState::Running, Some(&b), 1)
    );

    // The same engine claiming again gets a new token; its old one is stale.
    store
        .release(&b, vec![(id, second.generation)], SystemTime::now())
        .await
        .unwrap();
    let third = store.claim(claim(&b, 1, LONG)).await.unwrap().remove(0);
    assert!(third.generation > second.generation);
    let stale = store
        .report_step(report(&second, &b, StepEnd::Continue, 2))
        .await;
    assert!(matches!(stale, Err(Error::LeaseLost { .. })), "{stale:?}");
    let fresh = store
        .report_step(report(&third, &b, StepEnd::Success, 3))
        .await;
    assert_eq!(fresh.unwrap(), JobState::Success);
    let done = store.get(id).await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.steps, done.progress),
        (JobState::Success, 2, 100)
    );
}

/// After a crash, running jobs come back from their last saved step, honouring a pause or
/// cancel left on them; an engine then finishes them.
async fn crash_recovery(backend: &Backend) {
    let store = backend.store().await;
    let jobs: Vec<NewJob> = ["resumed", "paused", "canceled"]
        .iter()
        .map(|tag| new_job(tag, 0))
        .collect();
    let ids: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
    store.insert(jobs).await.unwrap();
    let crashed = OwnerId::new();
    let claimed = store.claim(claim(&crashed, 3, LONG)).await.unwrap();
    for job in &claimed {
        let saved = report(job, &crashed, StepEnd::Continue, 2);
        assert_eq!(store.report_step(saved).await.unwrap(), JobState::Running);
    }
    let handle = JobsHandle::new(store.clone());
    let paused = handle.pause(ids[1]).await.unwrap();
    assert_eq!(paused.transition, Transition::Request(Request::Pause));
    handle.cancel(ids[2]).await.unwrap();
    assert_eq!(store.requests(&crashed).await.unwrap().len(), 2);

    // The only engine restarts (Recovery::AllRunning): its leases do not matter.
    let probe = Arc::new(Probe::default());
    let mut config = EngineConfig::new();
    config.poll_interval(Duration::from_millis(10));
    let engine = Engine::start(store.clone(), registry(&probe), config)
        .await
        .unwrap();
    // One step saved before the crash (it left the job at step 2 of 3), one after.
    let resumed = engine.wait(ids[0]).await.unwrap();
    assert_eq!((resumed.state, resumed.steps), (JobState::Success, 2));
    assert_eq!(probe.log(), ["resumed:2"]);
    assert_eq!(engine.get(ids[1]).await.unwrap().state, JobState::Paused);
    let canceled = engine.get(ids[2]).await.unwrap();
    assert_eq!(
        (canceled.state, canceled.error),
        (JobState::Failure, Some(JobError::canceled()))
    );
    engine.shutdown().await;
}

/// Two engines on one store run a batch of jobs with retries; each step runs once.
async fn engines_end_to_end(backend: &Backend) {
    let store = backend.store().await;
    let probe = Arc::new(Probe::default());
    let mut config = EngineConfig::new();
    config
        .concurrent_jobs(2)
        .recovery(Recovery::ExpiredLeases)
        .history_size(100)
        .poll_interval(Duration::from_millis(10));
    let one = Engine::start(store.clone(), registry(&probe), config.clone())
        .await
        .unwrap();
    let two = Engine::start(store.clone(), registry(&probe), config)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..12 {
        let mut job = Steps::new(&format!("e{i}"), 3, 2, &probe);
        if i % 4 == 0 {
            job.retry_ms = Some(20);
        }
        ids.push(one.submit(job, 0).await.unwrap());
    }
    for (i, id) in ids.iter().enumerate() {
        let done = wait_state(&two, *id, JobState::Success, Duration::from_secs(20)).await;
        // A retried job saved one more step: the one that asked for the retry.
        assert_eq!(done.steps, if i % 4 == 0 { 4 } else { 3 });
        let output = two.output(*id, "report").await.unwrap().unwrap();
        assert_eq!(
            output.body,
            orthanc_jobs::OutputBody::Bytes("{\"steps\":3}".into())
        );
    }
    let log = probe.log();
    for i in 0..12 {
        for step in 0..3 {
            let line = format!("e{i}:{step}");
            assert_eq!(
                log.iter().filter(|l| **l == line).count(),
                1,
                "{line}: {log:?}"
            );
        }
    }
    one.shutdown().await;
    two.shutdown().await;
}

fn pinned_job(tag: &str, priority: i32, affinity: Option<&str>) -> NewJob {
    NewJob {
        affinity: affinity.map(str::to_owned),
        ..new_job(tag, priority)
    }
}

fn claim_as(owner: &OwnerId, affinity: Option<&str>, limit: usize, lease: Duration) -> Claim {
    Claim {
        affinity: affinity.map(str::to_owned),
        ..claim(owner, limit, lease)
    }
}

/// What `owner`, an engine named `affinity` (or none), takes: up to `limit` jobs, on a long
/// lease.
async fn take(
    store: &Arc<dyn Store>,
    owner: &OwnerId,
    affinity: Option<&str>,
    limit: usize,
) -> Vec<ClaimedJob> {
    store
        .claim(claim_as(owner, affinity, limit, LONG))
        .await
        .unwrap()
}

/// The tags of claimed jobs, read back from the store.
async fn tags(store: &Arc<dyn Store>, claimed: &[ClaimedJob]) -> Vec<String> {
    let mut tags = Vec::new();
    for job in claimed {
        let record = store.get(job.id).await.unwrap().unwrap();
        tags.push(record.content["Tag"].as_str().unwrap().to_owned());
    }
    tags
}

/// An engine named "a" takes jobs without affinity and "a"'s, in claim order, never "b"'s;
/// an engine without a name takes only jobs without affinity; records keep the affinity.
async fn affinity_claims(backend: &Backend) {
    let store = backend.store().await;
    let jobs = vec![
        pinned_job("b-high", 9, Some("b")),
        pinned_job("free-low", 0, None),
        pinned_job("a-high", 5, Some("a")),
        pinned_job("b-low", 0, Some("b")),
        pinned_job("a-low", 0, Some("a")),
        pinned_job("free-high", 5, None),
        pinned_job("free-last", 0, None),
    ];
    let ids: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
    store.insert(jobs).await.unwrap();
    let record = store.get(ids[0]).await.unwrap().unwrap();
    assert_eq!(record.affinity.as_deref(), Some("b"));
    assert_eq!(store.get(ids[1]).await.unwrap().unwrap().affinity, None);

    let a = OwnerId::new();
    let taken = take(&store, &a, Some("a"), 3).await;
    assert_eq!(
        tags(&store, &taken).await,
        ["a-high", "free-high", "free-low"]
    );
    let nameless = OwnerId::new();
    let taken = take(&store, &nameless, None, 10).await;
    assert_eq!(tags(&store, &taken).await, ["free-last"]);
    let taken = take(&store, &a, Some("a"), 10).await;
    assert_eq!(tags(&store, &taken).await, ["a-low"]);
    // Only "b"'s jobs are left, and only an engine named "b" takes them.
    let c = OwnerId::new();
    assert!(take(&store, &c, Some("c"), 10).await.is_empty());
    assert!(take(&store, &nameless, None, 10).await.is_empty());
    let b = OwnerId::new();
    let taken = take(&store, &b, Some("b"), 10).await;
    assert_eq!(tags(&store, &taken).await, ["b-high", "b-low"]);
    let listed = store.list().await.unwrap();
    let affinities: Vec<Option<&str>> = listed.iter().map(|r| r.affinity.as_deref()).collect();
    assert_eq!(
        affinities,
        [Some("b"), None, Some("a"), Some("b"), Some("a"), None, None]
    );
    // An engine taking pinned jobs only leaves jobs without affinity to others.
    let late = vec![
        pinned_job("late-free", 5, None),
        pinned_job("late-a", 0, Some("a")),
    ];
    store.insert(late).await.unwrap();
    let mut only_a = claim_as(&a, Some("a"), 10, LONG);
    only_a.pinned_only = true;
    let taken = store.claim(only_a.clone()).await.unwrap();
    assert_eq!(tags(&store, &taken).await, ["late-a"]);
    assert!(store.claim(only_a).await.unwrap().is_empty());
    let taken = take(&store, &nameless, None, 10).await;
    assert_eq!(tags(&store, &taken).await, ["late-free"]);
}

/// A pinned job whose engine crashed goes back to `Pending` with its affinity (recovery and
/// release keep it), and waits for an engine of that name.
async fn affinity_survives_recovery(backend: &Backend) {
    let store = backend.store().await;
    let job = pinned_job("pinned", 0, Some("a"));
    let id = job.id;
    store.insert(vec![job]).await.unwrap();
    let crashed = OwnerId::new();
    let lease = Duration::from_millis(200);
    let taken = store
        .claim(claim_as(&crashed, Some("a"), 1, lease))
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    let saved = report(&taken[0], &crashed, StepEnd::Continue, 1);
    assert_eq!(store.report_step(saved).await.unwrap(), JobState::Running);
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    let recovered = store
        .recover(Recovery::ExpiredLeases, SystemTime::now())
        .await
        .unwrap();
    assert_eq!(recovered, 1);
    let record = store.get(id).await.unwrap().unwrap();
    assert_eq!(
        (record.state, record.affinity.as_deref(), record.steps),
        (JobState::Pending, Some("a"), 1)
    );
    let other = OwnerId::new();
    assert!(take(&store, &other, Some("b"), 1).await.is_empty());
    assert!(take(&store, &other, None, 1).await.is_empty());
    // The replica comes back: it takes the job, gives it back cleanly, and takes it again.
    let restarted = OwnerId::new();
    let taken = take(&store, &restarted, Some("a"), 1).await;
    assert_eq!(taken.len(), 1);
    let held = vec![(id, taken[0].generation)];
    store
        .release(&restarted, held, SystemTime::now())
        .await
        .unwrap();
    let record = store.get(id).await.unwrap().unwrap();
    assert_eq!(
        (record.state, record.affinity.as_deref()),
        (JobState::Pending, Some("a"))
    );
    assert!(take(&store, &other, Some("b"), 1).await.is_empty());
    let taken = take(&store, &restarted, Some("a"), 1).await;
    assert_eq!(taken.len(), 1);
}

/// Engines named "a" (pinned jobs only) and "b" and one without a name share a store: jobs
/// pinned through a handle with an affinity run only on the engine of that name, jobs
/// without affinity on "b" and the nameless one.
async fn affinity_engines(backend: &Backend) {
    let store = backend.store().await;
    let mut config = EngineConfig::new();
    config
        .concurrent_jobs(2)
        .recovery(Recovery::ExpiredLeases)
        .history_size(100)
        .poll_interval(Duration::from_millis(10));
    let probes: Vec<Arc<Probe>> = (0..3).map(|_| Arc::new(Probe::default())).collect();
    let mut engines = Vec::new();
    for (probe, name) in probes.iter().zip([Some("a"), Some("b"), None]) {
        let mut config = config.clone();
        if let Some(name) = name {
            config.affinity(name).pinned_only(name == "a");
        }
        let engine = Engine::start(store.clone(), registry(probe), config)
            .await
            .unwrap();
        assert_eq!(engine.affinity(), name);
        engines.push(engine);
    }
    // Submitted from elsewhere (no local cache): the store alone decides who runs them.
    let outside = JobsHandle::new(store.clone());
    let to_a = outside.clone().with_affinity("a");
    assert_eq!(to_a.affinity(), Some("a"));
    let mut pinned = Vec::new();
    for i in 0..6 {
        pinned.push(
            to_a.submit(Steps::new(&format!("a{i}"), 2, 1, &probes[0]), 0)
                .await
                .unwrap(),
        );
    }
    // Submitted through engine "b"'s local handle: pinned to "b".
    let local_b = engines[1].local_handle();
    let mut pinned_b = Vec::new();
    for i in 0..3 {
        pinned_b.push(
            local_b
                .submit(Steps::new(&format!("b{i}"), 1, 1, &probes[1]), 0)
                .await
                .unwrap(),
        );
    }
    let mut free = Vec::new();
    for i in 0..9 {
        free.push(
            outside
                .submit(Steps::new(&format!("f{i}"), 1, 20, &probes[2]), 0)
                .await
                .unwrap(),
        );
    }
    for id in pinned.iter().chain(&pinned_b).chain(&free) {
        wait_state(&outside, *id, JobState::Success, Duration::from_secs(20)).await;
    }
    for id in &pinned {
        assert_eq!(
            outside.get(*id).await.unwrap().affinity.as_deref(),
            Some("a")
        );
    }
    let ran = |probe: &Arc<Probe>, prefix: &str| {
        probe.log().iter().filter(|l| l.starts_with(prefix)).count()
    };
    assert_eq!(ran(&probes[0], "a"), 12, "{:?}", probes[0].log());
    assert_eq!(ran(&probes[1], "a") + ran(&probes[2], "a"), 0);
    assert_eq!(ran(&probes[1], "b"), 3, "{:?}", probes[1].log());
    assert_eq!(ran(&probes[0], "b") + ran(&probes[2], "b"), 0);
    assert_eq!(ran(&probes[0], "f"), 0, "{:?}", probes[0].log());
    assert_eq!(ran(&probes[1], "f") + ran(&probes[2], "f"), 9);
    for engine in engines {
        engine.shutdown().await;
    }
}

async fn conforms(backend: Backend) {
    state_table(&backend).await;
    priorities_and_submission_order(&backend).await;
    history_is_bounded(&backend).await;
    concurrent_claims_never_share_a_job(&backend).await;
    leases_and_heartbeats(&backend).await;
    fencing(&backend).await;
    crash_recovery(&backend).await;
    engines_end_to_end(&backend).await;
    affinity_claims(&backend).await;
    affinity_survives_recovery(&backend).await;
    affinity_engines(&backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms() {
    conforms(Backend::Memory).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    conforms(Backend::Sqlite(dir, std::sync::atomic::AtomicUsize::new(0))).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_conforms() {
    let cluster = test_support::postgres::Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    conforms(Backend::Postgres(
        cluster,
        std::sync::atomic::AtomicUsize::new(0),
    ))
    .await;
}
