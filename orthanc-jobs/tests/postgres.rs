//! What only the PostgreSQL store does: wake-ups through `LISTEN`/`NOTIFY`, actions from
//! another process reaching a running step, hosts migrating the schema at once, and the step
//! log of owners and fencing tokens.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Probe, Steps, registry, wait_state};
use orthanc_jobs::{Engine, EngineConfig, JobState, JobsHandle, PostgresStore, Recovery, Store};
use test_support::postgres::Postgres;

fn cluster() -> Postgres {
    Postgres::start().unwrap_or_else(|e| panic!("{e}"))
}

/// An engine that would poll only every minute: anything it does sooner came from a
/// notification.
fn slow_polling() -> EngineConfig {
    let mut config = EngineConfig::new();
    config
        .concurrent_jobs(2)
        .recovery(Recovery::ExpiredLeases)
        .poll_interval(Duration::from_secs(60));
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_submits_and_cancels_and_the_idle_engine_hears_at_once() {
    let cluster = cluster();
    let url = cluster.url();
    let probe = Arc::new(Probe::default());
    let engine_store: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let engine = Engine::start(engine_store, registry(&probe), slow_polling())
        .await
        .unwrap();
    // Another process: its own store on the same database, no engine.
    let other = JobsHandle::new(Arc::new(PostgresStore::connect(&url).await.unwrap()));
    tokio::time::sleep(Duration::from_millis(200)).await; // the engine is idle, listening

    let mut latencies = Vec::new();
    for i in 0..5 {
        let submitted = Instant::now();
        let id = other
            .submit(Steps::new(&format!("n{i}"), 1, 0, &probe), 0)
            .await
            .unwrap();
        wait_state(&other, id, JobState::Success, Duration::from_secs(5)).await;
        latencies.push(submitted.elapsed());
    }
    let slowest = latencies.iter().max().copied().unwrap_or_default();
    assert!(slowest < Duration::from_secs(2), "{latencies:?}");

    // A cancel from the other process reaches the running step through its token.
    let id = other
        .submit(Steps::new("long", 2, 60_000, &probe), 0)
        .await
        .unwrap();
    wait_state(&other, id, JobState::Running, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let asked = Instant::now();
    other.cancel(id).await.unwrap();
    let record = wait_state(&other, id, JobState::Failure, Duration::from_secs(5)).await;
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    assert!(record.error.unwrap().is_canceled());
    assert!(probe.log().contains(&"long:canceled".to_owned()));

    // A pause from the other process stops the job at its next step boundary.
    let id = other
        .submit(Steps::new("paused", 3, 150, &probe), 0)
        .await
        .unwrap();
    wait_state(&other, id, JobState::Running, Duration::from_secs(5)).await;
    other.pause(id).await.unwrap();
    let record = wait_state(&other, id, JobState::Paused, Duration::from_secs(5)).await;
    assert!(record.steps < 3, "{record:?}");
    other.resume(id).await.unwrap();
    let done = wait_state(&other, id, JobState::Success, Duration::from_secs(5)).await;
    assert_eq!(done.steps, 3);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_starting_together_migrate_once_and_the_step_log_names_owners_and_tokens() {
    let cluster = cluster();
    let url = cluster.create_database("together").unwrap();
    let connects = (0..6).map(|_| {
        let url = url.clone();
        async move { PostgresStore::connect(&url).await }
    });
    let stores: Vec<PostgresStore> = futures_join_all(connects).await;
    assert_eq!(stores.len(), 6);

    let store = Arc::new(stores.into_iter().next().unwrap());
    let probe = Arc::new(Probe::default());
    let engine = Engine::start(store.clone(), registry(&probe), slow_polling())
        .await
        .unwrap();
    let record = engine
        .submit_and_wait(Steps::new("logged", 3, 0, &probe), 0)
        .await
        .unwrap();
    let steps = store.saved_steps().await.unwrap();
    let mine: Vec<(u64, u64)> = steps
        .iter()
        .filter(|s| s.id == record.id)
        .map(|s| {
            assert_eq!(&s.owner, engine.owner());
            (s.step, s.generation)
        })
        .collect();
    assert_eq!(mine, [(1, 1), (2, 1), (3, 1)]);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_is_survived() {
    let mut cluster = cluster();
    let url = cluster.url();
    let probe = Arc::new(Probe::default());
    let store: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let mut config = slow_polling();
    config
        .poll_interval(Duration::from_millis(50))
        .lease(Duration::from_millis(600));
    let engine = Engine::start(store, registry(&probe), config)
        .await
        .unwrap();
    let first = engine
        .submit(Steps::new("r", 8, 100, &probe), 0)
        .await
        .unwrap();
    wait_state(&engine, first, JobState::Running, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    cluster.stop().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.start_again().unwrap();
    // Jobs submitted after the restart reach the idle worker too (the listener reconnected).
    let second = engine
        .submit(Steps::new("after", 1, 0, &probe), 0)
        .await
        .unwrap();
    for id in [first, second] {
        let done = wait_state(&engine, id, JobState::Success, Duration::from_secs(20)).await;
        assert_eq!(done.state, JobState::Success);
    }
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_used_and_verified_when_the_url_asks() {
    let mut cluster = cluster();
    let cert = cluster.enable_tls().unwrap_or_else(|e| panic!("{e}"));
    let port = cluster.port();
    let root = cert.display();
    // Verified against the given root, by IP address and by name.
    for host in ["127.0.0.1", "localhost"] {
        let url = format!(
            "postgres://postgres@{host}:{port}/postgres?sslmode=verify-full&sslrootcert={root}"
        );
        let store = PostgresStore::connect(&url).await.unwrap();
        let handle = JobsHandle::new(Arc::new(store));
        let probe = Arc::new(Probe::default());
        handle
            .submit(Steps::new("tls", 1, 0, &probe), 0)
            .await
            .unwrap();
        assert_eq!(
            handle.list().await.unwrap().len(),
            if host == "localhost" { 2 } else { 1 }
        );
    }
    // The system's roots do not know this certificate: refused, not silently accepted.
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=require");
    let refused = PostgresStore::connect(&url).await.unwrap_err().to_string();
    assert!(
        refused.contains("TLS") || refused.contains("certificate"),
        "{refused}"
    );
}

/// Await every future (they run concurrently).
async fn futures_join_all<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = Result<T, orthanc_jobs::Error>> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap().unwrap());
    }
    results
}
