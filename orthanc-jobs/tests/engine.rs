//! The engine over the in-memory store: order, concurrency, cancel, pause, retry, history.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{Probe, Steps, registry, wait_state};
use orthanc_jobs::{
    Engine, EngineConfig, Error, JobError, JobRegistry, JobState, JobsHandle, MemoryStore,
    OutputBody, Store,
};

fn config(workers: usize) -> EngineConfig {
    let mut config = EngineConfig::new();
    config
        .concurrent_jobs(workers)
        .poll_interval(Duration::from_millis(10));
    config
}

#[tokio::test]
async fn higher_priority_first_then_submission_order() {
    let probe = Arc::new(Probe::default());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let submitter = JobsHandle::new(store.clone());
    let jobs = [
        ("a", 0),
        ("b", 5),
        ("c", 0),
        ("d", 10),
        ("e", 5),
        ("f", -1),
        ("g", 10),
    ];
    let mut ids = Vec::new();
    for (tag, priority) in jobs {
        ids.push(
            submitter
                .submit(Steps::new(tag, 1, 0, &probe), priority)
                .await
                .unwrap(),
        );
    }
    let engine = Engine::start(store, registry(&probe), config(1))
        .await
        .unwrap();
    for id in ids {
        engine.wait(id).await.unwrap();
    }
    assert_eq!(
        probe.log(),
        ["d:0", "g:0", "b:0", "e:0", "a:0", "c:0", "f:0"]
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn concurrency_limit_holds() {
    let probe = Arc::new(Probe::default());
    let engine = Engine::start(Arc::new(MemoryStore::new()), registry(&probe), config(3))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(
            engine
                .submit(Steps::new(&format!("j{i}"), 2, 20, &probe), 0)
                .await
                .unwrap(),
        );
    }
    for id in ids {
        assert_eq!(engine.wait(id).await.unwrap().state, JobState::Success);
    }
    assert_eq!(probe.max_running.load(Ordering::SeqCst), 3);
    engine.shutdown().await;
}

#[tokio::test]
async fn synchronous_and_asynchronous_submission() {
    let probe = Arc::new(Probe::default());
    let engine = Engine::start(Arc::new(MemoryStore::new()), registry(&probe), config(2))
        .await
        .unwrap();
    let record = engine
        .submit_and_wait(Steps::new("sync", 3, 1, &probe), 0)
        .await
        .unwrap();
    assert_eq!(record.state, JobState::Success);
    assert_eq!((record.steps, record.progress), (3, 100));
    assert!(record.completion_time.is_some());
    assert_eq!(record.content["Next"], 3);
    let id = engine
        .submit(Steps::new("async", 2, 1, &probe), 0)
        .await
        .unwrap();
    let record = engine.wait(id).await.unwrap();
    assert_eq!(record.state, JobState::Success);
    let output = engine.output(id, "report").await.unwrap().unwrap();
    assert_eq!(output.body, OutputBody::Bytes("{\"steps\":2}".into()));
    assert!(engine.output(id, "nothing").await.unwrap().is_none());
    engine.shutdown().await;
}

#[tokio::test]
async fn cancel_reaches_a_running_step_within_100ms() {
    let probe = Arc::new(Probe::default());
    let engine = Engine::start(Arc::new(MemoryStore::new()), registry(&probe), config(1))
        .await
        .unwrap();
    let id = engine
        .submit(Steps::new("long", 2, 60_000, &probe), 0)
        .await
        .unwrap();
    wait_state(&engine, id, JobState::Running, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    engine.cancel(id).await.unwrap();
    let record = engine.wait(id).await.unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_millis(100), "cancel took {took:?}");
    assert_eq!(record.state, JobState::Failure);
    assert_eq!(record.error, Some(JobError::canceled()));
    assert_eq!(probe.log(), ["long:canceled"]);
    engine.shutdown().await;
}

#[tokio::test]
async fn pause_takes_effect_between_steps_and_resume_continues() {
    let probe = Arc::new(Probe::default());
    let engine = Engine::start(Arc::new(MemoryStore::new()), registry(&probe), config(1))
        .await
        .unwrap();
    let id = engine
        .submit(Steps::new("p", 5, 40, &probe), 0)
        .await
        .unwrap();
    wait_state(&engine, id, JobState::Running, Duration::from_secs(5)).await;
    engine.pause(id).await.unwrap();
    let paused = wait_state(&engine, id, JobState::Paused, Duration::from_secs(5)).await;
    assert!(paused.steps >= 1 && paused.steps < 5, "{paused:?}");
    // The step that was running completed normally (no cancel).
    assert!(!probe.log().iter().any(|l| l.ends_with("canceled")));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(engine.get(id).await.unwrap().state, JobState::Paused);
    engine.resume(id).await.unwrap();
    let done = engine.wait(id).await.unwrap();
    assert_eq!((done.state, done.steps), (JobState::Success, 5));
    // Every step ran exactly once.
    assert_eq!(probe.log(), ["p:0", "p:1", "p:2", "p:3", "p:4"]);
    engine.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn retry_after_a_delay_on_simulated_time() {
    let probe = Arc::new(Probe::default());
    // Slow polling: nothing but the retry timer can wake the job on time.
    let mut config = config(1);
    config
        .poll_interval(Duration::from_secs(600))
        .lease(Duration::from_secs(7200));
    let engine = Engine::start(Arc::new(MemoryStore::new()), registry(&probe), config)
        .await
        .unwrap();
    let mut job = Steps::new("r", 1, 0, &probe);
    job.retry_ms = Some(3_600_000);
    let submitted = engine.clock().now();
    let id = engine.submit(job, 0).await.unwrap();
    let record = wait_state(&engine, id, JobState::Retry, Duration::from_secs(1)).await;
    let retry_at = record.retry_at.unwrap();
    let delay = retry_at.duration_since(submitted).unwrap();
    assert!(
        delay >= Duration::from_secs(3600) && delay < Duration::from_secs(3601),
        "{delay:?}"
    );
    tokio::time::sleep(Duration::from_secs(3599)).await;
    assert_eq!(engine.get(id).await.unwrap().state, JobState::Retry);
    let record = engine.wait(id).await.unwrap();
    assert_eq!(record.state, JobState::Success);
    let finished = record
        .completion_time
        .unwrap()
        .duration_since(submitted)
        .unwrap();
    assert!(
        finished >= Duration::from_secs(3600) && finished < Duration::from_secs(3601),
        "{finished:?}"
    );
    assert_eq!(probe.log(), ["r:retry", "r:0"]);
    assert_eq!(engine.counters().retried, 1);
    engine.shutdown().await;
}

#[tokio::test]
async fn history_is_bounded() {
    let probe = Arc::new(Probe::default());
    let mut config = config(2);
    config.history_size(3);
    let engine = Engine::start(Arc::new(MemoryStore::new()), registry(&probe), config)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..10 {
        let id = engine
            .submit(Steps::new(&format!("h{i}"), 1, 0, &probe), 0)
            .await
            .unwrap();
        engine.wait(id).await.unwrap();
        ids.push(id);
    }
    let listed: Vec<_> = engine
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, ids[7..]);
    assert!(matches!(
        engine.get(ids[0]).await,
        Err(Error::NotFound { .. })
    ));
    let metrics = engine.metrics().await.unwrap();
    assert!(metrics.contains("orthanc_jobs_success 3\n"), "{metrics}");
    assert!(metrics.contains("orthanc_jobs_completed 3\n"), "{metrics}");
    assert!(
        metrics.contains("orthanc_jobs_submitted_total 10\n"),
        "{metrics}"
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn resubmit_resets_a_failed_job() {
    let probe = Arc::new(Probe::default());
    let engine = Engine::start(Arc::new(MemoryStore::new()), registry(&probe), config(1))
        .await
        .unwrap();
    let mut job = Steps::new("f", 3, 0, &probe);
    job.fail_at = Some(1);
    let failed = engine.submit_and_wait(job, 0).await.unwrap();
    assert_eq!(failed.state, JobState::Failure);
    let error = failed.error.unwrap();
    assert_eq!(
        (error.code, error.description.as_str()),
        (1000, "step 1 failed")
    );
    engine.resubmit(failed.id).await.unwrap();
    let done = engine.wait(failed.id).await.unwrap();
    assert_eq!(
        (done.state, done.error, done.steps),
        (JobState::Success, None, 3)
    );
    assert_eq!(probe.resets.load(Ordering::SeqCst), 1);
    assert_eq!(probe.log(), ["f:0", "f:fail", "f:0", "f:1", "f:2"]);
    engine.shutdown().await;
}

#[tokio::test]
async fn unknown_job_type_fails_with_a_clear_error() {
    let probe = Arc::new(Probe::default());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let id = JobsHandle::new(store.clone())
        .submit(Steps::new("x", 1, 0, &probe), 0)
        .await
        .unwrap();
    let engine = Engine::start(store, JobRegistry::new(), config(1))
        .await
        .unwrap();
    let record = engine.wait(id).await.unwrap();
    assert_eq!(record.state, JobState::Failure);
    let description = record.error.unwrap().description;
    assert!(
        description.contains("\"Steps\" is not registered"),
        "{description}"
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn shutdown_gives_running_jobs_back_from_their_last_step() {
    let probe = Arc::new(Probe::default());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let engine = Engine::start(store.clone(), registry(&probe), config(1))
        .await
        .unwrap();
    let id = engine
        .submit(Steps::new("s", 10, 30, &probe), 0)
        .await
        .unwrap();
    wait_state(&engine, id, JobState::Running, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(70)).await;
    engine.shutdown().await;
    let record = JobsHandle::new(store.clone()).get(id).await.unwrap();
    assert_eq!(record.state, JobState::Pending);
    let saved = record.steps;
    assert!(saved >= 2, "{record:?}");
    let engine = Engine::start(store, registry(&probe), config(1))
        .await
        .unwrap();
    assert_eq!(engine.wait(id).await.unwrap().steps, 10);
    let expected: Vec<String> = (0..10).map(|i| format!("s:{i}")).collect();
    assert_eq!(probe.log(), expected);
    engine.shutdown().await;
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_owner_is_fenced_off() {
    use orthanc_jobs::store::{Claim, StepReport};
    use orthanc_jobs::{OwnerId, Recovery, state::StepEnd};

    let probe = Arc::new(Probe::default());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let handle = JobsHandle::new(store.clone());
    let id = handle
        .submit(Steps::new("l", 2, 0, &probe), 0)
        .await
        .unwrap();
    // A crashed engine on another machine: it claimed the job with a short lease, then vanished.
    let ghost = OwnerId::new();
    let now = handle.clock().now();
    let claimed = store
        .claim(Claim {
            owner: ghost.clone(),
            limit: 10,
            now,
            lease_until: now + Duration::from_millis(300),
            affinity: None,
            pinned_only: false,
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    let mut config = config(1);
    config
        .recovery(Recovery::ExpiredLeases)
        .lease(Duration::from_millis(90));
    let engine = Engine::start(store.clone(), registry(&probe), config)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let record = engine.get(id).await.unwrap();
    assert_eq!(
        (record.state, record.owner.as_ref()),
        (JobState::Running, Some(&ghost))
    );
    let done = engine.wait(id).await.unwrap();
    assert_eq!((done.state, done.steps), (JobState::Success, 2));

    // The ghost comes back and reports a step: refused.
    let late = store
        .report_step(StepReport {
            id,
            owner: ghost,
            generation: claimed[0].generation,
            end: StepEnd::Success,
            error: None,
            retry_at: None,
            data: serde_json::Value::Null,
            progress: 100,
            content: serde_json::Value::Null,
            effective_runtime: Duration::ZERO,
            outputs: Vec::new(),
            now: handle.clock().now(),
            history_size: 10,
        })
        .await;
    assert!(matches!(late, Err(Error::LeaseLost { .. })), "{late:?}");
    engine.shutdown().await;
}

#[tokio::test]
async fn a_pause_or_cancel_asked_before_a_crash_is_honoured_at_restart() {
    use orthanc_jobs::store::Claim;
    use orthanc_jobs::{OwnerId, Transition};

    let probe = Arc::new(Probe::default());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let handle = JobsHandle::new(store.clone());
    let paused = handle
        .submit(Steps::new("p", 2, 0, &probe), 0)
        .await
        .unwrap();
    let canceled = handle
        .submit(Steps::new("c", 2, 0, &probe), 0)
        .await
        .unwrap();
    let untouched = handle
        .submit(Steps::new("u", 2, 0, &probe), 0)
        .await
        .unwrap();
    let now = handle.clock().now();
    let claim = Claim {
        owner: OwnerId::new(),
        limit: 10,
        now,
        lease_until: now + Duration::from_secs(60),
        affinity: None,
        pinned_only: false,
    };
    assert_eq!(store.claim(claim).await.unwrap().len(), 3);
    let report = handle.pause(paused).await.unwrap();
    assert!(matches!(report.transition, Transition::Request(_)));
    handle.cancel(canceled).await.unwrap();
    // The engine that held them is gone; a new one starts (it is the only one: AllRunning).
    let engine = Engine::start(store, registry(&probe), config(1))
        .await
        .unwrap();
    assert_eq!(
        engine.wait(untouched).await.unwrap().state,
        JobState::Success
    );
    assert_eq!(engine.get(paused).await.unwrap().state, JobState::Paused);
    let record = engine.get(canceled).await.unwrap();
    assert_eq!(
        (record.state, record.error),
        (JobState::Failure, Some(JobError::canceled()))
    );
    engine.shutdown().await;
}

/// A memory store whose step reports fail once, on demand.
struct Flaky {
    inner: MemoryStore,
    fail_report: std::sync::atomic::AtomicBool,
}

mod flaky {
    use std::time::SystemTime;

    use orthanc_jobs::store::*;
    use orthanc_jobs::*;

    impl Store for super::Flaky {
        fn insert(&self, jobs: Vec<NewJob>) -> StoreFuture<'_, ()> {
            self.inner.insert(jobs)
        }
        fn claim(&self, claim: Claim) -> StoreFuture<'_, Vec<ClaimedJob>> {
            self.inner.claim(claim)
        }
        fn report_step(&self, report: StepReport) -> StoreFuture<'_, JobState> {
            if self
                .fail_report
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                let error = Error::Io {
                    context: "simulated".into(),
                    source: std::io::Error::other("disk full"),
                };
                return Box::pin(std::future::ready(Err(error)));
            }
            self.inner.report_step(report)
        }
        fn release<'a>(
            &'a self,
            owner: &'a OwnerId,
            held: Vec<(JobId, u64)>,
            now: SystemTime,
        ) -> StoreFuture<'a, ()> {
            self.inner.release(owner, held, now)
        }
        fn act(
            &self,
            id: JobId,
            a: Action,
            now: SystemTime,
            h: usize,
        ) -> StoreFuture<'_, ActionReport> {
            self.inner.act(id, a, now, h)
        }
        fn heartbeat<'a>(
            &'a self,
            owner: &'a OwnerId,
            held: Vec<(JobId, u64)>,
            now: SystemTime,
            until: SystemTime,
        ) -> StoreFuture<'a, Vec<(JobId, Request)>> {
            self.inner.heartbeat(owner, held, now, until)
        }
        fn requests<'a>(&'a self, owner: &'a OwnerId) -> StoreFuture<'a, Vec<(JobId, Request)>> {
            self.inner.requests(owner)
        }
        fn recover(&self, recovery: Recovery, now: SystemTime) -> StoreFuture<'_, u64> {
            self.inner.recover(recovery, now)
        }
        fn wake_retries(&self, now: SystemTime) -> StoreFuture<'_, Wakeup> {
            self.inner.wake_retries(now)
        }
        fn get(&self, id: JobId) -> StoreFuture<'_, Option<JobRecord>> {
            self.inner.get(id)
        }
        fn list(&self) -> StoreFuture<'_, Vec<JobRecord>> {
            self.inner.list()
        }
        fn counts(&self) -> StoreFuture<'_, StateCounts> {
            self.inner.counts()
        }
        fn output<'a>(&'a self, id: JobId, name: &'a str) -> StoreFuture<'a, Option<JobOutput>> {
            self.inner.output(id, name)
        }
    }
}

#[tokio::test]
async fn a_step_that_cannot_be_saved_runs_again_from_the_last_saved_step() {
    let probe = Arc::new(Probe::default());
    let store = Arc::new(Flaky {
        inner: MemoryStore::new(),
        fail_report: false.into(),
    });
    let engine = Engine::start(store.clone(), registry(&probe), config(1))
        .await
        .unwrap();
    let id = engine
        .submit(Steps::new("f", 4, 20, &probe), 0)
        .await
        .unwrap();
    while engine.get(id).await.unwrap().steps < 2 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    store.fail_report.store(true, Ordering::SeqCst);
    let done = engine.wait(id).await.unwrap();
    assert_eq!((done.state, done.steps), (JobState::Success, 4));
    let log = probe.log();
    // One step ran twice (its save failed), restored from the saved state; the rest once.
    assert_eq!(log.len(), 5, "{log:?}");
    let mut sorted = log.clone();
    sorted.dedup();
    assert_eq!(sorted, ["f:0", "f:1", "f:2", "f:3"], "{log:?}");
    engine.shutdown().await;
}
