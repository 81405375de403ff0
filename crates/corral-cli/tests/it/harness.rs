//! A `corral serve` child process on `127.0.0.1:0` with its own data
//! directory, and a way to run CLI commands against it. Dropping it stops
//! the server with SIGTERM (so it removes its own containers) and then
//! removes anything of its instance that is still there.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "the test harness fails loudly"
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};

use corral_runtime::LABEL_INSTANCE;

pub const CORRAL: &str = env!("CARGO_BIN_EXE_corral");

pub struct ServeProcess {
    pub data_dir: tempfile::TempDir,
    child: Option<Child>,
}

impl ServeProcess {
    pub async fn start() -> Self {
        let data_dir = tempfile::Builder::new()
            .prefix("corral-cli-")
            .tempdir()
            .expect("data dir");
        Self::start_in(data_dir, &[], &[], false).await
    }

    /// A server that runs the sandbox check at start, as `corral serve`
    /// does by default (the other servers of these tests skip it, so their
    /// job lists hold only their own jobs).
    pub async fn start_verified() -> Self {
        let data_dir = tempfile::Builder::new()
            .prefix("corral-cli-")
            .tempdir()
            .expect("data dir");
        Self::start_in(data_dir, &[], &[], true).await
    }

    /// A server with extra `serve` flags and environment variables.
    pub async fn start_with(args: &[&str], env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::Builder::new()
            .prefix("corral-cli-")
            .tempdir()
            .expect("data dir");
        Self::start_in(data_dir, args, env, false).await
    }

    /// Kills the server with SIGKILL: no cleanup at all.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server (if it still runs) and starts a new one on the same
    /// data directory.
    pub async fn restart(mut self) -> Self {
        self.kill_hard();
        let data_dir = tempfile::TempDir::new()
            .map(|placeholder| std::mem::replace(&mut self.data_dir, placeholder));
        Self::start_in(data_dir.expect("swap data dir"), &[], &[], false).await
    }

    /// Stops the server with SIGTERM (see [`ServeProcess::stop`]) and
    /// starts a new one on the same data directory.
    pub async fn restart_gracefully(mut self) -> Self {
        self.terminate();
        let data_dir = tempfile::TempDir::new()
            .map(|placeholder| std::mem::replace(&mut self.data_dir, placeholder));
        Self::start_in(data_dir.expect("swap data dir"), &[], &[], false).await
    }

    async fn start_in(
        data_dir: tempfile::TempDir,
        args: &[&str],
        env: &[(&str, &str)],
        verify: bool,
    ) -> Self {
        corral_testkit::ensure_docker();
        let image = corral_testkit::default_image().await;
        let mut child = Command::new(CORRAL)
            .args([
                "--data-dir",
                &data_dir.path().to_string_lossy(),
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .args(["--image", &image])
            .arg("--worker-bin")
            .arg(corral_testkit::worker_bin())
            .args(if verify {
                &[][..]
            } else {
                &["--no-verify"][..]
            })
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start corral serve");
        // The server logs "corral is serving" once it listens; read until then.
        let stderr = child.stderr.take().expect("stderr piped");
        let log_path = data_dir.path().join("serve.log");
        let ready = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stderr).lines();
            let mut seen = Vec::new();
            for line in lines.by_ref() {
                let line = line.unwrap_or_default();
                if line.contains("corral is serving") {
                    // Keep draining into the log file so the server never
                    // blocks on a full pipe and tests can search its log.
                    let mut log = std::fs::File::create(&log_path).expect("log file");
                    for earlier in &seen {
                        let _ = writeln!(log, "{earlier}");
                    }
                    let _ = writeln!(log, "{line}");
                    std::thread::spawn(move || {
                        for line in lines.map_while(Result::ok) {
                            let _ = writeln!(log, "{line}");
                        }
                    });
                    return Ok(());
                }
                seen.push(line);
            }
            Err(seen.join("\n"))
        })
        .await
        .expect("reader task");
        if let Err(log) = ready {
            panic!("corral serve did not start:\n{log}");
        }
        Self {
            data_dir,
            child: Some(child),
        }
    }

    /// Runs `corral ARGS…` against this server (found through the data directory).
    pub async fn corral(&self, args: &[&str]) -> Output {
        let mut command = Command::new(CORRAL);
        command
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .args(args);
        tokio::task::spawn_blocking(move || command.output().expect("run corral"))
            .await
            .expect("command task")
    }

    /// Runs `corral ARGS…` with `input` on stdin.
    pub async fn corral_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut command = Command::new(CORRAL);
        command
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let input = input.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut child = command.spawn().expect("run corral");
            child
                .stdin
                .take()
                .expect("stdin piped")
                .write_all(input.as_bytes())
                .expect("write stdin");
            child.wait_with_output().expect("corral output")
        })
        .await
        .expect("command task")
    }

    /// `corral run --detach -- sh -c SCRIPT`, which must succeed; the job's id.
    pub async fn detached(&self, script: &str) -> String {
        let detached = self
            .corral(&["run", "--detach", "--", "sh", "-c", script])
            .await;
        assert!(detached.status.success(), "{}", stderr(&detached));
        stdout(&detached).trim().to_owned()
    }

    /// Shows a job as JSON (`corral show --json`).
    pub async fn show(&self, id: &str) -> serde_json::Value {
        serde_json::from_str(&stdout(&self.corral(&["show", "--json", id]).await))
            .expect("job JSON")
    }

    /// Waits (10 s at most) until the job is running; returns it as JSON.
    pub async fn wait_until_running(&self, id: &str) -> serde_json::Value {
        for _ in 0..200 {
            let job = self.show(id).await;
            if job["state"] == "running" && job["container_id"].is_string() {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("job {id} never ran");
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.path().join("serve.log")).unwrap_or_default()
    }

    pub fn instance_id(&self) -> String {
        std::fs::read_to_string(self.data_dir.path().join("instance-id"))
            .expect("instance id")
            .trim()
            .to_owned()
    }

    /// Stops the server with SIGTERM; returns how many of its containers remained.
    pub async fn stop(mut self) -> usize {
        self.terminate();
        corral_testkit::remove_labelled(LABEL_INSTANCE, &self.instance_id()).await
    }

    /// SIGTERM, then 60 s for the server to end; past them it is killed
    /// and the test fails (a server that missed the signal hung the run).
    fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            for _ in 0..600 {
                if !matches!(child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                std::thread::panicking(),
                "corral serve did not end within 60 s of SIGTERM"
            );
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        self.terminate();
        corral_testkit::remove_instance_now(&self.instance_id());
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The events a `--json` logs command printed, one JSON object a line.
pub fn events(output: &Output) -> Vec<serde_json::Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("event JSON"))
        .collect()
}

/// The text of the `output` events, of `stream` only when given.
pub fn printed(events: &[serde_json::Value], stream: Option<&str>) -> String {
    events
        .iter()
        .filter(|event| event["kind"] == "output")
        .filter(|event| stream.is_none_or(|stream| event["data"]["stream"] == stream))
        .filter_map(|event| event["data"]["text"].as_str())
        .collect()
}

/// A git repository with one commit (`readme.md`: "hello").
pub fn git_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().expect("repo");
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=u", "-c", "user.email=u@example.com"])
            .arg("-C")
            .arg(repo.path())
            .args(args)
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    std::fs::write(repo.path().join("readme.md"), "hello\n").expect("write");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "init"]);
    repo
}
