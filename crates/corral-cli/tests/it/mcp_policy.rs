//! What an MCP tool call may ask of a job, against a real `corral serve`:
//! by default no secret, no egress and no host directory bound
//! read-write, and no steering of a job or sandbox made outside MCP with
//! more; each refusal names its field and creates nothing. What the user
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
    let server = ServeProcess::start().await;
    let set = server
        .corral_with_input(&["secret", "set", "GH_TOKEN"], "policy-token-value\n")
        .await;
    assert!(set.status.success(), "{}", stderr(&set));
    let project = tempfile::tempdir().expect("project dir");
    let project = project.path().to_str().expect("utf-8 path").to_owned();

    let client = mcp(&server, &[]).await;
    let before = job_count(&client).await;
    let grant = json!({"command": "true", "grants": ["GH_TOKEN"]});
    refused(&client, "create_job", &grant, "grants: ").await;
    let inject = json!({"command": "true", "egress": {"allow": ["api.github.com"], "inject": [
        {"host": "api.github.com", "header": "Authorization", "secret": "GH_TOKEN"}]}});
    refused(&client, "create_job", &inject, "grants: ").await;
    let egress = json!({"command": "true", "egress": {"allow": ["pypi.org"]}});
    refused(&client, "create_job", &egress, "egress.allow: ").await;
    let bind = json!({"command": "true", "project": project});
    refused(&client, "create_job", &bind, "project: ").await;
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
        &json!({"project": project}),
        "project: ",
    )
    .await;
    assert_eq!(job_count(&client).await, before, "nothing was created");
    // A copy writes nothing of the host: no allowance needed.
    let copy =
        json!({"command": "ls /workspace", "project": project, "copy": true, "wait_seconds": 60});
    assert_eq!(ok(&client, "create_job", &copy).await["state"], "succeeded");

    // A sandbox made outside MCP with a grant is not steered from it.
    let made = server
        .corral(&["sandbox", "create", "--grant", "GH_TOKEN", "--ttl", "5m"])
        .await;
    assert!(made.status.success(), "{}", stderr(&made));
    let sandbox = crate::harness::stdout(&made).trim().to_owned();
    let exec = json!({"id": sandbox, "cmd": "echo steered"});
    let text = text_of(&call(&client, "sandbox_exec", &exec).await);
    assert!(
        text.starts_with(&format!("grants: {sandbox} was created outside MCP")),
        "{text}"
    );
    let write = json!({"id": sandbox, "path": "/tmp/x", "content": "y"});
    refused(&client, "sandbox_write_file", &write, "grants: ").await;
    refused(
        &client,
        "send_prompt",
        &json!({"id": sandbox, "prompt": "go"}),
        "grants: ",
    )
    .await;
    client.cancel().await.expect("close the session");

    // What the user allowed passes: the grant reaches the job.
    let client = mcp(&server, &["--allow-grant", "GH_TOKEN", "--allow-bind"]).await;
    let granted = json!({"command": "test -n \"$GH_TOKEN\" && echo granted", "grants": ["GH_TOKEN"], "wait_seconds": 60});
    let done = ok(&client, "create_job", &granted).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let ran = ok(&client, "sandbox_exec", &exec).await;
    assert_eq!(ran["stdout"], "steered\n", "{ran}");
    refused(&client, "create_job", &egress, "egress.allow: ").await;
    client.cancel().await.expect("close the session");
    let deleted = server.corral(&["sandbox", "rm", &sandbox]).await;
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    assert_eq!(server.stop().await, 0);
}

/// An MCP client of the server's own `/mcp`.
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
            .auth_header(read("api-token").trim().to_owned()),
    );
    ().serve(transport).await.expect("MCP handshake over HTTP")
}

#[tokio::test]
async fn the_servers_own_mcp_holds_to_the_policy_it_was_started_with() {
    let grant = json!({"command": "true", "grants": ["NOT_STORED"]});
    let server = ServeProcess::start().await;
    let client = over_http(&server).await;
    refused(&client, "create_job", &grant, "grants: ").await;
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
