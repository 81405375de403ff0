//! A job's details as `key: value` lines, and its diff. Every value, even
//! an id, is made visible on one line; a diff is made visible line by line
//! before corral colours it.

use std::fmt::Write as _;

use corral_proto::{IsolationKind, Job, ProjectMode};
use time::OffsetDateTime;

use super::timing::{human_duration, human_time, job_duration};
use super::write::{JobOutput, line, write_stdout};
use super::{visible, visible_line};

/// A container id as `docker ps` shows it: its first 12 characters.
const SHORT_CONTAINER_ID: usize = 12;

/// A job as `key: value` lines.
pub fn job_details(job: &Job) {
    for (key, value) in detail_fields(job, OffsetDateTime::now_utc()) {
        line(&format!("{key:>12}  {}", visible_line(&value)));
    }
}

/// The lines of [`job_details`], `now` ending the duration of a running job.
/// The state, and for an interactive job between turns, since when it waits.
fn state_of(job: &Job) -> String {
    match job.waiting_since {
        Some(since) => format!(
            "{}, waiting for a prompt since {} (corral prompt {id} \"…\" | corral end {id})",
            job.state.as_str(),
            human_time(since),
            id = job.id
        ),
        None => job.state.as_str().to_owned(),
    }
}

/// A branch-mode job's review copy, and what became of it.
fn review_of(job: &Job) -> Option<String> {
    let isolation = job.isolation.as_ref()?;
    let review = match (&isolation.branch, isolation.kind) {
        (Some(branch), _) => format!("branch {branch}"),
        (None, IsolationKind::Git) => "branch".to_owned(),
        (None, IsolationKind::Copy) => "a patch of a plain copy".to_owned(),
    };
    Some(match &isolation.reviewed {
        Some(reviewed) => format!(
            "{review}, {} {}",
            reviewed.outcome.as_str(),
            human_time(reviewed.at)
        ),
        None if job.state.is_terminal() => format!("{review}, waiting (corral diff {})", job.id),
        None => review,
    })
}

fn detail_fields(job: &Job, now: OffsetDateTime) -> Vec<(&'static str, String)> {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    let mut fields = vec![
        ("id", job.id.clone()),
        ("state", state_of(job)),
        ("mode", job.mode.as_str().to_owned()),
        ("image", job.image.clone()),
        ("isolation", job.isolation_level.as_str().to_owned()),
    ];
    if let Some(command) = &job.command {
        fields.push(("command", super::describe_command(command)));
    }
    if let Some(prompt) = &job.prompt {
        fields.push(("prompt", first_line(prompt)));
    }
    fields.push(("project", or_dash(job.project.clone())));
    if job.project.is_some() {
        fields.push(("project mode", project_mode(job).to_owned()));
    }
    if let Some(review) = review_of(job) {
        fields.push(("review", review));
    }
    let grants: Vec<&str> = job
        .grants
        .iter()
        .map(|grant| grant.secret.as_str())
        .collect();
    fields.push((
        "grants",
        if grants.is_empty() {
            "-".to_owned()
        } else {
            grants.join(", ")
        },
    ));
    if let Some(llm) = &job.llm {
        fields.push(("model", format!("{}/{}", llm.provider, llm.model)));
    }
    if job.usage.llm_calls > 0 {
        fields.push((
            "usage",
            format!(
                "{} calls, {} tokens in, {} out, ${:.4}",
                job.usage.llm_calls,
                job.usage.input_tokens,
                job.usage.output_tokens,
                job.usage.cost_usd
            ),
        ));
    }
    fields.extend([
        (
            "exit code",
            or_dash(job.exit_code.map(|code| code.to_string())),
        ),
        ("reason", or_dash(job.reason.clone())),
        (
            "container",
            or_dash(
                job.container_id
                    .as_ref()
                    .map(|id| id.chars().take(SHORT_CONTAINER_ID).collect::<String>()),
            ),
        ),
        (
            "memory",
            corral_proto::ByteSize(job.limits.memory_bytes).to_string(),
        ),
        ("cpu shares", job.limits.cpu_shares.to_string()),
        ("pids", job.limits.pids.to_string()),
        ("timeout", human_duration(job.limits.timeout_secs)),
    ]);
    if job.interactive {
        fields.push(("idle timeout", human_duration(job.limits.idle_timeout_secs)));
    }
    fields.extend([
        ("created", human_time(job.created_at)),
        ("started", or_dash(job.started_at.map(human_time))),
        ("finished", or_dash(job.finished_at.map(human_time))),
        ("duration", or_dash(job_duration(job, now))),
    ]);
    fields
}

/// How the job got its project, named as the `run` flag that asks for it.
fn project_mode(job: &Job) -> &'static str {
    match job.project_mode {
        ProjectMode::Bind => "bind",
        ProjectMode::Copy => "copy",
        ProjectMode::Branch => "isolate",
    }
}

/// The first line of a text, with `…` when more follows.
fn first_line(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    if lines.next().is_some() {
        format!("{first} …")
    } else {
        first.to_owned()
    }
}

/// A unified diff, each line made visible (a `\r` in a line cannot hide
/// it) unless `mode` is raw; coloured (added green, removed red, hunks
/// cyan) when `colour` is set and it is not raw.
pub fn diff(patch: &str, colour: bool, mode: JobOutput) {
    match mode {
        JobOutput::Raw => write_stdout(patch),
        JobOutput::Visible => write_stdout(&visible_diff(patch, colour)),
    }
}

/// The patch made visible line by line, then painted when `colour`.
fn visible_diff(patch: &str, colour: bool) -> String {
    let mut out = String::with_capacity(patch.len() + patch.len() / 8);
    for line in patch.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let newline = if body.len() < line.len() { "\n" } else { "" };
        let body = visible(body);
        let code = if !colour {
            ""
        } else if body.starts_with("+++") || body.starts_with("---") || body.starts_with("diff ") {
            "1"
        } else if body.starts_with('+') {
            "32"
        } else if body.starts_with('-') {
            "31"
        } else if body.starts_with("@@") {
            "36"
        } else {
            ""
        };
        if code.is_empty() {
            let _ = write!(out, "{body}{newline}");
        } else {
            let _ = write!(out, "\x1b[{code}m{body}\x1b[0m{newline}");
        }
    }
    out
}

#[cfg(test)]
mod tests;
