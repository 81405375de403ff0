//! A job's own socket takes in a bounded amount at once: a hostile job
//! opening connections or sending bodies without end waits on its own
//! socket, and cannot take the orchestrator's file descriptors or memory
//! from every other job.

use std::time::Duration;

use corral_orchestrator::internals::{MAX_BODIES, MAX_CONNECTIONS};
use corral_testkit::unix_request;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;

use corral_orchestrator::internals::PinnedDir;
use corral_proto::ProjectMode;
use tokio::io::AsyncReadExt;

use crate::held_output::{served, served_with};

/// Long enough for a request the socket takes to be answered.
const ANSWERED: Duration = Duration::from_secs(2);

/// Whether `GET /v1/job` is answered within [`ANSWERED`].
async fn answered(socket: &std::path::Path, token: &str) -> bool {
    let request = unix_request(socket, "GET", "/v1/job", Some(token), "");
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

/// The socket speaks HTTP/1.1 alone: an HTTP/2 connection, which would
/// carry hundreds of requests at once past the connection bound, is not
/// taken.
#[tokio::test]
async fn a_job_cannot_speak_http2_to_its_socket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000c7").await;
    let mut stream = UnixStream::connect(&served.socket).await.expect("connect");
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .expect("send the preface");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(ANSWERED, stream.read_to_end(&mut answer)).await;
    // An HTTP/2 server answers with its SETTINGS frame (type 4).
    let settings = answer.len() >= 9 && answer[3] == 4;
    assert!(!settings, "an HTTP/2 answer: {answer:?}");
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 4"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    served.endpoint.close().await;
}

/// A request whose head never ends is cut after a while, so a connection
/// cannot be held open by sending nothing.
#[tokio::test]
async fn a_request_head_that_never_ends_is_cut() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000c8").await;
    let mut stream = UnixStream::connect(&served.socket).await.expect("connect");
    stream
        .write_all(b"GET /v1/job HTTP/1.1\r\nHost: corral\r\n")
        .await
        .expect("send half a head");
    let mut answer = Vec::new();
    let ended =
        tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    assert!(ended.is_ok(), "still open after 20 s");
    served.endpoint.close().await;
}

/// A copy-mode job's project is sent one copy at a time: each ties up a
/// thread until its reader takes it all, so a job asking for it again and
/// again without reading is refused (409) while one is being sent.
#[tokio::test]
async fn a_project_is_sent_one_copy_at_a_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    std::fs::create_dir(&project).expect("project dir");
    // More than the pipe between the tar writer and the socket holds.
    std::fs::write(project.join("big"), vec![7u8; 2 << 20]).expect("a big file");
    let pinned = std::sync::Arc::new(PinnedDir::open(&project).expect("pinned"));
    let served = served_with(dir.path(), "j-00000000000000c9", |provisions| {
        provisions.job.project_mode = ProjectMode::Copy;
        provisions.job.limits.tmpfs_bytes = 64 << 20;
        provisions.project = Some(pinned);
    })
    .await;
    let (socket, token) = (&served.socket, &served.token);
    let mut unread = UnixStream::connect(socket).await.expect("connect");
    let request = format!(
        "GET /v1/project HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    unread.write_all(request.as_bytes()).await.expect("ask");
    let mut head = [0u8; 12];
    unread
        .read_exact(&mut head)
        .await
        .expect("an answer begins");
    assert_eq!(&head, b"HTTP/1.1 200");
    let (status, answer) = unix_request(socket, "GET", "/v1/project", Some(token), "").await;
    assert_eq!(status, 409, "{answer}");
    drop(unread);
    served.endpoint.close().await;
}

/// A model call from a job without a model, or a Claude session from a
/// job that is not a claude job, is refused on its head: its body (up to
/// 32 MiB each, eight at once) is never read into the orchestrator's
/// memory for a request that cannot be served.
#[tokio::test]
async fn a_body_a_job_may_not_send_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000cd").await;
    for (method, path, status) in [
        ("POST", corral_proto::worker::CHAT_PATH, "403"),
        ("PUT", corral_proto::worker::CLAUDE_SESSION_PATH, "400"),
    ] {
        let mut stream = UnixStream::connect(&served.socket).await.expect("connect");
        // The head promises a body that never comes.
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 30000000\r\n\r\n{{\"model\":",
            served.token
        );
        stream.write_all(head.as_bytes()).await.expect("send");
        let mut answer = [0; 12];
        let read = tokio::time::timeout(ANSWERED, stream.read_exact(&mut answer)).await;
        assert!(read.is_ok(), "{path}: waited for the body");
        let answer = String::from_utf8_lossy(&answer);
        assert_eq!(answer, format!("HTTP/1.1 {status}"), "{path}");
    }
    served.endpoint.close().await;
}

/// A batch of many small objects (5 MB of JSON, some 600 MB once read as
/// values) is refused from its text before it is parsed, naming the
/// body; nothing of it is stored, and the job's next batch is taken.
#[tokio::test]
async fn a_body_of_small_values_is_refused_before_it_is_read_into_values() {
    use corral_orchestrator::internals::EventRecords;
    use serde_json::json;

    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000ce").await;
    let zeros = json!({"role": "assistant", "text": "heavy", "raw": vec![json!({"": 0}); 700_000]});
    let heavy = json!({"batch": 2, "events": [{"kind": "message", "data": zeros}]});
    let (status, answer) = unix_request(
        &served.socket,
        "POST",
        "/v1/events",
        Some(&served.token),
        &heavy.to_string(),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("a JSON error");
    assert_eq!(answer["field"], "body", "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|message| message.contains("too many small values")),
        "{answer}"
    );
    let light = json!({"batch": 2, "events": [crate::held_output::output("light\n")]});
    crate::held_output::post(&served.socket, &served.token, "/v1/events", &light).await;
    let stored = served
        .store
        .events_after(&served.job.id, 0, 100)
        .await
        .expect("events");
    let stored = serde_json::to_string(&stored).expect("JSON");
    assert!(stored.contains("light"), "{stored}");
    assert!(!stored.contains("heavy"), "{stored}");
    served.endpoint.close().await;
}
