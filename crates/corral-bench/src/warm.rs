//! Warm start: a job taken by a warm-pool container, from `POST /v1/jobs`
//! to its first `output` event from `echo`, beside a bare container of the
//! same image doing the same `echo` (create, attach, start, first byte),
//! interleaved. Before each warm run the pool is full again, so every run
//! is served by the pool (the table says how many were).

use std::time::Duration;

use corral_testkit::TestServer;

/// Containers the benchmark's pool keeps ready.
const POOL_SIZE: usize = 2;

/// Samples of one run of the benchmark.
pub struct WarmFigures {
    /// corral with a pool: job created → first output event.
    pub warm_first_output: Vec<Duration>,
    /// corral with a pool: job created → job ended (container removed).
    pub warm_ended: Vec<Duration>,
    /// bare Docker: create + attach + start → first output byte of `echo`.
    pub bare_first_output: Vec<Duration>,
    /// Runs a pool container served.
    pub taken: u64,
}

/// Measures `runs` warm starts and as many bare containers.
pub async fn measure(runs: usize) -> anyhow::Result<WarmFigures> {
    let server = TestServer::start_with(|config| config.pool.size = POOL_SIZE).await;
    let image = corral_testkit::default_image().await;
    let docker = corral_testkit::docker().await;
    let mut figures = WarmFigures {
        warm_first_output: Vec::with_capacity(runs),
        warm_ended: Vec::with_capacity(runs),
        bare_first_output: Vec::with_capacity(runs),
        taken: 0,
    };
    full(&server).await?;
    crate::start::corral_job(&server).await?;
    crate::start::bare_container(&docker, &image, None).await?;
    let before = server.metric("corral_pool_taken_total").await.unwrap_or(0);
    for _ in 0..runs {
        full(&server).await?;
        let (first_output, ended) = crate::start::corral_job(&server).await?;
        figures.warm_first_output.push(first_output);
        figures.warm_ended.push(ended);
        let (first_output, _) = crate::start::bare_container(&docker, &image, None).await?;
        figures.bare_first_output.push(first_output);
    }
    figures.taken = server.metric("corral_pool_taken_total").await.unwrap_or(0) - before;
    let leftover = server.stop().await;
    anyhow::ensure!(leftover == 0, "{leftover} containers were left behind");
    Ok(figures)
}

/// Waits until the pool is full.
async fn full(server: &TestServer) -> anyhow::Result<()> {
    let full = corral_testkit::eventually(|| async {
        server.metric("corral_pool_idle_containers").await == Some(POOL_SIZE as u64)
    })
    .await;
    anyhow::ensure!(full, "the pool did not fill within 10 s");
    Ok(())
}
