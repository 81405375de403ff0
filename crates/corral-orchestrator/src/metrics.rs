//! Prometheus metrics in the text exposition format, rendered on request
//! from the job manager's own counters and the store.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use corral_proto::JobState;

use crate::jobs::JobManager;
use crate::store::StoreError;

/// Upper bounds (seconds) of the job start latency histogram.
const START_BUCKETS: [f64; 9] = [0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A fixed-bucket histogram. A std mutex: never held across an `.await`.
#[derive(Debug, Default)]
pub struct Histogram {
    inner: Mutex<HistogramData>,
}

#[derive(Debug, Default)]
struct HistogramData {
    counts: [u64; START_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, value: Duration) {
        let seconds = value.as_secs_f64();
        let mut data = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (bound, count) in START_BUCKETS.iter().zip(data.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        data.count += 1;
        data.sum += seconds;
    }

    fn render(&self, name: &str, out: &mut String) {
        let data = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (bound, count) in START_BUCKETS.iter().zip(data.counts.iter()) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", data.count);
        let _ = writeln!(out, "{name}_sum {}", data.sum);
        let _ = writeln!(out, "{name}_count {}", data.count);
    }
}

/// The metrics page.
pub async fn render(jobs: &JobManager) -> Result<String, StoreError> {
    let mut out = String::new();
    let counts = jobs.store().count_by_state().await?;
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
            jobs.active_count() as u64,
        ),
        (
            "corral_sse_subscribers",
            "gauge",
            "Open event-stream followers.",
            jobs.events().follower_count() as u64,
        ),
        (
            "corral_events_stored_total",
            "counter",
            "Events stored since start.",
            jobs.events().stored_count(),
        ),
        (
            "corral_redactions_total",
            "counter",
            "Secrets and token shapes redacted, ever.",
            jobs.secrets().records().redaction_count().await?,
        ),
        (
            "corral_reaper_removals_total",
            "counter",
            "Containers the reaper removed since start.",
            jobs.reaped_count(),
        ),
        (
            "corral_reaper_passes_total",
            "counter",
            "Reaper passes completed since start.",
            jobs.reaper_passes(),
        ),
    ];
    let (calls, input, output, cost) = jobs.store().llm_totals().await?;
    let pool = jobs.pool_stats().map(pool_series).into_iter().flatten();
    let gauges = gauges.into_iter().chain(pool).chain([
        (
            "corral_llm_calls_total",
            "counter",
            "Model calls proxied, ever.",
            calls,
        ),
        (
            "corral_llm_input_tokens_total",
            "counter",
            "Model tokens read, ever.",
            input,
        ),
        (
            "corral_llm_output_tokens_total",
            "counter",
            "Model tokens written, ever.",
            output,
        ),
    ]);
    for (name, kind, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP corral_llm_cost_usd_total Model cost in US dollars where priced, ever.\n\
         # TYPE corral_llm_cost_usd_total counter\ncorral_llm_cost_usd_total {cost}"
    );
    let name = "corral_job_start_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} From a job's claim to its container running.\n# TYPE {name} histogram"
    );
    jobs.start_latency().render(name, &mut out);
    Ok(out)
}

/// The warm pool's series, when there is a pool.
fn pool_series(
    pool: crate::jobs::PoolStats,
) -> [(&'static str, &'static str, &'static str, u64); 3] {
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
