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
use corral_proto::Job;
use corral_testkit::unix_request;
use serde_json::{Value, json};
use tokio_util::task::TaskTracker;

use crate::worker_endpoint::running_endpoint;

pub(crate) const SECRET: &str = "deploy-key-7f3a9c1e55";
pub(crate) const FIRST_HALF: &str = "deploy-key-7f";
pub(crate) const SECOND_HALF: &str = "3a9c1e55";

fn setup(store: &Arc<SqliteStore>, job: &Job) -> JobProvisions {
    corral_testkit::provisions(store, job, Redactor::new([("DEPLOY_KEY", SECRET)]))
}

pub(crate) async fn post(socket: &std::path::Path, token: &str, path: &str, body: &Value) -> Value {
    let (status, answer) = unix_request(socket, "POST", path, Some(token), &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    serde_json::from_str(&answer).expect("JSON answer")
}

pub(crate) fn output(text: &str) -> Value {
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
    let (endpoint, socket, token) = running_endpoint(&socket_dir, setup(&store, &job)).await;

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
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) database: std::path::PathBuf,
    pub(crate) job: Job,
    pub(crate) endpoint: WorkerEndpoint,
    pub(crate) socket: std::path::PathBuf,
    pub(crate) token: String,
}

pub(crate) async fn served(dir: &std::path::Path, id: &str) -> Served {
    served_with(dir, id, |_| {}).await
}

/// [`served`], its provisions changed by `adjust`.
pub(crate) async fn served_with(
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
    let (endpoint, socket, token) = running_endpoint(&socket_dir, provisions).await;
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
pub(crate) async fn finish(served: Served) -> String {
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

/// A second connection to `database` holding its write lock, so every
/// store waits, until it commits.
pub(crate) fn busy(database: &std::path::Path) -> rusqlite::Connection {
    let blocker = rusqlite::Connection::open(database).expect("second connection");
    blocker
        .execute_batch("BEGIN IMMEDIATE")
        .expect("write lock");
    blocker
}

/// Closes the socket; the store and the job, to read what was stored.
pub(crate) async fn closed(served: Served) -> (Arc<SqliteStore>, Job) {
    served.endpoint.close().await;
    (served.store, served.job)
}

/// All output `job` stored, joined.
pub(crate) async fn stored_output(store: &SqliteStore, job: &Job) -> String {
    stored_output_of(store, job, |_| true).await
}

/// The output `job` stored of the execs `of` holds for (`None`: the job's
/// own), joined.
async fn stored_output_of(
    store: &SqliteStore,
    job: &Job,
    of: impl Fn(Option<u64>) -> bool,
) -> String {
    let stored = store
        .events_after(&job.id, 0, 10_000)
        .await
        .expect("events");
    stored
        .iter()
        .filter_map(corral_proto::Event::output)
        .filter(|output| of(output.exec))
        .map(|output| output.text)
        .collect()
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
    let blocker = busy(&served.database);
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

/// A completion stored before the orchestrator restarted is taken up by
/// the socket reopened for the job: the worker does not send it again,
/// and the job was judged as never completed (failed); nor is output
/// after it taken. Sent again all the same (its answer was lost), it is
/// answered as the first, though the stored copy was redacted (it got
/// 409 "already reported another").
#[tokio::test]
async fn a_completion_stored_before_a_restart_is_taken_up_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = served(dir.path(), "j-00000000000000c6").await;
    let summary = format!("done with {SECRET}");
    let done = json!({"status": "succeeded", "summary": summary, "exit_code": 0});
    post(&served.socket, &served.token, "/v1/complete", &done).await;
    let hash = TokenHash::from_hex(served.endpoint.token_hash().to_owned());
    let socket_dir = served
        .socket
        .parent()
        .expect("the job directory")
        .to_owned();
    drop(served.endpoint);

    let endpoint = WorkerEndpoint::reopen(
        &socket_dir,
        setup(&served.store, &served.job),
        hash,
        &TaskTracker::new(),
    )
    .await
    .expect("endpoint reopens");
    let late = json!({"batch": 2, "events": [output("late\n")]});
    post(&served.socket, &served.token, "/v1/events", &late).await;
    post(&served.socket, &served.token, "/v1/complete", &done).await;
    let report = endpoint.close().await;
    let completion = report.completion.expect("the stored completion");
    assert_eq!(completion.exit_code, Some(0));
    assert_eq!(stored_output(&served.store, &served.job).await, "plain ");
}

/// An output event of sandbox exec `exec`, as a worker sends it.
pub(crate) fn exec_output(exec: u64, text: &str) -> Value {
    json!({"kind": "output", "data": {"stream": "stdout", "text": text, "exec": exec}})
}

/// The output of `exec` that `job` stored, joined.
pub(crate) async fn stored_exec_output(store: &SqliteStore, job: &Job, exec: u64) -> String {
    stored_output_of(store, job, |of| of == Some(exec)).await
}
