//! A [`JobSpec`] as sent becomes a job that can run, or a [`JobError::Invalid`]
//! naming the field. Nothing is stored before this passes.

use std::path::{Path, PathBuf};

use corral_proto::{
    ClaudeSettings, ClaudeSpec, CommandSpec, EgressPolicy, EgressSpec, Grant, IsolationLevel,
    JobLlm, JobMode, JobSpec, Limits, LlmSpec, ProjectCheck, ProjectMode, ProjectSpec,
};

use super::JobError;
use crate::config::check_limits;
use crate::llm::discover::is_model_name;
use crate::llm::{LlmSettings, ProviderKind};
use crate::project::{PinnedDir, ProjectError};

/// Longest image reference Docker accepts, give or take.
const MAX_IMAGE_LEN: usize = 255;
/// Longest prompt: a long brief, not a data dump (use the project for that).
pub(super) const MAX_PROMPT_BYTES: usize = 256 << 10;

/// Claude Code needs about a gigabyte; less only when a job asks.
pub(super) const CLAUDE_MEMORY: u64 = 1 << 30;
/// Turns per prompt for Claude Code unless the job says otherwise.
const DEFAULT_MAX_TURNS: u32 = 50;
/// Tools that need the network, which a job does not have.
const DEFAULT_DISALLOWED_TOOLS: &[&str] = &["WebFetch", "WebSearch"];

/// What a job that leaves something out gets.
pub(super) struct Defaults<'a> {
    pub limits: &'a Limits,
    pub image: &'a str,
    pub claude_image: &'a str,
    pub isolation: IsolationLevel,
    pub data_dir: &'a Path,
    pub llm: &'a LlmSettings,
    pub egress: Option<&'a EgressSpec>,
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
        check_writable(pinned)?;
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
        isolation_level: spec.isolation.unwrap_or(defaults.isolation),
        egress,
    })
}

/// Checks tool names (`Read`, or a rule like `Bash(git:*)`) and turns.
fn validate_claude(spec: ClaudeSpec) -> Result<ClaudeSettings, JobError> {
    let check = |field: &str, tools: &[String]| -> Result<(), JobError> {
        for (index, tool) in tools.iter().enumerate() {
            let name = tool.split('(').next().unwrap_or_default();
            let rule_ok = tool.find('(').is_none_or(|_| tool.ends_with(')'));
            let name_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !name_ok || !rule_ok || tool.len() > 200 || tool.chars().any(char::is_control) {
                return Err(JobError::invalid(
                    format!("claude.{field}[{index}]"),
                    format!("`{tool}` is not a tool name (`Read`) or rule (`Bash(git:*)`)"),
                ));
            }
        }
        Ok(())
    };
    let allowed = spec.allowed_tools.unwrap_or_default();
    check("allowed_tools", &allowed)?;
    let disallowed = spec.disallowed_tools.unwrap_or_else(|| {
        DEFAULT_DISALLOWED_TOOLS
            .iter()
            .map(|tool| (*tool).to_owned())
            .collect()
    });
    check("disallowed_tools", &disallowed)?;
    let max_turns = spec.max_turns.unwrap_or(DEFAULT_MAX_TURNS);
    if !(1..=1000).contains(&max_turns) {
        return Err(JobError::invalid(
            "claude.max_turns",
            "must be within 1..=1000",
        ));
    }
    Ok(ClaudeSettings {
        allowed_tools: allowed,
        disallowed_tools: disallowed,
        max_turns,
        continues: None,
    })
}

/// A job's command, or its prompt and model.
type ModeFields = (Option<CommandSpec>, Option<String>, Option<JobLlm>);

/// What the job's mode needs: a command, or a prompt and a model.
fn by_mode(
    mode: JobMode,
    spec: &mut JobSpec,
    llm_settings: &LlmSettings,
) -> Result<ModeFields, JobError> {
    Ok(match mode {
        JobMode::Exec => {
            if spec.llm.is_some() {
                return Err(JobError::invalid(
                    "llm",
                    "only agent modes (worker, claude) talk to a model",
                ));
            }
            if spec.interactive {
                return Err(JobError::invalid(
                    "interactive",
                    "only agent modes (worker, claude) take follow-up prompts",
                ));
            }
            (Some(validate_command(spec.command.take())?), None, None)
        }
        JobMode::Worker => {
            if spec.command.is_some() {
                return Err(JobError::invalid(
                    "command",
                    "worker mode takes a prompt, not a command",
                ));
            }
            let prompt = validate_prompt(spec.prompt.take())?;
            let llm = validate_llm(spec.llm.take().unwrap_or_default(), llm_settings)?;
            (None, Some(prompt), Some(llm))
        }
        JobMode::Claude => {
            if spec.command.is_some() {
                return Err(JobError::invalid(
                    "command",
                    "claude mode takes a prompt, not a command",
                ));
            }
            let prompt = validate_prompt(spec.prompt.take())?;
            let llm = validate_llm(spec.llm.take().unwrap_or_default(), llm_settings)?;
            let kind = llm_settings.provider(Some(&llm.provider)).map(|p| p.kind);
            if kind != Ok(ProviderKind::Anthropic) {
                return Err(JobError::invalid(
                    "llm.provider",
                    format!(
                        "claude mode needs an anthropic provider; `{}` is not one",
                        llm.provider
                    ),
                ));
            }
            (None, Some(prompt), Some(llm))
        }
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

fn validate_prompt(prompt: Option<String>) -> Result<String, JobError> {
    let prompt = prompt.ok_or_else(|| JobError::invalid("prompt", "is required in agent modes"))?;
    if prompt.trim().is_empty() {
        return Err(JobError::invalid("prompt", "must not be empty"));
    }
    if prompt.len() > MAX_PROMPT_BYTES {
        return Err(JobError::invalid(
            "prompt",
            format!("must be at most {MAX_PROMPT_BYTES} bytes"),
        ));
    }
    if prompt.contains('\0') {
        return Err(JobError::invalid("prompt", "must not contain NUL bytes"));
    }
    Ok(prompt)
}

/// Resolves the provider and model against what this server has.
fn validate_llm(spec: LlmSpec, settings: &LlmSettings) -> Result<JobLlm, JobError> {
    let provider = settings
        .provider(spec.provider.as_deref())
        .map_err(|message| JobError::invalid("llm.provider", message))?;
    let Some(model) = spec.model.or_else(|| provider.model.clone()) else {
        let offered = match settings.offered.get(&provider.name) {
            Some(offered) if offered.total > offered.names.len() => format!(
                " It offers {} models, among them: {}.",
                offered.total,
                offered.names.join(", ")
            ),
            Some(offered) => format!(" It offers: {}.", offered.names.join(", ")),
            None => String::new(),
        };
        return Err(JobError::invalid(
            "llm.model",
            format!(
                "provider `{}` has no default model: name one with --model (API: llm.model), or give the server one (`model` under [llm.providers.{}] in corral.toml; CORRAL_OPENAI_MODEL for the built-in openai provider).{offered}",
                provider.name, provider.name
            ),
        ));
    };
    if !is_model_name(&model) {
        return Err(JobError::invalid(
            "llm.model",
            "must be a model name: letters, digits and . _ : / @ + - only, at most 200",
        ));
    }
    Ok(JobLlm {
        provider: provider.name.clone(),
        model,
        stream: spec.stream.unwrap_or(true),
    })
}

fn validate_command(command: Option<CommandSpec>) -> Result<CommandSpec, JobError> {
    let command =
        command.ok_or_else(|| JobError::invalid("command", "is required in exec mode"))?;
    let has_nul = |text: &str| text.contains('\0');
    match &command {
        CommandSpec::Argv(argv) if argv.is_empty() || argv[0].is_empty() => {
            Err(JobError::invalid("command", "must name a program"))
        }
        CommandSpec::Argv(argv) if argv.iter().any(|arg| has_nul(arg)) => {
            Err(JobError::invalid("command", "must not contain NUL bytes"))
        }
        CommandSpec::Shell(line) if line.trim().is_empty() => {
            Err(JobError::invalid("command", "must not be empty"))
        }
        CommandSpec::Shell(line) if has_nul(line) => {
            Err(JobError::invalid("command", "must not contain NUL bytes"))
        }
        _ => Ok(command),
    }
}

/// Resolves a project directory as a user gave it and refuses anything
/// that would expose the host (see [`crate::project`]); returns the
/// resolved path.
pub fn validate_project(path: &Path, data_dir: &Path) -> Result<PathBuf, JobError> {
    resolve_project(path, data_dir).map(|pinned| pinned.path().to_owned())
}

/// [`validate_project`], keeping the directory's identity.
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
/// job meets a bare `Permission denied`; say so before any container.
fn check_writable(pinned: &PinnedDir) -> Result<(), JobError> {
    let user = pinned.job_user();
    if pinned.writable_by(user.uid, user.gid) {
        return Ok(());
    }
    let (uid, gid) = pinned.owner();
    let path = pinned.path().display();
    // Quoted for a shell: the path may hold anything a directory name can.
    let quoted = format!("'{}'", path.to_string().replace('\'', "'\\''"));
    Err(JobError::invalid(
        "project",
        format!(
            "{path} (owner {uid}:{gid}, mode {:o}) is not writable by uid {}, which the job runs as (a project's owner, or {} when root owns it): give the job a copy (--copy), a branch to review (--branch), or the directory (`chown -R {}:{} {quoted}`)",
            pinned.mode(),
            user.uid,
            corral_proto::worker::JOB_UID,
            user.uid,
            user.gid,
        ),
    ))
}

#[cfg(test)]
mod tests;
