//! A re-adopted sandbox's execs from before the restart: its new desk
//! cannot tell whether they still run. Those the store says started and
//! never ended, and those the worker says start again (a batch the last
//! orchestrator never stored), keep their output, and their end lets go
//! of it; any other old exec's output is dropped, and no more may be open
//! than the sandbox may run at once.

use serde_json::{Value, json};

use crate::held_output::{exec_output, post, stored_exec_output, stored_output};
use crate::sandbox_worker::{SECRET, sandbox_after};

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
async fn seven_open(dir: &std::path::Path, id: &str) -> crate::sandbox_worker::Sandbox {
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
/// as many at once as the sandbox may run (4 here): a hostile worker
/// cannot name old execs until they take every stream. A start of an
/// exec never handed out opens nothing.
#[tokio::test]
async fn execs_from_before_started_again_are_taken_up_to_the_most() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = sandbox_after(dir.path(), "j-00000000000000e7", 10).await;
    let mut events: Vec<Value> = [2, 3, 4, 5, 6, 12].into_iter().map(started).collect();
    events.extend([2, 3, 4, 5, 6, 12].map(|exec| exec_output(exec, &format!("<{exec}>"))));
    // 2's end is told to the desk once its batch is stored: 6 opens after.
    let batches = [
        events,
        vec![ended(2)],
        vec![started(6), exec_output(6, "<6>")],
    ];
    post_all(&sandbox.socket, &sandbox.token, batches).await;
    sandbox.endpoint.close().await;
    for exec in [2, 3, 4, 5, 6, 12] {
        let text = stored_exec_output(&sandbox.store, &sandbox.job, exec).await;
        let expected = if exec == 12 {
            String::new()
        } else {
            format!("<{exec}>")
        };
        assert_eq!(text, expected, "exec {exec}: 6 only once 2 ended, 12 never");
    }
}
