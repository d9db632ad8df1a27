//! The PostgreSQL part of the `jobs` bench: no-op steps per second and enqueue-to-start
//! latency with 1, 2 and 4 engines, each in a process of its own (this bench binary started
//! again with `JOBS_BENCH_ENGINE` set), on a cluster of its own started by test-support
//! (loopback, `fsync=off`: the figures are the engine's and the protocol's, not the disk's).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use orthanc_jobs::{
    Engine, EngineConfig, Job, JobRegistry, JobState, JobsHandle, PostgresStore, Recovery,
    StepContext, StepFuture, StepOutcome, Store,
};
use serde::{Deserialize, Serialize};
use test_support::postgres::Postgres;

/// The variable that makes this binary an engine process (its value: the database URL).
const ENGINE_VAR: &str = "JOBS_BENCH_ENGINE";

/// Steps per job in the throughput run.
const STEPS: u32 = 10;

/// A job of `left` no-op steps; its first step notes when it started (microseconds since the
/// epoch, this host's clock: the engines run on this host).
#[derive(Serialize, Deserialize)]
struct Steps {
    left: u32,
    started_us: Option<u64>,
}

impl Job for Steps {
    fn type_name(&self) -> &str {
        "Steps"
    }

    fn step<'a>(&'a mut self, _ctx: &'a StepContext) -> StepFuture<'a> {
        Box::pin(async move {
            if self.started_us.is_none() {
                self.started_us = Some(now_us());
            }
            self.left = self.left.saturating_sub(1);
            if self.left == 0 {
                StepOutcome::Success
            } else {
                StepOutcome::Continue
            }
        })
    }

    fn save(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(self)
    }

    fn reset(&mut self) {}
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// When this process is an engine: run one until standard input closes, and return true.
pub fn engine_process() -> bool {
    let Ok(url) = std::env::var(ENGINE_VAR) else {
        return false;
    };
    runtime().block_on(async {
        let store = Arc::new(PostgresStore::connect(&url).await.unwrap());
        let mut registry = JobRegistry::new();
        registry.register_serde::<Steps>("Steps");
        let mut config = EngineConfig::new();
        config
            .concurrent_jobs(8)
            .recovery(Recovery::ExpiredLeases)
            .poll_interval(Duration::from_secs(1));
        let engine = Engine::start(store, registry, config).await.unwrap();
        println!("ready");
        std::io::stdout().flush().unwrap();
        // Standard input closing (the bench ending, or dying) stops the engine.
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while BufReader::new(std::io::stdin())
                .read_line(&mut line)
                .unwrap_or(0)
                > 0
            {}
        })
        .await
        .unwrap();
        engine.shutdown().await;
    });
    true
}

/// Engine processes, stopped (standard input closed) on drop.
struct Engines(Vec<Child>);

impl Engines {
    fn start(url: &str, count: usize) -> Engines {
        let exe = std::env::current_exe().unwrap();
        let mut children = Vec::new();
        for _ in 0..count {
            let mut child = Command::new(&exe)
                .env(ENGINE_VAR, url)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert_eq!(line.trim(), "ready", "engine process said {line:?}");
            children.push(child);
        }
        Engines(children)
    }
}

impl Drop for Engines {
    fn drop(&mut self) {
        for child in &mut self.0 {
            drop(child.stdin.take());
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

/// What one run with `engines` engine processes measured.
pub struct Figures {
    pub engines: usize,
    pub steps_per_s: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Steps per second: `jobs` jobs of [`STEPS`] steps, all inserted at once.
async fn throughput(handle: &JobsHandle, jobs: usize) -> f64 {
    let batch: Vec<(Box<dyn Job>, i32)> = (0..jobs)
        .map(|_| {
            let job = Steps {
                left: STEPS,
                started_us: None,
            };
            (Box::new(job) as Box<dyn Job>, 0)
        })
        .collect();
    let started = Instant::now();
    handle.submit_many(batch).await.unwrap();
    let store = handle.store();
    loop {
        let counts = store.counts().await.unwrap();
        if counts.pending + counts.running + counts.retry == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (jobs as f64 * f64::from(STEPS)) / started.elapsed().as_secs_f64()
}

/// Enqueue-to-start latency of `n` one-step jobs submitted one at a time to idle engines.
async fn latency(handle: &JobsHandle, n: usize) -> (Duration, Duration) {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let job = Steps {
            left: 1,
            started_us: None,
        };
        let enqueued = now_us();
        let id = handle.submit(job, 0).await.unwrap();
        let record = loop {
            let record = handle.get(id).await.unwrap();
            if record.state == JobState::Success {
                break record;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let started = record.data["started_us"].as_u64().unwrap();
        samples.push(Duration::from_micros(started.saturating_sub(enqueued)));
    }
    samples.sort_unstable();
    (samples[n / 2], samples[n * 99 / 100])
}

/// The whole PostgreSQL run: 1, 2 and 4 engine processes, a fresh database for each.
pub fn run() -> Vec<Figures> {
    let cluster = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime();
    let mut figures = Vec::new();
    for engines in [1, 2, 4] {
        let url = cluster.create_database(&format!("bench{engines}")).unwrap();
        // The parent creates the schema before the engines start.
        let store: Arc<dyn Store> = Arc::new(rt.block_on(PostgresStore::connect(&url)).unwrap());
        let handle = JobsHandle::new(store);
        let running = Engines::start(&url, engines);
        rt.block_on(throughput(&handle, 300)); // warm-up
        let steps_per_s = rt.block_on(throughput(&handle, 2_000));
        let (p50, p99) = rt.block_on(latency(&handle, 300));
        drop(running);
        println!(
            "jobs/postgres: {engines} engine process(es) x 8 workers: {steps_per_s:.0} no-op \
             steps/s ({STEPS}-step jobs, 2,000 queued at once); enqueue-to-start p50 {p50:?}, \
             p99 {p99:?} (one job at a time, engines idle, woken by NOTIFY)"
        );
        figures.push(Figures {
            engines,
            steps_per_s,
            p50,
            p99,
        });
    }
    figures
}
