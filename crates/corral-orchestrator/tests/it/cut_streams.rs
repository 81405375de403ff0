//! Output no stream takes (after the output's end, of an exec that does
//! not run, past the budget, in a batch that is never stored) never lets
//! a stream go with the start of a secret in clear: what the stream holds
//! is redacted whole, or the stream is left as it was.

use corral_orchestrator::internals::EventRecords;
use corral_proto::EventKind;
use serde_json::{Value, json};

use crate::event_budget::event;
use crate::held_output::{
    FIRST_HALF, SECOND_HALF, closed, exec_output, output, post, served, served_with,
    stored_exec_output, stored_output,
};
use crate::refused_store::refused;
use crate::sandbox_fixture::{SECRET, sandbox, true_exec};

/// The worker's completion, as it sends it.
fn done() -> Value {
    json!({"status": "succeeded", "summary": "done", "exit_code": 0})
}

/// Output tagged with execs that never ran is dropped: each would have
/// taken a stream of its own, and the 257th pushed the running exec's
/// stream out, its held start redacted but the rest of the secret then
/// stored in clear at the start of a new stream.
#[tokio::test]
async fn output_of_an_exec_that_does_not_run_is_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox(dir.path(), "j-00000000000000e1").await;
    let (socket, token) = (&sandbox.socket, &sandbox.token);
    let exec = true_exec(&sandbox.desk);
    let (head, tail) = SECRET.split_at(10);
    let batches: [Vec<Value>; 3] = [
        vec![exec_output(exec, &format!("ok {head}"))],
        (0..300)
            .map(|forged| exec_output(1_000_000 + forged, "x"))
            .collect(),
        vec![
            exec_output(exec, &format!("{tail}.")),
            json!({"kind": "exec_ended", "data": {"exec": exec, "duration_ms": 1}}),
        ],
    ];
    for (number, events) in (1..).zip(batches) {
        let batch = json!({"batch": number, "events": events});
        post(socket, token, "/v1/events", &batch).await;
    }
    sandbox.endpoint.close().await;
    let text = stored_exec_output(&sandbox.store, &sandbox.job, exec).await;
    assert_eq!(text, "ok [REDACTED:HELD].");
    let all = stored_output(&sandbox.store, &sandbox.job).await;
    assert_eq!(all, text, "no output of a forged exec is stored");
}

/// An exec's end kept past the budget lets go of its stream: output of
/// that exec past the budget behind the end, in the same batch, would
/// have cut it too late.
#[tokio::test]
async fn an_exec_end_past_the_budget_cuts_its_stream_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox(dir.path(), "j-00000000000000e2").await;
    let (socket, token) = (&sandbox.socket, &sandbox.token);
    let exec = true_exec(&sandbox.desk);
    let (head, tail) = SECRET.split_at(10);
    let first = json!({"batch": 1, "events": [exec_output(exec, &format!("ok {head}"))]});
    post(socket, token, "/v1/events", &first).await;
    // The test budget is a MiB: the message spends it.
    let end = json!({"kind": "exec_ended", "data": {"exec": exec, "duration_ms": 1}});
    let spend = event("message", &"x".repeat(1 << 20));
    let rest = exec_output(exec, &format!("{tail}."));
    let second = json!({"batch": 2, "events": [spend, end, rest]});
    post(socket, token, "/v1/events", &second).await;
    sandbox.endpoint.close().await;
    let text = stored_exec_output(&sandbox.store, &sandbox.job, exec).await;
    assert_eq!(text, "ok [REDACTED:held-when-output-was-cut]");
}

/// After a completion the store refused, the job's output has ended:
/// output that comes before the completion is sent again is dropped, and
/// what the stream holds is redacted whole when that completion lets it
/// go.
#[tokio::test]
async fn output_after_a_refused_completion_cuts_its_stream() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000e3").await;
    let (socket, token) = (&served.socket, &served.token);
    let start = json!({"batch": 2, "events": [output(FIRST_HALF)]});
    post(socket, token, "/v1/events", &start).await;
    refused(
        &served.database,
        socket,
        token,
        "/v1/complete",
        &done().to_string(),
    )
    .await;
    let rest = json!({"batch": 3, "events": [output(&format!("{SECOND_HALF} ok"))]});
    post(socket, token, "/v1/events", &rest).await;
    post(socket, token, "/v1/complete", &done()).await;
    let (store, job) = closed(served).await;
    assert_eq!(
        stored_output(&store, &job).await,
        "plain [REDACTED:held-when-output-was-cut]"
    );
}

/// A batch the store refused and the worker never sent again (it sent
/// its completion instead) is lost: what the streams it touched hold is
/// redacted whole, as when a later batch gives up on it.
#[tokio::test]
async fn a_completion_after_a_refused_batch_covers_what_it_touched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000e4").await;
    let (socket, token) = (&served.socket, &served.token);
    let start = json!({"batch": 2, "events": [output(FIRST_HALF)]});
    post(socket, token, "/v1/events", &start).await;
    let rest = json!({"batch": 3, "events": [output(&format!("{SECOND_HALF} ok"))]});
    refused(
        &served.database,
        socket,
        token,
        "/v1/events",
        &rest.to_string(),
    )
    .await;
    post(socket, token, "/v1/complete", &done()).await;
    let report = served.endpoint.close().await;
    assert_eq!(report.lost_batches, 1, "counted once");
    assert_eq!(
        stored_output(&served.store, &served.job).await,
        "plain [REDACTED:after-lost-output]"
    );
}

/// The start of a secret a stream holds when its budget runs out is never
/// let go in clear: the rest is dropped with the output past the budget,
/// and the completion (or the exec's end) let go of what the redactor held
/// as the end of the text, where half a secret is no secret.
#[tokio::test]
async fn a_secrets_start_held_when_the_budget_runs_out_is_not_let_go_in_clear() {
    let dir = tempfile::tempdir().expect("temp dir");
    let budget = 4096;
    let served = served_with(dir.path(), "j-00000000000000d6", |provisions| {
        provisions.max_output_bytes = budget;
    })
    .await;
    let (socket, token) = (&served.socket, &served.token);
    let start = json!({"batch": 2, "events": [output(FIRST_HALF)]});
    post(socket, token, "/v1/events", &start).await;
    let flood = format!("{SECOND_HALF}{}", "x".repeat(budget as usize));
    let rest = json!({"batch": 3, "events": [output(&flood)]});
    post(socket, token, "/v1/events", &rest).await;
    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0});
    post(socket, token, "/v1/complete", &done).await;
    let (store, job) = closed(served).await;
    let text = stored_output(&store, &job).await;
    assert_eq!(text, "plain [REDACTED:held-when-output-was-cut]");

    // A sandbox exec's stream, let go by the exec's end kept past the budget.
    let sandbox = sandbox(dir.path().join("sandbox").as_path(), "j-00000000000000d7").await;
    let exec = true_exec(&sandbox.desk);
    let (head, tail) = SECRET.split_at(10);
    let events = json!({"batch": 1, "events": [exec_output(exec, &format!("ok {head}"))]});
    post(&sandbox.socket, &sandbox.token, "/v1/events", &events).await;
    // The test budget is a MiB: the message spends it.
    let end = json!({"kind": "exec_ended", "data": {"exec": exec, "duration_ms": 1}});
    let spend = event("message", &"x".repeat(1 << 20));
    let events =
        json!({"batch": 2, "events": [spend, exec_output(exec, &format!("{tail}.")), end]});
    post(&sandbox.socket, &sandbox.token, "/v1/events", &events).await;
    sandbox.endpoint.close().await;
    let text = stored_exec_output(&sandbox.store, &sandbox.job, exec).await;
    assert_eq!(text, "ok [REDACTED:held-when-output-was-cut]");
    let stored = sandbox
        .store
        .events_after(&sandbox.job.id, 0, 100)
        .await
        .expect("events");
    assert!(
        stored
            .iter()
            .any(|event| event.kind == EventKind::ExecEnded),
        "the exec's end is kept"
    );
}
