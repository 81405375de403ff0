//! Running host-side git without giving a job's copy any say in it.
//!
//! Every call disables hooks and fsmonitor, ignores system and global
//! config, never prompts, and names the one directory it trusts. A job's
//! copy is never used as a repository here: its work is read through a
//! trusted git directory corral creates, which sees the copy's files and
//! objects as data, never its config, hooks or filters.

use std::path::Path;
use std::process::Command;

use super::WorkspaceError;

/// Settings every host-side git call runs with.
const HARDENING: &[&str] = &[
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.sshCommand=false",
    "-c",
    "protocol.allow=never",
    "-c",
    "protocol.file.allow=always",
    "-c",
    "commit.gpgSign=false",
    "-c",
    "user.name=corral",
    "-c",
    "user.email=corral@localhost",
    "-c",
    "advice.detachedHead=false",
    "-c",
    "init.defaultBranch=main",
];

/// A git invocation.
pub struct Git<'a> {
    command: Command,
    what: &'a str,
}

impl<'a> Git<'a> {
    /// `git` hardened, trusting only `safe_dir` (the user's repository or a
    /// directory corral made).
    pub fn new(what: &'a str, safe_dir: &Path) -> Self {
        let mut command = Command::new("git");
        command
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .args(HARDENING)
            .arg("-c")
            .arg(format!("safe.directory={}", safe_dir.display()));
        Self { command, what }
    }

    /// Runs in `dir`.
    pub fn dir(mut self, dir: &Path) -> Self {
        self.command.arg("-C").arg(dir);
        self
    }

    /// Uses `git_dir` as the repository and `work_tree` as its files.
    pub fn split(mut self, git_dir: &Path, work_tree: &Path) -> Self {
        self.command
            .env("GIT_DIR", git_dir)
            .env("GIT_WORK_TREE", work_tree);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &Path) -> Self {
        self.command.env(key, value);
        self
    }

    /// Runs with `args`; returns stdout, or an error carrying stderr.
    pub fn run<S: AsRef<std::ffi::OsStr>>(mut self, args: &[S]) -> Result<String, WorkspaceError> {
        let output = self
            .command
            .args(args)
            .output()
            .map_err(|error| WorkspaceError::Git {
                what: self.what.to_owned(),
                message: format!("cannot run git: {error}"),
            })?;
        if !output.status.success() {
            return Err(WorkspaceError::Git {
                what: self.what.to_owned(),
                message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Runs with `args`, handing stdout to `sink` a chunk at a time (so a
    /// huge diff never sits in memory) until `sink` says stop; an error
    /// carries stderr when git failed before that.
    pub fn stream<S: AsRef<std::ffi::OsStr>>(
        mut self,
        args: &[S],
        mut sink: impl FnMut(&[u8]) -> std::ops::ControlFlow<()>,
    ) -> Result<(), WorkspaceError> {
        use std::io::Read as _;
        let failed = |message: String| WorkspaceError::Git {
            what: self.what.to_owned(),
            message,
        };
        let mut child = self
            .command
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|error| failed(format!("cannot run git: {error}")))?;
        let mut stdout = child
            .stdout
            .take()
            .ok_or_else(|| failed("git has no stdout".to_owned()))?;
        let mut buffer = vec![0u8; 64 << 10];
        let mut stopped = false;
        loop {
            let read = stdout.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            if sink(&buffer[..read]).is_break() {
                stopped = true;
                let _ = child.kill();
                break;
            }
        }
        drop(stdout);
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        let status = child.wait()?;
        if !stopped && !status.success() {
            return Err(failed(stderr.trim().to_owned()));
        }
        Ok(())
    }

    /// Runs with `args`; returns at most `cap` bytes of stdout, and whether
    /// there was more.
    pub fn run_capped<S: AsRef<std::ffi::OsStr>>(
        self,
        args: &[S],
        cap: usize,
    ) -> Result<(String, bool), WorkspaceError> {
        let mut kept = Vec::new();
        let mut truncated = false;
        self.stream(args, |chunk| {
            let room = cap - kept.len();
            kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if chunk.len() > room {
                truncated = true;
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        })?;
        Ok((String::from_utf8_lossy(&kept).into_owned(), truncated))
    }

    /// Runs with `args`; true on success, false on failure.
    pub fn succeeds<S: AsRef<std::ffi::OsStr>>(mut self, args: &[S]) -> bool {
        self.command
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}
