//! A job's budget (`max_output_bytes`) holds every event its worker sends,
//! not its output alone: messages, tool calls, tool results, errors and
//! warnings of up to a request's size each were stored uncounted, so a
//! hostile worker could grow the store without bound.

use corral_orchestrator::internals::{EventRecords, JobProvisions, Redactor, WorkerEndpoint};
use corral_proto::EventKind;
use serde_json::{Value, json};
use tokio_util::task::TaskTracker;

use crate::held_output::{closed, output, post, served_with};

/// The budget of the job under test.
const BUDGET: u64 = 256 * 1024;

/// An event of `kind` whose data carries `text` where that kind keeps it.
fn event(kind: &str, text: &str) -> Value {
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

    let socket_dir = dir.path().join("again");
    let provisions = JobProvisions {
        max_output_bytes: BUDGET,
        ..corral_testkit::provisions(&store, &job, Redactor::new([("S", "unused-secret-value")]))
    };
    let endpoint = WorkerEndpoint::open(&socket_dir, provisions, &TaskTracker::new())
        .await
        .expect("endpoint opens");
    endpoint.mark_running();
    let token = std::fs::read_to_string(socket_dir.join("token")).expect("token file");
    let socket = socket_dir.join("worker.sock");
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
    assert!(
        stored.iter().any(|event| event.data["message"]
            .as_str()
            .is_some_and(|message| message.contains("were dropped"))),
        "the warning"
    );
}
