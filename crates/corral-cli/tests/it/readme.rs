//! The README's "Using it" commands, in the README's order, against real
//! servers. Every command line of that section must be listed here (the
//! test fails when the README gains, loses or changes one), and each is run
//! as written, except where this machine cannot: the reason is given beside
//! each such line, and where the line still says something testable (its
//! flags, its image), the same flags run with a command the image has.

#![expect(clippy::expect_used, reason = "a smoke test fails loudly")]

use std::process::Output;

use crate::harness::{ServeProcess, stderr, stdout};

/// The command lines of the README's "Using it" section, comments cut and
/// continued lines joined.
fn readme_lines() -> Vec<String> {
    let readme =
        std::fs::read_to_string(corral_testkit::repo_root().join("README.md")).expect("README.md");
    let start = readme.find("\n## Using it").expect("a Using it section");
    let section = &readme[start + 1..];
    let section = &section[..section[1..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 1)];
    let mut lines = Vec::new();
    let mut in_code = false;
    let mut pending = String::new();
    for line in section.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let line = line.trim();
        if !in_code || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.find("  #").map_or(line, |cut| &line[..cut]).trim_end();
        if let Some(continued) = line.strip_suffix('\\') {
            pending.push_str(continued.trim_end());
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        lines.push(std::mem::take(&mut pending));
    }
    lines
}

/// What the smoke test does with each README line, in order.
const LINES: &[&str] = &[
    "cargo install --path crates/corral-cli --root /usr/local",
    "install -m 0755 \"$(bash scripts/build-worker.sh --release)\" /usr/local/bin/corral-worker",
    "corral image build",
    "corral serve &",
    "corral run -- sh -c 'echo hi; exit 3'",
    "corral run --project ~/src/app --image my-team/toolchain:1 --memory 1g --timeout 10m -- make test",
    "corral run --image my-team/toolchain:1 -- cargo build",
    "corral run --isolation gvisor -- ./untrusted.sh",
    "corral run --detach -- long-task",
    "corral jobs [--json] [--before ID]",
    "corral show ID [--json]",
    "corral logs ID [--follow] [--json|--raw]",
    "corral cancel ID",
    "corral doctor",
    "corral verify [--isolation gvisor] [--json]",
    "corral completions bash > /etc/bash_completion.d/corral",
    "corral config [--json]",
    "corral run --project ~/src/app --branch -- make fix",
    "corral run --project ~/src/app --copy -- make test",
    "corral diff ID [--stat|--json|--raw]",
    "corral apply ID | corral discard ID",
    "corral apply --allow-secrets ID",
    "corral run --project ~/src/app/sub --allow-project-overlap -- …",
    "corral secret set GITHUB_TOKEN < token.txt",
    "corral secret list [--json]",
    "corral run --grant GITHUB_TOKEN=GH_TOKEN -- gh repo view",
    "corral sandbox create --ttl 2h --idle-timeout 15m",
    "corral exec ID -- sh -c 'echo hi > /workspace/a'",
    "corral exec ID --cwd /tmp --env K=V --timeout 1m -- ls -la",
    "corral cp ./src ID:/workspace/src && corral cp ID:/workspace/out ./out",
    "corral sandbox stop ID | corral sandbox start ID",
    "corral sandbox pause ID | resume ID | fork ID | rm ID | ls [--json]",
    "corral run --allow-host pypi.org --allow-host files.pythonhosted.org -- pip download requests",
    "corral run --allow-host git.example.com:8443 --allow-host tcp://db.example.com:5432 -- ./migrate.sh",
    "corral run --allow-host api.github.com --inject 'api.github.com:Authorization=Bearer {GITHUB_TOKEN}' -- curl -sf https://api.github.com/user",
    "CORRAL_ANTHROPIC_API_KEY=sk-ant-… corral serve --llm anthropic &",
    "corral run --mode worker --project ~/src/app \"fix the failing test\"",
    "corral run --mode worker --model claude-sonnet-4-5 --max-llm-calls 40 --max-tokens 400000 \"…\"",
    "corral run --mode worker --interactive -d \"review this repo\"",
    "corral prompt ID \"now write the summary to NOTES.md\"",
    "corral end ID",
    "claude mcp add corral -- corral mcp",
    "claude mcp add corral -- corral mcp --allow-project ~/src --allow-inject GITHUB_TOKEN@api.github.com",
    "claude mcp add --transport http corral http://127.0.0.1:7316/mcp --header \"Authorization: Bearer $(cat ~/.local/share/corral/mcp-token)\"",
    "corral image build --mode claude",
    "CORRAL_ANTHROPIC_API_KEY=sk-ant-… corral serve --llm anthropic &",
    "corral run --mode claude --project ~/src/app --allowed-tools Read,Edit,Bash --max-turns 30 \"fix the build\"",
    "corral prompt ID \"now add a test\"",
];

/// Lines not run here, and why.
fn not_run(line: &str) -> Option<&'static str> {
    Some(match line {
        l if l.starts_with("cargo install") || l.starts_with("install -m") => {
            "installs the binaries under test; the test runs the ones cargo built"
        }
        l if l.starts_with("claude mcp add") => {
            "registers corral with Claude Code; tests/it/mcp.rs and mcp_policy.rs drive `corral mcp` (with its --allow flags) and /mcp with an MCP client"
        }
        _ => return None,
    })
}

pub struct Smoke {
    pub plain: ServeProcess,
    pub agent: Option<ServeProcess>,
    /// The model upstream of `agent`.
    pub upstream: Option<corral_testkit::Upstream>,
    pub app: tempfile::TempDir,
    /// The last job a step created, which `ID` stands for.
    pub id: String,
    /// A job that ended, and a branch-mode job.
    pub done: String,
    pub branch: String,
}

impl Smoke {
    pub fn server(&self) -> &ServeProcess {
        self.agent.as_ref().unwrap_or(&self.plain)
    }

    fn app(&self) -> String {
        self.app.path().to_string_lossy().into_owned()
    }

    /// Runs `corral ARGS…` and checks its exit code; `ID` in ARGS is the
    /// last job, `~/src/app` the test's project.
    pub async fn corral(&mut self, args: &[&str], code: i32) -> Output {
        let app = self.app();
        let args: Vec<String> = args
            .iter()
            .map(|arg| match *arg {
                "ID" => self.id.clone(),
                "DONE" => self.done.clone(),
                "BRANCH" => self.branch.clone(),
                other => other.replace("~/src/app", &app),
            })
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = self.server().corral(&refs).await;
        assert_eq!(
            output.status.code(),
            Some(code),
            "corral {args:?}\nstdout: {}\nstderr: {}",
            stdout(&output),
            stderr(&output)
        );
        output
    }
}

#[tokio::test]
async fn the_readme_s_using_it_commands_run_in_order() {
    assert_eq!(
        readme_lines(),
        LINES,
        "the README changed: update LINES and play()"
    );
    let plain = ServeProcess::start().await;
    let app = crate::readme_steps::project();
    let mut smoke = Smoke {
        plain,
        agent: None,
        upstream: None,
        app,
        id: String::new(),
        done: String::new(),
        branch: String::new(),
    };
    let toolchain = crate::readme_steps::Toolchain::tag().await;
    let mut skipped = Vec::new();
    for line in LINES {
        if let Some(reason) = not_run(line) {
            skipped.push(format!("{line}: {reason}"));
            continue;
        }
        crate::readme_steps::play(&mut smoke, line).await;
    }
    drop(toolchain);
    assert_eq!(skipped.len(), 5, "{skipped:#?}");
    if let Some(agent) = smoke.agent.take() {
        assert_eq!(agent.stop().await, 0);
    }
    assert_eq!(smoke.plain.stop().await, 0);
}
