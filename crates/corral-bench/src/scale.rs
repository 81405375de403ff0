//! Scale: 100 short jobs at once (`true`), all slots open. Figures: wall
//! time, jobs per second, and the bench process's peak RSS (the orchestrator
//! runs in it) above its baseline, per job that was live at once.

use std::time::{Duration, Instant};

use corral_testkit::TestServer;
use futures_util::future::join_all;
use serde_json::json;

/// Jobs started at once.
pub const JOBS: usize = 100;

/// What the run measured.
pub struct ScaleFigures {
    pub wall: Duration,
    pub baseline_kib: u64,
    pub peak_kib: u64,
}

pub async fn measure() -> anyhow::Result<ScaleFigures> {
    let server = TestServer::start_with(|config| config.max_concurrent_jobs = JOBS).await;
    let warm = server.create(&json!({"command": ["true"]})).await;
    server.follow(&warm).await;
    let baseline_kib = corral_testkit::peak_rss_kib();
    let started = Instant::now();
    let spec = json!({"command": ["true"]});
    let ids = join_all((0..JOBS).map(|_| server.create(&spec))).await;
    let ended = join_all(ids.iter().map(|id| server.follow(id))).await;
    let wall = started.elapsed();
    let failed = ended
        .iter()
        .filter(|followed| followed.job.state != corral_proto::JobState::Succeeded)
        .count();
    anyhow::ensure!(failed == 0, "{failed} of {JOBS} jobs did not succeed");
    let peak_kib = corral_testkit::peak_rss_kib();
    let leftover = server.stop().await;
    anyhow::ensure!(leftover == 0, "{leftover} containers were left behind");
    Ok(ScaleFigures {
        wall,
        baseline_kib,
        peak_kib,
    })
}
