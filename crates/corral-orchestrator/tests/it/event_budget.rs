//! A job's budget (`max_output_bytes`) holds every event its worker sends,
//! not its output alone: messages, tool calls, tool results, errors and
//! warnings of up to a request's size each were stored uncounted, so a
//! hostile worker could grow the store without bound.

use corral_orchestrator::internals::EventRecords;
use corral_proto::EventKind;
use serde_json::{Value, json};

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
