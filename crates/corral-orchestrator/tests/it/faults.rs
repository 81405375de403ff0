//! Faults the orchestrator must ride out: a worker killed by its own job,
//! an SSE client that drops mid-stream and resumes, a stream open when
//! the server shuts down.

use std::time::Duration;

use corral_proto::sse::SseParser;
use corral_proto::{Event, JobState};
use corral_testkit::TestServer;
use futures_util::StreamExt;
use serde_json::json;

#[tokio::test]
async fn a_worker_killed_by_its_job_fails_the_job_with_the_exit_code() {
    let server = TestServer::start().await;
    // The shell's parent is the worker; the job can signal it (same uid).
    let id = server
        .create(&json!({"command": "echo before; kill -9 $PPID; sleep 5"}))
        .await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::Failed);
    assert_eq!(followed.job.exit_code, Some(137));
    let reason = followed.job.reason.expect("a reason");
    assert!(
        reason.contains("without completing") && reason.contains("137"),
        "{reason}"
    );
    assert_eq!(server.stop().await, 0);
}

/// Reads up to `count` events from the stream (after `last_event_id`), then drops it.
async fn read_events(
    server: &TestServer,
    id: &str,
    last_event_id: Option<u64>,
    count: usize,
) -> Vec<Event> {
    let client = corral_testkit::reqwest::Client::new();
    let mut request = client
        .get(format!("{}/v1/jobs/{id}/events/stream", server.url))
        .bearer_auth(&server.token);
    if let Some(last) = last_event_id {
        request = request.header("last-event-id", last.to_string());
    }
    let mut body = request.send().await.expect("stream opens").bytes_stream();
    let mut parser = SseParser::default();
    let mut events = Vec::new();
    while let Some(chunk) = body.next().await {
        for message in parser.feed(&chunk.expect("chunk")) {
            if message.event == "end" {
                return events;
            }
            events.push(serde_json::from_str(&message.data).expect("event"));
            if events.len() == count {
                return events;
            }
        }
    }
    events
}

#[tokio::test]
async fn a_dropped_stream_resumes_without_gap_or_duplicate() {
    let server = TestServer::start().await;
    let script = "i=1; while [ $i -le 40 ]; do echo line-$i; i=$((i+1)); sleep 0.02; done";
    let id = server.create(&json!({"command": script})).await;
    let first = read_events(&server, &id, None, 5).await;
    assert_eq!(first.len(), 5);
    let last = first.last().expect("an event").seq;
    let rest = read_events(&server, &id, Some(last), usize::MAX).await;
    let seqs: Vec<u64> = first.iter().chain(&rest).map(|event| event.seq).collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "no gap, no duplicate");
    let all = server.follow(&id).await;
    assert_eq!(
        all.events.len(),
        seqs.len(),
        "the resumed stream reached the end"
    );
    assert_eq!(server.stop().await, 0);
}

/// Every SSE message of a job's stream until the server closes it, raw.
async fn whole_stream(server: &TestServer, id: &str) -> Vec<(String, String)> {
    messages(open_stream(server, id).await).await
}

async fn open_stream(server: &TestServer, id: &str) -> corral_testkit::reqwest::Response {
    let client = corral_testkit::reqwest::Client::new();
    let response = client
        .get(format!("{}/v1/jobs/{id}/events/stream", server.url))
        .bearer_auth(&server.token)
        .send()
        .await
        .expect("stream opens");
    assert_eq!(response.status(), 200);
    response
}

/// Every SSE message of an open stream until the server closes it, raw.
async fn messages(response: corral_testkit::reqwest::Response) -> Vec<(String, String)> {
    let mut body = response.bytes_stream();
    let mut parser = SseParser::default();
    let mut messages = Vec::new();
    while let Some(chunk) = body.next().await {
        for message in parser.feed(&chunk.expect("chunk")) {
            messages.push((message.event, message.data));
        }
    }
    messages
}

/// The server, not the client, ends a stream: with an `end` message after
/// the job's last event, whether the reader came while it ran or after.
/// (The testkit's client reconnects a dropped stream; this checks the
/// server never needs that.)
#[tokio::test]
async fn a_job_s_stream_closes_with_an_end_message_after_its_last_event() {
    let server = TestServer::start().await;
    let id = server
        .create(&json!({"command": "echo one; sleep 0.3; echo two"}))
        .await;
    let live = whole_stream(&server, &id).await;
    let late = whole_stream(&server, &id).await;
    for (when, messages) in [("live", &live), ("late", &late)] {
        let (last_event, _) = messages.last().expect("some messages");
        assert_eq!(last_event, "end", "{when}: {messages:?}");
        let ends = messages.iter().filter(|(event, _)| event == "end").count();
        assert_eq!(ends, 1, "{when}: one end: {messages:?}");
        let events: Vec<Event> = messages
            .iter()
            .filter(|(event, _)| event != "end")
            .map(|(_, data)| serde_json::from_str(data).expect("event"))
            .collect();
        let states: Vec<Option<JobState>> = events.iter().map(Event::state).collect();
        assert_eq!(
            states.last().copied().flatten(),
            Some(JobState::Succeeded),
            "{when}: the final status comes before the end: {states:?}"
        );
    }
    assert_eq!(live, late, "a late reader reads the same stream");
    assert_eq!(server.stop().await, 0);
}

/// The stream of a job that has not ended (a sandbox, stopped at the
/// shutdown) closes when the server stops serving, after that job's last
/// events and without `end`. Before, it held the shutdown for its whole
/// grace (30 s), and went on past it.
#[tokio::test]
async fn a_stream_of_a_job_that_has_not_ended_closes_when_the_server_stops() {
    let server = TestServer::start().await;
    let id = crate::sandboxes::create(&server, json!({})).await;
    crate::sandboxes::sh(&server, &id, "echo ran").await;
    let response = open_stream(&server, &id).await;
    let (stopped, messages) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(20), server.stop()),
        tokio::time::timeout(Duration::from_secs(25), messages(response)),
    );
    assert_eq!(
        stopped.expect("the server stops well within its 30 s grace: no open stream holds it"),
        0
    );
    let messages = messages.expect("the stream closed with the server");
    assert!(
        messages
            .iter()
            .any(|(event, data)| event == "status" && data.contains(r#""state":"stopped""#)),
        "the sandbox's stop at shutdown was sent first: {messages:?}"
    );
    assert!(
        messages.iter().all(|(event, _)| event != "end"),
        "the sandbox did not end: {messages:?}"
    );
}

/// A reader that stopped reading leaves its stream unpolled (its socket
/// full), so the stream never learns of the shutdown: the server cuts its
/// connection a little after its jobs ended. Before, it waited the whole
/// 30 s grace for it.
#[tokio::test]
async fn a_reader_that_stopped_reading_does_not_hold_the_shutdown() {
    let server = TestServer::start().await;
    let id = crate::sandboxes::create(&server, json!({})).await;
    // More output than the loopback buffers hold between the two ends.
    crate::sandboxes::sh(
        &server,
        &id,
        "head -c 12000000 /dev/zero | tr '\\0' a; echo",
    )
    .await;
    let stalled = stalled_get(&server, &format!("/v1/jobs/{id}/events/stream")).await;
    // Never read: the server fills what the connection holds, then waits.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopped = tokio::time::timeout(Duration::from_secs(20), server.stop())
        .await
        .expect("the server stops well within its 30 s grace: a stalled reader does not hold it");
    assert_eq!(stopped, 0);
    drop(stalled);
}

/// A GET of `path` by a client that reads the answer's status line (a
/// 200) and nothing more, on a 4 KiB receive buffer: the server fills
/// what the connection holds, then waits.
pub(crate) async fn stalled_get(server: &TestServer, path: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address: std::net::SocketAddr = server
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("the server's address");
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let mut stalled = socket.connect(address).await.expect("connected");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer {}\r\n\r\n",
        server.token
    );
    stalled.write_all(request.as_bytes()).await.expect("asked");
    let mut status = [0; 12];
    stalled
        .read_exact(&mut status)
        .await
        .expect("a status line");
    assert_eq!(
        &status,
        b"HTTP/1.1 200",
        "{}",
        String::from_utf8_lossy(&status)
    );
    stalled
}
