//! Cold start: a corral job from `POST /v1/jobs` to its first `output` event
//! from `echo`, against a bare container of the same image doing the same
//! `echo` through the same Docker API (create, attach, start, first output
//! byte; then wait and remove). The two are interleaved so drift on a noisy
//! machine hits both alike.

use std::time::{Duration, Instant};

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    AttachContainerOptions, CreateContainerOptions, RemoveContainerOptions, StartContainerOptions,
    WaitContainerOptions,
};
use corral_proto::EventKind;
use corral_testkit::TestServer;
use futures_util::StreamExt;
use serde_json::json;

/// Samples of one run of the benchmark.
pub struct StartFigures {
    /// corral: job created → first output event.
    pub corral_first_output: Vec<Duration>,
    /// corral: job created → job ended (container removed).
    pub corral_ended: Vec<Duration>,
    /// bare Docker: create + attach + start → first output byte of `echo`.
    pub bare_first_output: Vec<Duration>,
    /// bare Docker: create + start + wait → exited, then removed.
    pub bare_ended: Vec<Duration>,
}

/// Measures `runs` starts each way under the OCI runtime `oci` (Docker's
/// default, runc, when `None`), for corral and the bare container alike.
pub async fn measure(runs: usize, oci: Option<&str>) -> anyhow::Result<StartFigures> {
    let oci = oci.map(str::to_owned);
    let configured = oci.clone();
    let server = TestServer::start_with(move |config| config.oci_runtime = configured).await;
    let image = corral_testkit::default_image().await;
    let docker = corral_testkit::docker().await;
    let mut figures = StartFigures {
        corral_first_output: Vec::with_capacity(runs),
        corral_ended: Vec::with_capacity(runs),
        bare_first_output: Vec::with_capacity(runs),
        bare_ended: Vec::with_capacity(runs),
    };
    // One of each first, unmeasured, so caches are warm on both sides alike.
    corral_job(&server).await?;
    bare_container(&docker, &image, oci.as_deref()).await?;
    for _ in 0..runs {
        let (first_output, ended) = corral_job(&server).await?;
        figures.corral_first_output.push(first_output);
        figures.corral_ended.push(ended);
        let (first_output, ended) = bare_container(&docker, &image, oci.as_deref()).await?;
        figures.bare_first_output.push(first_output);
        figures.bare_ended.push(ended);
    }
    let leftover = server.stop().await;
    anyhow::ensure!(leftover == 0, "{leftover} containers were left behind");
    Ok(figures)
}

pub async fn corral_job(server: &TestServer) -> anyhow::Result<(Duration, Duration)> {
    let (_, first_output, ended) = corral_job_id(server).await?;
    Ok((first_output, ended))
}

/// One `echo hello` job, timed from outside: its id, job created → first
/// `output` event, and → ended.
pub async fn corral_job_id(server: &TestServer) -> anyhow::Result<(String, Duration, Duration)> {
    let started = Instant::now();
    let id = server.create(&json!({"command": ["echo", "hello"]})).await;
    let mut first_output = None;
    server
        .follow_until(&id, |event| {
            if event.kind == EventKind::Output && first_output.is_none() {
                first_output = Some(started.elapsed());
            }
            false
        })
        .await;
    let ended = started.elapsed();
    let first_output = first_output.ok_or_else(|| anyhow::anyhow!("job {id} printed nothing"))?;
    Ok((id, first_output, ended))
}

pub async fn bare_container(
    docker: &bollard::Docker,
    image: &str,
    oci: Option<&str>,
) -> anyhow::Result<(Duration, Duration)> {
    let started = Instant::now();
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        cmd: Some(vec!["echo".into(), "hello".into()]),
        labels: Some([("corral.job".to_owned(), "bench-bare".to_owned())].into()),
        host_config: Some(bollard::models::HostConfig {
            runtime: oci.map(str::to_owned),
            ..bollard::models::HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let created = docker
        .create_container(None::<CreateContainerOptions>, body)
        .await?;
    let attach = AttachContainerOptions {
        stdout: true,
        stderr: true,
        stream: true,
        ..AttachContainerOptions::default()
    };
    let mut attached = docker.attach_container(&created.id, Some(attach)).await?;
    docker
        .start_container(&created.id, None::<StartContainerOptions>)
        .await?;
    let _ = attached.output.next().await;
    let first_output = started.elapsed();
    let options = WaitContainerOptions {
        condition: "not-running".into(),
    };
    let _ = docker
        .wait_container(&created.id, Some(options))
        .next()
        .await;
    let remove = RemoveContainerOptions {
        force: true,
        ..RemoveContainerOptions::default()
    };
    docker.remove_container(&created.id, Some(remove)).await?;
    Ok((first_output, started.elapsed()))
}
