//! Output the leak detector holds back is never told to the worker (its
//! answers are the same whether its output may start a secret or not) nor
//! stored: an orchestrator that dies holding the first half of a secret
//! loses it, and the restarted one redacts as much output as the rest of a
//! secret could take on that stream, so neither half is stored in clear.

use std::sync::Arc;

use corral_orchestrator::internals::Redactor;
use corral_orchestrator::internals::TokenHash;
use corral_orchestrator::internals::{EventRecords, JobRecords, SqliteStore};
use corral_orchestrator::internals::{JobProvisions, WorkerEndpoint};
use corral_proto::{EventKind, Job};
use corral_testkit::unix_request;
use serde_json::{Value, json};
use tokio_util::task::TaskTracker;

const SECRET: &str = "deploy-key-7f3a9c1e55";
const FIRST_HALF: &str = "deploy-key-7f";
const SECOND_HALF: &str = "3a9c1e55";

fn setup(store: &Arc<SqliteStore>, job: &Job) -> JobProvisions {
    corral_testkit::provisions(store, job, Redactor::new([("DEPLOY_KEY", SECRET)]))
}

async fn post(socket: &std::path::Path, token: &str, path: &str, body: &Value) -> Value {
    let (status, answer) = unix_request(socket, "POST", path, Some(token), &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    serde_json::from_str(&answer).expect("JSON answer")
}

fn output(text: &str) -> Value {
    json!({"kind": "output", "data": {"stream": "stdout", "text": text}})
}

#[tokio::test]
async fn a_restart_between_the_halves_of_a_secret_stores_neither_in_clear() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("corral.db");
    let store = Arc::new(SqliteStore::open(&database).expect("store"));
    let job = corral_testkit::running_job("j-00000000000000bb");
    store.insert_job(&job).await.expect("insert job");
    let socket_dir = dir.path().join("run").join(&job.id);
    let socket = socket_dir.join("worker.sock");
    let endpoint = WorkerEndpoint::open(&socket_dir, setup(&store, &job), &TaskTracker::new())
        .await
        .expect("endpoint opens");
    endpoint.mark_running();
    let token = std::fs::read_to_string(socket_dir.join("token")).expect("token file");

    // Held or not (one event stored, or none), the answer is the same.
    for (batch, text) in [(1, "plain ".to_owned()), (2, FIRST_HALF.to_owned())] {
        let ack = post(
            &socket,
            &token,
            "/v1/events",
            &json!({"batch": batch, "events": [output(&text)]}),
        )
        .await;
        assert_eq!(ack, json!({"batch": batch}), "{text:?}");
    }
    assert_eq!(
        store.held_streams(&job.id).await.expect("read"),
        vec![None],
        "the job's own stream holds something"
    );

    // The orchestrator dies: whatever its session held in memory is gone.
    let hash = TokenHash::from_hex(endpoint.token_hash().to_owned());
    drop(endpoint);
    let endpoint =
        WorkerEndpoint::reopen(&socket_dir, setup(&store, &job), hash, &TaskTracker::new())
            .await
            .expect("endpoint reopens");
    // The worker sends the rest and goes on; nothing is sent again.
    let reach = Redactor::new([("DEPLOY_KEY", SECRET)]).reach();
    let filler = "filler line\n".repeat(reach / 12 + 1);
    post(
        &socket,
        &token,
        "/v1/events",
        &json!({"batch": 3, "events": [output(&format!("{SECOND_HALF} ok.\n{filler}after\n"))]}),
    )
    .await;
    assert_eq!(
        store.held_streams(&job.id).await.expect("read"),
        Vec::<Option<u64>>::new(),
        "nothing is held, nor owed, once that much came"
    );
    post(
        &socket,
        &token,
        "/v1/complete",
        &json!({"status": "succeeded", "summary": "done", "exit_code": 0}),
    )
    .await;
    endpoint.close().await;

    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    let text: String = stored
        .iter()
        .filter(|event| event.kind == EventKind::Output)
        .filter_map(|event| event.data["text"].as_str())
        .collect();
    assert!(
        text.starts_with("plain [REDACTED:held-across-a-restart]"),
        "{}",
        &text[..80.min(text.len())]
    );
    assert!(text.ends_with("filler line\nafter\n"), "the output goes on");
    drop(store);
    let mut bytes = std::fs::read(&database).expect("database file");
    bytes.extend(std::fs::read(dir.path().join("corral.db-wal")).unwrap_or_default());
    for half in [FIRST_HALF, SECOND_HALF] {
        assert!(
            !bytes
                .windows(half.len())
                .any(|window| window == half.as_bytes()),
            "{half:?} is in the database"
        );
    }
}
