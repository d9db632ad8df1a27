//! Every action in every state, end to end through an engine, on both stores.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Probe, Steps, registry, wait_state};
use orthanc_jobs::{
    Action, Engine, EngineConfig, Error, JobError, JobId, JobState, MemoryStore, Store, Transition,
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

async fn check_every_cell(make_store: impl Fn() -> Arc<dyn Store>) {
    for state in JobState::ALL {
        for action in Action::ALL {
            let probe = Arc::new(Probe::default());
            let (engine, id, blocker) = job_in(state, make_store(), &probe).await;
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

#[tokio::test]
async fn every_action_in_every_state_in_memory() {
    check_every_cell(|| Arc::new(MemoryStore::new()) as Arc<dyn Store>).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn every_action_in_every_state_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    check_every_cell(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Arc::new(orthanc_jobs::SqliteStore::open(dir.path().join(format!("jobs{n}.db"))).unwrap())
            as Arc<dyn Store>
    })
    .await;
}
