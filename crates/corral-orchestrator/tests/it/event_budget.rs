//! A job's budget (`max_output_bytes`) holds every event its worker sends,
//! not its output alone: messages, tool calls, tool results, errors and
//! warnings of up to a request's size each were stored uncounted, so a
//! hostile worker could grow the store without bound.

use std::sync::Arc;

use corral_orchestrator::internals::{
    EventRecords, JobProvisions, ROW_COST, Redactor, SqliteStore, WorkerEndpoint, event_cost,
};
use corral_proto::{EventKind, Job, NewEvent};
use serde_json::{Value, json};

use crate::held_output::{closed, output, post, served_with, stored_output};
use crate::sandbox_fixture::{sandbox, true_exec};

/// The budget of the job under test.
const BUDGET: u64 = 256 * 1024;

/// An event of `kind` whose data carries `text` where that kind keeps it.
pub(crate) fn event(kind: &str, text: &str) -> Value {
    let data = match kind {
        "message" => json!({"role": "assistant", "text": text}),
        "tool_call" => json!({"id": "1", "name": "shell", "arguments": {"command": text}}),
        "tool_result" => json!({"id": "1", "ok": true, "output": text}),
        _ => json!({"message": text}),
    };
    json!({"kind": kind, "data": data})
}

#[tokio::test]
async fn every_kind_of_worker_event_counts_against_the_jobs_budget() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served_with(dir.path(), "j-00000000000000d1", |provisions| {
        provisions.max_output_bytes = BUDGET;
    })
    .await;
    let (socket, token) = (&served.socket, &served.token);
    // Four times the budget, in every kind a worker sends but output.
    let text = "m".repeat(16 * 1024);
    let kinds = ["message", "tool_call", "tool_result", "error", "warning"];
    let mut sent = 0;
    for batch in 2..=14 {
        let events: Vec<Value> = kinds.iter().map(|kind| event(kind, &text)).collect();
        sent += events.len();
        post(
            socket,
            token,
            "/v1/events",
            &json!({"batch": batch, "events": events}),
        )
        .await;
    }
    // Output past the budget still goes, as before.
    let late = json!({"batch": 15, "events": [output("late output\n")]});
    post(socket, token, "/v1/events", &late).await;

    let (store, job) = closed(served).await;
    let stored = store
        .events_after(&job.id, 0, 10_000)
        .await
        .expect("events");
    let from_worker: Vec<_> = stored
        .iter()
        .filter(|event| event.kind != EventKind::Status)
        .collect();
    let size: usize = from_worker
        .iter()
        .map(|event| event.data.to_string().len())
        .sum();
    let warnings: Vec<_> = from_worker
        .iter()
        .filter_map(|event| event.data["message"].as_str())
        .filter(|message| message.contains("were dropped"))
        .collect();
    assert_eq!(
        warnings,
        [format!(
            "output and events past {BUDGET} bytes were dropped"
        )],
        "one warning"
    );
    assert!(
        size as u64 <= BUDGET + 200,
        "{size} bytes of events stored against a budget of {BUDGET}"
    );
    // What fits is stored whole: the first events, in order, up to it.
    let fitted = from_worker.len() - 2; // "plain " and the warning
    assert!(
        (12..sent).contains(&fitted),
        "{fitted} of {sent} events kept"
    );
    assert!(
        !stored
            .iter()
            .filter_map(corral_proto::Event::output)
            .any(|output| output.text.contains("late")),
        "output past the budget is dropped"
    );
}

/// What the event `event` (as a worker sends it) costs against its job's
/// budget.
pub(crate) fn cost(event: &Value) -> u64 {
    let event: NewEvent = serde_json::from_value(event.clone()).expect("an event");
    event_cost(&event)
}

/// Whether `stored` holds the warning that events past the budget were
/// dropped.
fn warned(stored: &[corral_proto::Event]) -> bool {
    stored.iter().any(|event| {
        event.data["message"]
            .as_str()
            .is_some_and(|message| message.contains("were dropped"))
    })
}

/// A new session of the job's socket (`again` under `dir`), with `budget`.
async fn again(
    dir: &std::path::Path,
    store: &Arc<SqliteStore>,
    job: &Job,
    budget: u64,
) -> (WorkerEndpoint, std::path::PathBuf, String) {
    let socket_dir = dir.join("again");
    let provisions = JobProvisions {
        max_output_bytes: budget,
        ..corral_testkit::provisions(store, job, Redactor::new([("S", "unused-secret-value")]))
    };
    crate::worker_endpoint::running_endpoint(&socket_dir, provisions).await
}

/// The budget is the job's whole life's: a new session of its socket (an
/// orchestrator restarted and the job re-adopted, a sandbox started again)
/// counts what the job stored before, which a fresh count gave it again.
#[tokio::test]
async fn a_new_session_goes_on_from_what_the_job_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served_with(dir.path(), "j-00000000000000d2", |provisions| {
        provisions.max_output_bytes = BUDGET;
    })
    .await;
    let text = "m".repeat(16 * 1024);
    // Three quarters of the budget in the first session.
    let events: Vec<Value> = (0..12).map(|_| event("message", &text)).collect();
    let first = json!({"batch": 2, "events": events});
    post(&served.socket, &served.token, "/v1/events", &first).await;
    let (store, job) = closed(served).await;

    let (endpoint, socket, token) = again(dir.path(), &store, &job, BUDGET).await;
    // As much again, from a new worker numbering from 1.
    let events: Vec<Value> = (0..12).map(|_| event("tool_result", &text)).collect();
    post(
        &socket,
        &token,
        "/v1/events",
        &json!({"batch": 1, "events": events}),
    )
    .await;
    endpoint.close().await;

    let stored = store
        .events_after(&job.id, 0, 10_000)
        .await
        .expect("events");
    let results = stored
        .iter()
        .filter(|event| event.kind == EventKind::ToolResult)
        .count();
    assert!(
        results < 6,
        "{results} of 12 tool results stored past the first session's 12 messages"
    );
    assert!(warned(&stored), "the warning");
}

/// Past the budget only the end of an exec that runs is kept, once: ends
/// of execs that never ran, or ran and ended (within the budget earlier in
/// the same batch too), are dropped like any other event (kept, a worker
/// past its budget stored them without end).
#[tokio::test]
async fn past_the_budget_only_a_running_execs_end_is_kept_and_only_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox(dir.path(), "j-00000000000000d3").await;
    let (socket, token) = (&sandbox.socket, &sandbox.token);
    let exec = true_exec(&sandbox.desk);
    let end = |exec: u64| json!({"kind": "exec_ended", "data": {"exec": exec, "duration_ms": 1}});
    // The test budget is a MiB: the flood spends it.
    // One end within the budget, then the flood that spends it.
    let mut events = vec![end(exec), event("message", &"x".repeat(1 << 20))];
    events.extend((0..200).map(|forged| end(exec + 1 + forged)));
    events.extend([end(exec), end(exec), end(exec)]);
    let first = json!({"batch": 1, "events": events});
    post(socket, token, "/v1/events", &first).await;
    assert_eq!(sandbox.desk.execs_running(), 0, "the exec ended");
    let again: Vec<Value> = (0..50).map(|_| end(exec)).collect();
    post(
        socket,
        token,
        "/v1/events",
        &json!({"batch": 2, "events": again}),
    )
    .await;

    let stored = sandbox
        .store
        .events_after(&sandbox.job.id, 0, 10_000)
        .await
        .expect("events");
    let ends: Vec<_> = stored
        .iter()
        .filter(|event| event.kind == EventKind::ExecEnded)
        .map(|event| event.data["exec"].as_u64())
        .collect();
    assert_eq!(ends, [Some(exec)], "{} events stored", stored.len());
    sandbox.endpoint.close().await;
}

/// Empty output costs a row: alternating between two streams, each event
/// is a row of its own, and a worker sending them without end grew the
/// store without bound while its budget stayed untouched.
#[tokio::test]
async fn rows_of_empty_output_count_against_the_budget() {
    let dir = tempfile::tempdir().expect("temp dir");
    let budget = 200 * ROW_COST;
    let served = served_with(dir.path(), "j-00000000000000d4", |provisions| {
        provisions.max_output_bytes = budget;
    })
    .await;
    let (socket, token) = (&served.socket, &served.token);
    for batch in 2..=5 {
        let events: Vec<Value> = (0..500)
            .map(|index| {
                let stream = if index % 2 == 0 { "stdout" } else { "stderr" };
                json!({"kind": "output", "data": {"stream": stream, "text": ""}})
            })
            .collect();
        post(
            socket,
            token,
            "/v1/events",
            &json!({"batch": batch, "events": events}),
        )
        .await;
    }
    let (store, job) = closed(served).await;
    let stored = store
        .events_after(&job.id, 0, 10_000)
        .await
        .expect("events");
    let outputs = stored
        .iter()
        .filter(|event| event.kind == EventKind::Output)
        .count();
    assert!(
        (10..200).contains(&outputs),
        "{outputs} rows of output stored for 2000 sent, against a budget of 200 rows"
    );
    assert!(warned(&stored), "the warning");
}

/// A new session reads back what the job stored by the measure the old
/// one counted it: a job that spent part of its budget in small output
/// events (read back as stored JSON, each was counted more than its text)
/// gets the rest, and nothing it sends within it is dropped.
#[tokio::test]
async fn a_new_session_reads_back_what_the_last_one_counted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let budget = 40_000;
    let served = served_with(dir.path(), "j-00000000000000d5", |provisions| {
        provisions.max_output_bytes = budget;
    })
    .await;
    let mut spent = cost(&output("plain "));
    // A slow log: a byte at a time, on stdout and stderr by turns.
    let events: Vec<Value> = (0..200)
        .map(|index| {
            let stream = if index % 2 == 0 { "stdout" } else { "stderr" };
            json!({"kind": "output", "data": {"stream": stream, "text": "."}})
        })
        .collect();
    spent += events.iter().map(cost).sum::<u64>();
    assert!(
        spent < budget / 2,
        "{spent}: the first session spends under half"
    );
    post(
        &served.socket,
        &served.token,
        "/v1/events",
        &json!({"batch": 2, "events": events}),
    )
    .await;
    let (store, job) = closed(served).await;

    let (endpoint, socket, token) = again(dir.path(), &store, &job, budget).await;
    // What is left, less a margin for the status events the store holds.
    let mut events = Vec::new();
    while spent + 600 < budget {
        let message = event("message", "a message that the budget still has room for");
        spent += cost(&message);
        events.push(message);
    }
    let posted = events.len();
    post(
        &socket,
        &token,
        "/v1/events",
        &json!({"batch": 1, "events": events}),
    )
    .await;
    endpoint.close().await;

    let stored = store
        .events_after(&job.id, 0, 10_000)
        .await
        .expect("events");
    let messages = stored
        .iter()
        .filter(|event| event.kind == EventKind::Message)
        .count();
    assert_eq!(messages, posted, "every message within the budget is kept");
}

/// What redactions add counts against the budget: a secret shorter than
/// its marker, printed over and over, stored several times the budget.
#[tokio::test]
async fn what_redactions_add_counts_against_the_budget() {
    let dir = tempfile::tempdir().expect("temp dir");
    let budget = 64 * 1024;
    let served = short_secret(dir.path(), "j-00000000000000d8", budget).await;
    // Each event about 1,000 bytes as sent, 5,000 as stored; the 56 of them
    // fit the budget as sent.
    let text = "q3y-9byte\n".repeat(90);
    let events: Vec<Value> = (0..56).map(|_| output(&text)).collect();
    assert!(events.iter().map(cost).sum::<u64>() < budget);
    let batch = json!({"batch": 2, "events": events});
    post(&served.socket, &served.token, "/v1/events", &batch).await;
    let (store, job) = closed(served).await;
    let stored = stored_output(&store, &job).await;
    assert!(!stored.contains("q3y"), "redacted");
    let one = text.replace("q3y-9byte", &format!("[REDACTED:{SHORT_NAME}]"));
    assert!(
        stored.len() as u64 <= budget + one.len() as u64,
        "{} bytes of output stored against a budget of {budget}",
        stored.len()
    );
}

/// The name of the short secret `q3y-9byte`, longer than it.
const SHORT_NAME: &str = "A_RATHER_LONG_NAME_FOR_A_SHORT_SECRET";

/// A job served with `budget` whose one secret is `q3y-9byte`, named
/// [`SHORT_NAME`].
async fn short_secret(dir: &std::path::Path, id: &str, budget: u64) -> crate::held_output::Served {
    served_with(dir, id, |provisions| {
        provisions.max_output_bytes = budget;
        provisions.redactor = Arc::new(Redactor::new([(SHORT_NAME, "q3y-9byte")]));
    })
    .await
}

/// An event other than output is admitted at its size redacted: one
/// message within the budget as sent, several times it as stored, is
/// dropped.
#[tokio::test]
async fn a_message_is_admitted_at_its_size_redacted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let budget = 64 * 1024;
    let served = short_secret(dir.path(), "j-00000000000000d9", budget).await;
    let message = event("message", &"q3y-9byte ".repeat(6000));
    assert!(cost(&message) < budget);
    let batch = json!({"batch": 2, "events": [message]});
    post(&served.socket, &served.token, "/v1/events", &batch).await;
    let (store, job) = closed(served).await;
    let stored = store
        .events_after(&job.id, 0, 10_000)
        .await
        .expect("events");
    assert!(
        !stored.iter().any(|event| event.kind == EventKind::Message),
        "the message is past the budget once redacted"
    );
    assert!(warned(&stored), "the warning");
}
