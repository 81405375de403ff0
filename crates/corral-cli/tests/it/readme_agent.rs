//! The README smoke test's later steps: secrets, egress and agent jobs
//! (see `readme_steps`).

#![expect(
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a smoke test fails loudly, one step per README line"
)]

use corral_orchestrator::ProviderKind;
use corral_testkit::Upstream;

use crate::harness::{ServeProcess, stderr, stdout};
use crate::readme::Smoke;

/// Runs one README line of the later part.
pub async fn play(smoke: &mut Smoke, line: &str) {
    match line {
        "corral secret set GITHUB_TOKEN < token.txt" => {
            let out = smoke
                .server()
                .corral_with_input(
                    &["secret", "set", "GITHUB_TOKEN"],
                    "ghp_readmeSmokeToken1234567890abcd\n",
                )
                .await;
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        }
        "corral secret list [--json]" => {
            assert!(stdout(&smoke.corral(&["secret", "list"], 0).await).contains("GITHUB_TOKEN"));
            let json = stdout(&smoke.corral(&["secret", "list", "--json"], 0).await);
            assert!(
                json.contains("GITHUB_TOKEN") && !json.contains("ghp_readme"),
                "{json}"
            );
        }
        // No gh in the image and no GitHub to reach: the grant, shown redacted.
        "corral run --grant GITHUB_TOKEN=GH_TOKEN -- gh repo view" => {
            let args = [
                "run",
                "--grant",
                "GITHUB_TOKEN=GH_TOKEN",
                "--",
                "sh",
                "-c",
                "echo $GH_TOKEN",
            ];
            assert_eq!(
                stdout(&smoke.corral(&args, 0).await),
                "[REDACTED:GITHUB_TOKEN]\n"
            );
        }
        // Tests never reach a public host: the same egress flags, a job that
        // connects to nothing.
        l if l.starts_with("corral run --allow-host") => {
            let mut args: Vec<&str> = vec!["run"];
            let flags = l.split(" -- ").next().expect("flags");
            let quoted = "api.github.com:Authorization=Bearer {GITHUB_TOKEN}";
            let mut words = flags
                .trim_start_matches("corral run ")
                .split(' ')
                .peekable();
            while let Some(word) = words.next() {
                if word == "--inject" {
                    args.extend(["--inject", quoted]);
                    words.nth(1);
                } else {
                    args.push(word);
                }
            }
            args.extend(["--", "true"]);
            smoke.corral(&args, 0).await;
            let job = smoke.server().show(&last_id(smoke).await).await;
            assert!(job["egress"]["allow"].is_array(), "{job}");
        }
        // No provider key here: the scripted model stands in for Anthropic
        // As written, with a test key, against a scripted Anthropic-compatible
        // upstream on loopback (CORRAL_ANTHROPIC_BASE_URL): the agent section
        // plays the demo script, the claude section a plain answer.
        "CORRAL_ANTHROPIC_API_KEY=sk-ant-… corral serve --llm anthropic &" => {
            let script = if smoke.agent.is_none() {
                let path = corral_testkit::repo_root().join("examples/demo-model.json");
                serde_json::from_str(&std::fs::read_to_string(path).expect("demo script"))
                    .expect("demo script JSON")
            } else {
                serde_json::json!({"turns": [{"text": "The build is fixed."}]})
            };
            let upstream = Upstream::start(ProviderKind::Anthropic, &script).await;
            let env = [
                ("CORRAL_ANTHROPIC_API_KEY", upstream.key.as_str()),
                (
                    "CORRAL_ANTHROPIC_BASE_URL",
                    &upstream.server.anthropic_base_url(),
                ),
            ];
            let started = ServeProcess::start_with(&["--llm", "anthropic"], &env).await;
            if let Some(earlier) = smoke.agent.replace(started) {
                assert_eq!(earlier.stop().await, 0);
            }
            smoke.upstream = Some(upstream);
        }
        "corral image build --mode claude" => {
            smoke
                .corral(&["image", "build", "--mode", "claude"], 0)
                .await;
        }
        "corral run --mode claude --project ~/src/app --allowed-tools Read,Edit,Bash --max-turns 30 \"fix the build\"" =>
        {
            let args = [
                "run",
                "--mode",
                "claude",
                "--project",
                "~/src/app",
                "--allowed-tools",
                "Read,Edit,Bash",
                "--max-turns",
                "30",
                "fix the build",
            ];
            let out = smoke.corral(&args, 0).await;
            assert!(
                stdout(&out).contains("The build is fixed."),
                "{}",
                stdout(&out)
            );
            smoke.id = last_id(smoke).await;
            let job = smoke.server().show(&smoke.id).await;
            assert_eq!(
                job["llm"]["model"], "claude-sonnet-4-5",
                "no --model: the default"
            );
            let upstream = smoke.upstream.as_ref().expect("the upstream");
            let asked: Vec<serde_json::Value> = upstream
                .server
                .requests()
                .into_iter()
                .filter(|request| request.path.starts_with("/v1/messages"))
                .map(|request| request.body["model"].clone())
                .collect();
            assert!(
                !asked.is_empty() && asked.iter().all(|model| model == "claude-sonnet-4-5"),
                "{asked:?}"
            );
        }
        "corral prompt ID \"now add a test\"" => {
            let out = smoke.corral(&["prompt", "ID", "now add a test"], 0).await;
            let next = stdout(&out).trim().to_owned();
            assert!(
                next.starts_with("j-") && next != smoke.id,
                "a new job: {next}"
            );
            let followed = smoke.corral(&["logs", &next, "--follow"], 0).await;
            assert!(
                stdout(&followed).contains("The build is fixed."),
                "{}",
                stdout(&followed)
            );
            let job = smoke.server().show(&next).await;
            assert_eq!(job["state"], "succeeded", "{job}");
            assert_eq!(job["claude"]["continues"], smoke.id.as_str(), "{job}");
        }
        "corral run --mode worker --project ~/src/app \"fix the failing test\"" => {
            let args = [
                "run",
                "--mode",
                "worker",
                "--project",
                "~/src/app",
                "fix the failing test",
            ];
            smoke.corral(&args, 0).await;
            assert!(smoke.app.path().join("GREETING.md").exists());
        }
        "corral run --mode worker --model claude-sonnet-4-5 --max-llm-calls 40 --max-tokens 400000 \"…\"" =>
        {
            let args = [
                "run",
                "--mode",
                "worker",
                "--model",
                "claude-sonnet-4-5",
                "--max-llm-calls",
                "40",
                "--max-tokens",
                "400000",
                "say what you see",
            ];
            smoke.corral(&args, 0).await;
            let job = smoke.server().show(&last_id(smoke).await).await;
            assert_eq!(job["llm"]["model"], "claude-sonnet-4-5");
        }
        "corral run --mode worker --interactive -d \"review this repo\"" => {
            let out = smoke
                .corral(
                    &[
                        "run",
                        "--mode",
                        "worker",
                        "--interactive",
                        "-d",
                        "review this repo",
                    ],
                    0,
                )
                .await;
            stdout(&out).trim().clone_into(&mut smoke.id);
            wait_for_prompt(smoke).await;
            let shown = stdout(&smoke.corral(&["show", "ID"], 0).await);
            assert!(shown.contains("waiting for a prompt"), "{shown}");
        }
        "corral prompt ID \"now write the summary to NOTES.md\"" => {
            smoke
                .corral(&["prompt", "ID", "now write the summary to NOTES.md"], 0)
                .await;
            wait_for_prompt(smoke).await;
        }
        "corral end ID" => {
            smoke.corral(&["end", "ID"], 0).await;
            let out = smoke.corral(&["logs", "ID", "--follow"], 0).await;
            assert!(stdout(&out).contains("Done:"), "{}", stdout(&out));
            let job = smoke.server().show(&smoke.id).await;
            assert_eq!(job["state"], "succeeded", "{job}");
        }
        other => panic!("no step for the README line {other:?}"),
    }
}

/// The newest job's id.
pub async fn last_id(smoke: &Smoke) -> String {
    let page: serde_json::Value =
        serde_json::from_str(&stdout(&smoke.server().corral(&["jobs", "--json"]).await))
            .expect("jobs");
    page["jobs"][0]["id"].as_str().expect("an id").to_owned()
}

/// Waits until job `ID` waits for a prompt.
pub async fn wait_for_prompt(smoke: &Smoke) {
    for _ in 0..600 {
        let job = smoke.server().show(&smoke.id).await;
        if job
            .get("waiting_since")
            .is_some_and(serde_json::Value::is_string)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{} never waited for a prompt", smoke.id);
}
