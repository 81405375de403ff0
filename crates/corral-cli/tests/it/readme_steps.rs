//! What the README smoke test runs for each line of "Using it". Where a
//! line cannot run as written here (a program the image lacks, a public
//! host the tests must never reach, a provider key), the same flags run
//! with what the machine has, and the comment says what changed.

#![expect(
    clippy::expect_used,
    clippy::too_many_lines,
    reason = "a smoke test fails loudly, one step per README line"
)]

use std::process::Command;

use crate::harness::{stderr, stdout};
use crate::readme::Smoke;
use crate::readme_agent::last_id;

/// The README's `~/src/app`: a git repository its job user owns, with a
/// `sub` directory.
pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("app");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    std::fs::write(dir.path().join("notes.txt"), "one\n").expect("notes");
    std::fs::create_dir(dir.path().join("sub")).expect("sub");
    std::fs::write(dir.path().join("sub/keep"), "").expect("keep");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "first"]);
    let status = Command::new("chown")
        .args(["-R", "10001:10001"])
        .arg(dir.path())
        .status()
        .expect("chown");
    assert!(status.success());
    dir
}

/// The README's `my-team/toolchain:1`: here the default image under that
/// name (any image works; this one has busybox only). Untagged on drop.
pub struct Toolchain;

const TOOLCHAIN: &str = "my-team/toolchain:1";

impl Toolchain {
    pub async fn tag() -> Self {
        let image = corral_testkit::default_image().await;
        let status = Command::new("docker")
            .args(["tag", &image, TOOLCHAIN])
            .status()
            .expect("docker tag");
        assert!(status.success());
        Self
    }
}

impl Drop for Toolchain {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", TOOLCHAIN]).output();
    }
}

/// Runs one README line.
pub async fn play(smoke: &mut Smoke, line: &str) {
    if crate::readme_sandbox::play(smoke, line).await {
        return;
    }
    match line {
        "corral image build" => {
            smoke.corral(&["image", "build"], 0).await;
        }
        // The harness's server, on a data directory of its own.
        "corral serve &" => {}
        "corral run -- sh -c 'echo hi; exit 3'" => {
            let out = smoke
                .corral(&["run", "--", "sh", "-c", "echo hi; exit 3"], 3)
                .await;
            assert_eq!(stdout(&out), "hi\n");
            smoke.done = last_id(smoke).await;
        }
        // `make` is not in the image: the same flags, a command it has.
        "corral run --project ~/src/app --image my-team/toolchain:1 --memory 1g --timeout 10m -- make test" =>
        {
            let args = [
                "run",
                "--project",
                "~/src/app",
                "--image",
                TOOLCHAIN,
                "--memory",
                "1g",
                "--timeout",
                "10m",
                "--",
                "sh",
                "-c",
                "cat notes.txt && touch built",
            ];
            let out = smoke.corral(&args, 0).await;
            assert_eq!(stdout(&out), "one\n");
            assert!(smoke.app.path().join("built").exists());
            std::fs::remove_file(smoke.app.path().join("built")).expect("rm built");
            let job = smoke.server().show(&last_id(smoke).await).await;
            assert_eq!(job["image"], TOOLCHAIN);
            assert_eq!(job["limits"]["memory_bytes"], 1_u64 << 30);
        }
        // As written: the image has no cargo, which is what the line's
        // comment says and what the hint must explain.
        "corral run --image my-team/toolchain:1 -- cargo build" => {
            let out = smoke
                .corral(&["run", "--image", TOOLCHAIN, "--", "cargo", "build"], 127)
                .await;
            assert!(
                stderr(&out).contains("`cargo` is not in the image"),
                "{}",
                stderr(&out)
            );
            assert!(stderr(&out).contains("--image IMAGE"), "{}", stderr(&out));
        }
        // There is no ./untrusted.sh in the image: a command on gVisor.
        "corral run --isolation gvisor -- ./untrusted.sh" => {
            let out = smoke
                .corral(
                    &[
                        "run",
                        "--isolation",
                        "gvisor",
                        "--",
                        "sh",
                        "-c",
                        "echo on gvisor",
                    ],
                    0,
                )
                .await;
            assert_eq!(stdout(&out), "on gvisor\n");
            let job = smoke.server().show(&last_id(smoke).await).await;
            assert_eq!(job["isolation_level"], "gvisor");
        }
        "corral run --detach -- long-task" => {
            let out = smoke
                .corral(&["run", "--detach", "--", "sleep", "300"], 0)
                .await;
            stdout(&out).trim().clone_into(&mut smoke.id);
            assert!(smoke.id.starts_with("j-"), "{}", smoke.id);
            smoke.server().wait_until_running(&smoke.id).await;
        }
        "corral jobs [--json] [--before ID]" => {
            let table = stdout(&smoke.corral(&["jobs"], 0).await);
            assert!(
                table.contains(&smoke.id) && table.contains("running"),
                "{table}"
            );
            let page: serde_json::Value =
                serde_json::from_str(&stdout(&smoke.corral(&["jobs", "--json"], 0).await))
                    .expect("jobs --json");
            assert!(
                page["jobs"].is_array() && page.get("next").is_some(),
                "{page}"
            );
            let older = stdout(&smoke.corral(&["jobs", "--before", "ID"], 0).await);
            assert!(
                !older.contains(&smoke.id) && older.contains(&smoke.done),
                "{older}"
            );
        }
        "corral show ID [--json]" => {
            let shown = stdout(&smoke.corral(&["show", "ID"], 0).await);
            assert!(shown.contains("sleep 300"), "{shown}");
            let short = smoke.id[..6].to_owned();
            let json = stdout(&smoke.corral(&["show", &short, "--json"], 0).await);
            assert!(json.contains(&smoke.id), "a short id finds the job: {json}");
        }
        "corral logs ID [--follow] [--json|--raw]" => {
            smoke.corral(&["logs", "ID"], 0).await;
            let done = stdout(&smoke.corral(&["logs", "DONE", "--follow"], 0).await);
            assert_eq!(done, "hi\n");
            let json = stdout(&smoke.corral(&["logs", "DONE", "--json"], 0).await);
            assert!(json.lines().count() > 2, "{json}");
            assert_eq!(
                stdout(&smoke.corral(&["logs", "DONE", "--raw"], 0).await),
                "hi\n"
            );
        }
        "corral cancel ID" => {
            smoke.corral(&["cancel", "ID"], 0).await;
            let job = smoke.server().show(&smoke.id).await;
            assert!(
                job["state"] == "cancelled" || job["state"] == "running",
                "{job}"
            );
        }
        "corral doctor" => {
            let out = smoke.corral(&["doctor"], 0).await;
            assert!(stdout(&out).contains("engine: Docker"), "{}", stdout(&out));
        }
        "corral verify [--isolation gvisor] [--json]" => {
            let text = stdout(&smoke.corral(&["verify"], 0).await);
            assert!(text.contains("sandbox verified under runc"), "{text}");
            let json = stdout(
                &smoke
                    .corral(&["verify", "--isolation", "gvisor", "--json"], 0)
                    .await,
            );
            let report: serde_json::Value = serde_json::from_str(&json).expect("verify --json");
            assert_eq!(report["passed"], true, "{report}");
        }
        "corral completions bash > /etc/bash_completion.d/corral" => {
            let script = stdout(&smoke.corral(&["completions", "bash"], 0).await);
            assert!(script.contains("corral"), "{script}");
        }
        "corral config [--json]" => {
            let text = stdout(&smoke.corral(&["config"], 0).await);
            assert!(text.contains("memory"), "{text}");
            let json = stdout(&smoke.corral(&["config", "--json"], 0).await);
            serde_json::from_str::<serde_json::Value>(&json).expect("config --json");
        }
        // No make in the image: a fix the shell can make.
        "corral run --project ~/src/app --branch -- make fix" => {
            let args = [
                "run",
                "--project",
                "~/src/app",
                "--branch",
                "--",
                "sh",
                "-c",
                "echo two >> notes.txt",
            ];
            let out = smoke.corral(&args, 0).await;
            assert!(
                stderr(&out).contains("corral diff"),
                "the next step is named: {}",
                stderr(&out)
            );
            smoke.branch = last_id(smoke).await;
            smoke.id.clone_from(&smoke.branch);
        }
        "corral run --project ~/src/app --copy -- make test" => {
            let args = [
                "run",
                "--project",
                "~/src/app",
                "--copy",
                "--",
                "sh",
                "-c",
                "cat notes.txt; echo x > notes.txt",
            ];
            assert_eq!(stdout(&smoke.corral(&args, 0).await), "one\n");
            let notes = std::fs::read_to_string(smoke.app.path().join("notes.txt")).expect("notes");
            assert_eq!(notes, "one\n", "a copy's changes stay in the container");
        }
        "corral diff ID [--stat|--json|--raw]" => {
            smoke.id.clone_from(&smoke.branch);
            assert!(stdout(&smoke.corral(&["diff", "ID"], 0).await).contains("+two"));
            assert!(
                stdout(&smoke.corral(&["diff", "ID", "--stat"], 0).await).contains("notes.txt")
            );
            let json = stdout(&smoke.corral(&["diff", "ID", "--json"], 0).await);
            assert!(json.contains("\"files\""), "{json}");
            assert!(stdout(&smoke.corral(&["diff", "ID", "--raw"], 0).await).contains("+two"));
        }
        "corral apply ID | corral discard ID" => {
            smoke.corral(&["apply", "BRANCH"], 0).await;
            let notes = std::fs::read_to_string(smoke.app.path().join("notes.txt")).expect("notes");
            assert_eq!(notes, "one\ntwo\n");
            let again = smoke.corral(&["apply", "BRANCH"], 1).await;
            assert!(
                stderr(&again).contains("already applied"),
                "{}",
                stderr(&again)
            );
            let dropped = smoke.corral(&["discard", "BRANCH"], 0).await;
            assert!(
                stderr(&dropped).contains("stays in your working tree"),
                "{}",
                stderr(&dropped)
            );
        }
        // A change that holds no secret: the flag is accepted and applies it.
        "corral apply --allow-secrets ID" => {
            let args = [
                "run",
                "--project",
                "~/src/app",
                "--branch",
                "--",
                "sh",
                "-c",
                "echo three >> notes.txt",
            ];
            smoke.corral(&args, 0).await;
            smoke.id = last_id(smoke).await;
            smoke.corral(&["apply", "--allow-secrets", "ID"], 0).await;
            let notes = std::fs::read_to_string(smoke.app.path().join("notes.txt")).expect("notes");
            assert!(notes.ends_with("three\n"), "{notes}");
        }
        "corral run --project ~/src/app/sub --allow-project-overlap -- …" => {
            let args = [
                "run",
                "--project",
                "~/src/app/sub",
                "--allow-project-overlap",
                "--",
                "ls",
            ];
            assert_eq!(stdout(&smoke.corral(&args, 0).await), "keep\n");
        }
        other => crate::readme_agent::play(smoke, other).await,
    }
}
