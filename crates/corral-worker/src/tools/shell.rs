//! The `shell` tool: a command run with `sh -c` in the working directory,
//! with the job's credentials in its environment only, a timeout, its
//! output streamed as events and kept short for the model.

use std::fmt::Write as _;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::mpsc;

use super::{
    DEFAULT_SHELL_SECS, MAX_RESULT_CHARS, MAX_SHELL_SECS, ShellArgs, ToolResult, Tools,
    floor_boundary,
};
use crate::output::{Chunk, Stream, pump, ship};

impl Tools<'_> {
    /// Runs a shell command, streaming its output as `output` events and
    /// giving the model its exit code and (shortened) output.
    pub(super) async fn shell(&self, args: &ShellArgs) -> ToolResult {
        if args.command.trim().is_empty() {
            return ToolResult::error("`command` must not be empty");
        }
        let limit = Duration::from_secs(
            args.timeout
                .unwrap_or(DEFAULT_SHELL_SECS)
                .clamp(1, MAX_SHELL_SECS),
        );
        let mut command = Command::new("sh");
        crate::child::forked(&mut command)
            .arg("-c")
            .arg(&args.command)
            .current_dir(&self.workdir)
            .envs(
                self.credentials
                    .iter()
                    .map(|credential| (&credential.env_var, &credential.value)),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => return ToolResult::error(format!("cannot start sh: {error}")),
        };
        let (to_tee, mut from_pipes) = mpsc::channel::<Chunk>(64);
        let (to_ship, from_tee) = mpsc::channel::<Chunk>(64);
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let pumps = async {
            let out = async {
                if let Some(pipe) = stdout {
                    pump(pipe, Stream::Stdout, None, to_tee.clone()).await;
                }
            };
            let err = async {
                if let Some(pipe) = stderr {
                    pump(pipe, Stream::Stderr, None, to_tee.clone()).await;
                }
            };
            tokio::join!(out, err);
            drop(to_tee);
        };
        let tee = async {
            let (mut out, mut err) = (Captured::default(), Captured::default());
            while let Some(chunk) = from_pipes.recv().await {
                match chunk.stream {
                    Stream::Stdout => out.push(&chunk.text),
                    Stream::Stderr => err.push(&chunk.text),
                }
                let _ = to_ship.send(chunk).await;
            }
            drop(to_ship);
            (out, err)
        };
        let pid = child.id();
        let waited = async {
            let status = tokio::time::timeout(limit, child.wait()).await;
            if status.is_err()
                && let Some(pid) = pid.and_then(|pid| rustix::process::Pid::from_raw(pid as i32))
            {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            status
        };
        let (status, (), (out, err), shipped) =
            tokio::join!(waited, pumps, tee, ship(self.client, from_tee));
        if let Err(error) = shipped {
            crate::failure::complain(&format!("cannot send tool output: {error}"));
        }
        let mut text = match status {
            Ok(Ok(status)) => match status.code() {
                Some(code) => format!("exit code: {code}\n"),
                None => "killed by a signal\n".to_owned(),
            },
            Ok(Err(error)) => return ToolResult::error(format!("cannot wait for sh: {error}")),
            Err(_) => format!("timed out after {}s and was killed\n", limit.as_secs()),
        };
        let ok = text == "exit code: 0\n";
        for (name, captured) in [("stdout", out), ("stderr", err)] {
            if !captured.is_empty() {
                let _ = write!(text, "{name}:\n{}\n", captured.finish());
            }
        }
        ToolResult { ok, text }
    }
}

/// Output kept for the model: the head and a rolling tail.
#[derive(Default)]
pub(super) struct Captured {
    head: String,
    tail: String,
    dropped: usize,
}

impl Captured {
    const HALF: usize = MAX_RESULT_CHARS / 2 - 64;

    pub(super) fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    pub(super) fn push(&mut self, text: &str) {
        let room = Self::HALF.saturating_sub(self.head.len());
        let split = floor_boundary(text, room);
        self.head.push_str(&text[..split]);
        self.tail.push_str(&text[split..]);
        if self.tail.len() > Self::HALF * 2 {
            let cut = floor_boundary(&self.tail, self.tail.len() - Self::HALF);
            self.dropped += cut;
            self.tail.drain(..cut);
        }
    }

    pub(super) fn finish(self) -> String {
        let mut tail = self.tail;
        let mut dropped = self.dropped;
        if tail.len() > Self::HALF {
            let cut = floor_boundary(&tail, tail.len() - Self::HALF);
            dropped += cut;
            tail.drain(..cut);
        }
        if dropped == 0 {
            return self.head + &tail;
        }
        format!("{}\n[… {dropped} bytes omitted …]\n{tail}", self.head)
    }
}
