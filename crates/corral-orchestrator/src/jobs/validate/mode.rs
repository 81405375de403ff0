//! What each mode needs of a spec: exec mode its command; worker and
//! claude mode a prompt and a model of a configured provider; claude mode
//! its settings, with corral's defaults.

use corral_proto::{ClaudeSettings, ClaudeSpec, CommandSpec, JobLlm, JobMode, JobSpec, LlmSpec};

use crate::jobs::JobError;
use crate::llm::discover::is_model_name;
use crate::llm::{LlmSettings, ProviderKind};

/// Longest prompt: a long brief, not a data dump (use the project for that).
pub(in crate::jobs) const MAX_PROMPT_BYTES: usize = 256 << 10;

/// Turns per prompt for Claude Code unless the job says otherwise.
const DEFAULT_MAX_TURNS: u32 = 50;

/// Tools that need the network, which a job does not have.
const DEFAULT_DISALLOWED_TOOLS: &[&str] = &["WebFetch", "WebSearch"];

/// Checks tool names (`Read`, or a rule like `Bash(git:*)`) and turns.
pub(super) fn validate_claude(spec: ClaudeSpec) -> Result<ClaudeSettings, JobError> {
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

/// What the job's mode needs: a command, or a prompt and a model.
pub(super) fn by_mode(
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
        JobMode::Sandbox => {
            for (field, given) in [
                ("command", spec.command.is_some()),
                ("prompt", spec.prompt.is_some()),
                ("interactive", spec.interactive),
            ] {
                if given {
                    return Err(JobError::invalid(
                        field,
                        "a sandbox takes its commands one by one (POST /v1/sandboxes/{id}/exec)",
                    ));
                }
            }
            // A model its programs may call, through the worker's relay.
            let llm = spec
                .llm
                .take()
                .map(|llm| validate_llm(llm, llm_settings))
                .transpose()?;
            (None, None, llm)
        }
    })
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
    check_command(command, "command")
}

/// `command` checked: it names a program and holds no NUL; `field` is
/// named when it does not.
pub(in crate::jobs) fn check_command(
    command: CommandSpec,
    field: &str,
) -> Result<CommandSpec, JobError> {
    let has_nul = |text: &str| text.contains('\0');
    match &command {
        CommandSpec::Argv(argv) if argv.is_empty() || argv[0].is_empty() => {
            Err(JobError::invalid(field, "must name a program"))
        }
        CommandSpec::Argv(argv) if argv.iter().any(|arg| has_nul(arg)) => {
            Err(JobError::invalid(field, "must not contain NUL bytes"))
        }
        CommandSpec::Shell(line) if line.trim().is_empty() => {
            Err(JobError::invalid(field, "must not be empty"))
        }
        CommandSpec::Shell(line) if has_nul(line) => {
            Err(JobError::invalid(field, "must not contain NUL bytes"))
        }
        _ => Ok(command),
    }
}

/// A job's command, or its prompt and model.
type ModeFields = (Option<CommandSpec>, Option<String>, Option<JobLlm>);
