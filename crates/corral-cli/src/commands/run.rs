//! `corral run`: create a job, stream its events live, exit with its code.

use std::process::ExitCode;

use anyhow::Context;
use corral_proto::{
    ByteSize, ClaudeSpec, CommandSpec, DurationSpec, EgressSpec, GrantSpec, InjectRule,
    IsolationLevel, JobMode, JobSpec, LimitsSpec, LlmSpec, ProjectMode, ProjectSpec,
};

use crate::cli::{AgentArgs, GlobalArgs, RunArgs};
use crate::client::api_client;
use crate::output;
use corral_client::{ApiClient, exit_code_of};

pub async fn run(global: &GlobalArgs, args: RunArgs) -> anyhow::Result<ExitCode> {
    let mode = output::JobOutput::from_raw_flag(args.raw)?;
    let spec = spec_from(&args)?;
    let client = api_client(global)?;
    let job = client.create_job(&spec).await.map_err(|error| {
        super::flag_values::with_flag_value(error, |field| super::flag_values::of_run(field, &args))
    })?;
    if args.detach {
        output::line(&job.id);
        return Ok(ExitCode::SUCCESS);
    }
    let mut spinner = output::Spinner::start(&format!("{} queued", job.id));
    if let Some(code) = follow(&client, &job.id, &mut spinner, mode).await? {
        return Ok(code);
    }
    spinner.stop();
    let job = client.job(&job.id).await?;
    if let Some(hint) = hint_after(&job) {
        output::note(&hint);
    }
    Ok(ExitCode::from(exit_code_of(&job)))
}

/// What to do next, when an ended job calls for it: a program the image
/// lacks (exit 127: `sh`'s "not found", or the worker's own), a review
/// branch to look at.
fn hint_after(job: &corral_proto::Job) -> Option<String> {
    if job.mode == JobMode::Exec && job.exit_code == Some(127) {
        return Some(format!(
            "hint: exit code 127: a program was not found in the image `{}`; run it in an image that has it: corral run --image IMAGE -- …",
            output::visible_line(&job.image)
        ));
    }
    if job.project_mode == ProjectMode::Branch && job.state.is_terminal() {
        return Some(format!(
            "review what it did: corral diff {id}   then: corral apply {id} | corral discard {id}",
            id = job.id
        ));
    }
    None
}

/// Streams the job's events until it ends; an exit code when the user
/// stopped following first. Ctrl-C never leaves a job running unsaid: the
/// first says how to follow or cancel it, the second cancels it (and its
/// end is still shown), a third stops following.
async fn follow(
    client: &ApiClient,
    job_id: &str,
    spinner: &mut output::Spinner,
    mode: output::JobOutput,
) -> anyhow::Result<Option<ExitCode>> {
    let mut events = output::Events::new(mode);
    let follow = client.follow(job_id, 0, |event| {
        if let Some(state) = event
            .data
            .get("state")
            .and_then(|state| state.as_str())
            .filter(|_| event.kind == corral_proto::EventKind::Status)
        {
            if state == "queued" || state == "starting" {
                spinner.say(&format!("{} {state}", event.job_id));
            } else {
                spinner.stop();
            }
        }
        spinner.suspend(|| events.show(event));
    });
    tokio::pin!(follow);
    let mut interrupts = 0;
    loop {
        tokio::select! {
            followed = &mut follow => return followed.map(|_| None).map_err(Into::into),
            signal = tokio::signal::ctrl_c() => {
                signal.context("cannot listen for Ctrl-C")?;
                interrupts += 1;
                if let Some(code) = interrupted(client, job_id, interrupts).await {
                    return Ok(Some(code));
                }
            }
        }
    }
}

/// Answers the `count`th Ctrl-C while following `job_id`; an exit code
/// when `corral run` should stop following.
async fn interrupted(client: &ApiClient, job_id: &str, count: u32) -> Option<ExitCode> {
    match count {
        1 => {
            output::note(&format!(
                "{job_id} keeps running: press Ctrl-C again to cancel it, or follow it later with `corral logs -f {job_id}` (cancel: `corral cancel {job_id}`)"
            ));
            None
        }
        2 => {
            match client.cancel(job_id).await {
                Ok(_) => output::note(&format!("cancelling {job_id}")),
                Err(error) => output::note(&format!("cannot cancel {job_id}: {error}")),
            }
            None
        }
        _ => {
            output::note(&format!(
                "stopped following {job_id}: `corral logs -f {job_id}` follows it, `corral show {job_id}` tells how it ended"
            ));
            Some(ExitCode::from(130))
        }
    }
}

/// Builds the job spec, naming the flag at fault when one is wrong. A
/// relative `--project` is made absolute against the current directory.
pub(super) fn spec_from(fields: &RunArgs) -> anyhow::Result<JobSpec> {
    let mode = match fields.mode.as_str() {
        "exec" => JobMode::Exec,
        "worker" => JobMode::Worker,
        "claude" => JobMode::Claude,
        "sandbox" => JobMode::Sandbox,
        other => anyhow::bail!("--mode: unknown mode `{other}` (use exec, worker or claude)"),
    };
    let size = |flag: &str, value: Option<&String>| -> anyhow::Result<Option<ByteSize>> {
        value
            .map(|text| {
                text.parse()
                    .map_err(|error| anyhow::anyhow!("{flag}: {error}"))
            })
            .transpose()
    };
    let project = match fields.project.clone() {
        Some(path) if path.is_relative() => Some(
            std::env::current_dir()
                .context("--project: cannot read the current directory")?
                .join(path),
        ),
        other => other,
    };
    let (command, prompt) = match mode {
        JobMode::Exec => {
            if fields.command.is_empty() {
                anyhow::bail!("give the command to run after `--`: corral run -- CMD [ARGS...]");
            }
            (Some(CommandSpec::Argv(fields.command.clone())), None)
        }
        JobMode::Worker | JobMode::Claude => {
            let prompt = fields.command.join(" ");
            if prompt.trim().is_empty() {
                anyhow::bail!(
                    "give the prompt: corral run --mode {} \"what to do\"",
                    mode.as_str()
                );
            }
            (None, Some(prompt))
        }
        JobMode::Sandbox => {
            if !fields.command.is_empty() {
                anyhow::bail!(
                    "a sandbox takes no command: start it, then run commands with `corral exec ID -- CMD`"
                );
            }
            (None, None)
        }
    };
    let (llm, claude) = agent_settings(mode, &fields.agent)?;
    Ok(JobSpec {
        mode: Some(mode),
        command,
        prompt,
        llm,
        interactive: fields.agent.interactive,
        claude,
        isolation: fields.isolation.as_deref().map(|level| match level {
            "gvisor" => IsolationLevel::Gvisor,
            _ => IsolationLevel::Runc,
        }),
        image: fields.image.clone(),
        project: project.map(|path| {
            let path = path.to_string_lossy().into_owned();
            let mode = if fields.isolate {
                ProjectMode::Branch
            } else if fields.copy {
                ProjectMode::Copy
            } else if fields.allow_project_overlap {
                ProjectMode::Bind
            } else {
                return ProjectSpec::Path(path);
            };
            ProjectSpec::Options {
                path,
                mode,
                allow_overlap: fields.allow_project_overlap,
                within: None,
            }
        }),
        grants: fields
            .grants
            .iter()
            .map(|grant| parse_grant(grant))
            .collect::<anyhow::Result<_>>()?,
        egress: egress_from(&fields.allow_hosts, &fields.injects)?,
        limits: LimitsSpec {
            memory: size("--memory", fields.memory.as_ref())?,
            cpu_shares: fields.cpu_shares,
            pids: fields.pids,
            timeout: duration("--timeout", fields.timeout.as_ref())?,
            tmpfs: size("--tmpfs", fields.tmpfs.as_ref())?,
            max_llm_calls: fields.agent.max_llm_calls,
            max_tokens: fields.agent.max_tokens,
            max_iterations: fields.agent.max_iterations,
            idle_timeout: duration("--idle-timeout", fields.agent.idle_timeout.as_ref())?,
        },
    })
}

fn duration(flag: &str, value: Option<&String>) -> anyhow::Result<Option<DurationSpec>> {
    value
        .map(|text| {
            text.parse::<DurationSpec>()
                .map_err(|error| anyhow::anyhow!("{flag}: {error}"))
        })
        .transpose()
}

/// The model and Claude Code flags, refused outside the modes they serve.
fn agent_settings(
    mode: JobMode,
    agent: &AgentArgs,
) -> anyhow::Result<(Option<LlmSpec>, Option<ClaudeSpec>)> {
    let llm =
        (agent.provider.is_some() || agent.model.is_some() || agent.no_stream).then(|| LlmSpec {
            provider: agent.provider.clone(),
            model: agent.model.clone(),
            stream: agent.no_stream.then_some(false),
        });
    if mode == JobMode::Exec && (llm.is_some() || agent.interactive) {
        anyhow::bail!(
            "--provider, --model, --no-stream and --interactive need --mode worker or claude"
        );
    }
    let claude = (agent.allowed_tools.is_some()
        || agent.disallowed_tools.is_some()
        || agent.max_turns.is_some())
    .then(|| ClaudeSpec {
        allowed_tools: agent.allowed_tools.clone(),
        disallowed_tools: agent.disallowed_tools.clone(),
        max_turns: agent.max_turns,
    });
    if claude.is_some() && mode != JobMode::Claude {
        anyhow::bail!("--allowed-tools, --disallowed-tools and --max-turns need --mode claude");
    }
    Ok((llm, claude))
}

/// `NAME` or `NAME=ENV`.
/// `--allow-host` and `--inject` as an egress policy; none without either.
fn egress_from(allow: &[String], injects: &[String]) -> anyhow::Result<Option<EgressSpec>> {
    if allow.is_empty() && injects.is_empty() {
        return Ok(None);
    }
    let inject = injects
        .iter()
        .map(|text| parse_inject(text))
        .collect::<anyhow::Result<_>>()?;
    Ok(Some(EgressSpec {
        allow: allow.to_vec(),
        inject,
        ..EgressSpec::default()
    }))
}

/// `HOST:HEADER=SECRET`, or `HOST:HEADER=… {SECRET} …` for a formatted value.
fn parse_inject(text: &str) -> anyhow::Result<InjectRule> {
    let bad = || anyhow::anyhow!("--inject: `{text}` is not HOST:HEADER=SECRET");
    let (host, rest) = text.split_once(':').ok_or_else(bad)?;
    let (header, value) = rest.split_once('=').ok_or_else(bad)?;
    if host.is_empty() || header.is_empty() || value.is_empty() {
        return Err(bad());
    }
    let (secret, format) = match (value.find('{'), value.find('}')) {
        (Some(open), Some(close)) if open < close => (
            value[open + 1..close].to_owned(),
            Some(format!("{}{{}}{}", &value[..open], &value[close + 1..])),
        ),
        _ => (value.to_owned(), None),
    };
    Ok(InjectRule {
        host: host.to_owned(),
        header: header.to_owned(),
        secret,
        format,
    })
}

fn parse_grant(text: &str) -> anyhow::Result<GrantSpec> {
    let (secret, env) = match text.split_once('=') {
        Some((secret, env)) => (secret, Some(env.to_owned())),
        None => (text, None),
    };
    if secret.is_empty() || env.as_deref() == Some("") {
        anyhow::bail!("--grant: `{text}` is not NAME or NAME=ENV");
    }
    Ok(GrantSpec {
        secret: secret.to_owned(),
        env,
    })
}
