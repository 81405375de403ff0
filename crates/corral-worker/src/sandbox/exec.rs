//! One exec: its command started in a process group of its own (so its
//! timeout kills what it started in the foreground, while what it left in
//! the background with `&` and `setsid` lives on), its stdin written, its
//! output pumped to the shipper tagged with its number, and its end sent
//! after the last of its output.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corral_proto::CommandSpec;
use corral_proto::NewEvent;
use corral_proto::event::{ExecEndedData, ExecStartedData};
use corral_proto::sandbox::order::ExecOrder;
use corral_proto::worker::Credential;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::output::{Outgoing, Stream, pump};

/// How long processes that inherited the pipes (a server started in the
/// background without redirecting them) may keep them open after the
/// command exits.
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// Runs `order`; its events go to `events`.
pub async fn run(order: ExecOrder, credentials: Arc<[Credential]>, events: mpsc::Sender<Outgoing>) {
    let started = Instant::now();
    let exec = order.exec;
    let _ = events
        .send(Outgoing::Event(NewEvent::of(&ExecStartedData {
            exec,
            cmd: order.cmd.clone(),
            cwd: order.cwd.clone(),
        })))
        .await;
    let ended = execute(&order, &credentials, &events).await;
    let ended = ExecEndedData {
        exec,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        ..ended
    };
    let _ = events.send(Outgoing::Event(NewEvent::of(&ended))).await;
}

/// The command run to its end (or its timeout); its end without a duration.
async fn execute(
    order: &ExecOrder,
    credentials: &[Credential],
    events: &mpsc::Sender<Outgoing>,
) -> ExecEndedData {
    let ended = |exit_code, timed_out, reason| ExecEndedData {
        exec: order.exec,
        exit_code,
        duration_ms: 0,
        timed_out,
        reason,
    };
    let Some(mut command) = command(order, credentials) else {
        return ended(None, false, Some("empty command".into()));
    };
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            return ended(
                Some(127),
                false,
                Some(format!("cannot start the command: {error}")),
            );
        }
    };
    let mut readers = JoinSet::new();
    let stdin = order.stdin_base64.as_deref().map(|encoded| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap_or_default()
    });
    if let (Some(mut pipe), Some(stdin)) = (child.stdin.take(), stdin) {
        readers.spawn(async move {
            let _ = pipe.write_all(&stdin).await;
            let _ = pipe.shutdown().await;
        });
    }
    if let Some(stdout) = child.stdout.take() {
        readers.spawn(pump(
            stdout,
            Stream::Stdout,
            Some(order.exec),
            events.clone(),
        ));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.spawn(pump(
            stderr,
            Stream::Stderr,
            Some(order.exec),
            events.clone(),
        ));
    }
    let limit = Duration::from_secs(order.timeout_secs);
    let (status, timed_out) = if let Ok(status) = tokio::time::timeout(limit, child.wait()).await {
        (status, false)
    } else {
        if let Some(pid) = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        (child.wait().await, true)
    };
    let drained = tokio::time::timeout(PIPE_GRACE, async {
        while readers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        readers.abort_all();
    }
    match status {
        Ok(status) => {
            let code = status
                .code()
                .or_else(|| status.signal().map(|signal| 128 + signal));
            let reason =
                timed_out.then(|| format!("killed after its timeout of {}s", order.timeout_secs));
            ended(code.map(i64::from), timed_out, reason)
        }
        Err(error) => ended(
            None,
            timed_out,
            Some(format!("cannot wait for the command: {error}")),
        ),
    }
}

/// The order's command, in a process group of its own, its environment the
/// granted credentials and the order's variables; `None` for an empty argv.
fn command(order: &ExecOrder, credentials: &[Credential]) -> Option<Command> {
    let mut command = match &order.cmd {
        CommandSpec::Argv(argv) => {
            let (program, rest) = argv.split_first()?;
            let mut command = Command::new(program);
            command.args(rest);
            command
        }
        CommandSpec::Shell(line) => {
            let mut command = Command::new("sh");
            command.arg("-c").arg(line);
            command
        }
    };
    crate::child::forked(&mut command);
    command
        .current_dir(&order.cwd)
        .envs(
            credentials
                .iter()
                .map(|credential| (&credential.env_var, &credential.value)),
        )
        .envs(&order.env)
        .process_group(0)
        .stdin(if order.stdin_base64.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Some(command)
}
