//! Event ingest and fan-out, end to end: real exec jobs whose workers post
//! their output over their sockets, while [`SUBSCRIBERS`] SSE connections
//! to the user API (spread evenly over the jobs, opened before any job
//! prints) read every event, serialised and sent over HTTP. Each run has a
//! fresh server: [`PACED_RUNS`] with a paced load, one flat out ([`Load`]).
//!
//! Each job waits for a file in its project directory, then prints (the
//! worker merges what piles up on one stream into one event, and the
//! server joins one stream's consecutive output within a batch, so events
//! are counted as the store holds them, and the lines in them too). The
//! file is written for every job at once, once all jobs run and every
//! subscriber is connected.
//!
//! Figures: `output` events ingested per second in all (from the first to
//! the last stored, by the store's timestamps), the lines they held,
//! delivered per second across all subscribers, and the time from the
//! start until every subscriber had every event of its job. Every
//! subscriber must receive every event of its job once and in order, and
//! as many as the store holds, and each job's stored output must be
//! exactly the lines it printed, stream by stream, in order; else the run
//! fails.
//!
//! The subscribers run on a runtime of their own ([`READER_THREADS`]
//! threads), so the CPU the server used and the CPU its readers used are
//! told apart (`cpu`), beside the machine's.

mod cpu;
mod follower;
mod load;

use std::time::{Duration, Instant};

use anyhow::Context;
use corral_proto::{Event, EventKind, JobState};
use corral_testkit::{TestServer, reqwest};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use follower::Received;
pub use load::Load;

/// SSE connections, spread evenly over the jobs.
pub const SUBSCRIBERS: usize = 100;
/// Longest wait for jobs to start and subscribers to connect.
const READY_DEADLINE: Duration = Duration::from_mins(1);
/// Longest wait, from the start signal, for every subscriber to reach its
/// job's end: a job that hangs fails the run instead of stalling it until
/// its own timeout.
const RUN_DEADLINE: Duration = Duration::from_mins(2);
/// Threads of the subscribers' runtime: one a core.
const READER_THREADS: usize = 2;
/// Runs of the paced load, whose figure the goal is judged on: single
/// runs on one shared 2-core machine gave from 39k to 51k events a second
/// within a few hours, so the verdict is on the median run.
pub const PACED_RUNS: usize = 3;

/// What one run measured.
pub struct FanoutFigures {
    /// How the jobs printed.
    pub load: Load,
    /// Lines in the stored `output` events, all jobs: every line printed,
    /// each once and in order (checked).
    pub lines: u64,
    /// `output` events stored, all jobs.
    pub outputs: u64,
    /// Events of every kind stored, all jobs.
    pub events: u64,
    /// From the first to the last stored `output` event (store timestamps).
    pub ingest: Duration,
    /// `output` events received, all subscribers.
    pub delivered: u64,
    /// From the first to the last `output` event received by any subscriber.
    pub delivery: Duration,
    /// SSE body bytes read over HTTP, all subscribers.
    pub bytes: u64,
    /// From the start signal until the last event was stored.
    pub stored_all: Duration,
    /// From the start signal until every subscriber had every event of its job.
    pub everyone_had_all: Duration,
    /// CPU used from the start signal until every subscriber was done,
    /// when `/proc` could be read.
    pub cpu: Option<cpu::CpuSplit>,
}

impl FanoutFigures {
    #[expect(clippy::cast_precision_loss, reason = "event counts far below 2^52")]
    pub fn ingested_per_s(&self) -> f64 {
        self.outputs as f64 / self.ingest.as_secs_f64()
    }

    #[expect(clippy::cast_precision_loss, reason = "line counts far below 2^52")]
    pub fn lines_per_s(&self) -> f64 {
        self.lines as f64 / self.ingest.as_secs_f64()
    }

    #[expect(clippy::cast_precision_loss, reason = "event counts far below 2^52")]
    pub fn lines_per_event(&self) -> f64 {
        self.lines as f64 / self.outputs as f64
    }

    #[expect(clippy::cast_precision_loss, reason = "event counts far below 2^52")]
    pub fn delivered_per_s(&self) -> f64 {
        self.delivered as f64 / self.delivery.as_secs_f64()
    }
}

/// [`PACED_RUNS`] runs of the paced load, then one flat out, each on a
/// fresh server.
pub async fn measure() -> anyhow::Result<Vec<FanoutFigures>> {
    let mut all = Vec::with_capacity(PACED_RUNS + 1);
    let loads = std::iter::repeat_n(Load::Paced, PACED_RUNS).chain([Load::FlatOut]);
    for load in loads {
        let server =
            TestServer::start_with(|config| config.max_concurrent_jobs = load.jobs()).await;
        let figures = run(&server, load).await;
        let leftover = server.stop().await;
        let figures = figures?;
        anyhow::ensure!(leftover == 0, "{leftover} containers were left behind");
        all.push(figures);
    }
    Ok(all)
}

async fn run(server: &TestServer, load: Load) -> anyhow::Result<FanoutFigures> {
    let jobs = load.jobs();
    let script = load.script();
    let projects: Vec<tempfile::TempDir> =
        (0..jobs).map(|_| corral_testkit::job_project()).collect();
    let mut ids = Vec::with_capacity(jobs);
    for project in &projects {
        let spec = json!({
            "command": ["sh", "-c", script],
            "project": project.path().to_string_lossy(),
        });
        ids.push(server.create(&spec).await);
    }
    let readers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(READER_THREADS)
        .thread_name(cpu::SUBSCRIBER_THREAD)
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let (connected, mut connections) = mpsc::channel(SUBSCRIBERS);
    let mut followers = JoinSet::new();
    for index in 0..SUBSCRIBERS {
        let job = index % jobs;
        let url = format!("{}/v1/jobs/{}/events/stream", server.url, ids[job]);
        followers.spawn_on(
            follower::follow(
                http.clone(),
                url,
                server.token.clone(),
                job,
                connected.clone(),
            ),
            readers.handle(),
        );
    }
    drop(connected);
    let received = follow_all(server, &ids, &projects, &mut connections, &mut followers).await;
    readers.shutdown_background();
    let (received, started, started_wall, cpu) = received?;
    let mut stored = Vec::with_capacity(jobs);
    for id in &ids {
        let job = server.job(id).await;
        anyhow::ensure!(
            job.state == JobState::Succeeded,
            "job {id} ended {:?}: {:?}",
            job.state,
            job.reason
        );
        stored.push(all_events(server, id).await?);
    }
    let mut figures = figures(load, &stored, &received, started, started_wall)?;
    figures.cpu = cpu;
    Ok(figures)
}

/// What every subscriber received, with when the start signal was given
/// and the CPU used from then until the last subscriber was done.
type Followed = (
    Vec<Received>,
    Instant,
    time::OffsetDateTime,
    Option<cpu::CpuSplit>,
);

/// Gives the start signal once everything is ready, and waits for every
/// subscriber to reach its job's end.
async fn follow_all(
    server: &TestServer,
    ids: &[String],
    projects: &[tempfile::TempDir],
    connections: &mut mpsc::Receiver<()>,
    followers: &mut JoinSet<anyhow::Result<Received>>,
) -> anyhow::Result<Followed> {
    ready(server, ids, connections).await?;
    let before = cpu::snapshot();
    let started = Instant::now();
    let started_wall = time::OffsetDateTime::now_utc();
    for project in projects {
        std::fs::write(project.path().join("go"), b"")?;
    }
    let mut received = Vec::with_capacity(SUBSCRIBERS);
    let deadline = started + RUN_DEADLINE;
    while let Some(done) = tokio::time::timeout_at(deadline.into(), followers.join_next())
        .await
        .with_context(|| {
            format!(
                "{} of {SUBSCRIBERS} subscribers had not reached their job's end {}s after the start",
                followers.len(),
                RUN_DEADLINE.as_secs()
            )
        })?
    {
        received.push(done??);
    }
    let cpu = before
        .zip(cpu::snapshot())
        .map(|(before, after)| before.until(&after));
    Ok((received, started, started_wall, cpu))
}

/// Waits until every job runs (its worker is waiting for the file) and
/// every subscriber is connected.
async fn ready(
    server: &TestServer,
    ids: &[String],
    connections: &mut mpsc::Receiver<()>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_DEADLINE;
    for _ in 0..SUBSCRIBERS {
        tokio::time::timeout_at(deadline.into(), connections.recv())
            .await
            .context("subscribers did not connect in time")?
            .context("a subscriber failed before connecting")?;
    }
    for id in ids {
        loop {
            let state = server.job(id).await.state;
            if state == JobState::Running {
                break;
            }
            anyhow::ensure!(
                !state.is_terminal(),
                "job {id} ended {state:?} before it started"
            );
            anyhow::ensure!(Instant::now() < deadline, "job {id} did not start in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// Every stored event of `id`, in pages.
async fn all_events(server: &TestServer, id: &str) -> anyhow::Result<Vec<Event>> {
    let mut events: Vec<Event> = Vec::new();
    loop {
        let after = events.last().map_or(0, |event| event.seq);
        let page = server.client.events_page(id, after, 1000).await?;
        if page.events.is_empty() {
            return Ok(events);
        }
        events.extend(page.events);
    }
}

/// The figures; fails unless every subscriber received all its job
/// stored, and the store holds every line printed.
fn figures(
    load: Load,
    stored: &[Vec<Event>],
    received: &[Received],
    started: Instant,
    started_wall: time::OffsetDateTime,
) -> anyhow::Result<FanoutFigures> {
    for follower in received {
        let job = &stored[follower.job];
        let outputs = job
            .iter()
            .filter(|event| event.kind == EventKind::Output)
            .count() as u64;
        anyhow::ensure!(
            follower.events == job.len() as u64 && follower.outputs == outputs,
            "a subscriber of job {} received {} events ({} output), the store holds {} ({outputs} output)",
            follower.job,
            follower.events,
            follower.outputs,
            job.len()
        );
    }
    let outputs: Vec<&Event> = stored
        .iter()
        .flatten()
        .filter(|event| event.kind == EventKind::Output)
        .collect();
    let mut lines = 0;
    for (index, job) in stored.iter().enumerate() {
        lines += load
            .check(job)
            .with_context(|| format!("job {index}'s stored output"))?;
    }
    let first_stored = outputs
        .iter()
        .map(|event| event.ts)
        .min()
        .context("no output stored")?;
    let last_stored = outputs
        .iter()
        .map(|event| event.ts)
        .max()
        .context("no output stored")?;
    let last_event = stored
        .iter()
        .flatten()
        .map(|event| event.ts)
        .max()
        .unwrap_or(last_stored);
    let first_delivered = received
        .iter()
        .filter_map(|follower| follower.first_output)
        .min();
    let last_delivered = received
        .iter()
        .filter_map(|follower| follower.last_output)
        .max();
    let everyone = received
        .iter()
        .filter_map(|follower| follower.last_event)
        .max();
    let (Some(first_delivered), Some(last_delivered), Some(everyone)) =
        (first_delivered, last_delivered, everyone)
    else {
        anyhow::bail!("no subscriber received any output");
    };
    Ok(FanoutFigures {
        load,
        lines,
        outputs: outputs.len() as u64,
        events: stored.iter().map(|job| job.len() as u64).sum(),
        ingest: (last_stored - first_stored).try_into()?,
        delivered: received.iter().map(|follower| follower.outputs).sum(),
        delivery: last_delivered - first_delivered,
        bytes: received.iter().map(|follower| follower.bytes).sum(),
        stored_all: (last_event - started_wall).try_into()?,
        everyone_had_all: everyone - started,
        cpu: None,
    })
}
