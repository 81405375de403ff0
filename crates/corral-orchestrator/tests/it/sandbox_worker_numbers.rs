//! An exec's end whose numbers equal a numeric secret: the leak detector
//! makes such a number a string, and the end must still be taken (its
//! caller learns the exec ended) with the secret's digits stored nowhere.

use corral_orchestrator::internals::EventRecords;
use corral_proto::EventKind;
use corral_proto::event::ExecEndedData;
use serde_json::json;

use crate::held_output::post;
use crate::sandbox_fixture::{NUMERIC_SECRET, Sandbox, sandbox, true_exec};

/// Posts `events` as the sandbox's worker; they must be taken and end
/// every exec. What the store then holds.
async fn post_ending(sandbox: &Sandbox, events: &serde_json::Value) -> Vec<corral_proto::Event> {
    post(&sandbox.socket, &sandbox.token, "/v1/events", events).await;
    assert_eq!(sandbox.desk.execs_running(), 0, "every exec ended");
    sandbox
        .store
        .events_after(&sandbox.job.id, 0, 100)
        .await
        .expect("events")
}

#[tokio::test]
async fn an_exec_end_whose_numbers_are_a_secret_still_ends_the_exec_and_stores_no_digits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox(dir.path(), "j-00000000000000d1").await;
    let pin: i64 = NUMERIC_SECRET.parse().expect("digits");
    // A duration equal to the secret, then an exit code equal to it.
    let cases = [
        (json!(0), json!(pin), Some(0), 0),
        (json!(pin), json!(7), None, 7),
    ];
    for (batch, (exit_code, duration_ms, kept_code, kept_duration)) in (1_u64..).zip(cases) {
        let exec = true_exec(&sandbox.desk);
        let events = json!({"batch": batch, "events": [
            {"kind": "exec_ended", "data": {"exec": exec, "exit_code": exit_code, "duration_ms": duration_ms}},
        ]});
        let stored = post_ending(&sandbox, &events).await;
        let end = stored
            .iter()
            .filter(|event| event.kind == EventKind::ExecEnded)
            .find_map(|event| {
                event
                    .payload::<ExecEndedData>()
                    .filter(|end| end.exec == exec)
                    .map(|end| (end, event.redacted))
            });
        let (end, redacted) =
            end.unwrap_or_else(|| panic!("exec {exec}'s end reads as one: {stored:?}"));
        assert_eq!(
            (end.exit_code, end.duration_ms),
            (kept_code, kept_duration),
            "{end:?}"
        );
        assert!(redacted, "the end is marked redacted");
    }
    let everything = serde_json::to_string(
        &sandbox
            .store
            .events_after(&sandbox.job.id, 0, 1000)
            .await
            .expect("events"),
    )
    .expect("JSON");
    assert!(
        !everything.contains(NUMERIC_SECRET),
        "the secret's digits are stored: {everything}"
    );
    sandbox.endpoint.close().await;
}

/// Past the sandbox's budget the end is kept bare (its numbers, no
/// reason): still without the secret's digits, and still marked redacted.
#[tokio::test]
async fn a_bare_end_past_the_budget_keeps_its_redaction_mark() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox(dir.path(), "j-00000000000000d2").await;
    let exec = true_exec(&sandbox.desk);
    let pin: u64 = NUMERIC_SECRET.parse().expect("digits");
    // The test budget is a MiB: this is past it.
    let flood = "x".repeat(1 << 20);
    let events = json!({"batch": 1, "events": [
        {"kind": "message", "data": {"role": "assistant", "text": flood}},
        {"kind": "exec_ended", "data": {"exec": exec, "exit_code": 0, "duration_ms": pin, "reason": "slow"}},
    ]});
    let stored = post_ending(&sandbox, &events).await;
    let end = stored
        .iter()
        .find(|event| event.kind == EventKind::ExecEnded)
        .expect("the end is stored");
    assert_eq!(
        end.payload::<ExecEndedData>()
            .map(|end| (end.exec, end.exit_code, end.duration_ms)),
        Some((exec, Some(0), 0)),
        "{end:?}"
    );
    assert!(end.redacted, "the bare end is marked redacted: {end:?}");
    let everything = serde_json::to_string(&stored).expect("JSON");
    assert!(!everything.contains(NUMERIC_SECRET), "{everything}");
    sandbox.endpoint.close().await;
}
