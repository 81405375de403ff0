//! Sandboxes: create one and run its first command (`echo hello`, its
//! result back through `?wait`), from a warm pool and cold; an exec round
//! trip of `true` in a running sandbox beside `docker exec` of `true` into
//! a running container of the same image, through Docker's API, in the
//! same run, interleaved; and a 100 MB file up and down beside `docker cp`
//! (Docker's archive API) into and out of that container.

use std::time::{Duration, Instant};

use bollard::query_parameters::{DownloadFromContainerOptions, UploadToContainerOptions};
use corral_testkit::TestServer;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::warm::{Floor, POOL_SIZE, full};

/// The file moved up and down.
pub const FILE_BYTES: usize = 100 << 20;
/// File transfers measured on each side.
const FILE_RUNS: usize = 3;

/// Samples of one run.
pub struct SandboxFigures {
    /// Pool full: `POST /v1/sandboxes` → first exec's result.
    pub warm_first: Vec<Duration>,
    /// No pool: the same.
    pub cold_first: Vec<Duration>,
    /// `true` in a running sandbox, `?wait`: call → result.
    pub exec_true: Vec<Duration>,
    /// `docker exec` of `true` into a running container.
    pub docker_exec: Vec<Duration>,
    /// 100 MB up: `PUT …/files` → 204.
    pub upload: Vec<Duration>,
    /// 100 MB down: `GET …/files` → last byte.
    pub download: Vec<Duration>,
    /// `docker cp` in: archive upload of the same file.
    pub cp_in: Vec<Duration>,
    /// `docker cp` out: archive download of it.
    pub cp_out: Vec<Duration>,
}

/// Measures `runs` of each.
pub async fn measure(runs: usize) -> anyhow::Result<SandboxFigures> {
    let mut figures = SandboxFigures {
        warm_first: Vec::new(),
        cold_first: Vec::new(),
        exec_true: Vec::new(),
        docker_exec: Vec::new(),
        upload: Vec::new(),
        download: Vec::new(),
        cp_in: Vec::new(),
        cp_out: Vec::new(),
    };
    let cold = TestServer::start().await;
    let measured = first_commands(&cold, runs, None, &mut figures.cold_first).await;
    let leftover = cold.stop().await;
    measured?;
    anyhow::ensure!(leftover == 0, "{leftover} containers were left behind");

    let warm = TestServer::start_with(|config| config.pool.size = POOL_SIZE).await;
    let image = corral_testkit::default_image().await;
    let docker = corral_testkit::docker().await;
    let floor = Floor::start(&docker, &image).await?;
    let measured = async {
        first_commands(&warm, runs, Some(()), &mut figures.warm_first).await?;
        round_trips(&warm, &docker, &floor, runs, &mut figures).await?;
        transfers(&warm, &docker, &floor, &mut figures).await
    }
    .await;
    floor.remove(&docker).await;
    let leftover = warm.stop().await;
    measured?;
    anyhow::ensure!(leftover == 0, "{leftover} containers were left behind");
    Ok(figures)
}

async fn post(server: &TestServer, path: &str, body: &Value) -> anyhow::Result<Value> {
    let (status, answer) = server.post(path, &body.to_string()).await;
    anyhow::ensure!(status.is_success(), "{path}: {status} {answer}");
    Ok(answer)
}

async fn delete(server: &TestServer, id: &str) -> anyhow::Result<()> {
    let path = format!("/v1/sandboxes/{id}");
    let (status, answer) = server
        .call(reqwest::Method::DELETE, &path, None, Some(&server.token))
        .await;
    anyhow::ensure!(status.is_success(), "{path}: {status} {answer}");
    let ended = corral_testkit::eventually(|| async {
        let (_, sandbox) = server.get(&path).await;
        sandbox["state"] == "ended"
    })
    .await;
    anyhow::ensure!(ended, "sandbox {id} did not end");
    Ok(())
}

/// A new sandbox and its first `echo hello`, `runs` times; with `pool`,
/// the pool full before each.
async fn first_commands(
    server: &TestServer,
    runs: usize,
    pool: Option<()>,
    samples: &mut Vec<Duration>,
) -> anyhow::Result<()> {
    for run in 0..=runs {
        if pool.is_some() {
            full(server).await?;
        }
        let started = Instant::now();
        let sandbox = post(server, "/v1/sandboxes", &json!({})).await?;
        let id = sandbox["id"].as_str().unwrap_or_default().to_owned();
        let result = post(
            server,
            &format!("/v1/sandboxes/{id}/exec?wait=60"),
            &json!({"cmd": ["echo", "hello"]}),
        )
        .await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            result["stdout"] == "hello\n",
            "the first command said {result}"
        );
        // The first run warms caches on every side; it is not counted.
        if run > 0 {
            samples.push(elapsed);
        }
        delete(server, &id).await?;
    }
    Ok(())
}

/// `true` in one running sandbox and `docker exec` of `true`, interleaved.
async fn round_trips(
    server: &TestServer,
    docker: &bollard::Docker,
    floor: &Floor,
    runs: usize,
    figures: &mut SandboxFigures,
) -> anyhow::Result<()> {
    let sandbox = post(server, "/v1/sandboxes", &json!({})).await?;
    let id = sandbox["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/v1/sandboxes/{id}/exec?wait=60");
    for run in 0..=runs * 5 {
        let started = Instant::now();
        let result = post(server, &path, &json!({"cmd": ["true"]})).await?;
        let ours = started.elapsed();
        anyhow::ensure!(result["exit_code"] == 0, "`true` said {result}");
        let theirs = floor.exec_true(docker).await?;
        if run > 0 {
            figures.exec_true.push(ours);
            figures.docker_exec.push(theirs);
        }
    }
    delete(server, &id).await
}

/// 100 MB up and down through the sandbox file API, and through Docker's
/// archive API into and out of the floor container, interleaved.
async fn transfers(
    server: &TestServer,
    docker: &bollard::Docker,
    floor: &Floor,
    figures: &mut SandboxFigures,
) -> anyhow::Result<()> {
    let mut rng = crate::rng::Rng::new(0x5a17_b0c5);
    let file = bytes::Bytes::from(rng.bytes(FILE_BYTES));
    // Every download is scanned for every stored secret in all its forms:
    // as many as the leak detector's own benchmark knows.
    for index in 0..crate::redact::SECRETS {
        let value = rng.string(
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            32,
        );
        server.put_secret(&format!("BENCH_{index}"), &value).await;
    }
    let sandbox = post(
        server,
        "/v1/sandboxes",
        &json!({"limits": {"tmpfs": "256m", "memory": "512m"}}),
    )
    .await?;
    let id = sandbox["id"].as_str().unwrap_or_default().to_owned();
    let http = reqwest::Client::builder().no_proxy().build()?;
    let url = format!("{}/v1/sandboxes/{id}/files?path=/tmp/blob", server.url);
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(FILE_BYTES as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "blob", &file[..])?;
    let tar = bytes::Bytes::from(tar.into_inner()?);
    for _ in 0..FILE_RUNS {
        let started = Instant::now();
        let response = http
            .put(&url)
            .bearer_auth(&server.token)
            .body(file.clone())
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "upload: {}",
            response.status()
        );
        figures.upload.push(started.elapsed());

        let started = Instant::now();
        let response = http.get(&url).bearer_auth(&server.token).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "download: {}",
            response.status()
        );
        let back = response.bytes().await?;
        figures.download.push(started.elapsed());
        anyhow::ensure!(back == file, "the file came back changed");

        let started = Instant::now();
        docker
            .upload_to_container(
                &floor.id,
                Some(UploadToContainerOptions {
                    path: "/tmp".into(),
                    ..UploadToContainerOptions::default()
                }),
                bollard::body_full(tar.clone()),
            )
            .await?;
        figures.cp_in.push(started.elapsed());

        let started = Instant::now();
        let mut stream = docker.download_from_container(
            &floor.id,
            Some(DownloadFromContainerOptions {
                path: "/tmp/blob".into(),
            }),
        );
        let mut size = 0;
        while let Some(chunk) = stream.next().await {
            size += chunk?.len();
        }
        figures.cp_out.push(started.elapsed());
        anyhow::ensure!(size >= FILE_BYTES, "docker cp brought back {size} bytes");
    }
    delete(server, &id).await
}
