//! orthanc-jobs: no-op jobs per second in memory and with SQLite, and enqueue-to-start
//! latency. Runs on one core (a current-thread tokio runtime) and prints its figures. Then
//! PostgreSQL: no-op steps per second and enqueue-to-start latency with 1, 2 and 4 engines in
//! processes of their own ([`jobs_postgres`]).
//!
//! `cargo bench -p dicomweb-benches --bench jobs` (`-- postgres`: the PostgreSQL part only)

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orthanc_jobs::{
    Engine, EngineConfig, Job, JobRegistry, MemoryStore, SqliteStore, StepContext, StepFuture,
    StepOutcome, Store,
};
use tokio::sync::Notify;

mod jobs_postgres;

/// A job of one step that does nothing but count itself.
struct NoOp {
    done: Arc<(AtomicUsize, usize, Notify)>,
}

impl Job for NoOp {
    fn type_name(&self) -> &str {
        "NoOp"
    }

    fn step<'a>(&'a mut self, _ctx: &'a StepContext) -> StepFuture<'a> {
        Box::pin(async move {
            let (count, target, notify) = &*self.done;
            if count.fetch_add(1, Ordering::Relaxed) + 1 == *target {
                notify.notify_one();
            }
            StepOutcome::Success
        })
    }

    fn save(&self) -> Result<serde_json::Value, serde_json::Error> {
        Ok(serde_json::Value::Null)
    }

    fn reset(&mut self) {}
}

/// A job that notes when its first step starts.
struct Stamp {
    started: Arc<Mutex<Option<Instant>>>,
}

impl Job for Stamp {
    fn type_name(&self) -> &str {
        "Stamp"
    }

    fn step<'a>(&'a mut self, _ctx: &'a StepContext) -> StepFuture<'a> {
        Box::pin(async move {
            *self.started.lock().unwrap() = Some(Instant::now());
            StepOutcome::Success
        })
    }

    fn save(&self) -> Result<serde_json::Value, serde_json::Error> {
        Ok(serde_json::Value::Null)
    }

    fn reset(&mut self) {}
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn config(workers: usize) -> EngineConfig {
    let mut config = EngineConfig::new();
    config.concurrent_jobs(workers);
    config
}

/// CPU time of the calling thread (the whole engine runs on it; the SQLite writer thread
/// is not counted).
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let nanos = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(nanos)
}

/// Jobs per second of wall time and per second of this thread's CPU time.
struct Rate {
    wall: f64,
    cpu: f64,
}

/// Run `n` no-op jobs, submitted `batch` per call, keeping at most `window` unfinished.
async fn throughput(
    store: Arc<dyn Store>,
    workers: usize,
    n: usize,
    batch: usize,
    window: usize,
) -> Rate {
    let engine = Engine::start(store, JobRegistry::new(), config(workers))
        .await
        .unwrap();
    let done = Arc::new((AtomicUsize::new(0), n, Notify::new()));
    let started = Instant::now();
    let cpu = thread_cpu();
    let mut submitted = 0;
    while submitted < n {
        while submitted - done.0.load(Ordering::Relaxed) >= window {
            tokio::task::yield_now().await;
        }
        let count = batch.min(n - submitted);
        let jobs = (0..count)
            .map(|_| (Box::new(NoOp { done: done.clone() }) as Box<dyn Job>, 0))
            .collect();
        engine.submit_many(jobs).await.unwrap();
        submitted += count;
    }
    let notified = done.2.notified();
    if done.0.load(Ordering::Relaxed) < n {
        notified.await;
    }
    let elapsed = started.elapsed();
    let cpu = thread_cpu() - cpu;
    engine.shutdown().await;
    Rate {
        wall: n as f64 / elapsed.as_secs_f64(),
        cpu: n as f64 / cpu.as_secs_f64().max(1e-9),
    }
}

/// Enqueue-to-start latency of `n` jobs submitted one at a time to an idle engine.
async fn latency(store: Arc<dyn Store>, n: usize) -> (Duration, Duration) {
    let engine = Engine::start(store, JobRegistry::new(), config(2))
        .await
        .unwrap();
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Arc::new(Mutex::new(None));
        let enqueued = Instant::now();
        let job = Stamp {
            started: started.clone(),
        };
        engine.submit_and_wait(job, 0).await.unwrap();
        let at = started.lock().unwrap().unwrap();
        samples.push(at - enqueued);
    }
    engine.shutdown().await;
    samples.sort_unstable();
    let p50 = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    (p50, p99)
}

fn main() {
    if jobs_postgres::engine_process() {
        return;
    }
    if std::env::args().any(|arg| arg == "postgres") {
        postgres();
        return;
    }
    memory_and_sqlite();
    postgres();
}

fn postgres() {
    let figures = jobs_postgres::run();
    let four = figures.iter().find(|f| f.engines == 4).unwrap();
    println!(
        "RATIO jobs_postgres_4_engines_steps_per_s vs 5000: {:.2}",
        four.steps_per_s / 5_000.0
    );
    println!(
        "RATIO jobs_postgres_20ms vs start_latency_p99: {:.2}",
        Duration::from_millis(20).as_secs_f64() / four.p99.as_secs_f64().max(1e-9)
    );
    let worst = figures.iter().map(|f| f.p99).max().unwrap_or_default();
    let best_p50 = figures.iter().map(|f| f.p50).min().unwrap_or_default();
    println!("jobs/postgres: worst p99 over 1, 2, 4 engines {worst:?}; best p50 {best_p50:?}");
}

fn memory_and_sqlite() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();

    // Warm up allocator and code paths.
    rt.block_on(throughput(Arc::new(MemoryStore::new()), 1, 20_000, 1, 1000));

    let memory = rt.block_on(throughput(
        Arc::new(MemoryStore::new()),
        1,
        400_000,
        1,
        1000,
    ));
    println!(
        "jobs/memory: {:.0} no-op jobs/s wall, {:.0} jobs per CPU-second (1 worker, one core, submitted one by one, <= 1000 in flight)",
        memory.wall, memory.cpu
    );
    let deep = rt.block_on(throughput(
        Arc::new(MemoryStore::new()),
        4,
        300_000,
        1,
        usize::MAX,
    ));
    println!(
        "jobs/memory: {:.0} jobs/s wall, {:.0} per CPU-second (4 workers, all 300,000 queued before the first runs)",
        deep.wall, deep.cpu
    );

    let sqlite = |name: &str| -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(dir.path().join(name)).unwrap())
    };
    // Per job: Pending -> Running (claim) and Running -> Success (step report), plus the insert.
    let transitions = |jobs: f64| jobs * 2.0;
    let sqlite_one = rt.block_on(throughput(sqlite("one.db"), 1, 5_000, 1, 1));
    println!(
        "jobs/sqlite: {:.0} jobs/s = {:.0} transitions/s (1 worker, one job at a time: one transaction per call)",
        sqlite_one.wall,
        transitions(sqlite_one.wall)
    );
    let sqlite_batched = rt.block_on(throughput(sqlite("batched.db"), 16, 40_000, 500, 2000));
    println!(
        "jobs/sqlite: {:.0} jobs/s = {:.0} transitions/s (16 workers, group commit, inserts 500 per transaction)",
        sqlite_batched.wall,
        transitions(sqlite_batched.wall)
    );

    let (p50, p99) = rt.block_on(latency(Arc::new(MemoryStore::new()), 20_000));
    println!("jobs/latency memory: enqueue-to-start p50 {p50:?}, p99 {p99:?}");
    let (sp50, sp99) = rt.block_on(latency(sqlite("latency.db"), 2_000));
    println!("jobs/latency sqlite: enqueue-to-start p50 {sp50:?}, p99 {sp99:?}");

    println!(
        "RATIO jobs_memory_per_s vs 200000: {:.2}",
        memory.wall / 200_000.0
    );
    println!(
        "RATIO jobs_sqlite_transitions_per_s vs 5000: {:.2}",
        transitions(sqlite_batched.wall) / 5_000.0
    );
    println!(
        "RATIO jobs_latency_p99_memory vs 1ms: {:.2}",
        Duration::from_millis(1).as_secs_f64() / p99.as_secs_f64().max(1e-9)
    );
}
