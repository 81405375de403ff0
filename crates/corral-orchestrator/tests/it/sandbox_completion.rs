//! A re-adopted sandbox's completion: taken up again from the store only
//! when its current container reported it.

use serde_json::json;
use tokio_util::task::TaskTracker;

use corral_orchestrator::internals::{EventRecords, WorkerEndpoint};

use crate::held_output::{exec_output, post, stored_exec_output};
use crate::sandbox_fixture::{sandbox, sandbox_provisions, true_exec};

/// A status that changes the state to `state`, as the orchestrator stores it.
fn state(state: corral_proto::JobState) -> corral_proto::NewEvent {
    corral_proto::NewEvent::of(&corral_proto::event::StatusData {
        state: Some(state),
        ..corral_proto::event::StatusData::default()
    })
}

/// A sandbox's completion is taken up again after a restart only when
/// its current container reported it: one that an earlier container
/// reported (a failed setup, before a stop and start) is not, and the
/// current container's output is taken. Its own is, even with its
/// `running` stored after it (a slow start) and a status its worker sent
/// after it (a worker cannot send a state).
#[tokio::test]
async fn a_restart_takes_up_a_sandbox_s_completion_only_from_its_current_container() {
    use corral_proto::JobState::{Queued, Running, Stopped};
    let phase = corral_proto::NewEvent::of(&corral_proto::event::StatusData {
        phase: Some("claude_retry".into()),
        ..corral_proto::event::StatusData::default()
    });
    for (after, earlier) in [
        (vec![], false),
        (vec![state(Running), phase], false),
        (vec![state(Stopped), state(Queued), state(Running)], true),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let opened = sandbox(dir.path(), "j-00000000000000c9").await;
        let done = json!({"status": "failed", "summary": "setup failed", "exit_code": 1});
        post(&opened.socket, &opened.token, "/v1/complete", &done).await;
        let hash = corral_orchestrator::internals::TokenHash::from_hex(
            opened.endpoint.token_hash().to_owned(),
        );
        drop(opened.endpoint);
        opened
            .store
            .append_events(&opened.job.id, after, None, None)
            .await
            .expect("the statuses are stored");
        let socket_dir = opened.socket.parent().expect("its directory").to_owned();
        let (provisions, desk) = sandbox_provisions(&opened.store, &opened.job, 0);
        let endpoint = WorkerEndpoint::reopen(&socket_dir, provisions, hash, &TaskTracker::new())
            .await
            .expect("endpoint reopens");
        let exec = true_exec(&desk);
        let batch = json!({"batch": 1, "events": [exec_output(exec, "after")]});
        post(&opened.socket, &opened.token, "/v1/events", &batch).await;
        let report = endpoint.close().await;
        let taken = stored_exec_output(&opened.store, &opened.job, exec).await;
        if earlier {
            assert!(
                report.completion.is_none(),
                "an earlier container's completion"
            );
            assert_eq!(taken, "after");
        } else {
            let completion = report.completion.expect("its own container's completion");
            assert_eq!(completion.exit_code, Some(1));
            assert_eq!(taken, "", "output after its completion");
        }
    }
}
