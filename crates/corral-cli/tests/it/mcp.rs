//! `corral mcp` driven by rmcp's own client over stdio, against a real
//! `corral serve`: the tools are listed, an exec job runs with `wait`, its
//! events are paged, another job is cancelled, and bad input comes back as
//! a tool error with the API's message.

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::harness::{CORRAL, ServeProcess};

pub type Client = RunningService<RoleClient, ()>;

pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|text| text.text.clone()))
        .collect()
}

/// Calls a tool; its answer, error or not.
pub async fn call(client: &Client, name: &'static str, arguments: &Value) -> CallToolResult {
    let arguments = arguments
        .as_object()
        .cloned()
        .expect("arguments are an object");
    client
        .call_tool(CallToolRequestParams::new(name).with_arguments(arguments))
        .await
        .expect("the call completes")
}

/// Calls a tool that must succeed; its JSON answer.
pub async fn ok(client: &Client, name: &'static str, arguments: &Value) -> Value {
    let result = call(client, name, arguments).await;
    assert_ne!(
        result.is_error,
        Some(true),
        "tool error: {}",
        text_of(&result)
    );
    serde_json::from_str(&text_of(&result)).expect("tool answer is JSON")
}

#[tokio::test]
async fn an_mcp_client_creates_waits_for_pages_and_cancels_jobs() {
    let server = ServeProcess::start().await;
    let data_dir = server.data_dir.path().to_owned();
    let transport =
        TokioChildProcess::new(tokio::process::Command::new(CORRAL).configure(|command| {
            command.arg("--data-dir").arg(&data_dir).arg("mcp");
        }))
        .expect("spawn corral mcp");
    let client = ().serve(transport).await.expect("MCP handshake");
    let peer = client.peer_info().expect("the server introduced itself");
    let identity = peer.server_info.as_ref().expect("server info");
    assert_eq!(identity.name, "corral", "{peer:?}");
    assert_eq!(identity.version, env!("CARGO_PKG_VERSION"));

    let tools = client.list_all_tools().await.expect("list tools");
    let mut names: Vec<String> = tools.iter().map(|tool| tool.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cancel_job",
            "create_job",
            "end_job",
            "get_job",
            "get_job_events",
            "list_jobs",
            "sandbox_create",
            "sandbox_delete",
            "sandbox_exec",
            "sandbox_list_files",
            "sandbox_read_file",
            "sandbox_stop",
            "sandbox_write_file",
            "send_prompt"
        ]
    );
    let create = tools
        .iter()
        .find(|tool| tool.name == "create_job")
        .expect("create_job");
    assert!(
        create
            .input_schema
            .get("properties")
            .is_some_and(|p| p.get("wait_seconds").is_some())
    );

    let spec = json!({"command": "echo from-mcp; echo oops >&2", "wait_seconds": 60});
    let done = ok(&client, "create_job", &spec).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert!(
        done["events"]["output_tail"]
            .as_str()
            .expect("tail")
            .contains("from-mcp"),
        "{done}"
    );
    let id = done["id"].as_str().expect("id").to_owned();

    let events = ok(
        &client,
        "get_job_events",
        &json!({"id": id, "after": 1, "limit": 2}),
    )
    .await;
    let seqs: Vec<u64> = events["events"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(
        events["next_after"], 3,
        "a full page names the next cursor: {events}"
    );

    let long = ok(&client, "create_job", &json!({"command": "sleep 120"})).await;
    let long_id = long["id"].as_str().expect("id").to_owned();
    server.wait_until_running(&long_id).await;
    let cancelled = ok(&client, "cancel_job", &json!({"id": long_id})).await;
    assert_eq!(cancelled["id"], long_id.as_str());
    let listed = ok(&client, "list_jobs", &json!({})).await;
    assert_eq!(listed.as_array().expect("jobs").len(), 2);

    let refused = call(
        &client,
        "create_job",
        &json!({"command": "true", "limits": {"memory": "1p"}}),
    )
    .await;
    assert_eq!(refused.is_error, Some(true));
    assert!(
        text_of(&refused).contains("limits.memory"),
        "{}",
        text_of(&refused)
    );
    let missing = call(&client, "get_job", &json!({"id": "j-0000000000000000"})).await;
    assert_eq!(missing.is_error, Some(true));
    assert!(
        text_of(&missing).contains("not found"),
        "{}",
        text_of(&missing)
    );

    client.cancel().await.expect("close the session");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_user_api_serves_the_same_tools_over_streamable_http_behind_its_token() {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

    let server = ServeProcess::start().await;
    let url = serde_json::from_str::<Value>(
        &std::fs::read_to_string(server.data_dir.path().join("server.json")).expect("server.json"),
    )
    .expect("server.json is JSON")["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let token = std::fs::read_to_string(server.data_dir.path().join("api-token"))
        .expect("api token")
        .trim()
        .to_owned();
    let anonymous = StreamableHttpClientTransport::from_uri(format!("{url}/mcp"));
    assert!(
        ().serve(anonymous).await.is_err(),
        "/mcp without the token is refused"
    );

    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(format!("{url}/mcp")).auth_header(token),
    );
    let client = ().serve(transport).await.expect("MCP handshake over HTTP");
    let tools = client.list_all_tools().await.expect("list tools");
    assert_eq!(tools.len(), 14);
    // The server's own backend runs sandbox tools too.
    let sandbox = ok(&client, "sandbox_create", &json!({"ttl": "5m"})).await;
    let id = sandbox["id"].as_str().expect("an id");
    let ran = ok(
        &client,
        "sandbox_exec",
        &json!({"id": id, "cmd": "echo local-backend"}),
    )
    .await;
    assert_eq!(ran["stdout"], "local-backend\n", "{ran}");
    ok(&client, "sandbox_delete", &json!({"id": id})).await;
    let done = ok(
        &client,
        "create_job",
        &json!({"command": "echo over-http", "wait_seconds": 60}),
    )
    .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert!(
        done["events"]["output_tail"]
            .as_str()
            .expect("tail")
            .contains("over-http")
    );
    let refused = call(
        &client,
        "create_job",
        &json!({"mode": "teleport", "command": "x"}),
    )
    .await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text_of(&refused).contains("mode"), "{}", text_of(&refused));
    let as_list = json!({"command": ["sh", "-c", "echo as-a-list"], "wait_seconds": 60});
    let done = ok(&client, "create_job", &as_list).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert!(
        done["events"]["output_tail"]
            .as_str()
            .is_some_and(|tail| tail.contains("as-a-list")),
        "{done}"
    );
    let mistyped = json!({"command": "true", "limits": {"memory": true}});
    let refused = text_of(&call(&client, "create_job", &mistyped).await);
    assert!(refused.starts_with("limits.memory: "), "{refused}");
    assert!(
        !refused.contains("line 1"),
        "no position in text: {refused}"
    );
    let arguments = json!({"command": "true", "wait_seconds": "ten"})
        .as_object()
        .cloned()
        .expect("an object");
    let error = client
        .call_tool(CallToolRequestParams::new("create_job").with_arguments(arguments))
        .await
        .expect_err("seconds as a word are refused")
        .to_string();
    assert!(error.contains("wait_seconds: "), "{error}");
    assert!(!error.contains("line 1"), "{error}");
    client.cancel().await.expect("close the session");
    assert_eq!(server.stop().await, 0);
}
