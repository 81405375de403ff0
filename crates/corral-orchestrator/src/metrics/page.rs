//! The metrics page in Prometheus' text exposition format, rendered from a
//! [`Snapshot`] handed to it: it reads nothing itself.

use std::fmt::Write as _;

use corral_proto::JobState;

use super::HistogramSnapshot;

/// Everything the metrics page shows, gathered at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Jobs stored, by state (a state missing here has none).
    pub jobs_by_state: Vec<(JobState, u64)>,
    /// Jobs holding a slot.
    pub running_containers: u64,
    /// Open event-stream followers.
    pub sse_subscribers: u64,
    /// Events stored since start.
    pub events_stored: u64,
    /// Secrets and token shapes redacted, ever.
    pub redactions: u64,
    /// Containers the reaper removed since start.
    pub reaper_removals: u64,
    /// Reaper passes completed since start.
    pub reaper_passes: u64,
    /// The warm pool's counts, when there is a pool.
    pub pool: Option<PoolStats>,
    /// Model calls proxied, ever.
    pub llm_calls: u64,
    /// Model tokens read, ever.
    pub llm_input_tokens: u64,
    /// Model tokens written, ever.
    pub llm_output_tokens: u64,
    /// Model cost in US dollars where priced, ever.
    pub llm_cost_usd: f64,
    /// From a job's claim to its container running.
    pub start_latency: HistogramSnapshot,
    /// What sandboxes do.
    pub sandboxes: SandboxMetrics,
}

/// The sandbox series of the metrics page.
#[derive(Debug, Clone)]
pub struct SandboxMetrics {
    /// Sandboxes by state (a state missing here has none).
    pub by_state: Vec<(corral_proto::sandbox::SandboxState, u64)>,
    /// Bytes of snapshots kept since start (sealed, deflated).
    pub snapshot_bytes: u64,
    /// Sandboxes whose container runs (or starts).
    pub running: u64,
    /// Execs running in them.
    pub execs_running: u64,
    /// Execs handed out since start.
    pub execs: u64,
    /// Bytes uploaded into sandboxes since start.
    pub bytes_in: u64,
    /// Bytes downloaded from sandboxes since start.
    pub bytes_out: u64,
    /// How long ended execs ran.
    pub exec_latency: HistogramSnapshot,
}

/// What the pool holds and has done, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Started containers waiting for a job.
    pub idle: usize,
    /// Jobs that took a pool container.
    pub taken: u64,
    /// Jobs the pool could have served but had nothing ready for.
    pub missed: u64,
}

/// The metrics page of `snapshot`.
pub fn render(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let counts = &snapshot.jobs_by_state;
    let _ = writeln!(
        out,
        "# HELP corral_jobs Jobs by state.\n# TYPE corral_jobs gauge"
    );
    for state in JobState::ALL {
        let count = counts
            .iter()
            .find(|(counted, _)| *counted == state)
            .map_or(0, |(_, count)| *count);
        let _ = writeln!(out, "corral_jobs{{state=\"{}\"}} {count}", state.as_str());
    }
    let gauges = [
        (
            "corral_running_containers",
            "gauge",
            "Jobs holding a slot (their containers starting or running).",
            snapshot.running_containers,
        ),
        (
            "corral_sse_subscribers",
            "gauge",
            "Open event-stream followers.",
            snapshot.sse_subscribers,
        ),
        (
            "corral_events_stored_total",
            "counter",
            "Events stored since start.",
            snapshot.events_stored,
        ),
        (
            "corral_redactions_total",
            "counter",
            "Secrets and token shapes redacted, ever.",
            snapshot.redactions,
        ),
        (
            "corral_reaper_removals_total",
            "counter",
            "Containers the reaper removed since start.",
            snapshot.reaper_removals,
        ),
        (
            "corral_reaper_passes_total",
            "counter",
            "Reaper passes completed since start.",
            snapshot.reaper_passes,
        ),
    ];
    let pool = snapshot.pool.map(pool_series).into_iter().flatten();
    let sandboxes = &snapshot.sandboxes;
    let gauges = gauges
        .into_iter()
        .chain(pool)
        .chain(sandbox_series(sandboxes))
        .chain(llm_series(snapshot));
    for (name, kind, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP corral_llm_cost_usd_total Model cost in US dollars where priced, ever.\n\
         # TYPE corral_llm_cost_usd_total counter\ncorral_llm_cost_usd_total {}",
        snapshot.llm_cost_usd
    );
    histogram(
        &mut out,
        "corral_job_start_seconds",
        "From a job's claim to its container running.",
        &snapshot.start_latency,
    );
    sandbox_states(&mut out, sandboxes);
    histogram(
        &mut out,
        "corral_sandbox_exec_seconds",
        "How long sandbox execs ran, as their workers reported.",
        &sandboxes.exec_latency,
    );
    out
}

fn histogram(out: &mut String, name: &str, help: &str, latency: &HistogramSnapshot) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (bound, count) in &latency.buckets {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {count}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", latency.count);
    let _ = writeln!(out, "{name}_sum {}", latency.sum);
    let _ = writeln!(out, "{name}_count {}", latency.count);
}

/// Sandboxes by state, and the snapshot bytes kept.
fn sandbox_states(out: &mut String, sandboxes: &SandboxMetrics) {
    let _ = writeln!(
        out,
        "# HELP corral_sandboxes Sandboxes by state.\n# TYPE corral_sandboxes gauge"
    );
    for state in corral_proto::sandbox::SandboxState::ALL {
        let count = sandboxes
            .by_state
            .iter()
            .find(|(counted, _)| *counted == state)
            .map_or(0, |(_, count)| *count);
        let _ = writeln!(
            out,
            "corral_sandboxes{{state=\"{}\"}} {count}",
            state.as_str()
        );
    }
    let _ = writeln!(
        out,
        "# HELP corral_sandbox_snapshot_bytes_total Bytes of sandbox snapshots kept since start.\n\
         # TYPE corral_sandbox_snapshot_bytes_total counter\ncorral_sandbox_snapshot_bytes_total {}",
        sandboxes.snapshot_bytes
    );
}

/// The model-call counters.
fn llm_series(snapshot: &Snapshot) -> [(&'static str, &'static str, &'static str, u64); 3] {
    [
        (
            "corral_llm_calls_total",
            "counter",
            "Model calls proxied, ever.",
            snapshot.llm_calls,
        ),
        (
            "corral_llm_input_tokens_total",
            "counter",
            "Model tokens read, ever.",
            snapshot.llm_input_tokens,
        ),
        (
            "corral_llm_output_tokens_total",
            "counter",
            "Model tokens written, ever.",
            snapshot.llm_output_tokens,
        ),
    ]
}

/// The sandbox counters and gauges.
fn sandbox_series(
    sandboxes: &SandboxMetrics,
) -> [(&'static str, &'static str, &'static str, u64); 5] {
    [
        (
            "corral_sandboxes_running",
            "gauge",
            "Sandboxes whose container starts or runs.",
            sandboxes.running,
        ),
        (
            "corral_sandbox_execs_running",
            "gauge",
            "Execs running in sandboxes.",
            sandboxes.execs_running,
        ),
        (
            "corral_sandbox_execs_total",
            "counter",
            "Execs handed to sandboxes since start.",
            sandboxes.execs,
        ),
        (
            "corral_sandbox_upload_bytes_total",
            "counter",
            "Bytes uploaded into sandboxes since start.",
            sandboxes.bytes_in,
        ),
        (
            "corral_sandbox_download_bytes_total",
            "counter",
            "Bytes downloaded from sandboxes since start.",
            sandboxes.bytes_out,
        ),
    ]
}

/// The warm pool's series, when there is a pool.
fn pool_series(pool: PoolStats) -> [(&'static str, &'static str, &'static str, u64); 3] {
    [
        (
            "corral_pool_idle_containers",
            "gauge",
            "Warm-pool containers started and waiting for a job.",
            pool.idle as u64,
        ),
        (
            "corral_pool_taken_total",
            "counter",
            "Jobs that started in a warm-pool container.",
            pool.taken,
        ),
        (
            "corral_pool_missed_total",
            "counter",
            "Jobs the pool could have served that found it empty.",
            pool.missed,
        ),
    ]
}
