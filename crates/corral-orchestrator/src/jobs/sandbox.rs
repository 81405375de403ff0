//! Sandboxes on the job manager: made as jobs of mode `sandbox`, found
//! running (waiting while one starts), and given execs and file transfers
//! through their desk. What the worker does with them is its own; what
//! leaves toward the user passed the sandbox's leak detector.
//!
//! # Layout
//! - `files`: writes, reads and listings, their paths and sizes checked
//! - `pause`: freezing and thawing a sandbox's processes
//! - `lifecycle`: stop (snapshot, container removed), start, fork
//! - `snapshot`: a sandbox's files, sealed in the data directory, and restored

mod files;
mod lifecycle;
mod pause;
mod snapshot;

use std::sync::Arc;
use std::time::Duration;

use corral_proto::sandbox::order::ExecOrder;
use corral_proto::sandbox::{
    DEFAULT_EXEC_TIMEOUT_SECS, EXEC_RESULT_BYTES, ExecResult, ExecSpec, MAX_EXEC_STDIN_BYTES,
    MAX_EXEC_WAIT_SECS, Sandbox, SandboxSpec, SandboxState,
};
use corral_proto::worker::WORKSPACE;
use corral_proto::{Job, JobMode, JobState};
use time::OffsetDateTime;

pub use crate::sandbox::SandboxError;
pub use files::{Download, Incoming};

use super::{JobError, JobManager, JobQuery};
use crate::sandbox::{Collected, Desk, collect_exec};

/// Longest a call waits for a sandbox that is still starting.
const START_WAIT: Duration = Duration::from_mins(2);

/// What an exec call gets back.
#[derive(Debug)]
pub enum ExecOutcome {
    /// It runs (no wait asked, or it outlasted the wait): its number, and
    /// the sequence number its events come after.
    Running(u64, u64),
    /// It ended within the wait.
    Ended(ExecResult),
}

impl JobManager {
    /// Queues a new sandbox.
    pub async fn create_sandbox(&self, spec: SandboxSpec) -> Result<Sandbox, JobError> {
        self.create_sandbox_within(spec, None).await
    }

    /// Queues a new sandbox, its project held to `within` as
    /// [`JobManager::create_within`] holds a job's.
    pub async fn create_sandbox_within(
        &self,
        spec: SandboxSpec,
        within: Option<&[std::path::PathBuf]>,
    ) -> Result<Sandbox, JobError> {
        let spec = spec
            .into_job_spec()
            .map_err(|error| JobError::invalid(error.field, error.message))?;
        let job = self.create_within(spec, within).await?;
        Ok(self.sandbox_view(job))
    }

    /// Sandbox `id`, as the API shows it.
    pub async fn sandbox(&self, id: &str) -> Result<Sandbox, JobError> {
        let job = self.get(id).await?;
        if job.mode != JobMode::Sandbox {
            return Err(JobError::NotFound {
                job_id: id.to_owned(),
            });
        }
        Ok(self.sandbox_view(job))
    }

    /// The newest sandboxes, up to `limit`, in `state` when given.
    pub async fn sandboxes(
        &self,
        state: Option<SandboxState>,
        limit: u32,
    ) -> Result<Vec<Sandbox>, JobError> {
        let mut found = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .list(JobQuery {
                    limit: Some(super::MAX_JOBS_PAGE),
                    before: before.clone(),
                    ..JobQuery::default()
                })
                .await?;
            found.extend(
                page.jobs
                    .into_iter()
                    .filter(|job| job.mode == JobMode::Sandbox)
                    .map(|job| self.sandbox_view(job))
                    .filter(|sandbox| state.is_none_or(|state| sandbox.state == state)),
            );
            if found.len() >= limit as usize || page.next.is_none() {
                found.truncate(limit as usize);
                return Ok(found);
            }
            before = page.next;
        }
    }

    /// Ends sandbox `id` (its container removed, its token revoked).
    pub async fn delete_sandbox(&self, id: &str) -> Result<Sandbox, JobError> {
        self.sandbox(id).await?;
        // Ending takes a moment: no exec or transfer is taken meanwhile,
        // nor handed to the worker if it was queued.
        if let Some(desk) = self.desk(id) {
            desk.close();
        }
        let job = self.cancel(id).await?;
        Ok(self.sandbox_view(job))
    }

    pub(super) fn sandbox_view(&self, job: Job) -> Sandbox {
        let desk = self.desk(&job.id);
        let idle_since = desk.as_ref().and_then(|desk| {
            let since = desk.activity.idle_since()?;
            let ago = tokio::time::Instant::now().saturating_duration_since(since);
            Some(OffsetDateTime::now_utc() - ago)
        });
        Sandbox {
            id: job.id.clone(),
            state: match &desk {
                Some(desk) if desk.is_paused() && job.state == JobState::Running => {
                    SandboxState::Paused
                }
                _ => SandboxState::of(job.state),
            },
            image: job.image.clone(),
            ttl_secs: job.limits.timeout_secs,
            idle_timeout_secs: job.limits.idle_timeout_secs,
            idle_since: idle_since.filter(|_| job.state == JobState::Running),
            execs_running: desk.map_or(0, |desk| desk.execs_running() as u64),
            reason: job.reason.clone(),
            job,
        }
    }

    /// The desk of a live sandbox, when it has one.
    pub(super) fn desk(&self, id: &str) -> Option<Arc<Desk>> {
        self.lock_desks().get(id).cloned()
    }

    /// Unregisters and closes `desk`, when it is still sandbox `id`'s
    /// (a setup that failed after registering it: no worker takes its
    /// orders, so what waits on it fails now).
    pub(super) fn forget_desk(&self, id: &str, desk: &Arc<Desk>) {
        let mut desks = self.lock_desks();
        if desks.get(id).is_some_and(|held| Arc::ptr_eq(held, desk)) {
            desks.remove(id);
        }
        drop(desks);
        desk.close();
    }

    pub(super) fn lock_desks(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<Desk>>> {
        self.inner
            .desks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sandbox `id` and its desk once it runs, not paused (a conflict).
    pub(super) async fn running_desk(&self, id: &str) -> Result<(Job, Arc<Desk>), JobError> {
        let (job, desk) = self.live_desk(id).await?;
        if desk.is_paused() {
            return Err(SandboxError::NotRunning {
                id: id.to_owned(),
                state: SandboxState::Paused,
            }
            .into());
        }
        Ok((job, desk))
    }

    /// Sandbox `id` and its desk once it runs, paused or not, waiting while
    /// it starts; an ended one is a conflict.
    pub(super) async fn live_desk(&self, id: &str) -> Result<(Job, Arc<Desk>), JobError> {
        let deadline = tokio::time::Instant::now() + START_WAIT;
        let mut wake = self.inner.events.subscribe(id);
        loop {
            let job = self.sandbox(id).await?.job;
            if job.state.is_terminal() || job.state == JobState::Stopped {
                return Err(SandboxError::NotRunning {
                    id: id.to_owned(),
                    state: SandboxState::of(job.state),
                }
                .into());
            }
            if let Some(desk) = self.desk(id) {
                if desk.is_closed() {
                    // Deleted: it ends.
                    return Err(SandboxError::NotRunning {
                        id: id.to_owned(),
                        state: SandboxState::Ended,
                    }
                    .into());
                }
                if desk.is_ready() {
                    return Ok((job, desk));
                }
            }
            tokio::select! {
                _ = wake.recv() => {}
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
                () = tokio::time::sleep_until(deadline) => {
                    return Err(SandboxError::NotRunning {
                        id: id.to_owned(),
                        state: SandboxState::Starting,
                    }
                    .into());
                }
            }
        }
    }

    /// Runs `spec` in sandbox `id`; with `wait`, waits up to that many
    /// seconds for its end and answers its output.
    pub async fn exec(
        &self,
        id: &str,
        spec: ExecSpec,
        wait: Option<u64>,
    ) -> Result<ExecOutcome, JobError> {
        let given = spec.timeout.is_some();
        let mut order = check_exec(spec)?;
        let (job, desk) = self.running_desk(id).await?;
        if !given {
            order.timeout_secs = order.timeout_secs.min(job.limits.timeout_secs);
        }
        if order.timeout_secs > job.limits.timeout_secs {
            return Err(JobError::invalid(
                "timeout",
                format!(
                    "must be at most the sandbox's ttl ({}s)",
                    job.limits.timeout_secs
                ),
            ));
        }
        let after = desk.last_seq();
        let exec = self.hand_out(id, &desk, order).await?;
        let Some(wait) = wait else {
            return Ok(ExecOutcome::Running(exec, after));
        };
        let wait = Duration::from_secs(wait.min(MAX_EXEC_WAIT_SECS));
        let collected =
            collect_exec(&self.inner.events, id, exec, after, wait, EXEC_RESULT_BYTES).await?;
        match collected {
            Collected::Ended(result) => Ok(ExecOutcome::Ended(result)),
            Collected::Running => Ok(ExecOutcome::Running(exec, after)),
            Collected::SandboxEnded(state) => Err(SandboxError::EndedDuringExec {
                id: id.to_owned(),
                exec,
                state: SandboxState::of(state),
            }
            .into()),
        }
    }
}

impl JobManager {
    /// Hands `order` to `desk` under a number reserved in the store first
    /// (see `sandbox::desk::numbers`): when another exec took the last
    /// one reserved meanwhile, more are reserved and it is tried again.
    async fn hand_out(
        &self,
        id: &str,
        desk: &crate::sandbox::Desk,
        order: ExecOrder,
    ) -> Result<u64, JobError> {
        let mut tries = 0;
        loop {
            if let Some(upto) = desk.to_reserve() {
                self.inner.store.reserve_execs(id, upto).await?;
                desk.reserved_up_to(upto);
            }
            let attempt = order.clone();
            match desk.exec(|exec| ExecOrder { exec, ..attempt }) {
                Err(crate::sandbox::DeskError::NotReserved) if tries < MAX_RESERVE_TRIES => {
                    tries += 1;
                }
                handed => return Ok(handed.map_err(SandboxError::from)?),
            }
        }
    }
}

/// Times an exec is tried again when others took the numbers reserved
/// for it: each try reserves a block of 256 more.
const MAX_RESERVE_TRIES: u32 = 8;

/// An exec spec checked: what the worker is handed, its number to come.
fn check_exec(spec: ExecSpec) -> Result<ExecOrder, JobError> {
    let cmd = super::validate::check_command(spec.cmd, "cmd")?;
    let cwd = spec.cwd.unwrap_or_else(|| WORKSPACE.to_owned());
    if !cwd.starts_with('/') || cwd.contains('\0') || cwd.len() > 4096 {
        return Err(JobError::invalid(
            "cwd",
            "must be an absolute path inside the sandbox",
        ));
    }
    for (name, value) in &spec.env {
        let plain = !name.is_empty()
            && name.len() <= 256
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain {
            return Err(JobError::invalid(
                format!("env.{}", name.chars().take(64).collect::<String>()),
                "a variable's name is letters, digits and `_`, not starting with a digit",
            ));
        }
        if value.contains('\0') {
            return Err(JobError::invalid(
                format!("env.{name}"),
                "must not contain a NUL byte",
            ));
        }
    }
    let (stdin, field) = match (spec.stdin, spec.stdin_base64) {
        (Some(_), Some(_)) => {
            return Err(JobError::invalid(
                "stdin_base64",
                "give `stdin` or `stdin_base64`, not both",
            ));
        }
        (Some(text), None) => (Some(text.into_bytes()), "stdin"),
        (None, Some(encoded)) => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.as_bytes())
                .map_err(|error| {
                    JobError::invalid("stdin_base64", format!("not base64: {error}"))
                })?;
            (Some(bytes), "stdin_base64")
        }
        (None, None) => (None, "stdin"),
    };
    if stdin
        .as_ref()
        .is_some_and(|bytes| bytes.len() > MAX_EXEC_STDIN_BYTES)
    {
        return Err(JobError::invalid(
            field,
            format!("must be at most {MAX_EXEC_STDIN_BYTES} bytes"),
        ));
    }
    let stdin_base64 = stdin.map(|bytes| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    });
    let timeout_secs = spec
        .timeout
        .map_or(DEFAULT_EXEC_TIMEOUT_SECS, |timeout| timeout.0);
    if timeout_secs == 0 {
        return Err(JobError::invalid("timeout", "must be at least 1 second"));
    }
    Ok(ExecOrder {
        exec: 0,
        cmd,
        cwd,
        env: spec.env,
        stdin_base64,
        timeout_secs,
    })
}
