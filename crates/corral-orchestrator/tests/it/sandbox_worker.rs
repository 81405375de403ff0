//! A sandbox's worker side without a container: what only a sandbox's
//! worker may send is refused from any other job; an answer nobody waits
//! for, or larger than its order allows, is refused before it is held; a
//! forged exec end frees nothing; an exec's held output is redacted whole.

use std::sync::Arc;
use std::time::Duration;

use corral_orchestrator::internals::{Desk, EventRecords};
use corral_proto::EventKind;
use corral_proto::sandbox::order::Order;
use corral_testkit::unix_request;
use serde_json::json;

use crate::held_output::{exec_output, stored_output};
use crate::refused_store::refused;
use crate::sandbox_fixture::{SECRET, sandbox, true_exec};
use crate::worker_endpoint::{Opened, open};

#[tokio::test]
async fn a_job_that_is_not_a_sandbox_cannot_send_exec_events() {
    let Opened {
        dir: _dir,
        endpoint: _endpoint,
        store,
        job,
        token,
        socket,
        ..
    } = open().await;
    for event in [
        r#"{"kind": "output", "data": {"stream": "stdout", "text": "half", "exec": 1}}"#,
        r#"{"kind": "exec_ended", "data": {"exec": 1, "duration_ms": 1}}"#,
        r#"{"kind": "exec_started", "data": {"exec": 1, "cmd": "x", "cwd": "/"}}"#,
    ] {
        let batch = format!(r#"{{"events": [{event}]}}"#);
        let (status, body) =
            unix_request(&socket, "POST", "/v1/events", Some(&token), &batch).await;
        assert_eq!(status, 400, "{event}: {body}");
        assert!(body.contains("events[0]"), "{body}");
    }
    let (status, body) = unix_request(
        &socket,
        "GET",
        "/v1/sandbox/orders?wait=0",
        Some(&token),
        "",
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    assert!(stored.is_empty(), "nothing stored: {stored:?}");
}

#[tokio::test]
async fn a_sandbox_worker_answers_only_what_it_was_asked_within_its_size_and_ends_an_exec_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let opened = sandbox(dir.path(), "j-00000000000000bb").await;
    let (store, job, desk) = (opened.store, opened.job, opened.desk);
    let (endpoint, socket, token) = (opened.endpoint, opened.socket, opened.token);

    // An answer nobody waits for: refused before its body is read.
    let status = post_answer(&socket, "/v1/sandbox/results/7", &token, 32 << 10).await;
    assert!(matches!(status, Some(404) | None), "{status:?}");

    // One that is waited for, past what its order allows: refused; the
    // request still waits and takes the right answer.
    let waiting = {
        let desk = Arc::clone(&desk);
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(async move {
            desk.transfer(
                |id| Order::List {
                    id,
                    path: "/tmp".into(),
                },
                None,
                1 << 10,
                Duration::from_secs(20),
            )
            .await
        });
        tasks
    };
    let (status, order) = unix_request(
        &socket,
        "GET",
        "/v1/sandbox/orders?wait=5",
        Some(&token),
        "",
    )
    .await;
    assert_eq!(status, 200, "{order}");
    let order: Order = serde_json::from_str(&order).expect("an order");
    let Order::List { id, .. } = order else {
        unreachable!("a listing was asked for: {order:?}");
    };
    let path = format!("/v1/sandbox/results/{id}");
    let status = post_answer(&socket, &path, &token, 100 << 10).await;
    assert!(matches!(status, Some(413) | None), "{status:?}");
    let (status, body) = unix_request(&socket, "POST", &path, Some(&token), "[]").await;
    assert_eq!(status, 204, "{body}");
    let mut waiting = waiting;
    let answer = waiting
        .join_next()
        .await
        .expect("a task")
        .expect("joined")
        .expect("answered");
    assert_eq!(&answer.body.to_bytes()[..], b"[]");

    a_forged_end_frees_nothing(&store, &job, &desk, &socket, &token).await;
    endpoint.close().await;
}

/// An exec's output held by its own redactor: half a secret, a forged end
/// of another exec, then the rest: redacted whole, the exec freed once.
async fn a_forged_end_frees_nothing(
    store: &corral_orchestrator::internals::SqliteStore,
    job: &corral_proto::Job,
    desk: &Desk,
    socket: &std::path::Path,
    token: &str,
) {
    let exec = true_exec(desk);
    let (head, tail) = SECRET.split_at(10);
    for (index, batch) in [
        format!(r#"{{"batch": 1, "events": [{{"kind": "output", "data": {{"stream": "stdout", "text": "key={head}", "exec": {exec}}}}}]}}"#),
        format!(r#"{{"batch": 2, "events": [{{"kind": "exec_ended", "data": {{"exec": {}, "duration_ms": 1}}}}]}}"#, exec + 1),
        format!(r#"{{"batch": 3, "events": [{{"kind": "output", "data": {{"stream": "stdout", "text": "{tail}\n", "exec": {exec}}}}}, {{"kind": "exec_ended", "data": {{"exec": {exec}, "duration_ms": 2}}}}]}}"#),
    ]
    .iter()
    .enumerate()
    {
        let (status, body) = unix_request(socket, "POST", "/v1/events", Some(token), batch).await;
        assert_eq!(status, 200, "batch {index}: {body}");
    }
    assert_eq!(desk.execs_running(), 0);
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    let text: String = stored
        .iter()
        .filter_map(corral_proto::Event::output)
        .map(|output| output.text)
        .collect();
    assert!(!text.contains(head) && !text.contains(SECRET), "{text}");
    assert!(text.contains("[REDACTED:HELD]"), "{text}");
    let ends = stored
        .iter()
        .filter(|event| event.kind == corral_proto::EventKind::ExecEnded)
        .count();
    assert_eq!(ends, 2, "both ends are stored, only one freed its exec");
}

/// POSTs `size` bytes to `path` on the job socket; the answer's status, or
/// `None` when the server closed the connection on the rest of the body
/// (it refuses before reading it all).
async fn post_answer(
    socket: &std::path::Path,
    path: &str,
    token: &str,
    size: usize,
) -> Option<u16> {
    use std::io::{Read, Write};
    let (socket, path, token) = (socket.to_owned(), path.to_owned(), token.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut stream = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: corral\r\nauthorization: Bearer {token}\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).ok()?;
        let _ = stream.write_all(&vec![b'x'; size]);
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        answer.split(' ').nth(1)?.parse().ok()
    })
    .await
    .expect("request task")
}

/// An exec's end in a batch the store refused (a full disk) is not told
/// to the desk: the batch sent again finds the exec running and lets go
/// of its held output (it found the exec ended, and the output stayed
/// held until the sandbox closed).
#[tokio::test]
async fn an_exec_end_the_store_refused_ends_the_exec_when_sent_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox(dir.path(), "j-00000000000000c3").await;
    let (socket, token) = (&sandbox.socket, &sandbox.token);
    let exec = true_exec(&sandbox.desk);
    let (head, _) = SECRET.split_at(10);
    let output = format!(
        r#"{{"batch": 1, "events": [{{"kind": "output", "data": {{"stream": "stdout", "text": "key={head}", "exec": {exec}}}}}]}}"#
    );
    let (status, body) = unix_request(socket, "POST", "/v1/events", Some(token), &output).await;
    assert_eq!(status, 200, "{body}");
    let end = format!(
        r#"{{"batch": 2, "events": [{{"kind": "exec_ended", "data": {{"exec": {exec}, "duration_ms": 1}}}}]}}"#
    );
    refused(
        &dir.path().join("corral.db"),
        socket,
        token,
        "/v1/events",
        &end,
    )
    .await;
    assert_eq!(
        sandbox.desk.execs_running(),
        1,
        "not ended while not stored"
    );

    let (status, body) = unix_request(socket, "POST", "/v1/events", Some(token), &end).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sandbox.desk.execs_running(), 0);
    let stored = sandbox
        .store
        .events_after(&sandbox.job.id, 0, 100)
        .await
        .expect("events");
    let text: String = stored
        .iter()
        .filter_map(corral_proto::Event::output)
        .map(|output| output.text)
        .collect();
    assert_eq!(text, format!("key={head}"), "let go at the exec's end");
    sandbox.endpoint.close().await;
}

/// Past the sandbox's budget an exec's end is still taken (bare: its
/// numbers, not its reason), so its caller learns it ended; its output and
/// every other event past it are dropped.
#[tokio::test]
async fn an_exec_end_past_the_budget_still_ends_the_exec() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox(dir.path(), "j-00000000000000c9").await;
    let (socket, token) = (&sandbox.socket, &sandbox.token);
    let exec = true_exec(&sandbox.desk);
    // The test budget is a MiB: this is past it.
    let flood = "x".repeat(1 << 20);
    let reason = "r".repeat(64 * 1024);
    let batch = json!({"batch": 1, "events": [
        {"kind": "output", "data": {"stream": "stdout", "text": "first\n", "exec": exec}},
        {"kind": "output", "data": {"stream": "stdout", "text": flood, "exec": exec}},
        {"kind": "message", "data": {"role": "assistant", "text": flood}},
        {"kind": "exec_ended", "data": {"exec": exec, "exit_code": 3, "duration_ms": 9, "reason": reason}},
    ]});
    let (status, body) = unix_request(
        socket,
        "POST",
        "/v1/events",
        Some(token),
        &batch.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sandbox.desk.execs_running(), 0, "the exec ended");
    let stored = sandbox
        .store
        .events_after(&sandbox.job.id, 0, 100)
        .await
        .expect("events");
    // The output up to the budget (split in parts of 64 KiB), then the
    // one warning, nothing of the message, and the exec's end.
    let others: Vec<_> = stored
        .iter()
        .filter(|event| event.kind != EventKind::Output)
        .collect();
    let kinds: Vec<_> = others.iter().map(|event| event.kind).collect();
    assert_eq!(kinds, [EventKind::Warning, EventKind::ExecEnded]);
    assert_eq!(
        others[1].data,
        json!({"exec": exec, "exit_code": 3, "duration_ms": 9, "timed_out": false})
    );
    let output: usize = stored
        .iter()
        .filter_map(corral_proto::Event::output)
        .map(|output| output.text.len())
        .sum();
    assert!(output <= 1 << 20, "{output} bytes of output kept");
    sandbox.endpoint.close().await;
}

/// A batch the store refused twice, each copy with output of another exec
/// (a worker may resend other content under a number), then given up on:
/// every stream either copy touched starts covered, so the rest of a
/// secret the first copy began is not stored in clear (the second copy's
/// streams replaced the first's).
#[tokio::test]
async fn a_batch_refused_twice_with_other_execs_covers_the_streams_of_both() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox(dir.path(), "j-00000000000000ce").await;
    let (socket, token) = (&sandbox.socket, &sandbox.token);
    let database = dir.path().join("corral.db");
    let (first, other) = (true_exec(&sandbox.desk), true_exec(&sandbox.desk));
    let (head, tail) = SECRET.split_at(10);
    let copy = |exec: u64, text: &str| json!({"batch": 1, "events": [exec_output(exec, text)]});
    refused(
        &database,
        socket,
        token,
        "/v1/events",
        &copy(first, head).to_string(),
    )
    .await;
    refused(
        &database,
        socket,
        token,
        "/v1/events",
        &copy(other, "x").to_string(),
    )
    .await;
    let rest = json!({"batch": 2, "events": [exec_output(first, &format!("{tail}\n"))]});
    let (status, body) =
        unix_request(socket, "POST", "/v1/events", Some(token), &rest.to_string()).await;
    assert_eq!(status, 200, "{body}");
    sandbox.endpoint.close().await;
    let text = stored_output(&sandbox.store, &sandbox.job).await;
    assert!(
        !text.contains(tail),
        "the rest of the secret in clear: {text:?}"
    );
}
