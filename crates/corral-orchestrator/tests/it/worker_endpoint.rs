//! The per-job worker API without a container: the token file, revocation,
//! and that no token reaches the database.

use std::sync::Arc;

use corral_orchestrator::events::EventLog;
use corral_orchestrator::runtime::JobUser;
use corral_orchestrator::store::{SqliteStore, Store};
use corral_orchestrator::worker_api::WorkerEndpoint;
use corral_proto::{CommandSpec, Job, JobMode, JobState, Limits};
use corral_testkit::unix_request;
use tokio_util::task::TaskTracker;

fn job() -> Job {
    Job {
        id: "j-00000000000000aa".into(),
        mode: JobMode::Exec,
        state: JobState::Running,
        image: "any".into(),
        command: Some(CommandSpec::Shell("true".into())),
        prompt: None,
        project: None,
        limits: Limits {
            memory_bytes: 64 << 20,
            cpu_shares: 512,
            pids: 32,
            timeout_secs: 30,
            tmpfs_bytes: 16 << 20,
        },
        container_id: None,
        exit_code: None,
        reason: None,
        created_at: time::OffsetDateTime::now_utc(),
        started_at: None,
        finished_at: None,
    }
}

#[tokio::test]
async fn the_token_works_once_read_then_is_revoked_and_never_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("corral.db");
    let store = Arc::new(SqliteStore::open(&database).expect("store"));
    let job = job();
    store.insert_job(&job).await.expect("insert job");
    let socket_dir = dir.path().join("run").join(&job.id);
    let tasks = TaskTracker::new();
    let endpoint = WorkerEndpoint::open(
        &socket_dir,
        &job,
        JobUser::for_project(None),
        EventLog::new(store.clone()),
        1 << 20,
        &tasks,
    )
    .await
    .expect("endpoint opens");
    let token_file = socket_dir.join("token");
    let token = std::fs::read_to_string(&token_file).expect("token file");
    assert_eq!(token.len(), 64, "256 bits, hex");
    let socket = socket_dir.join("worker.sock");

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
    let (status, body) = unix_request(&socket, "GET", "/v1/credentials", Some(&token), "").await;
    assert_eq!((status, body.as_str()), (200, "[]"));

    endpoint.close().await;
    let refused = std::os::unix::net::UnixStream::connect(&socket).is_err();
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
