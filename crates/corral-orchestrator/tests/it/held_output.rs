//! Output the leak detector holds back is never told to the worker (its
//! answers are the same whether its output may start a secret or not) nor
//! stored: an orchestrator that dies holding the first half of a secret
//! loses it, and the restarted one redacts as much output as the rest of a
//! secret could take on that stream, so neither half is stored in clear.

use std::sync::Arc;

use corral_orchestrator::internals::Redactor;
use corral_orchestrator::internals::TokenHash;
use corral_orchestrator::internals::{EventRecords, JobRecords, SecretRecords, SqliteStore};
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

    let text = stored_output(&store, &job).await;
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

/// A running job `id`'s worker API over a store of its own in `dir`, its
/// first batch (`plain `) taken.
pub(crate) struct Served {
    store: Arc<SqliteStore>,
    database: std::path::PathBuf,
    job: Job,
    pub(crate) endpoint: WorkerEndpoint,
    pub(crate) socket: std::path::PathBuf,
    pub(crate) token: String,
}

pub(crate) async fn served(dir: &std::path::Path, id: &str) -> Served {
    served_with(dir, id, |_| {}).await
}

/// [`served`], its provisions changed by `adjust`.
async fn served_with(
    dir: &std::path::Path,
    id: &str,
    adjust: impl FnOnce(&mut JobProvisions),
) -> Served {
    let database = dir.join("corral.db");
    let store = Arc::new(SqliteStore::open(&database).expect("store"));
    let job = corral_testkit::running_job(id);
    store.insert_job(&job).await.expect("insert job");
    let socket_dir = dir.join("run").join(&job.id);
    let mut provisions = setup(&store, &job);
    adjust(&mut provisions);
    let endpoint = WorkerEndpoint::open(&socket_dir, provisions, &TaskTracker::new())
        .await
        .expect("endpoint opens");
    endpoint.mark_running();
    let token = std::fs::read_to_string(socket_dir.join("token")).expect("token file");
    let socket = socket_dir.join("worker.sock");
    let first = json!({"batch": 1, "events": [output("plain ")]});
    post(&socket, &token, "/v1/events", &first).await;
    Served {
        store,
        database,
        job,
        endpoint,
        socket,
        token,
    }
}

/// The worker's last batches, the half of the secret it sends again
/// included, and its completion; then all output the store holds.
async fn finish(served: Served) -> String {
    let Served {
        store,
        job,
        endpoint,
        socket,
        token,
        ..
    } = served;
    let (socket, token) = (socket.as_path(), token.as_str());
    let again = json!({"batch": 2, "events": [output(FIRST_HALF)]});
    let ack = post(socket, token, "/v1/events", &again).await;
    assert_eq!(ack, json!({"batch": 2}));
    let rest = json!({"batch": 3, "events": [output(&format!("{SECOND_HALF} ok.\n"))]});
    post(socket, token, "/v1/events", &rest).await;
    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0});
    post(socket, token, "/v1/complete", &done).await;
    endpoint.close().await;
    stored_output(&store, &job).await
}

/// A second connection to `database` that makes every append of events
/// fail, as a full disk does, until [`take_events`].
pub(crate) fn refuse_events(database: &std::path::Path) -> rusqlite::Connection {
    let refuser = rusqlite::Connection::open(database).expect("second connection");
    refuser
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON events \
             BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;",
        )
        .expect("trigger");
    refuser
}

pub(crate) fn take_events(refuser: rusqlite::Connection) {
    refuser
        .execute_batch("DROP TRIGGER refuse")
        .expect("drop trigger");
    refuser.close().expect("closed");
}

/// POSTs `body` to `path` while the store refuses every append (answered
/// 500), then again once it takes them (answered 200).
async fn refused_then_taken(served: &Served, path: &str, body: &str) {
    let (socket, token) = (&served.socket, Some(served.token.as_str()));
    let refuser = refuse_events(&served.database);
    let (status, _) = unix_request(socket, "POST", path, token, body).await;
    assert_eq!(status, 500, "the store refused it");
    take_events(refuser);
    let (status, answer) = unix_request(socket, "POST", path, token, body).await;
    assert_eq!(status, 200, "taken when sent again: {answer}");
}

/// Closes the socket; the store and the job, to read what was stored.
async fn closed(served: Served) -> (Arc<SqliteStore>, Job) {
    served.endpoint.close().await;
    (served.store, served.job)
}

/// All output `job` stored, joined.
async fn stored_output(store: &SqliteStore, job: &Job) -> String {
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    stored
        .iter()
        .filter(|event| event.kind == EventKind::Output)
        .filter_map(|event| event.data["text"].as_str())
        .collect()
}

/// A batch the store refused (a full disk, say) leaves the leak detector
/// as it was before it: the copy the worker sends again meets it as the
/// first did. Pushed a second time behind the first, the held first half
/// of a secret would no longer start one, and would be let go in clear.
#[tokio::test]
async fn a_batch_the_store_refused_is_taken_again_as_if_new() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000bd").await;
    let (socket, token) = (&served.socket, &served.token);

    let refuser = refuse_events(&served.database);
    let second = json!({"batch": 2, "events": [output(FIRST_HALF)]}).to_string();
    let (status, _) = unix_request(socket, "POST", "/v1/events", Some(token), &second).await;
    assert_eq!(status, 500, "the store refused it");
    take_events(refuser);

    let text = finish(served).await;
    assert_eq!(text, "plain [REDACTED:DEPLOY_KEY] ok.\n");
}

/// A batch whose request is cut while it is being stored (the database
/// busy, the worker gone mid-request) is still taken to its end and
/// recorded: the copy the worker sends again is answered as a retry, not
/// pushed through the leak detector a second time.
#[tokio::test]
async fn a_batch_whose_request_is_cut_while_it_is_stored_is_taken_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000bc").await;
    let (socket, token) = (&served.socket, &served.token);

    // The database is busy: the second batch waits in its store.
    let blocker = rusqlite::Connection::open(&served.database).expect("second connection");
    blocker
        .execute_batch("BEGIN IMMEDIATE")
        .expect("write lock");
    let second = json!({"batch": 2, "events": [output(FIRST_HALF)]}).to_string();
    let mut cut = tokio::net::UnixStream::connect(socket)
        .await
        .expect("connect");
    let request = format!(
        "POST /v1/events HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{second}",
        second.len()
    );
    tokio::io::AsyncWriteExt::write_all(&mut cut, request.as_bytes())
        .await
        .expect("send");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The worker is gone mid-request; the server sees its connection end.
    drop(cut);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    blocker.execute_batch("COMMIT").expect("unlock");
    drop(blocker);
    // The cut request's batch is stored (the test fails here, not later,
    // should the request have been dropped before it was taken at all).
    let mut waited = 0;
    while served
        .store
        .last_batch(&served.job.id)
        .await
        .expect("read")
        .map(|(batch, _)| batch)
        != Some(2)
    {
        assert!(waited < 100, "the cut request's batch was never stored");
        waited += 1;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let text = finish(served).await;
    assert_eq!(text, "plain [REDACTED:DEPLOY_KEY] ok.\n");
}

/// Once the worker reported its completion, what the detector held was
/// let go as the output's end (a first half of a secret is then just
/// text). Output sent after that is not taken: it would start the stream
/// afresh, and the second half would be stored in clear beside the first.
#[tokio::test]
async fn output_after_the_completion_is_not_taken() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000be").await;
    let (socket, token) = (&served.socket, &served.token);
    post(
        socket,
        token,
        "/v1/events",
        &json!({"batch": 2, "events": [output(FIRST_HALF)]}),
    )
    .await;
    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0});
    post(socket, token, "/v1/complete", &done).await;
    let late = json!({"batch": 3, "events": [output(&format!("{SECOND_HALF} late"))]});
    post(socket, token, "/v1/events", &late).await;
    served.endpoint.close().await;
    let text = stored_output(&served.store, &served.job).await;
    assert_eq!(text, format!("plain {FIRST_HALF}"));
}

/// A completion the store refused (a full disk) is undone: what the leak
/// detector held is held again, and the completion the worker sends again
/// is taken, with that output (it was answered "already reported", and
/// the held output was lost).
#[tokio::test]
async fn a_completion_the_store_refused_is_taken_when_sent_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000be").await;
    let (socket, token) = (&served.socket, &served.token);
    let held = json!({"batch": 2, "events": [output(FIRST_HALF)]});
    post(socket, token, "/v1/events", &held).await;

    let done = json!({"status": "succeeded", "summary": "done", "exit_code": 0}).to_string();
    refused_then_taken(&served, "/v1/complete", &done).await;
    let (store, job) = closed(served).await;
    assert_eq!(
        stored_output(&store, &job).await,
        format!("plain {FIRST_HALF}")
    );
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    let completions = stored
        .iter()
        .filter(|event| event.kind == EventKind::Result)
        .count();
    assert_eq!(completions, 1, "{stored:?}");
}

/// The output of a batch the store refused does not count against the
/// job's output budget: sent again, it is taken whole (it counted twice,
/// and was dropped past the budget as if the job had printed too much).
#[tokio::test]
async fn a_batch_the_store_refused_does_not_spend_the_output_budget() {
    let dir = tempfile::tempdir().expect("temp dir");
    // "plain " (the first batch) and one more line fit; two would not.
    let line = "a line of output\n";
    let budget = ("plain ".len() + line.len() + 4) as u64;
    let served = served_with(dir.path(), "j-00000000000000c4", |provisions| {
        provisions.max_output_bytes = budget;
    })
    .await;
    let second = json!({"batch": 2, "events": [output(line)]}).to_string();
    refused_then_taken(&served, "/v1/events", &second).await;
    let (store, job) = closed(served).await;
    assert_eq!(stored_output(&store, &job).await, format!("plain {line}"));
}

/// The redactions of a batch the store refused are audited once, when it
/// is taken (they were audited again each time it was sent).
#[tokio::test]
async fn a_batch_the_store_refused_is_audited_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000c5").await;
    let second = json!({"batch": 2, "events": [output(&format!("{SECRET}\n"))]}).to_string();
    refused_then_taken(&served, "/v1/events", &second).await;
    let (store, job) = closed(served).await;
    assert_eq!(
        stored_output(&store, &job).await,
        "plain [REDACTED:DEPLOY_KEY]\n"
    );
    let audited = store.redactions(&job.id).await.expect("audit");
    assert_eq!(audited, ["DEPLOY_KEY"]);
}
