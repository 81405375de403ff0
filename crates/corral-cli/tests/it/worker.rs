//! `corral run --mode worker` against a real `corral serve` whose provider
//! comes from the environment, and `--llm scripted:FILE` with the sample
//! script the demo uses.

use corral_orchestrator::ProviderKind;
use corral_testkit::Upstream;
use serde_json::json;

use crate::harness::{ServeProcess, events, stderr, stdout};

/// `corral serve` whose default provider is `upstream`, named as
/// `CORRAL_OPENAI_*` or `CORRAL_ANTHROPIC_*` variables give it, on `model`.
async fn serve_for(upstream: &Upstream, model: &str) -> ServeProcess {
    let (name, base_url) = match upstream.kind {
        ProviderKind::Openai => ("OPENAI", upstream.server.openai_base_url()),
        ProviderKind::Anthropic => ("ANTHROPIC", upstream.server.anthropic_base_url()),
    };
    let variable = |suffix: &str| format!("CORRAL_{name}_{suffix}");
    let (url_var, key_var, model_var) =
        (variable("BASE_URL"), variable("API_KEY"), variable("MODEL"));
    ServeProcess::start_with(
        &["--llm", &name.to_lowercase()],
        &[
            (url_var.as_str(), base_url.as_str()),
            (key_var.as_str(), upstream.key.as_str()),
            (model_var.as_str(), model),
        ],
    )
    .await
}

/// `corral run --mode worker --project DIR PROMPT…` in a new project the
/// job user can write; the project and what the command wrote.
async fn worker_job_in_a_project(
    server: &ServeProcess,
    prompt: &[&str],
) -> (tempfile::TempDir, std::process::Output) {
    let project = corral_testkit::job_project();
    let project_arg = project.path().to_string_lossy().into_owned();
    let mut args = vec!["run", "--mode", "worker", "--project", &project_arg];
    args.extend_from_slice(prompt);
    let output = server.corral(&args).await;
    (project, output)
}

/// The newest job, as `corral jobs --json` lists it.
async fn newest_job(server: &ServeProcess) -> serde_json::Value {
    let listed = server.corral(&["jobs", "--json"]).await;
    serde_json::from_str::<serde_json::Value>(&stdout(&listed)).expect("jobs")["jobs"][0].clone()
}

#[tokio::test]
async fn a_worker_job_from_the_cli_uses_the_environments_provider_and_never_logs_its_key() {
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [
            {"tool_calls": [{"name": "write_file", "arguments": {"path": "a.txt", "content": "from the cli\n"}}]},
            {"text": "All done."}
        ]}),
    )
    .await;
    let server = serve_for(&upstream, "cli-model").await;
    let (project, output) = worker_job_in_a_project(&server, &["write", "a", "file"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "All done.\n", "the answer on stdout");
    assert!(
        stderr(&output).contains("tool write_file"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("a.txt")).expect("file"),
        "from the cli\n"
    );
    let request = &upstream.server.requests()[0];
    assert_eq!(request.body["model"], "cli-model");
    assert_eq!(request.body["messages"][1]["content"], "write a file");

    let refused = server
        .corral(&["run", "--mode", "worker", "--provider", "nope", "hi"])
        .await;
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        stderr(&refused).contains("--provider nope: unknown provider `nope`"),
        "named as the flag the user typed: {}",
        stderr(&refused)
    );
    let id = newest_job(&server).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let not_interactive = server.corral(&["prompt", &id, "more"]).await;
    assert!(
        stderr(&not_interactive).contains("--interactive"),
        "{}",
        stderr(&not_interactive)
    );

    assert!(
        server.log().contains("job ended"),
        "the server logged: {}",
        server.log()
    );
    corral_testkit::assert_in_no_file(server.data_dir.path(), &upstream.key);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_sample_script_drives_a_worker_job_on_the_embedded_scripted_model() {
    let script = corral_testkit::repo_root().join("examples/demo-model.json");
    let script_arg = format!("scripted:{}", script.display());
    let server = ServeProcess::start_with(&["--llm", &script_arg], &[]).await;
    let (project, output) = worker_job_in_a_project(&server, &["leave", "a", "note"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let note = std::fs::read_to_string(project.path().join("GREETING.md")).expect("the note");
    assert!(note.starts_with("# Hello from corral"), "{note}");
    assert!(
        stdout(&output).contains("working as uid 10001 in /workspace"),
        "{}",
        stdout(&output)
    );
    let id = newest_job(&server).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let logged = events(&server.corral(&["logs", &id, "--json"]).await);
    let tools: Vec<&str> = logged
        .iter()
        .filter(|event| event["kind"] == "tool_call")
        .filter_map(|event| event["data"]["name"].as_str())
        .collect();
    assert_eq!(tools, ["shell", "write_file", "shell"]);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn claude_mode_from_the_cli_with_an_allowlist_and_turn_limit() {
    corral_testkit::claude_image().await;
    let upstream = Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [{"text": "Hi from Claude, via corral."}]}),
    )
    .await;
    let server = serve_for(&upstream, "claude-test").await;
    let output = server
        .corral(&[
            "run",
            "--mode",
            "claude",
            "--allowed-tools",
            "Read,Grep",
            "--max-turns",
            "3",
            "say",
            "hi",
        ])
        .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "Hi from Claude, via corral.\n");
    assert!(
        stderr(&output).contains("claude 2.1"),
        "{}",
        stderr(&output)
    );
    let job = newest_job(&server).await;
    assert_eq!(job["claude"]["allowed_tools"], json!(["Read", "Grep"]));
    assert_eq!(job["claude"]["max_turns"], 3);
    let request = upstream
        .server
        .requests()
        .into_iter()
        .find(|request| request.path.starts_with("/v1/messages"))
        .expect("a model call");
    assert_eq!(request.body["model"], "claude-test");
    let refused = server
        .corral(&["run", "--max-turns", "3", "--", "true"])
        .await;
    assert!(
        stderr(&refused).contains("--mode claude"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(server.stop().await, 0);
}

/// What `corral logs` renders, with the job id made stable.
/// Usage lines are left out: each is stored when its call's stream ends,
/// which may land before or after the worker's next event.
fn normalized(text: &str, job_id: &str) -> String {
    let mut kept = String::new();
    for line in text
        .lines()
        .filter(|line| !line.starts_with("corral: model "))
    {
        kept.push_str(&line.replace(job_id, "<job>"));
        kept.push('\n');
    }
    kept
}

#[tokio::test]
async fn the_rendered_stream_of_a_recorded_job_matches_its_snapshot() {
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"model": "snap-model", "turns": [
            {"text": "Checking.", "tool_calls": [{"name": "shell", "arguments": {"command": "echo out; echo err >&2"}}]},
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "/etc/passwd"}}]},
            {"text": "All done."}
        ]}),
    )
    .await;
    let server = serve_for(&upstream, "snap-model").await;
    let run = server
        .corral(&["run", "--mode", "worker", "-d", "snapshot"])
        .await;
    let id = stdout(&run).trim().to_owned();
    server.corral(&["logs", "--follow", &id]).await;
    let logs = server.corral(&["logs", &id]).await;
    let rendered = format!(
        "--- stdout\n{}--- stderr\n{}",
        normalized(&stdout(&logs), &id),
        normalized(&stderr(&logs), &id)
    );
    let path =
        corral_testkit::repo_root().join("crates/corral-cli/tests/it/snapshots/worker-logs.txt");
    check_snapshot(&path, &rendered);
    let json = server.corral(&["logs", "--json", &id]).await;
    assert!(events(&json).len() > 10, "--json lines parse");
    assert_eq!(server.stop().await, 0);
}

/// Compares `rendered` with the snapshot at `path`. `CORRAL_UPDATE_SNAPSHOTS`
/// writes a changed snapshot and still fails, so a run that set it never
/// passes on output the committed file does not hold; CI (`CI=true`) may
/// not set it at all.
#[expect(clippy::panic, reason = "a test helper fails loudly")]
fn check_snapshot(path: &std::path::Path, rendered: &str) {
    let update = std::env::var_os("CORRAL_UPDATE_SNAPSHOTS").is_some();
    assert!(
        !(update && std::env::var_os("CI").is_some_and(|ci| ci == "true")),
        "CORRAL_UPDATE_SNAPSHOTS is set in CI: snapshots are compared there, never written"
    );
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if update && rendered != expected {
        std::fs::write(path, rendered).expect("write the snapshot");
        panic!(
            "snapshot {} rewritten: review the diff, then run again without CORRAL_UPDATE_SNAPSHOTS",
            path.display()
        );
    }
    assert_eq!(
        rendered,
        expected,
        "{} differs (CORRAL_UPDATE_SNAPSHOTS=1 rewrites it)",
        path.display()
    );
}
