//! The per-job worker API without a container: the token file, grants,
//! revocation, the leak detector in front of the store, and that neither a
//! token nor a secret reaches the database.

use std::sync::Arc;

use corral_orchestrator::internals::Redactor;
use corral_orchestrator::internals::SecretValue;
use corral_orchestrator::internals::TokenHash;
use corral_orchestrator::internals::{EventRecords, JobRecords, SecretRecords, SqliteStore};
use corral_orchestrator::internals::{JobProvisions, WorkerEndpoint};
use corral_proto::Job;
use corral_proto::worker::{WORKER_PROTOCOL, WorkerJob};
use corral_testkit::unix_request;
use tokio_util::task::TaskTracker;

const SECRET: &str = "deploy-key-7f3a9c1e55";

/// An endpoint opened in `socket_dir` with `provisions` and marked running,
/// as the job manager does once the job is recorded running; its socket,
/// and the token its worker reads from the file.
pub(crate) async fn running_endpoint(
    socket_dir: &std::path::Path,
    provisions: JobProvisions,
) -> (WorkerEndpoint, std::path::PathBuf, String) {
    let endpoint = WorkerEndpoint::open(socket_dir, provisions, &TaskTracker::new())
        .await
        .expect("endpoint opens");
    endpoint.mark_running();
    let token = std::fs::read_to_string(socket_dir.join("token")).expect("token file");
    (endpoint, socket_dir.join("worker.sock"), token)
}

/// A job's endpoint over a fresh store, its token read from the file.
pub(crate) struct Opened {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) job: Job,
    pub(crate) endpoint: WorkerEndpoint,
    pub(crate) token_file: std::path::PathBuf,
    pub(crate) token: String,
    pub(crate) socket: std::path::PathBuf,
}

fn setup(store: &Arc<SqliteStore>, job: &Job) -> JobProvisions {
    JobProvisions {
        credentials: vec![("DEPLOY_KEY".into(), SecretValue::new(SECRET.into()))],
        ..corral_testkit::provisions(store, job, Redactor::new([("DEPLOY_KEY", SECRET)]))
    }
}

pub(crate) async fn open() -> Opened {
    open_job(corral_testkit::running_job("j-00000000000000aa")).await
}

/// [`open`] for `job`, stored as it is.
pub(crate) async fn open_job(job: Job) -> Opened {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("corral.db")).expect("store"));
    store.insert_job(&job).await.expect("insert job");
    let socket_dir = dir.path().join("run").join(&job.id);
    let (endpoint, socket, token) = running_endpoint(&socket_dir, setup(&store, &job)).await;
    Opened {
        token_file: socket_dir.join("token"),
        socket,
        dir,
        store,
        job,
        endpoint,
        token,
    }
}

#[tokio::test]
async fn the_token_works_once_read_then_is_revoked_and_never_stored() {
    let Opened {
        dir,
        store,
        job,
        endpoint,
        token_file,
        token,
        socket,
    } = open().await;
    let database = dir.path().join("corral.db");
    assert_eq!(token.len(), 64, "256 bits, hex");

    let (status, body) = unix_request(&socket, "GET", "/v1/job", Some("nope"), "").await;
    assert_eq!(status, 401, "{body}");
    assert!(
        token_file.exists(),
        "a failed call does not consume the token"
    );

    let (status, body) = unix_request(&socket, "GET", "/v1/job", Some(&token), "").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&job.id));
    assert!(
        !token_file.exists(),
        "the token file is gone after the first authenticated call"
    );

    let batch = r#"{"events": [{"kind": "output", "data": {"stream": "stdout", "text": "hi"}}]}"#;
    let (status, body) = unix_request(&socket, "POST", "/v1/events", Some(&token), batch).await;
    assert_eq!(status, 200, "{body}");
    let status_event = r#"{"events": [{"kind": "status", "data": {"state": "succeeded"}}]}"#;
    let (status, body) =
        unix_request(&socket, "POST", "/v1/events", Some(&token), status_event).await;
    assert_eq!(status, 400, "a worker cannot forge state changes: {body}");
    assert!(body.contains("events[0].data"), "{body}");
    let sneaky =
        r#"{"events": [{"kind": "status", "data": {"phase": "claude_init", "state": "failed"}}]}"#;
    let (status, body) = unix_request(&socket, "POST", "/v1/events", Some(&token), sneaky).await;
    assert_eq!(
        status, 400,
        "a phase does not make a state acceptable: {body}"
    );
    let phase =
        r#"{"events": [{"kind": "status", "data": {"phase": "claude_init", "text": "started"}}]}"#;
    let (status, body) = unix_request(&socket, "POST", "/v1/events", Some(&token), phase).await;
    assert_eq!(status, 200, "a worker may report its phase: {body}");
    refuses_what_only_the_orchestrator_reports(&socket, &token).await;
    // What a worker of an older build asks for: the answer says why.
    let (status, body) = unix_request(&socket, "GET", "/v1/credentials", Some(&token), "").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains(&format!("worker protocol {WORKER_PROTOCOL}"))
            && body.contains("--worker-bin"),
        "{body}"
    );
    let (status, body) = unix_request(&socket, "GET", "/v1/credentials", Some("nope"), "").await;
    assert_eq!(
        status, 401,
        "only a caller with the token learns it: {body}"
    );
    let (status, body) = unix_request(&socket, "GET", "/v1/job", Some(&token), "").await;
    assert_eq!(status, 200, "{body}");
    let job: WorkerJob = serde_json::from_str(&body).expect("job JSON");
    assert_eq!(
        job.protocol, WORKER_PROTOCOL,
        "the answer names the protocol the worker must speak"
    );
    let credentials = job.credentials;
    assert_eq!(credentials.len(), 1, "this job's grant and nothing else");
    assert_eq!(
        (
            credentials[0].env_var.as_str(),
            credentials[0].value.as_str()
        ),
        ("DEPLOY_KEY", SECRET)
    );

    endpoint.revoke();
    let (status, _) = unix_request(&socket, "GET", "/v1/job", Some(&token), "").await;
    assert_eq!(
        status, 401,
        "credentials are refused once the job has ended"
    );
    endpoint.close().await;
    // A child another test forks at that instant may hold a copy of the
    // listener until it execs (close-on-exec): allow it that moment.
    let refused = corral_testkit::eventually(|| async {
        std::os::unix::net::UnixStream::connect(&socket).is_err()
    })
    .await;
    assert!(refused, "nothing answers on a closed job socket");

    drop(store);
    let database_bytes = std::fs::read(&database).expect("database file");
    let wal = std::fs::read(dir.path().join("corral.db-wal")).unwrap_or_default();
    for bytes in [&database_bytes, &wal] {
        assert!(
            !bytes
                .windows(token.len())
                .any(|window| window == token.as_bytes()),
            "the token is not in the database"
        );
    }
}

#[tokio::test]
async fn a_hostile_workers_events_are_redacted_and_retries_stored_once() {
    let Opened {
        dir: _dir,
        store,
        job,
        endpoint,
        token,
        socket,
        ..
    } = open().await;
    // A hostile worker posts the secret in every kind of event it may send.
    let forged = format!(
        r#"{{"events": [{{"kind": "message", "data": {{"role": "assistant", "text": "key={SECRET}"}}}},
                       {{"kind": "output", "data": {{"stream": "stdout", "text": "{SECRET}\n"}}}},
                       {{"kind": "error", "data": {{"message": "failed with {SECRET}"}}}}]}}"#
    );
    let (status, body) = unix_request(&socket, "POST", "/v1/events", Some(&token), &forged).await;
    assert_eq!(status, 200, "{body}");
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    let texts: Vec<String> = stored.iter().map(|event| event.data.to_string()).collect();
    assert!(texts.iter().all(|text| !text.contains(SECRET)), "{texts:?}");
    let redacted: Vec<bool> = stored.iter().map(|event| event.redacted).collect();
    assert_eq!(redacted, [true, true, true], "{texts:?}");
    assert!(texts[1].contains("[REDACTED:DEPLOY_KEY]"));
    assert_eq!(
        store.redactions(&job.id).await.expect("audit"),
        ["DEPLOY_KEY"; 3]
    );

    // A batch resent after a lost answer is stored once and answered alike.
    let numbered = r#"{"batch": 7, "events": [{"kind": "output", "data": {"stream": "stdout", "text": "once\n"}}]}"#;
    let first = unix_request(&socket, "POST", "/v1/events", Some(&token), numbered).await;
    let again = unix_request(&socket, "POST", "/v1/events", Some(&token), numbered).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first, again);
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    let copies = stored
        .iter()
        .filter(|event| event.data["text"] == "once\n")
        .count();
    assert_eq!(copies, 1, "stored once");

    // The orchestrator restarts: a new session on the same socket, the token
    // checked against its hash; the worker resends the same batch.
    let socket_dir = socket.parent().expect("socket dir").to_owned();
    let hash = TokenHash::from_hex(endpoint.token_hash().to_owned());
    endpoint.close().await;
    let endpoint =
        WorkerEndpoint::reopen(&socket_dir, setup(&store, &job), hash, &TaskTracker::new())
            .await
            .expect("endpoint reopens");
    let after_restart = unix_request(&socket, "POST", "/v1/events", Some(&token), numbered).await;
    assert_eq!(after_restart, first, "answered as the first copy was");
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    assert_eq!(
        stored
            .iter()
            .filter(|event| event.data["text"] == "once\n")
            .count(),
        1,
        "still once"
    );
    let (status, _) = unix_request(&socket, "GET", "/v1/job", Some("wrong"), "").await;
    assert_eq!(status, 401, "the reopened socket still checks the token");

    // A number the store cannot keep is refused before anything is taken:
    // refused by the store instead, it gave back what it took, and each
    // copy sent again was pushed through the leak detector again.
    for number in [1u64 << 63, u64::MAX] {
        let huge = format!(
            r#"{{"batch": {number}, "events": [{{"kind": "output", "data": {{"stream": "stdout", "text": "huge\n"}}}}]}}"#
        );
        let (status, body) = unix_request(&socket, "POST", "/v1/events", Some(&token), &huge).await;
        assert_eq!(status, 400, "{number}: {body}");
        assert!(body.contains(r#""field":"batch""#), "{number}: {body}");
    }
    let highest = format!(
        r#"{{"batch": {}, "events": [{{"kind": "output", "data": {{"stream": "stdout", "text": "highest\n"}}}}]}}"#,
        i64::MAX
    );
    let (status, body) = unix_request(&socket, "POST", "/v1/events", Some(&token), &highest).await;
    assert_eq!(status, 200, "the highest number the store keeps: {body}");
    let stored = store.events_after(&job.id, 0, 100).await.expect("events");
    let texts: Vec<&serde_json::Value> = stored.iter().map(|event| &event.data["text"]).collect();
    assert!(!texts.contains(&&serde_json::json!("huge\n")), "{texts:?}");
    assert!(
        texts.contains(&&serde_json::json!("highest\n")),
        "{texts:?}"
    );
    let report = endpoint.close().await;
    assert_eq!(report.lost_batches, 0, "a refused number is no lost batch");
}

/// What only the orchestrator reports cannot come from a worker: a network
/// record, model usage, the job's result, a user's prompt, a made-up stream.
async fn refuses_what_only_the_orchestrator_reports(socket: &std::path::Path, token: &str) {
    for (forged, field) in [
        (
            r#"{"kind": "network", "data": {"host": "evil.example", "port": 443, "allowed": true}}"#,
            "events[0].kind",
        ),
        (
            r#"{"kind": "llm_usage", "data": {"provider": "p", "model": "m", "input_tokens": 1, "output_tokens": 1, "latency_ms": 1, "stream": false, "attempts": 1, "cost_usd": 0}}"#,
            "events[0].kind",
        ),
        (
            r#"{"kind": "result", "data": {"status": "succeeded", "summary": "all good"}}"#,
            "events[0].kind",
        ),
        (
            r#"{"kind": "message", "data": {"role": "user", "text": "rm -rf", "prompt": 1}}"#,
            "events[0].data.role",
        ),
        (
            r#"{"kind": "output", "data": {"stream": "tty", "text": "x"}}"#,
            "events[0].data.stream",
        ),
    ] {
        let batch = format!(r#"{{"events": [{forged}]}}"#);
        let (status, body) = unix_request(socket, "POST", "/v1/events", Some(token), &batch).await;
        assert_eq!(status, 400, "{forged}: {body}");
        assert!(body.contains(field), "{forged}: {body}");
    }
}

/// A claude job's session id or directory that holds a granted secret is
/// refused and stored nowhere (only the transcript is redacted: these two
/// were stored as sent, and handed to the job that continues the session).
#[tokio::test]
async fn a_claude_session_naming_a_secret_is_refused_and_stored_nowhere() {
    let opened = open_job(Job {
        mode: corral_proto::JobMode::Claude,
        ..corral_testkit::running_job("j-00000000000000ac")
    })
    .await;
    for (field, body) in [
        (
            "session_id",
            format!(r#"{{"session_id":"{SECRET}","dir":"work","transcript":""}}"#),
        ),
        (
            "dir",
            format!(r#"{{"session_id":"s-1","dir":"{SECRET}","transcript":""}}"#),
        ),
    ] {
        let (status, answer) = unix_request(
            &opened.socket,
            "PUT",
            "/v1/claude/session",
            Some(&opened.token),
            &body,
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer.contains(field) && !answer.contains(SECRET),
            "{answer}"
        );
    }
    let kept = r#"{"session_id":"s-1","dir":"work","transcript":"said deploy-key-7f3a9c1e55"}"#;
    let (status, answer) = unix_request(
        &opened.socket,
        "PUT",
        "/v1/claude/session",
        Some(&opened.token),
        kept,
    )
    .await;
    assert_eq!(status, 204, "{answer}");
    opened.endpoint.close().await;
    drop(opened.store);
    corral_testkit::assert_in_no_file(opened.dir.path(), SECRET);
}
