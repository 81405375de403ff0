//! A job's prompt poll marks it waiting once per prompt it has seen: a
//! hostile worker that asks in a loop, or alternates between "everything"
//! and "nothing new", cannot flood the job's events or flip the mark.

use corral_orchestrator::store::Store;
use corral_proto::EventKind;
use corral_testkit::unix_request;

use crate::worker_endpoint::{Opened, open};

#[tokio::test]
async fn a_worker_polling_in_a_loop_is_announced_waiting_once() {
    let Opened {
        dir: _dir,
        store,
        job,
        endpoint,
        token,
        socket,
        ..
    } = open().await;
    store
        .add_prompt(&job.id, "first", false)
        .await
        .expect("prompt");
    for round in 0..20 {
        let after = if round % 2 == 0 { 0 } else { 99 };
        let path = format!("/v1/prompts?after={after}&wait=0");
        let (status, body) = unix_request(&socket, "GET", &path, Some(&token), "").await;
        assert_eq!(status, 200, "{body}");
    }
    let events = store.events_after(&job.id, 0, 1000).await.expect("events");
    let waits = events
        .iter()
        .filter(|event| event.kind == EventKind::Status && event.data["phase"] == "waiting")
        .count();
    assert_eq!(waits, 1, "{events:?}");
    let waiting = store.get_job(&job.id).await.expect("get").expect("job");
    assert!(waiting.waiting_since.is_some());
    drop(endpoint);
}
