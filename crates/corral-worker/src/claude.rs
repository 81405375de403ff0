//! Claude mode: the official `claude` CLI, headless, in the sandbox. It
//! talks to the model through the relay (so through the orchestrator, which
//! swaps its placeholder key for the real credential), its stream-json
//! lines become corral events, a watchdog ends it when it goes quiet, and
//! follow-up prompts resume the same Claude session: in the same container
//! while the job waits for them, in a new job once it has ended (the
//! orchestrator keeps the transcript in between).

mod session;
mod stream;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use corral_proto::worker::{CompletionStatus, Credential, JOB_HOME, WorkerJob};
use corral_proto::{ClaudeSettings, NewEvent};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio::task::JoinSet;

use crate::agent::{Next, finish, next_prompts, send};
use crate::client::Client;
use crate::failure::{EXIT_WORKER_FAILED, complain, report_failure};

pub use stream::{RunResult, map_line};

/// Where the `claude` binary is in corral's claude image.
const CLAUDE: &str = "claude";
/// Longest stream-json line read whole; longer ones are skipped with a warning.
const MAX_LINE_BYTES: usize = 16 << 20;
/// Time a stopped `claude` gets between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// Bytes of `claude`'s stderr kept for a failure's reason.
const STDERR_TAIL: usize = 2048;

/// What one `claude` run needs besides its prompt.
struct Launch<'a> {
    job: &'a WorkerJob,
    settings: &'a ClaudeSettings,
    placeholder: &'a str,
    port: u16,
    credentials: &'a [Credential],
}

/// Runs the job; returns the worker's exit code.
pub async fn run(client: &Client, job: &WorkerJob, credentials: &[Credential]) -> u8 {
    let (Some(prompt), Some(settings), Some(placeholder)) =
        (&job.prompt, &job.claude, &job.placeholder_key)
    else {
        report_failure(client, "claude job without prompt, settings or placeholder").await;
        return EXIT_WORKER_FAILED;
    };
    let mut relay_tasks = JoinSet::new();
    let port = match crate::relay::start(
        client.relay_handle(),
        corral_proto::worker::ANTHROPIC_PREFIX,
        &mut relay_tasks,
    )
    .await
    {
        Ok(port) => port,
        Err(error) => {
            report_failure(client, &format!("cannot open the model relay: {error}")).await;
            return EXIT_WORKER_FAILED;
        }
    };
    let launch = Launch {
        job,
        settings,
        placeholder,
        port,
        credentials,
    };
    let mut session: Option<String> = None;
    if settings.continues.is_some() {
        match session::restore(client).await {
            Ok(resumed) => session = resumed,
            Err(reason) => {
                report_failure(client, &reason).await;
                return EXIT_WORKER_FAILED;
            }
        }
    }
    let mut prompt = prompt.clone();
    let mut seen = 0;
    let mut ending = false;
    let outcome = loop {
        let ran = run_once(client, &launch, &prompt, session.as_deref()).await;
        // Kept after every run, so a follow-up can resume even a failed one.
        if let Ok((_, Some(id))) = &ran {
            session::save(client, id).await;
        }
        let result = match ran {
            Ok((result, id)) => {
                session = id.or(session);
                result
            }
            Err(reason) => break Err(reason),
        };
        if !result.ok {
            break Err(result.text);
        }
        if !job.interactive || ending {
            break Ok(result.text);
        }
        let idle = Duration::from_secs(job.limits.idle_timeout_secs);
        match next_prompts(client, &mut seen, idle).await {
            Next::Prompts { prompts, end } => {
                ending = end;
                prompt = prompts
                    .into_iter()
                    .map(|prompt| prompt.text)
                    .collect::<Vec<_>>()
                    .join("\n\n");
            }
            Next::End => break Ok(result.text),
        }
    };
    drop(relay_tasks);
    match outcome {
        Ok(text) => {
            finish(client, CompletionStatus::Succeeded, &text).await;
            0
        }
        Err(reason) => {
            finish(client, CompletionStatus::Failed, &reason).await;
            1
        }
    }
}

/// One `claude -p` run to its `result` line; the result and the session id.
async fn run_once(
    client: &Client,
    launch: &Launch<'_>,
    prompt: &str,
    resume: Option<&str>,
) -> Result<(RunResult, Option<String>), String> {
    let job = launch.job;
    let mut command = Command::new(CLAUDE);
    crate::child::forked(&mut command)
        .arg("-p")
        .arg(prompt)
        .args(["--output-format", "stream-json", "--verbose"])
        .args(["--permission-mode", "bypassPermissions"])
        .args(["--max-turns", &launch.settings.max_turns.to_string()]);
    if let Some(llm) = &job.llm {
        command.args(["--model", &llm.model]);
    }
    if !launch.settings.allowed_tools.is_empty() {
        command.args(["--tools", &launch.settings.allowed_tools.join(",")]);
    }
    if !launch.settings.disallowed_tools.is_empty() {
        command
            .arg("--disallowedTools")
            .arg(launch.settings.disallowed_tools.join(","));
    }
    if let Some(session) = resume {
        command.args(["--resume", session]);
    }
    let workdir = PathBuf::from(job.workdir.as_deref().unwrap_or("/tmp"));
    command
        .current_dir(workdir)
        .envs(
            launch
                .credentials
                .iter()
                .map(|credential| (&credential.env_var, &credential.value)),
        )
        .env("HOME", JOB_HOME)
        .env(
            "ANTHROPIC_BASE_URL",
            format!("http://127.0.0.1:{}", launch.port),
        )
        .env("ANTHROPIC_API_KEY", launch.placeholder)
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_MAX_RETRIES", "2")
        .env("API_TIMEOUT_MS", "120000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot start claude: {error}"))?;
    let pid = child.id();
    let stdout = child.stdout.take().ok_or("claude has no stdout")?;
    let stderr = child.stderr.take().ok_or("claude has no stderr")?;
    let idle = Duration::from_secs(job.limits.idle_timeout_secs);
    // stderr is drained alongside (so a chatty claude never blocks on a
    // full pipe) and kept short; a background process may hold it open, so
    // it is not waited for long once stdout is done.
    let mut drain = JoinSet::new();
    drain.spawn(async move {
        let mut kept = Vec::new();
        let _ = BufReader::new(stderr).read_to_end(&mut kept).await;
        let start = kept.len().saturating_sub(STDERR_TAIL);
        String::from_utf8_lossy(&kept[start..]).trim().to_owned()
    });
    let read = read_stream(client, BufReader::new(stdout), idle).await;
    if matches!(read, Read::Quiet) {
        stop(pid, &mut child).await;
    }
    let stderr = match tokio::time::timeout(KILL_GRACE, drain.join_next()).await {
        Ok(Some(Ok(tail))) => tail,
        _ => String::new(),
    };
    let status = tokio::time::timeout(KILL_GRACE * 2, child.wait()).await;
    match read {
        Read::Done(result, session) => Ok((result, session)),
        Read::Quiet => Err(format!(
            "claude printed nothing for {}s and was stopped",
            idle.as_secs()
        )),
        Read::Ended => {
            let status = match status {
                Ok(Ok(status)) => status.to_string(),
                _ => "unknown status".to_owned(),
            };
            let detail = if stderr.is_empty() {
                String::new()
            } else {
                format!(": {stderr}")
            };
            Err(format!("claude exited without a result ({status}){detail}"))
        }
    }
}

/// How reading `claude`'s stream ended.
enum Read {
    /// A `result` line came.
    Done(RunResult, Option<String>),
    /// Its stdout closed first.
    Ended,
    /// Nothing came for the idle timeout.
    Quiet,
}

async fn read_stream(
    client: &Client,
    mut lines: impl AsyncBufRead + Unpin,
    idle: Duration,
) -> Read {
    let mut session = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        let next = tokio::time::timeout(idle, read_line(&mut lines, &mut line)).await;
        let too_long = match next {
            Err(_) => return Read::Quiet,
            Ok(Err(_) | Ok(None)) => return Read::Ended,
            Ok(Ok(Some(too_long))) => too_long,
        };
        if too_long {
            send(
                client,
                vec![NewEvent::warning(format!(
                    "skipped a claude line over {MAX_LINE_BYTES} bytes"
                ))],
            )
            .await;
            continue;
        }
        let mapped = map_line(&String::from_utf8_lossy(&line));
        if mapped.session_id.is_some() {
            session = mapped.session_id;
        }
        send(client, mapped.events).await;
        if let Some(result) = mapped.result {
            return Read::Done(result, session);
        }
    }
}

/// Reads one line into `line` (without its newline), keeping at most
/// [`MAX_LINE_BYTES`]; `None` at the end, `Some(true)` when it was cut.
async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    line: &mut Vec<u8>,
) -> std::io::Result<Option<bool>> {
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok((!line.is_empty() || too_long).then_some(too_long));
        }
        let (chunk, found) = match available.iter().position(|byte| *byte == b'\n') {
            Some(at) => (&available[..at], Some(at)),
            None => (available, None),
        };
        if line.len() + chunk.len() > MAX_LINE_BYTES {
            too_long = true;
            line.clear();
        } else if !too_long {
            line.extend_from_slice(chunk);
        }
        let used = found.map_or(chunk.len(), |at| at + 1);
        reader.consume(used);
        if found.is_some() {
            return Ok(Some(too_long));
        }
    }
}

/// SIGTERM to `claude`'s process group, SIGKILL when it has not exited
/// after a grace period.
async fn stop(pid: Option<u32>, child: &mut tokio::process::Child) {
    let Some(group) = pid.and_then(|pid| rustix::process::Pid::from_raw(pid as i32)) else {
        return;
    };
    complain("claude went quiet; stopping it");
    let _ = rustix::process::kill_process_group(group, rustix::process::Signal::TERM);
    if tokio::time::timeout(KILL_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_read_whole_and_overlong_ones_are_skipped() {
        let huge = "y".repeat(MAX_LINE_BYTES + 10);
        let input = format!("first\n{huge}\nlast");
        let mut reader = BufReader::new(input.as_bytes());
        let mut line = Vec::new();
        assert_eq!(
            read_line(&mut reader, &mut line).await.expect("read"),
            Some(false)
        );
        assert_eq!(line, b"first");
        line.clear();
        assert_eq!(
            read_line(&mut reader, &mut line).await.expect("read"),
            Some(true)
        );
        line.clear();
        assert_eq!(
            read_line(&mut reader, &mut line).await.expect("read"),
            Some(false)
        );
        assert_eq!(line, b"last");
        line.clear();
        assert_eq!(read_line(&mut reader, &mut line).await.expect("read"), None);
    }
}
