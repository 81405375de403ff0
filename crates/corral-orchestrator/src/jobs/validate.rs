//! A [`JobSpec`] as sent becomes a job that can run, or a [`JobError::Invalid`]
//! naming the field. Nothing is stored before this passes.

use std::path::Path;

use corral_proto::{
    ClaudeSettings, CommandSpec, EgressPolicy, EgressSpec, Grant, IsolationLevel, JobLlm, JobMode,
    JobSpec, Limits, ProjectCheck, ProjectMode, ProjectSpec,
};

use super::JobError;
use crate::config::check_limits;
use crate::llm::LlmSettings;
use crate::project::{PinnedDir, ProjectError};
use corral_runtime::IdMap;
pub(super) use mode::MAX_PROMPT_BYTES;
pub(super) use mode::check_command;
use mode::{by_mode, validate_claude};

/// Longest image reference Docker accepts, give or take.
const MAX_IMAGE_LEN: usize = 255;
/// Claude Code needs about a gigabyte; less only when a job asks.
pub(super) const CLAUDE_MEMORY: u64 = 1 << 30;
/// What a job that leaves something out gets.
pub(super) struct Defaults<'a> {
    pub limits: &'a Limits,
    pub image: &'a str,
    pub claude_image: &'a str,
    pub isolation: IsolationLevel,
    pub data_dir: &'a Path,
    pub llm: &'a LlmSettings,
    pub egress: Option<&'a EgressSpec>,
    /// The engine's container ids on the host: who a bound project's owner is inside.
    pub id_map: IdMap,
}

/// What a valid spec resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ValidJob {
    pub mode: JobMode,
    pub command: Option<CommandSpec>,
    pub prompt: Option<String>,
    pub image: String,
    pub project: Option<String>,
    pub project_mode: ProjectMode,
    pub project_check: Option<ProjectCheck>,
    pub limits: Limits,
    pub grants: Vec<Grant>,
    pub llm: Option<JobLlm>,
    pub interactive: bool,
    pub claude: Option<ClaudeSettings>,
    pub isolation_level: IsolationLevel,
    pub egress: Option<EgressPolicy>,
}

impl ValidJob {
    /// The job to queue: this one with its id and, in branch mode, its
    /// isolated copy. The one place a checked spec becomes a [`Job`].
    pub(super) fn into_job(
        self,
        id: String,
        isolation: Option<corral_proto::Isolation>,
    ) -> corral_proto::Job {
        corral_proto::Job {
            command: self.command,
            prompt: self.prompt,
            project: self.project,
            isolation,
            project_mode: self.project_mode,
            project_check: self.project_check,
            grants: self.grants,
            llm: self.llm,
            interactive: self.interactive,
            claude: self.claude,
            isolation_level: self.isolation_level,
            egress: self.egress,
            ..corral_proto::Job::queued(id, self.mode, self.image, self.limits)
        }
    }
}

/// Checks `spec` against the server's defaults.
pub(super) fn validate(mut spec: JobSpec, defaults: &Defaults<'_>) -> Result<ValidJob, JobError> {
    let mode = spec.mode.unwrap_or(JobMode::Exec);
    let (command, prompt, llm) = by_mode(mode, &mut spec, defaults.llm)?;
    if mode != JobMode::Claude && spec.claude.is_some() {
        return Err(JobError::invalid(
            "claude",
            "only claude mode takes these settings",
        ));
    }
    let claude = (mode == JobMode::Claude)
        .then(|| validate_claude(spec.claude.unwrap_or_default()))
        .transpose()?;
    let (default_image, data_dir, defaults_limits) =
        (defaults.image, defaults.data_dir, defaults.limits);
    let image = spec.image.unwrap_or_else(|| {
        if mode == JobMode::Claude {
            defaults.claude_image.to_owned()
        } else {
            default_image.to_owned()
        }
    });
    // A reference is ASCII letters, digits and `._-/:@+` (a digest's
    // algorithm may hold `+`); nothing else, so no control character or
    // invisible one reaches a log line, a terminal or Docker.
    let reference_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@' | '+');
    if image.is_empty() || image.len() > MAX_IMAGE_LEN || !image.chars().all(reference_char) {
        return Err(JobError::invalid(
            "image",
            "must be an image reference: letters, digits and . _ - / : @ + only",
        ));
    }
    let project_mode = spec
        .project
        .as_ref()
        .map_or(ProjectMode::Bind, ProjectSpec::mode);
    let allow_overlap = spec
        .project
        .as_ref()
        .is_some_and(ProjectSpec::allow_overlap);
    let pinned = spec
        .project
        .map(|project| resolve_project(Path::new(project.path()), data_dir))
        .transpose()?;
    if project_mode == ProjectMode::Bind
        && let Some(pinned) = &pinned
    {
        check_writable(pinned, defaults.id_map)?;
    }
    let isolation_level = spec.isolation.unwrap_or(defaults.isolation);
    if isolation_level == IsolationLevel::Gvisor {
        check_gvisor_ids(defaults.id_map)?;
    }
    let project = pinned
        .as_ref()
        .map(|pinned| pinned.path().to_string_lossy().into_owned());
    let project_check = pinned.as_ref().map(|pinned| ProjectCheck {
        dev: pinned.identity().dev,
        ino: pinned.identity().ino,
        allow_overlap,
    });
    let mut limits = resolve_limits(&spec.limits, defaults_limits);
    if mode == JobMode::Claude && spec.limits.memory.is_none() {
        limits.memory_bytes = limits.memory_bytes.max(CLAUDE_MEMORY);
    }
    check_limits(&limits)
        .map_err(|(key, message)| JobError::invalid(format!("limits.{key}"), message))?;
    let grants = crate::secrets::grants::check(&spec.grants)
        .map_err(|(field, message)| JobError::invalid(field, message))?;
    let egress = match spec.egress.as_ref().or(defaults.egress) {
        Some(egress) => crate::egress::policy::check(egress)
            .map_err(|(field, message)| JobError::invalid(field, message))?,
        None => None,
    };
    Ok(ValidJob {
        mode,
        command,
        prompt,
        image,
        project,
        project_mode,
        project_check,
        limits,
        grants,
        llm,
        interactive: spec.interactive,
        claude,
        isolation_level,
        egress,
    })
}

/// Each limit the spec sets, else the server's.
fn resolve_limits(spec: &corral_proto::LimitsSpec, defaults: &Limits) -> Limits {
    Limits {
        memory_bytes: spec.memory.map_or(defaults.memory_bytes, |size| size.0),
        cpu_shares: spec.cpu_shares.unwrap_or(defaults.cpu_shares),
        pids: spec.pids.unwrap_or(defaults.pids),
        timeout_secs: spec.timeout.map_or(defaults.timeout_secs, |d| d.0),
        tmpfs_bytes: spec.tmpfs.map_or(defaults.tmpfs_bytes, |size| size.0),
        max_llm_calls: spec.max_llm_calls.unwrap_or(defaults.max_llm_calls),
        max_tokens: spec.max_tokens.unwrap_or(defaults.max_tokens),
        max_iterations: spec.max_iterations.unwrap_or(defaults.max_iterations),
        idle_timeout_secs: spec
            .idle_timeout
            .map_or(defaults.idle_timeout_secs, |d| d.0),
    }
}

/// Resolves a project directory as a user gave it and refuses anything
/// that would expose the host (see [`crate::project`]); returns the
/// resolved path.
#[cfg(test)]
pub fn validate_project(path: &Path, data_dir: &Path) -> Result<std::path::PathBuf, JobError> {
    resolve_project(path, data_dir).map(|pinned| pinned.path().to_owned())
}

/// Resolves a project directory as a user gave it and refuses anything
/// that would expose the host (see [`crate::project`]), keeping the
/// directory's identity.
fn resolve_project(path: &Path, data_dir: &Path) -> Result<PinnedDir, JobError> {
    crate::project::resolve_at_creation(path, data_dir).map_err(|error| match error {
        ProjectError::Unreadable { .. } => JobError::invalid(
            "project",
            format!("{} does not exist or cannot be read", path.display()),
        ),
        other => JobError::invalid("project", other.to_string()),
    })
}

/// A bound project must be writable by the user the job runs as, or the
/// job meets a bare `Permission denied`; say so before any container. On
/// an engine that remaps ids, the job runs as whoever the owner is inside;
/// an owner who is nobody inside is refused the same way.
fn check_writable(pinned: &PinnedDir, map: IdMap) -> Result<(), JobError> {
    let (uid, gid) = pinned.owner();
    let path = pinned.path().display();
    // Quoted for a shell: the path may hold anything a directory name can.
    let quoted = format!("'{}'", path.to_string().replace('\'', "'\\''"));
    // What the directory could be given to: corral's own user on this engine.
    let corral = map.corral();
    let chown = corral
        .host
        .map_or_else(String::new, |(host_uid, host_gid)| {
            format!(", or the directory (`chown -R {host_uid}:{host_gid} {quoted}`)")
        });
    let user = pinned.job_user(map).map_err(|unmapped| {
        JobError::invalid(
            "project",
            format!(
                "{path} is owned by uid {uid}:{gid}, which is no user inside this engine's containers ({}): give the job a copy (--copy) or a branch to review (--branch){chown}",
                unmapped.mapping
            ),
        )
    })?;
    let writable = user
        .host
        .is_some_and(|(host_uid, host_gid)| pinned.writable_by(host_uid, host_gid));
    if writable {
        return Ok(());
    }
    let host_uid = user.host.map_or_else(
        || "unknown".to_owned(),
        |(host_uid, _)| host_uid.to_string(),
    );
    Err(JobError::invalid(
        "project",
        format!(
            "{path} (owner {uid}:{gid}, mode {:o}) is not writable by uid {} (host uid {host_uid}), which the job runs as (a project's owner, or {} when root owns it): give the job a copy (--copy) or a branch to review (--branch){chown}",
            pinned.mode(),
            user.uid,
            corral_proto::worker::JOB_UID,
        ),
    ))
}

/// gVisor on an engine that remaps ids could not start (see
/// [`IdMap::gvisor_refusal`]): refused before anything is stored.
fn check_gvisor_ids(map: IdMap) -> Result<(), JobError> {
    map.gvisor_refusal()
        .map_or(Ok(()), |reason| Err(JobError::invalid("isolation", reason)))
}

mod mode;
#[cfg(test)]
mod tests;
