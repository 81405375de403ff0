//! A re-adopted sandbox's execs from before the restart: its new desk
//! cannot tell whether they still run. Those the store says started and
//! never ended, and those the worker says start again (a batch the last
//! orchestrator never stored), keep their output, and their end lets go
//! of it; any other old exec's output is dropped, and no more may be open
//! than the sandbox may run at once.

use serde_json::{Value, json};

use crate::held_output::{exec_output, post, stored_exec_output, stored_output};
use crate::sandbox_fixture::{SECRET, sandbox_after};

fn started(exec: u64) -> Value {
    json!({"kind": "exec_started", "data": {"exec": exec, "cmd": "sleep 1", "cwd": "/"}})
}

fn ended(exec: u64) -> Value {
    json!({"kind": "exec_ended", "data": {"exec": exec, "duration_ms": 1}})
}

/// Posts each of `batches`, numbered from 1.
async fn post_all(
    socket: &std::path::Path,
    token: &str,
    batches: impl IntoIterator<Item = Vec<Value>>,
) {
    for (number, events) in (1..).zip(batches) {
        let batch = json!({"batch": number, "events": events});
        post(socket, token, "/v1/events", &batch).await;
    }
}

/// A sandbox re-adopted after execs 1 to 10, of which the store says 7
/// may still run.
async fn seven_open(dir: &std::path::Path, id: &str) -> crate::sandbox_fixture::Sandbox {
    let sandbox = sandbox_after(dir, id, 10).await;
    assert!(sandbox.desk.open_before(7), "7 opens");
    sandbox
}

/// Exec 7 was open when the last orchestrator stopped: its output is
/// taken, a secret split across batches redacted whole. Exec 8 ended
/// before (the store has no open start of it), 11 was never handed out,
/// 0 is no exec: their output is dropped.
#[tokio::test]
async fn output_of_an_exec_open_before_a_restart_is_taken_and_no_other() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = seven_open(dir.path(), "j-00000000000000e5").await;
    let (head, tail) = SECRET.split_at(10);
    let batches = [
        vec![exec_output(7, &format!("ok {head}"))],
        vec![
            exec_output(7, &format!("{tail}.")),
            exec_output(8, "ended before"),
            exec_output(11, "never ran"),
            exec_output(0, "never ran"),
        ],
    ];
    post_all(&sandbox.socket, &sandbox.token, batches).await;
    sandbox.endpoint.close().await;
    let text = stored_output(&sandbox.store, &sandbox.job).await;
    assert_eq!(text, "ok [REDACTED:HELD].");
}

/// The end of an exec from before lets go of what the detector holds of
/// its output at once (not at the sandbox's close), and ends it: output
/// of it after its end is dropped.
#[tokio::test]
async fn the_end_of_an_exec_from_before_lets_go_of_its_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = seven_open(dir.path(), "j-00000000000000e6").await;
    let (head, tail) = SECRET.split_at(10);
    let batches = [
        vec![exec_output(7, &format!("ok {head}"))],
        vec![exec_output(7, &format!("{tail}. done")), ended(7)],
    ];
    post_all(&sandbox.socket, &sandbox.token, batches).await;
    let text = stored_exec_output(&sandbox.store, &sandbox.job, 7).await;
    assert_eq!(
        text, "ok [REDACTED:HELD]. done",
        "all of it, before the close"
    );
    let after = json!({"batch": 3, "events": [exec_output(7, "after its end")]});
    post(&sandbox.socket, &sandbox.token, "/v1/events", &after).await;
    sandbox.endpoint.close().await;
    let text = stored_exec_output(&sandbox.store, &sandbox.job, 7).await;
    assert_eq!(text, "ok [REDACTED:HELD]. done");
}

/// An exec from before that the worker says starts (the batch that said
/// so first was lost with the last orchestrator) keeps its output, up to
/// as many as the sandbox may run at once (4 here), ever, and once: a
/// hostile worker can neither name old execs until they take every
/// stream, nor open and end them over and over. A start of an exec never
/// handed out opens nothing.
#[tokio::test]
async fn execs_from_before_started_again_are_taken_once_up_to_the_most() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox_after(dir.path(), "j-00000000000000e7", 10).await;
    let mut events: Vec<Value> = [2, 3, 4, 5, 6, 12].into_iter().map(started).collect();
    events.extend([2, 3, 4, 5, 6, 12].map(|exec| exec_output(exec, &format!("<{exec}>"))));
    let again = |exec| vec![started(exec), exec_output(exec, "again")];
    let batches = [events, vec![ended(2)], again(6), again(2)];
    post_all(&sandbox.socket, &sandbox.token, batches).await;
    sandbox.endpoint.close().await;
    for exec in [2, 3, 4, 5, 6, 12] {
        let text = stored_exec_output(&sandbox.store, &sandbox.job, exec).await;
        let expected = if exec > 5 {
            String::new()
        } else {
            format!("<{exec}>")
        };
        assert_eq!(text, expected, "exec {exec}: 2 to 5 opened, then none");
    }
}

/// Past the output budget an exec's start is dropped, and opens nothing:
/// else a worker could open old execs and end them, each end kept bare
/// past the budget, and store rows without end.
#[tokio::test]
async fn a_start_past_the_budget_opens_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox_after(dir.path(), "j-00000000000000e8", 10).await;
    // The test budget is a MiB: the message spends it.
    let spend = crate::event_budget::event("message", &"x".repeat(1 << 20));
    let batches = [vec![spend], vec![started(3), exec_output(3, "x"), ended(3)]];
    post_all(&sandbox.socket, &sandbox.token, batches).await;
    sandbox.endpoint.close().await;
    let ends = corral_orchestrator::internals::EventRecords::events_after(
        &*sandbox.store,
        &sandbox.job.id,
        0,
        1000,
    )
    .await
    .expect("events")
    .into_iter()
    .filter(|event| event.kind == corral_proto::EventKind::ExecEnded)
    .count();
    assert_eq!(ends, 0, "no end of an exec that never opened is stored");
}
