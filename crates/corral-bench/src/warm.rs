//! Warm start: a job taken by a warm-pool container, from `POST /v1/jobs`
//! to its first `output` event from `echo`, beside the honest floor for a
//! container that already runs: `docker exec` of the same `echo` into a
//! running container of the same image, through the same Docker API
//! (exec create, start attached, first output byte). A bare `docker run`
//! (create, attach, start, first byte) is measured too, for scale.
//!
//! Two ways of asking, measured separately:
//! - steady: before each job the pool is full and its filler idle, so the
//!   job meets a ready pool and nothing else in flight;
//! - back to back: jobs one after another with no pause, the pool draining
//!   and refilling under them. Only jobs a pool container served count in
//!   the row; the misses are counted beside it.
//!
//! The floor and the bare run are interleaved with the steady jobs so a
//! noisy machine hits all of them alike.

use std::time::{Duration, Instant};

use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptions, RemoveContainerOptions, StartContainerOptions,
};
use corral_proto::EventKind;
use corral_proto::event::StatusData;
use corral_testkit::TestServer;
use futures_util::StreamExt;

/// Containers the benchmark's pool keeps ready.
pub const POOL_SIZE: usize = 2;

/// Samples of one run of the benchmark.
pub struct WarmFigures {
    /// corral, pool full and idle: job created → first output event.
    pub steady_first_output: Vec<Duration>,
    /// corral, pool full and idle: job created → ended, container removed.
    pub steady_ended: Vec<Duration>,
    /// Steady jobs a pool container served.
    pub steady_taken: usize,
    /// corral, back to back: job created → first output event, for the
    /// jobs a pool container served.
    pub back_first_output: Vec<Duration>,
    /// Back-to-back jobs the pool had nothing ready for (started cold).
    pub back_missed: usize,
    /// `docker exec` into a running container: create → first output byte.
    pub exec_first_output: Vec<Duration>,
    /// bare Docker: create + attach + start → first output byte of `echo`.
    pub bare_first_output: Vec<Duration>,
    /// Steady jobs, from the server's own timestamps (millisecond
    /// resolution): job created → stored `starting`, `running` and first
    /// `output` events.
    pub steady_server: [Vec<Duration>; 3],
}

/// Measures `runs` steady warm starts, `runs` back-to-back ones, and the
/// floors beside them.
pub async fn measure(runs: usize) -> anyhow::Result<WarmFigures> {
    let server = TestServer::start_with(|config| config.pool.size = POOL_SIZE).await;
    let image = corral_testkit::default_image().await;
    let docker = corral_testkit::docker().await;
    let floor = Floor::start(&docker, &image).await?;
    let measured = measure_with(&server, &docker, &image, &floor, runs).await;
    floor.remove(&docker).await;
    let leftover = server.stop().await;
    let figures = measured?;
    anyhow::ensure!(leftover == 0, "{leftover} containers were left behind");
    Ok(figures)
}

async fn measure_with(
    server: &TestServer,
    docker: &bollard::Docker,
    image: &str,
    floor: &Floor,
    runs: usize,
) -> anyhow::Result<WarmFigures> {
    let mut figures = WarmFigures {
        steady_first_output: Vec::with_capacity(runs),
        steady_ended: Vec::with_capacity(runs),
        steady_taken: 0,
        back_first_output: Vec::with_capacity(runs),
        back_missed: 0,
        exec_first_output: Vec::with_capacity(runs),
        bare_first_output: Vec::with_capacity(runs),
        steady_server: Default::default(),
    };
    // One of each first, unmeasured, so caches are warm on every side.
    full(server).await?;
    crate::start::corral_job(server).await?;
    floor.exec(docker).await?;
    crate::start::bare_container(docker, image, None).await?;
    for _ in 0..runs {
        full(server).await?;
        let before = taken(server).await;
        let (id, first_output, ended) = crate::start::corral_job_id(server).await?;
        if taken(server).await > before {
            figures.steady_taken += 1;
        }
        for (samples, at) in figures
            .steady_server
            .iter_mut()
            .zip(server_times(server, &id).await?)
        {
            samples.push(at);
        }
        figures.steady_first_output.push(first_output);
        figures.steady_ended.push(ended);
        full(server).await?;
        figures.exec_first_output.push(floor.exec(docker).await?);
        let (first_output, _) = crate::start::bare_container(docker, image, None).await?;
        figures.bare_first_output.push(first_output);
    }
    full(server).await?;
    for _ in 0..runs {
        let before = taken(server).await;
        let (first_output, _) = crate::start::corral_job(server).await?;
        if taken(server).await > before {
            figures.back_first_output.push(first_output);
        } else {
            figures.back_missed += 1;
        }
    }
    Ok(figures)
}

/// Job created → its stored `starting`, `running` and first `output`
/// events, by the server's clock.
async fn server_times(server: &TestServer, id: &str) -> anyhow::Result<[Duration; 3]> {
    let created = server.job(id).await.created_at;
    let events = server.client.events_page(id, 0, 1000).await?.events;
    let at = |wanted: &dyn Fn(&corral_proto::Event) -> bool| {
        events
            .iter()
            .find(|event| wanted(event))
            .map(|event| (event.ts - created).unsigned_abs())
            .ok_or_else(|| anyhow::anyhow!("job {id} lacks an event the breakdown needs"))
    };
    let state = |name: &'static str| {
        move |event: &corral_proto::Event| {
            event
                .payload::<StatusData>()
                .and_then(|status| status.state)
                .is_some_and(|state| state.as_str() == name)
        }
    };
    Ok([
        at(&state("starting"))?,
        at(&state("running"))?,
        at(&|event| event.kind == EventKind::Output)?,
    ])
}

/// Jobs the pool has served so far.
async fn taken(server: &TestServer) -> u64 {
    server.metric("corral_pool_taken_total").await.unwrap_or(0)
}

/// Waits until the pool is full and the filler has nothing in flight.
pub async fn full(server: &TestServer) -> anyhow::Result<()> {
    let full = corral_testkit::eventually(|| async {
        server.metric("corral_pool_idle_containers").await == Some(POOL_SIZE as u64)
    })
    .await;
    anyhow::ensure!(full, "the pool did not fill within 10 s");
    Ok(())
}

/// A running container of the benchmark's image, for `docker exec`.
pub struct Floor {
    /// Its id.
    pub id: String,
}

impl Floor {
    /// Starts one, its command a long `sleep`.
    pub async fn start(docker: &bollard::Docker, image: &str) -> anyhow::Result<Self> {
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            cmd: Some(vec!["sleep".into(), "3600".into()]),
            labels: Some([("corral.job".to_owned(), "bench-floor".to_owned())].into()),
            host_config: Some(bollard::models::HostConfig {
                network_mode: Some("none".into()),
                ..bollard::models::HostConfig::default()
            }),
            ..ContainerCreateBody::default()
        };
        let created = docker
            .create_container(None::<CreateContainerOptions>, body)
            .await?;
        let floor = Self { id: created.id };
        if let Err(error) = docker
            .start_container(&floor.id, None::<StartContainerOptions>)
            .await
        {
            floor.remove(docker).await;
            return Err(error.into());
        }
        Ok(floor)
    }

    /// `echo hello` exec'd into the running container: exec create →
    /// first output byte.
    async fn exec(&self, docker: &bollard::Docker) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let exec = docker
            .create_exec(
                &self.id,
                CreateExecOptions::<String> {
                    cmd: Some(vec!["echo".into(), "hello".into()]),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..CreateExecOptions::default()
                },
            )
            .await?;
        let StartExecResults::Attached { mut output, .. } =
            docker.start_exec(&exec.id, None).await?
        else {
            anyhow::bail!("the exec started detached");
        };
        let first = output
            .next()
            .await
            .ok_or_else(|| anyhow::anyhow!("the exec printed nothing"))??;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            first.to_string().contains("hello"),
            "the exec printed {first}"
        );
        while output.next().await.is_some() {}
        Ok(elapsed)
    }

    /// Removes it.
    pub async fn remove(&self, docker: &bollard::Docker) {
        let remove = RemoveContainerOptions {
            force: true,
            ..RemoveContainerOptions::default()
        };
        let _ = docker.remove_container(&self.id, Some(remove)).await;
    }
}

impl Floor {
    /// `true` exec'd into the running container, through Docker's API: exec
    /// create → start attached → its end (the round trip `docker exec` makes).
    pub async fn exec_true(&self, docker: &bollard::Docker) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let exec = docker
            .create_exec(
                &self.id,
                CreateExecOptions::<String> {
                    cmd: Some(vec!["true".into()]),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..CreateExecOptions::default()
                },
            )
            .await?;
        if let StartExecResults::Attached { mut output, .. } =
            docker.start_exec(&exec.id, None).await?
        {
            while output.next().await.is_some() {}
        }
        let code = docker.inspect_exec(&exec.id).await?.exit_code;
        let elapsed = started.elapsed();
        anyhow::ensure!(code == Some(0), "`true` exited {code:?}");
        Ok(elapsed)
    }
}
