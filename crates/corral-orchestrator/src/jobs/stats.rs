//! The job manager's counters and the store's totals, gathered into one
//! metrics snapshot for `GET /metrics`.

use super::JobManager;
use std::sync::atomic::Ordering;

use corral_proto::sandbox::SandboxState;
use corral_proto::{JobMode, JobState};

use crate::metrics::{SandboxMetrics, Snapshot};
use crate::store::StoreError;

impl JobManager {
    /// Everything the metrics page shows, read now.
    pub async fn metrics(&self) -> Result<Snapshot, StoreError> {
        let (llm_calls, llm_input_tokens, llm_output_tokens, llm_cost_usd) =
            self.store().llm_totals().await?;
        Ok(Snapshot {
            jobs_by_state: self.store().count_by_state(None).await?,
            running_containers: self.active_count() as u64,
            sse_subscribers: self.events().follower_count() as u64,
            events_stored: self.events().stored_count(),
            redactions: self.secrets().records().redaction_count().await?,
            reaper_removals: self.reaped_count(),
            reaper_passes: self.reaper_passes(),
            pool: self.pool_stats(),
            llm_calls,
            llm_input_tokens,
            llm_output_tokens,
            llm_cost_usd,
            start_latency: self.start_latency().snapshot(),
            sandboxes: self
                .sandbox_metrics(self.store().count_by_state(Some(JobMode::Sandbox)).await?),
        })
    }

    /// The sandbox series: live sandboxes, execs, bytes moved, exec latency.
    fn sandbox_metrics(&self, stored: Vec<(JobState, u64)>) -> SandboxMetrics {
        let stats = &self.inner.sandbox_stats;
        let desks = self.lock_desks();
        let paused = desks.values().filter(|desk| desk.is_paused()).count() as u64;
        let mut by_state: Vec<(SandboxState, u64)> = Vec::new();
        for (job_state, count) in stored {
            let shown = SandboxState::of(job_state);
            match by_state.iter_mut().find(|(counted, _)| *counted == shown) {
                Some((_, total)) => *total += count,
                None => by_state.push((shown, count)),
            }
        }
        // Paused is the desk's to know: counted out of running.
        if let Some((_, running)) = by_state
            .iter_mut()
            .find(|(state, _)| *state == SandboxState::Running)
        {
            *running = running.saturating_sub(paused);
        }
        by_state.push((SandboxState::Paused, paused));
        SandboxMetrics {
            by_state,
            snapshot_bytes: stats.snapshot_bytes.load(Ordering::Relaxed),
            running: desks.len() as u64,
            execs_running: desks.values().map(|desk| desk.execs_running() as u64).sum(),
            execs: stats.execs.load(Ordering::Relaxed),
            bytes_in: stats.bytes_in.load(Ordering::Relaxed),
            bytes_out: stats.bytes_out.load(Ordering::Relaxed),
            exec_latency: stats.exec_seconds.snapshot(),
        }
    }
}
