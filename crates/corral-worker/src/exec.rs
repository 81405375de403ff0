//! Exec mode: run the job's command (argv as is, a string with `sh -c`),
//! stream its stdout and stderr, report its exit code.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use corral_proto::CommandSpec;
use corral_proto::worker::{Completion, CompletionStatus, Credential, WorkerJob};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::Client;
use crate::failure::{EXIT_WORKER_FAILED, complain, report_failure};
use crate::output::{Stream, pump, ship};

/// Chunks buffered between the pipes and the shipper; past this the
/// command blocks on its writes, so a flood cannot exhaust memory.
const CHANNEL_DEPTH: usize = 64;
/// How long background processes that inherited the pipes may keep them
/// open after the command exits.
const PIPE_GRACE: Duration = Duration::from_secs(2);
/// `sh`'s code for "command not found", used when the program cannot start.
const EXIT_NOT_STARTED: u8 = 127;

/// Why `program` did not start, in words that name it and say what to do.
#[expect(
    clippy::disallowed_methods,
    reason = "the PATH the program was searched on, read for the message only"
)]
fn not_started(program: &str, error: &std::io::Error) -> String {
    let shown: String = program.chars().take(200).collect();
    match error.kind() {
        std::io::ErrorKind::NotFound if program.contains('/') => {
            format!("cannot start the command: `{shown}` does not exist in the image")
        }
        std::io::ErrorKind::NotFound => format!(
            "cannot start the command: `{shown}` is not in the image (searched PATH={}); use an image that has it (--image)",
            std::env::var("PATH").unwrap_or_default()
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot start the command: `{shown}` is not executable by the job's user (or sits on a noexec mount such as /tmp)"
        ),
        _ => format!("cannot start the command `{shown}`: {error}"),
    }
}

/// Runs the job's command; returns the worker's exit code (the command's).
pub async fn run(client: &Client, job: &WorkerJob, credentials: &[Credential]) -> u8 {
    let Some(spec) = &job.command else {
        report_failure(client, "exec job has no command").await;
        return EXIT_WORKER_FAILED;
    };
    let program = match spec {
        CommandSpec::Argv(argv) => argv[0].clone(),
        CommandSpec::Shell(_) => "sh".to_owned(),
    };
    let mut command = match spec {
        CommandSpec::Argv(argv) => {
            let mut command = Command::new(&argv[0]);
            command.args(&argv[1..]);
            command
        }
        CommandSpec::Shell(line) => {
            let mut command = Command::new("sh");
            command.arg("-c").arg(line);
            command
        }
    };
    if let Some(workdir) = &job.workdir {
        command.current_dir(workdir);
    }
    crate::child::forked(&mut command);
    command
        .envs(
            credentials
                .iter()
                .map(|credential| (&credential.env_var, &credential.value)),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            report_failure(client, &not_started(&program, &error)).await;
            return EXIT_NOT_STARTED;
        }
    };
    let (sender, receiver) = mpsc::channel::<crate::output::Chunk>(CHANNEL_DEPTH);
    let mut readers = JoinSet::new();
    if let Some(stdout) = child.stdout.take() {
        readers.spawn(pump(stdout, Stream::Stdout, None, sender.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.spawn(pump(stderr, Stream::Stderr, None, sender));
    }
    let finish = async {
        let status = child.wait().await;
        let drained = tokio::time::timeout(PIPE_GRACE, async {
            while readers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            readers.abort_all();
        }
        status
    };
    let (status, shipped) = tokio::join!(finish, ship(client, receiver));
    if let Err(error) = shipped {
        complain(&format!("cannot send output: {error}"));
    }
    let exit_code = match status {
        Ok(status) => status
            .code()
            .or_else(|| status.signal().map(|signal| 128 + signal))
            .unwrap_or(i32::from(EXIT_WORKER_FAILED)),
        Err(error) => {
            report_failure(client, &format!("cannot wait for the command: {error}")).await;
            return EXIT_WORKER_FAILED;
        }
    };
    let completion = Completion {
        status: if exit_code == 0 {
            CompletionStatus::Succeeded
        } else {
            CompletionStatus::Failed
        },
        summary: format!("exit code {exit_code}"),
        exit_code: Some(i64::from(exit_code)),
        reason: None,
    };
    if let Err(error) = client.complete(&completion).await {
        complain(&format!("cannot report completion: {error}"));
    }
    u8::try_from(exit_code).unwrap_or(EXIT_WORKER_FAILED)
}
