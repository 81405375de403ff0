//! Scale: [`JOBS`] jobs at once (`echo hello`), all slots open, against as
//! many bare containers of the same image and command at once (create,
//! attach, start, wait, remove through the Docker API, as the `start`
//! section does for one), in the same run. Figures: jobs per second each
//! way, and the orchestrator's peak memory per job alive at once.
//!
//! Memory is measured in a process of its own: the bench runs itself
//! again as `corral-bench --child scale`, which prints its figures as one
//! JSON line. `VmHWM` is a process's peak; it is reset to the current RSS
//! once the server runs and one job went through (a one-off peak before,
//! such as loading the test image, once hid all growth), and that RSS is
//! the baseline; the peak's growth above it is divided
//! by the most jobs seen running at once (the `corral_jobs` gauge, polled
//! every [`POLL`]).

use std::time::{Duration, Instant};

use anyhow::Context;
use corral_proto::JobState;
use corral_testkit::TestServer;
use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::sync::watch;

/// Jobs started at once, and bare containers.
pub const JOBS: usize = 100;
/// How often the running jobs are counted.
pub const POLL: Duration = Duration::from_millis(20);
/// The argument that makes the bench run one section as a child.
pub const CHILD: &str = "--child";

/// What the run measured.
pub struct ScaleFigures {
    /// corral: the first job created → every job ended.
    pub corral_wall: Duration,
    /// Bare Docker: the first create → every container removed.
    pub bare_wall: Duration,
    /// The child's peak RSS before the jobs, and after them.
    pub baseline_kib: u64,
    pub peak_kib: u64,
    /// Most jobs seen in state `running` at once.
    pub most_running: u64,
    /// Most jobs seen holding a slot (starting or running) at once.
    pub most_slots: u64,
}

/// Runs the measurement in a fresh process and reads its figures.
pub async fn measure() -> anyhow::Result<ScaleFigures> {
    let bench = std::env::current_exe().context("the bench's own path")?;
    let output = tokio::process::Command::new(bench)
        .args([CHILD, "scale"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "the scale child failed ({}): {stdout}",
        output.status
    );
    let line = stdout
        .lines()
        .last()
        .context("the scale child printed nothing")?;
    from_json(&serde_json::from_str(line)?)
}

/// The child's work: measures, then prints the figures as one JSON line.
pub async fn child() -> anyhow::Result<String> {
    let figures = measure_here().await?;
    Ok(json!({
        "corral_wall_s": figures.corral_wall.as_secs_f64(),
        "bare_wall_s": figures.bare_wall.as_secs_f64(),
        "baseline_kib": figures.baseline_kib,
        "peak_kib": figures.peak_kib,
        "most_running": figures.most_running,
        "most_slots": figures.most_slots,
    })
    .to_string())
}

fn from_json(value: &Value) -> anyhow::Result<ScaleFigures> {
    let seconds = |key: &str| {
        value[key]
            .as_f64()
            .map(Duration::from_secs_f64)
            .with_context(|| format!("{key} in the child's figures"))
    };
    let count = |key: &str| {
        value[key]
            .as_u64()
            .with_context(|| format!("{key} in the child's figures"))
    };
    Ok(ScaleFigures {
        corral_wall: seconds("corral_wall_s")?,
        bare_wall: seconds("bare_wall_s")?,
        baseline_kib: count("baseline_kib")?,
        peak_kib: count("peak_kib")?,
        most_running: count("most_running")?,
        most_slots: count("most_slots")?,
    })
}

async fn measure_here() -> anyhow::Result<ScaleFigures> {
    let server = TestServer::start_with(|config| config.max_concurrent_jobs = JOBS).await;
    let measured = jobs_then_containers(&server).await;
    let leftover = server.stop().await;
    let figures = measured?;
    anyhow::ensure!(leftover == 0, "{leftover} containers were left behind");
    Ok(figures)
}

async fn jobs_then_containers(server: &TestServer) -> anyhow::Result<ScaleFigures> {
    let image = corral_testkit::default_image().await;
    let docker = corral_testkit::docker().await;
    let spec = json!({"command": ["echo", "hello"]});
    // One of each first, unmeasured.
    let warm = server.create(&spec).await;
    server.follow(&warm).await;
    crate::start::bare_container(&docker, &image, None).await?;
    corral_testkit::reset_peak_rss().context("resetting the peak RSS")?;
    let baseline_kib = corral_testkit::peak_rss_kib();

    let (stop, stopped) = watch::channel(false);
    let counting = count_running(server, stopped);
    let started = Instant::now();
    let run = async {
        let ids = join_all((0..JOBS).map(|_| server.create(&spec))).await;
        let ended = join_all(ids.iter().map(|id| server.follow(id))).await;
        let wall = started.elapsed();
        let _ = stop.send(true);
        (ended, wall)
    };
    let ((ended, corral_wall), (most_running, most_slots)) = tokio::join!(run, counting);
    let failed = ended
        .iter()
        .filter(|followed| followed.job.state != JobState::Succeeded)
        .count();
    anyhow::ensure!(failed == 0, "{failed} of {JOBS} jobs did not succeed");
    let peak_kib = corral_testkit::peak_rss_kib();

    let started = Instant::now();
    let bare =
        join_all((0..JOBS).map(|_| crate::start::bare_container(&docker, &image, None))).await;
    let bare_wall = started.elapsed();
    let failed = bare.iter().filter(|run| run.is_err()).count();
    anyhow::ensure!(failed == 0, "{failed} of {JOBS} bare containers failed");
    Ok(ScaleFigures {
        corral_wall,
        bare_wall,
        baseline_kib,
        peak_kib,
        most_running,
        most_slots,
    })
}

/// The most jobs running, and holding slots, seen at once until `stopped`.
async fn count_running(server: &TestServer, mut stopped: watch::Receiver<bool>) -> (u64, u64) {
    let (mut running, mut slots) = (0, 0);
    while !*stopped.borrow() {
        let (_, page) = server.get("/metrics").await;
        let page = page.as_str().unwrap_or_default();
        let count = |series| corral_testkit::metric_value(page, series).unwrap_or(0);
        running = running.max(count("corral_jobs{state=\"running\"}"));
        slots = slots.max(count("corral_running_containers"));
        let _ = tokio::time::timeout(POLL, stopped.changed()).await;
    }
    (running, slots)
}
