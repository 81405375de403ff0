//! The sandbox tools: a persistent, locked-down computer for any MCP
//! client. `sandbox_exec` waits for its command and answers its exit code
//! and its output, each stream cut to its head and tail past a budget a
//! model can read.

use corral_proto::CommandSpec;
use corral_proto::sandbox::ExecSpec;
use corral_proto::size::DurationSpec;
use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router};
use serde_json::{Map, Value, json};

use super::args::{CommandArg, Parameters};
use super::sandbox_args::{CreateSandbox, SandboxExec, SandboxId, SandboxPath, WriteFile};
use super::{CorralTools, answer, failed};

/// Characters of each stream `sandbox_exec` returns (head and tail).
pub const EXEC_OUTPUT_CHARS: usize = 12_000;
/// Characters `sandbox_read_file` returns.
const READ_CHARS: usize = 48_000;
/// Wait of `sandbox_exec` when the caller names none.
const DEFAULT_WAIT_SECS: u64 = 60;

#[tool_router(router = sandbox_router, vis = "pub(super)")]
impl CorralTools {
    #[tool(
        description = "Create a persistent corral sandbox: a locked-down container (no network unless `egress` allows hosts, read-only root, non-root, no capabilities, limits) whose files and background processes last across sandbox_exec calls until it is deleted, its `ttl` passes (default 2h) or it is idle for `idle_timeout` (default 15m). Returns its id."
    )]
    async fn sandbox_create(&self, Parameters(args): Parameters<CreateSandbox>) -> CallToolResult {
        let mut spec = sandbox_spec(args);
        if let Err(error) = self
            .policy
            .check_spec(&spec)
            .and_then(|()| self.policy.bound_within(&mut spec))
        {
            return failed(&error);
        }
        answer(self.api.create_sandbox(spec).await.map(|sandbox| {
            json!({"id": sandbox.id, "state": sandbox.state, "ttl_secs": sandbox.ttl_secs, "idle_timeout_secs": sandbox.idle_timeout_secs})
        }))
    }

    #[tool(
        description = "Run a command in a corral sandbox and wait for it (up to wait_seconds, default 60, at most 600). Returns {exit_code, stdout, stderr, truncated, duration_ms, timed_out}; each stream is cut to its first and last 6,000 characters past 12,000 (truncated is then true). Files, variables written to files and background processes persist between calls. Secrets in the output are redacted."
    )]
    async fn sandbox_exec(&self, Parameters(args): Parameters<SandboxExec>) -> CallToolResult {
        if let Err(error) = self.steerable(&args.id).await {
            return failed(&error);
        }
        let wait = args.wait_seconds.unwrap_or(DEFAULT_WAIT_SECS).min(600);
        let spec = ExecSpec {
            cmd: match args.cmd {
                CommandArg::Line(line) => CommandSpec::Shell(line),
                CommandArg::Argv(argv) => CommandSpec::Argv(argv),
            },
            cwd: args.cwd,
            env: args.env.unwrap_or_default(),
            stdin: args.stdin,
            stdin_base64: None,
            timeout: args.timeout_seconds.map(DurationSpec),
        };
        answer(self.api.exec(&args.id, spec, wait).await.map(|mut value| {
            for stream in ["stdout", "stderr"] {
                if let Some(text) = value.get(stream).and_then(Value::as_str) {
                    let (cut, was_cut) = head_and_tail(text, EXEC_OUTPUT_CHARS);
                    value[stream] = json!(cut);
                    if was_cut {
                        value["truncated"] = json!(true);
                    }
                }
            }
            value
        }))
    }

    #[tool(
        description = "Write a text file in a corral sandbox, under /workspace, /tmp or /home/corral (missing directories are made). At most the sandbox's tmpfs limit."
    )]
    async fn sandbox_write_file(&self, Parameters(args): Parameters<WriteFile>) -> CallToolResult {
        if let Err(error) = self.steerable(&args.id).await {
            return failed(&error);
        }
        answer(
            self.api
                .write_file(&args.id, &args.path, args.content.into_bytes())
                .await
                .map(|()| json!({"written": args.path})),
        )
    }

    #[tool(
        description = "Read a text file from a corral sandbox (under /workspace, /tmp or /home/corral); at most 48,000 characters are returned (its head and tail past that). A file holding a secret is refused."
    )]
    async fn sandbox_read_file(&self, Parameters(args): Parameters<SandboxPath>) -> CallToolResult {
        // A sandbox made outside MCP may hold a host directory the
        // policy keeps from the model.
        if let Err(error) = self.steerable(&args.id).await {
            return failed(&error);
        }
        match self.api.read_file(&args.id, &args.path).await {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let (text, truncated) = head_and_tail(&text, READ_CHARS);
                answer(Ok(
                    json!({"path": args.path, "bytes": bytes.len(), "truncated": truncated, "content": text}),
                ))
            }
            Err(error) => failed(&error),
        }
    }

    #[tool(
        description = "List a directory in a corral sandbox: each entry's name, kind (file, dir, symlink, other), size, mode, mtime and, for a link, its target."
    )]
    async fn sandbox_list_files(
        &self,
        Parameters(args): Parameters<SandboxPath>,
    ) -> CallToolResult {
        if let Err(error) = self.steerable(&args.id).await {
            return failed(&error);
        }
        answer(self.api.list_files(&args.id, &args.path).await)
    }

    #[tool(
        description = "Stop a corral sandbox: its files under /workspace and /home/corral are kept (sealed on the server) and its container and processes removed; start it again with the API or `corral sandbox start`."
    )]
    async fn sandbox_stop(
        &self,
        Parameters(SandboxId { id }): Parameters<SandboxId>,
    ) -> CallToolResult {
        if let Err(error) = self.steerable(&id).await {
            return failed(&error);
        }
        answer(
            self.api
                .stop_sandbox(&id)
                .await
                .map(|sandbox| json!({"id": sandbox.id, "state": sandbox.state})),
        )
    }

    #[tool(
        description = "Delete a corral sandbox: its container, processes and files are removed."
    )]
    async fn sandbox_delete(
        &self,
        Parameters(SandboxId { id }): Parameters<SandboxId>,
    ) -> CallToolResult {
        if let Err(error) = self.steerable(&id).await {
            return failed(&error);
        }
        answer(
            self.api
                .delete_sandbox(&id)
                .await
                .map(|sandbox| json!({"id": sandbox.id, "state": sandbox.state})),
        )
    }
}

/// The API's sandbox spec from the tool's arguments.
fn sandbox_spec(args: CreateSandbox) -> Value {
    let mut spec = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            spec.insert(key.to_owned(), value);
        }
    };
    put("image", args.image.map(Value::String));
    put("ttl", args.ttl.map(Value::String));
    put("idle_timeout", args.idle_timeout.map(Value::String));
    put("limits", args.limits.map(Value::Object));
    // Stated even when empty: left out, the server's default egress
    // would apply, which the policy does not see.
    put(
        "egress",
        Some(Value::Object(args.egress.unwrap_or_default())),
    );
    put(
        "project",
        args.project.map(|path| {
            if args.copy == Some(true) {
                json!({"path": path, "mode": "copy"})
            } else {
                json!(path)
            }
        }),
    );
    put("grants", args.grants.as_deref().map(super::grants_value));
    Value::Object(spec)
}

/// `text` whole up to `budget` characters, else its first and last half
/// with a line saying how much was cut between them.
pub fn head_and_tail(text: &str, budget: usize) -> (String, bool) {
    let count = text.chars().count();
    if count <= budget {
        return (text.to_owned(), false);
    }
    let half = budget / 2;
    let head: String = text.chars().take(half).collect();
    let tail: String = text.chars().skip(count - half).collect();
    (
        format!("{head}\n[… {} characters cut …]\n{tail}", count - 2 * half),
        true,
    )
}
