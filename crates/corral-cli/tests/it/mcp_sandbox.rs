//! The sandbox tools through `corral mcp` over stdio: a sandbox made, a
//! file written and read back, state kept between execs, output cut to its
//! head and tail, paths outside the roots refused naming `path`, deleted.

use rmcp::ServiceExt;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use serde_json::json;

use crate::harness::{CORRAL, ServeProcess};
use crate::mcp::{call, ok, text_of};

#[tokio::test]
async fn an_mcp_client_keeps_a_sandbox_across_tool_calls() {
    let server = ServeProcess::start().await;
    let data_dir = server.data_dir.path().to_owned();
    let transport =
        TokioChildProcess::new(tokio::process::Command::new(CORRAL).configure(|command| {
            command.arg("--data-dir").arg(&data_dir).arg("mcp");
        }))
        .expect("spawn corral mcp");
    let client = ().serve(transport).await.expect("MCP handshake");

    let sandbox = ok(&client, "sandbox_create", &json!({"idle_timeout": "10m"})).await;
    let id = sandbox["id"].as_str().expect("an id").to_owned();
    let wrote = ok(
        &client,
        "sandbox_write_file",
        &json!({"id": id, "path": "/workspace/app/main.sh", "content": "echo from-file\n"}),
    )
    .await;
    assert_eq!(wrote["written"], "/workspace/app/main.sh");
    let ran = ok(
        &client,
        "sandbox_exec",
        &json!({"id": id, "cmd": "sh /workspace/app/main.sh; echo made > /tmp/state"}),
    )
    .await;
    assert_eq!(
        (ran["exit_code"].as_i64(), ran["stdout"].as_str()),
        (Some(0), Some("from-file\n")),
        "{ran}"
    );
    let read = ok(
        &client,
        "sandbox_read_file",
        &json!({"id": id, "path": "/tmp/state"}),
    )
    .await;
    assert_eq!(read["content"], "made\n");
    let listed = ok(
        &client,
        "sandbox_list_files",
        &json!({"id": id, "path": "/workspace/app"}),
    )
    .await;
    assert_eq!(listed[0]["name"], "main.sh", "{listed}");

    let long = ok(
        &client,
        "sandbox_exec",
        &json!({"id": id, "cmd": "echo first; i=0; while [ $i -lt 3000 ]; do echo 0123456789; i=$((i+1)); done; echo last; exit 4"}),
    )
    .await;
    assert_eq!(long["exit_code"], 4);
    assert_eq!(long["truncated"], true);
    let stdout = long["stdout"].as_str().expect("stdout");
    assert!(
        stdout.starts_with("first\n") && stdout.ends_with("last\n"),
        "{stdout}"
    );
    assert!(stdout.chars().count() < 12_200, "{}", stdout.len());

    let refused = call(
        &client,
        "sandbox_read_file",
        &json!({"id": id, "path": "/etc/passwd"}),
    )
    .await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text_of(&refused).contains("path"), "{}", text_of(&refused));
    let stopped = ok(&client, "sandbox_stop", &json!({"id": id})).await;
    assert_eq!(stopped["state"], "stopped", "{stopped}");
    let deleted = ok(&client, "sandbox_delete", &json!({"id": id})).await;
    assert_eq!(deleted["id"], id.as_str());
    client.cancel().await.expect("MCP client closes");
    assert_eq!(server.stop().await, 0);
}
