//! A job's own socket takes in a bounded amount at once: a hostile job
//! opening connections or sending bodies without end waits on its own
//! socket, and cannot take the orchestrator's file descriptors or memory
//! from every other job.

use std::time::Duration;

use corral_orchestrator::internals::{MAX_BODIES, MAX_CONNECTIONS};
use corral_testkit::unix_request;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;

use crate::held_output::served;

/// Long enough for a request the socket takes to be answered.
const ANSWERED: Duration = Duration::from_secs(2);

/// Whether `GET /v1/credentials` is answered within [`ANSWERED`].
async fn answered(socket: &std::path::Path, token: &str) -> bool {
    let request = unix_request(socket, "GET", "/v1/credentials", Some(token), "");
    matches!(tokio::time::timeout(ANSWERED, request).await, Ok((200, _)))
}

/// Past [`MAX_CONNECTIONS`] open connections, the next is not served
/// until one closes.
#[tokio::test]
async fn a_job_cannot_open_connections_without_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000c1").await;
    let (socket, token) = (served.socket.clone(), served.token.clone());
    let mut open = Vec::new();
    for _ in 0..MAX_CONNECTIONS - 1 {
        open.push(UnixStream::connect(&socket).await.expect("connect"));
    }
    assert!(answered(&socket, &token).await, "one place left");
    open.push(UnixStream::connect(&socket).await.expect("connect"));
    assert!(!answered(&socket, &token).await, "served past the bound");
    drop(open.pop());
    assert!(answered(&socket, &token).await, "a place came free");
    drop(open);
    served.endpoint.close().await;
}

/// Past [`MAX_BODIES`] requests with a body not yet read, the next
/// request with a body waits; requests without one are still served.
#[tokio::test]
async fn a_job_cannot_have_bodies_without_end_read_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000c2").await;
    let (socket, token) = (served.socket.clone(), served.token.clone());
    let mut stalled = Vec::new();
    for _ in 0..MAX_BODIES {
        let mut stream = UnixStream::connect(&socket).await.expect("connect");
        let head = format!(
            "POST /v1/events HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 8000000\r\n\r\n{{\"events\":["
        );
        stream.write_all(head.as_bytes()).await.expect("send");
        stalled.push(stream);
    }
    let batch = r#"{"batch": 2, "events": []}"#;
    let posted = tokio::time::timeout(
        ANSWERED,
        unix_request(&socket, "POST", "/v1/events", Some(&token), batch),
    )
    .await;
    assert!(posted.is_err(), "a body read past the bound: {posted:?}");
    assert!(
        answered(&socket, &token).await,
        "a request without a body waits for none"
    );
    drop(stalled.pop());
    let (status, answer) = tokio::time::timeout(
        ANSWERED,
        unix_request(&socket, "POST", "/v1/events", Some(&token), batch),
    )
    .await
    .expect("a place came free");
    assert_eq!(status, 200, "{answer}");
    drop(stalled);
    served.endpoint.close().await;
}
