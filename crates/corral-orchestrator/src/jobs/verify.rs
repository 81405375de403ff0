//! `corral verify` on this server: a probe job through the normal job
//! path (a real container made by the same `container_spec`), judged from
//! what it printed and from its container's profile in its `running`
//! status event, then kept for `corral doctor` and the gate.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::Duration;

use corral_proto::event::{OutputStream, StatusData};
use corral_proto::verify::{
    ContainerProfile, Observations, PROBE_ARG, PROBE_CONNECT_ARG, VerifyReport,
};
use corral_proto::worker::WORKER_PATH;
use corral_proto::{CommandSpec, EgressSpec, IsolationLevel, JobMode, JobSpec, JobState};
use tracing::{error, info, warn};

use super::{JobError, JobManager};
use crate::verify::{Expected, judge};

/// Longest the probe job may take, start to end.
pub const PROBE_DEADLINE: Duration = Duration::from_mins(2);
/// Events of the probe job read back (it prints one line).
const PROBE_EVENTS: u32 = 1000;

impl JobManager {
    /// Runs the probe job under `isolation` (the server's own when `None`)
    /// and judges it. A report whose probe could not run fails every row.
    ///
    /// # Errors
    /// When the probe job cannot be created or its events read.
    pub async fn verify(
        &self,
        isolation: Option<IsolationLevel>,
    ) -> Result<VerifyReport, JobError> {
        let config = &self.inner.config;
        let isolation = isolation.unwrap_or(config.isolation);
        // A loopback listener of the host's, which a job sharing the host's
        // network would reach; the probe never tries any other address.
        let listener = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|error| {
                JobError::invalid("verify", format!("cannot listen on loopback: {error}"))
            })?;
        let port = listener
            .local_addr()
            .map_err(|error| JobError::invalid("verify", error.to_string()))?
            .port();
        let command = [
            WORKER_PATH.to_owned(),
            PROBE_ARG.to_owned(),
            PROBE_CONNECT_ARG.to_owned(),
            format!("127.0.0.1:{port}"),
            PROBE_CONNECT_ARG.to_owned(),
            corral_proto::egress::PROXY_ADDR.to_owned(),
        ];
        let spec = JobSpec {
            mode: Some(JobMode::Exec),
            command: Some(CommandSpec::Argv(command.to_vec())),
            isolation: Some(isolation),
            // No allowlist, whatever the server's default policy.
            egress: Some(EgressSpec::default()),
            ..JobSpec::default()
        };
        let job = self.create_job(spec, None).await?;
        info!(job_id = %job.id, isolation = isolation.as_str(), "sandbox check started");
        let ended = self.wait_for_end(&job.id).await?;
        let events = self
            .inner
            .store
            .events_after(&job.id, 0, PROBE_EVENTS)
            .await?;
        let profile: Option<ContainerProfile> = events
            .iter()
            .filter_map(corral_proto::Event::payload::<StatusData>)
            .find(|status| status.state == Some(JobState::Running))
            .and_then(|status| status.profile);
        let stdout: String = events
            .iter()
            .filter_map(corral_proto::Event::output)
            .filter(|output| output.stream == OutputStream::Stdout)
            .map(|output| output.text)
            .collect();
        let observations: Option<Observations> = serde_json::from_str(stdout.trim()).ok();
        let host_connections = accepted(&listener);
        let data_dirs = [
            self.inner.config.data_dir.as_path(),
            self.inner.data_dir.as_path(),
        ];
        let mut rows = judge(
            &Expected {
                limits: &ended.limits,
                gvisor: isolation == IsolationLevel::Gvisor,
                worker_bin: &config.worker_bin,
                data_dirs,
                no_egress: ended.egress.is_none(),
                host_connections,
            },
            observations.as_ref(),
            profile.as_ref(),
        );
        if ended.state != JobState::Succeeded {
            rows.insert(
                0,
                crate::verify::probe_row(ended.state.as_str(), ended.reason.as_deref()),
            );
        }
        let engine = match self.inner.runtime.describe().await {
            Ok(engine) => engine,
            Err(error) => format!("(the engine did not say what it is: {error})"),
        };
        let report = VerifyReport {
            isolation,
            job_id: Some(job.id.clone()),
            engine: Some(engine),
            checked_at: time::OffsetDateTime::now_utc(),
            passed: rows.iter().all(|row| row.ok),
            rows,
        };
        if isolation == config.isolation {
            self.inner.gate.record(&report);
        }
        if let Err(error) = crate::verify::save(&self.inner.config.data_dir, &report) {
            warn!(error = %error, "cannot keep the sandbox check's report");
        }
        Ok(report)
    }

    /// The last report kept in the data directory.
    pub fn last_verify(&self) -> Option<VerifyReport> {
        crate::verify::load(&self.inner.config.data_dir)
    }

    /// The check run at start: its failure is logged row by row, loudly.
    pub(super) async fn verify_at_start(self) {
        match self.verify(None).await {
            Ok(report) if report.passed => {
                info!(
                    job_id = report.job_id.as_deref().unwrap_or(""),
                    "sandbox check passed"
                );
            }
            Ok(report) => {
                for row in report.failing() {
                    error!(promise = %row.promise, expected = %row.expected, observed = %row.observed, "sandbox check failed: jobs are refused");
                }
            }
            Err(error) => {
                error!(error = %error, "sandbox check could not run: jobs are refused");
                self.inner.gate.record(&crate::verify::unrun(
                    self.inner.config.isolation,
                    &error.to_string(),
                ));
            }
        }
    }

    /// Waits (up to [`PROBE_DEADLINE`]) until `job_id` has ended; the job then.
    async fn wait_for_end(&self, job_id: &str) -> Result<corral_proto::Job, JobError> {
        let waiting = async {
            loop {
                let mut woken = self.inner.events.subscribe(job_id);
                let job = self.get(job_id).await?;
                if job.state.is_terminal() {
                    return Ok(job);
                }
                // Closed or lagged: either way, read the job again.
                let _ = woken.recv().await;
            }
        };
        if let Ok(ended) = tokio::time::timeout(PROBE_DEADLINE, waiting).await {
            return ended;
        }
        let _ = self.cancel(job_id).await;
        self.get(job_id).await
    }
}

/// Connections waiting on `listener` (never accepted by anyone else).
fn accepted(listener: &TcpListener) -> usize {
    let mut count = 0;
    loop {
        match listener.accept() {
            Ok(_) => count += 1,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return count,
        }
    }
}
