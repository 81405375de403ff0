//! What an MCP tool call may ask of a job, against a real `corral serve`:
//! by default no secret, no egress and no host directory bound
//! read-write, no project outside the directories allowed, not the
//! server's default egress, and no steering or ending of a job or sandbox
//! made outside MCP with more; each refusal names its field and creates
//! nothing. What the user
//! allowed when starting `corral mcp` (or `corral serve` for `/mcp`)
//! passes.

use rmcp::ServiceExt;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::{Value, json};

use crate::harness::{CORRAL, ServeProcess, stderr};
use crate::mcp::{Client, call, ok, text_of};

/// `corral mcp` with `flags`, against `server`.
async fn mcp(server: &ServeProcess, flags: &[&str]) -> Client {
    let data_dir = server.data_dir.path().to_owned();
    let flags: Vec<String> = flags.iter().map(|&flag| flag.to_owned()).collect();
    let transport =
        TokioChildProcess::new(tokio::process::Command::new(CORRAL).configure(|command| {
            command
                .arg("--data-dir")
                .arg(&data_dir)
                .arg("mcp")
                .args(&flags);
        }))
        .expect("spawn corral mcp");
    ().serve(transport).await.expect("MCP handshake")
}

/// How many jobs the server holds.
async fn job_count(client: &Client) -> usize {
    ok(client, "list_jobs", &json!({"limit": 1000}))
        .await
        .as_array()
        .expect("a list")
        .len()
}

/// Calls `tool`, which must fail with a message starting with `field`.
async fn refused(client: &Client, tool: &'static str, arguments: &Value, field: &str) {
    let result = call(client, tool, arguments).await;
    let text = text_of(&result);
    assert_eq!(result.is_error, Some(true), "{tool} {arguments}: {text}");
    assert!(text.starts_with(field), "{tool} {arguments}: {text}");
}

#[tokio::test]
async fn a_tool_call_gets_only_what_the_user_allowed() {
    // The server gives jobs that name no egress a default one, which an
    // MCP job must not get behind the policy's back.
    let config = tempfile::NamedTempFile::new().expect("config file");
    std::fs::write(config.path(), "[egress.default]\nallow = [\"pypi.org\"]\n")
        .expect("write config");
    let config_path = config.path().to_str().expect("utf-8").to_owned();
    let server = ServeProcess::start_with(&["--config", &config_path], &[]).await;
    let set = server
        .corral_with_input(&["secret", "set", "GH_TOKEN"], "policy-token-value\n")
        .await;
    assert!(set.status.success(), "{}", stderr(&set));
    let projects = tempfile::tempdir().expect("projects");
    let project = projects.path().join("app");
    std::fs::create_dir(&project).expect("project dir");
    let project = project.to_str().expect("utf-8 path").to_owned();
    let root = projects.path().to_str().expect("utf-8 path").to_owned();

    let client = mcp(&server, &[]).await;
    let before = job_count(&client).await;
    let grant = json!({"command": "true", "grants": ["GH_TOKEN"]});
    refused(&client, "create_job", &grant, "grants: ").await;
    let inject = json!({"command": "true", "egress": {"allow": ["api.github.com"], "inject": [
        {"host": "api.github.com", "header": "Authorization", "secret": "GH_TOKEN"}]}});
    refused(&client, "create_job", &inject, "egress.inject: ").await;
    let egress = json!({"command": "true", "egress": {"allow": ["pypi.org"]}});
    refused(&client, "create_job", &egress, "egress.allow: ").await;
    let copy =
        json!({"command": "ls /workspace", "project": project, "copy": true, "wait_seconds": 60});
    refused(&client, "create_job", &copy, "project: ").await;
    refused(
        &client,
        "sandbox_create",
        &json!({"grants": ["GH_TOKEN"]}),
        "grants: ",
    )
    .await;
    refused(
        &client,
        "sandbox_create",
        &json!({"project": project, "copy": true}),
        "project: ",
    )
    .await;
    assert_eq!(job_count(&client).await, before, "nothing was created");
    // An id that would name another route than the one checked.
    for tool in ["get_job", "get_job_events", "cancel_job"] {
        let hostile = json!({"id": "j-0/../../secrets"});
        let text = text_of(&call(&client, tool, &hostile).await);
        assert!(text.contains("invalid id `"), "{tool}: {text}");
    }
    // A job that names no egress gets none, not the server's default.
    let plain = ok(
        &client,
        "create_job",
        &json!({"command": "true", "wait_seconds": 60}),
    )
    .await;
    assert_eq!(plain["state"], "succeeded", "{plain}");
    let shown = server.show(plain["id"].as_str().expect("an id")).await;
    assert!(shown["egress"].is_null(), "{shown}");

    let sandbox = a_sandbox_made_outside_mcp_is_left_alone(&server, &client).await;
    let exec = json!({"id": sandbox, "cmd": "echo steered"});
    let id = json!({"id": sandbox});
    client.cancel().await.expect("close the session");

    // What the user allowed passes: the grant reaches the job, the
    // project under the allowed directory is copied.
    // (The sandbox got the server's default egress: allowed too.)
    let flags = [
        "--allow-grant",
        "GH_TOKEN",
        "--allow-project",
        &root,
        "--allow-egress",
        "pypi.org",
    ];
    let client = mcp(&server, &flags).await;
    let granted = json!({"command": "test -n \"$GH_TOKEN\" && echo granted", "grants": ["GH_TOKEN"], "wait_seconds": 60});
    let done = ok(&client, "create_job", &granted).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(ok(&client, "create_job", &copy).await["state"], "succeeded");
    let ran = ok(&client, "sandbox_exec", &exec).await;
    assert_eq!(ran["stdout"], "steered\n", "{ran}");
    let other = json!({"command": "true", "egress": {"allow": ["files.pythonhosted.org"]}});
    refused(&client, "create_job", &other, "egress.allow: ").await;
    let bind = json!({"command": "true", "project": project});
    refused(&client, "create_job", &bind, "project: ").await;
    ok(&client, "sandbox_delete", &id).await;
    client.cancel().await.expect("close the session");
    assert_eq!(server.stop().await, 0);
}

/// A sandbox made outside MCP with a grant: no tool steers, reads (its
/// files or its events), stops or ends it. Its id.
async fn a_sandbox_made_outside_mcp_is_left_alone(
    server: &ServeProcess,
    client: &Client,
) -> String {
    let made = server
        .corral(&["sandbox", "create", "--grant", "GH_TOKEN", "--ttl", "5m"])
        .await;
    assert!(made.status.success(), "{}", stderr(&made));
    let sandbox = crate::harness::stdout(&made).trim().to_owned();
    let exec = json!({"id": sandbox, "cmd": "echo steered"});
    let text = text_of(&call(client, "sandbox_exec", &exec).await);
    assert!(
        text.starts_with(&format!("grants: {sandbox} was made outside MCP")),
        "{text}"
    );
    let write = json!({"id": sandbox, "path": "/tmp/x", "content": "y"});
    refused(client, "sandbox_write_file", &write, "grants: ").await;
    let id = json!({"id": sandbox});
    refused(
        client,
        "send_prompt",
        &json!({"id": sandbox, "prompt": "go"}),
        "grants: ",
    )
    .await;
    for tool in [
        "get_job_events",
        "cancel_job",
        "end_job",
        "sandbox_stop",
        "sandbox_delete",
    ] {
        refused(client, tool, &id, "grants: ").await;
    }
    let path = json!({"id": sandbox, "path": "/workspace"});
    for tool in ["sandbox_read_file", "sandbox_list_files"] {
        refused(client, tool, &path, "grants: ").await;
    }
    a_jobs_reason_is_withheld(server, client).await;
    sandbox
}

/// A job made outside MCP with a grant: `get_job` and `list_jobs` show
/// it without its reason (which a job writes), the user's own view with.
async fn a_jobs_reason_is_withheld(server: &ServeProcess, client: &Client) {
    let run = server
        .corral(&[
            "run", "--detach", "--grant", "GH_TOKEN", "--", "sh", "-c", "exit 5",
        ])
        .await;
    assert!(run.status.success(), "{}", stderr(&run));
    let job = crate::harness::stdout(&run).trim().to_owned();
    let mut shown = Value::Null;
    for _ in 0..600 {
        shown = ok(client, "get_job", &json!({"id": job})).await;
        if shown["state"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(shown["state"], "failed", "{shown}");
    assert!(shown["reason"].is_null(), "{shown}");
    assert!(shown["withheld"].is_string(), "{shown}");
    assert_eq!(server.show(&job).await["reason"], "exit code 5");
    let listed = ok(client, "list_jobs", &json!({"limit": 1000})).await;
    let entry = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|entry| entry["id"] == job.as_str())
        .cloned()
        .expect("the job is listed");
    assert!(entry["reason"].is_null(), "{entry}");
    assert!(entry["withheld"].is_string(), "{entry}");
}

/// An MCP client of the server's own `/mcp`, with the MCP token.
async fn over_http(server: &ServeProcess) -> Client {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let read = |name: &str| {
        std::fs::read_to_string(server.data_dir.path().join(name)).expect("a data-dir file")
    };
    let url = serde_json::from_str::<Value>(&read("server.json")).expect("JSON")["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(format!("{url}/mcp"))
            .auth_header(read("mcp-token").trim().to_owned()),
    );
    ().serve(transport).await.expect("MCP handshake over HTTP")
}

#[tokio::test]
async fn the_servers_own_mcp_holds_to_the_policy_it_was_started_with() {
    let grant = json!({"command": "true", "grants": ["NOT_STORED"]});
    let server = ServeProcess::start().await;
    let client = over_http(&server).await;
    refused(&client, "create_job", &grant, "grants: ").await;
    // The MCP token opens `/mcp` and no other route.
    let mcp_token =
        std::fs::read_to_string(server.data_dir.path().join("mcp-token")).expect("the MCP token");
    let direct = server.corral(&["--token", mcp_token.trim(), "jobs"]).await;
    assert!(!direct.status.success(), "the MCP token listed jobs");
    assert!(
        stderr(&direct).contains("401") || stderr(&direct).contains("token"),
        "{}",
        stderr(&direct)
    );
    client.cancel().await.expect("close the session");
    assert_eq!(server.stop().await, 0);

    let server = ServeProcess::start_with(&["--mcp-allow-grant", "NOT_STORED"], &[]).await;
    let client = over_http(&server).await;
    // Past the policy, the API's own check answers.
    let text = text_of(&call(&client, "create_job", &grant).await);
    assert!(!text.starts_with("grants: "), "{text}");
    assert!(text.contains("NOT_STORED"), "{text}");
    client.cancel().await.expect("close the session");
    assert_eq!(server.stop().await, 0);
}

#[test]
fn corral_mcp_refuses_settings_it_cannot_hold_to() {
    let start = |args: &[&str]| {
        std::process::Command::new(CORRAL)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run corral mcp")
    };
    // Project paths are checked where `corral mcp` runs: not the server's
    // host here (a name never looked up: it fails before any request).
    let remote = start(&[
        "--server",
        "http://corral.invalid:7316",
        "mcp",
        "--allow-project",
        "/srv/src",
    ]);
    assert!(!remote.status.success());
    assert!(
        stderr(&remote).contains("--allow-project: the server is not on this host"),
        "{}",
        stderr(&remote)
    );
    let unpaired = start(&[
        "--server",
        "http://127.0.0.1:9",
        "mcp",
        "--allow-inject",
        "GH_TOKEN",
    ]);
    assert!(!unpaired.status.success());
    assert!(
        stderr(&unpaired).contains("--allow-inject: "),
        "{}",
        stderr(&unpaired)
    );
}
