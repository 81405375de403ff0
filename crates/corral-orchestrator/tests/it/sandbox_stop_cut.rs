//! A stop whose caller goes before it is done (its connection closed, a
//! client's timeout): the stop still runs to its end. Before, the server
//! dropped it with the request, maybe after keeping the stop's snapshot:
//! the sandbox ran on, every later stop was refused as one already under
//! way, and the next restart would have finished the stop with files
//! older than the container's.

use corral_proto::sandbox::SandboxState;
use corral_testkit::TestServer;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::sandboxes::{create, delete, sh, wait_until};

#[tokio::test]
async fn a_stop_whose_caller_goes_still_stops_the_sandbox_with_its_files() {
    let server = TestServer::start().await;
    let id = create(&server, json!({})).await;
    // 16 MiB that do not deflate: the snapshot takes a while.
    sh(
        &server,
        &id,
        "echo kept > /workspace/f && head -c 16777216 /dev/urandom > /workspace/big",
    )
    .await;
    let address = server.url.trim_start_matches("http://");
    let mut connection = tokio::net::TcpStream::connect(address)
        .await
        .expect("the user API");
    let request = format!(
        "POST /v1/sandboxes/{id}/stop HTTP/1.1\r\nhost: {address}\r\n\
         authorization: Bearer {}\r\ncontent-length: 0\r\n\r\n",
        server.token
    );
    connection
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    // Gone before any answer: the server sees the connection close while
    // the stop takes its snapshot.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(connection);
    let stopped = wait_until(&server, &id, |state| state == SandboxState::Stopped).await;
    assert_eq!(stopped.state, SandboxState::Stopped);
    let (status, body) = server.post(&format!("/v1/sandboxes/{id}/start"), "").await;
    assert!(status.is_success(), "{body}");
    assert_eq!(sh(&server, &id, "cat /workspace/f").await, "kept\n");
    delete(&server, &id).await;
    assert_eq!(server.stop().await, 0);
}
