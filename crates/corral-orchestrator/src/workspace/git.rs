//! Running host-side git without giving a job any say in it.
//!
//! corral runs git as root in three kinds of place: directories it made
//! itself (a job's fresh clone, a trusted bare repository, its review
//! files), a job's copy once the job has ended, and the user's own
//! repository. Only the first is trusted.
//!
//! Every call disables hooks and fsmonitor, ignores system and global
//! config, never prompts, allows no transport but local files (each
//! remote protocol is also refused by name, which a repository's own
//! `protocol.<name>.allow` cannot override), never discovers a bare
//! repository, never recurses into submodules or starts a background gc,
//! and names the one directory it trusts.
//!
//! A job's copy is never used as a repository: its work is read through a
//! trusted git directory corral creates, which sees the copy's files and
//! objects as data, never its config, hooks or filters.
//!
//! The user's repository is job-writable too: a `bind` job runs as its
//! owner. Flags on the command line cannot neutralise every setting a
//! local config can hold (`url.<x>.insteadOf`, `filter.<driver>.clean`,
//! `include.path`, `core.worktree`, `remote.<name>.uploadpack`, …: the
//! names are open-ended), so git reaches that repository only through
//! [`UserRepository`], which checks it first without running anything it
//! names: `.git` a real directory borrowing from no other repository, no
//! links or special files under it, and every key of its config on an
//! allow-list of inert settings (an allow-list, because a deny-list loses
//! to the next git release). `--no-includes` turns `include.path` and
//! `includeIf` into keys, which the list refuses, instead of files read.
//!
//! Attributes need no check of their own: `filter=`, `diff=` and `merge=`
//! in `.gitattributes` or `.git/info/attributes` only name a driver, and a
//! driver does nothing unless config defines its command, which the
//! allow-list refuses; the remaining attributes (`text`, `eol`, `ident`,
//! `working-tree-encoding`) are conversions inside git's own process. A
//! global attributes file is never read either (`core.attributesFile` is
//! set to `/dev/null`).
//!
//! The check holds at the moment of use because no job can write the
//! repository then: the job manager refuses these operations while a
//! running job has it bound (see `jobs/review.rs`).
//!
//! A copy-mode patch is applied with `GIT_DIR=/dev/null`: git works on the
//! files alone, and whatever `.git` a job left in the directory is never
//! read.

mod repository;
mod settings;

use std::path::Path;
use std::process::Command;

pub use repository::UserRepository;

use super::WorkspaceError;

/// Settings every host-side git call runs with. Command-line settings win
/// over a repository's own config.
const HARDENING: &[&str] = &[
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.sshCommand=false",
    "-c",
    "core.askPass=",
    "-c",
    "credential.helper=",
    "-c",
    "core.attributesFile=/dev/null",
    "-c",
    "core.excludesFile=/dev/null",
    "-c",
    "protocol.allow=never",
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "protocol.ssh.allow=never",
    "-c",
    "protocol.git.allow=never",
    "-c",
    "protocol.http.allow=never",
    "-c",
    "protocol.https.allow=never",
    "-c",
    "protocol.file.allow=always",
    "-c",
    "safe.bareRepository=explicit",
    "-c",
    "submodule.recurse=false",
    "-c",
    "fetch.recurseSubmodules=false",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
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

    /// `git` hardened, run in `dir`, a directory corral made (never the
    /// user's repository: that is reached through [`UserRepository`]).
    pub fn in_own_dir(what: &'a str, dir: &Path) -> Self {
        Self::new(what, dir).in_dir(dir)
    }

    /// `git` hardened, run in `dir` as in no repository at all (for a
    /// patch applied to plain files): whatever `.git` is there or above is
    /// never read.
    pub fn outside_repository(what: &'a str, dir: &Path) -> Self {
        let mut git = Self::new(what, dir);
        git.command.env("GIT_DIR", "/dev/null").current_dir(dir);
        git
    }

    /// Runs in `dir`; only for [`UserRepository`] and [`Git::in_own_dir`].
    fn in_dir(mut self, dir: &Path) -> Self {
        self.command.arg("-C").arg(dir);
        self
    }

    /// Trusts `dir` as well (a repository's `.git`, which a clone from it
    /// names).
    fn also_trusting(mut self, dir: &Path) -> Self {
        self.command
            .arg("-c")
            .arg(format!("safe.directory={}", dir.display()));
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
