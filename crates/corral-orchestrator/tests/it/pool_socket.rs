//! A warm-pool container's socket before a job is bound to it: it answers
//! only `GET /v1/job` (held until a job is bound), and every other route of
//! the worker API, with or without the pool container's token, is refused
//! and changes nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use corral_proto::worker::{ANTHROPIC_PREFIX, EGRESS_PATH, PROJECT_PATH};
use corral_testkit::{TestServer, eventually, unix_request};
use serde_json::json;

/// Every route of `worker_api/routes.rs` but `GET /v1/job`, with a body it
/// would accept from a bound worker: (method, path, body).
fn other_routes() -> Vec<(&'static str, String, &'static str)> {
    let forged_event = r#"{"batch": 1, "events": [{"kind": "output", "data": {"stream": "stdout", "text": "forged"}}]}"#;
    let chat = r#"{"model": "any", "messages": [{"role": "user", "content": "forged"}]}"#;
    let session = r#"{"session_id": "forged", "dir": "forged", "transcript": "forged"}"#;
    vec![
        ("POST", "/v1/events".into(), forged_event),
        (
            "POST",
            "/v1/complete".into(),
            r#"{"status": "succeeded", "summary": "forged"}"#,
        ),
        ("POST", "/v1/llm/chat/completions".into(), chat),
        ("GET", "/v1/prompts?wait=0".into(), ""),
        ("GET", EGRESS_PATH.into(), ""),
        ("GET", PROJECT_PATH.into(), ""),
        ("GET", "/v1/claude/session".into(), ""),
        ("PUT", "/v1/claude/session".into(), session),
        ("POST", ANTHROPIC_PREFIX.into(), chat),
        ("POST", format!("{ANTHROPIC_PREFIX}/v1/messages"), chat),
        ("GET", format!("{ANTHROPIC_PREFIX}/v1/models"), ""),
        ("GET", "/v1/sandbox/orders?wait=0".into(), ""),
        ("GET", "/v1/sandbox/uploads/1".into(), ""),
        ("POST", "/v1/sandbox/results/1".into(), "[]"),
    ]
}

/// The routes table itself: one `.route(` per path. When a route is added
/// there, this test must learn it (and [`other_routes`] cover it).
const ROUTES_SOURCE: &str = include_str!("../../src/worker_api/routes.rs");
/// Paths in [`other_routes`] plus `/v1/job` (the two Anthropic entries are
/// the prefix and its `/{*rest}`; the claude session has two methods).
const ROUTES_COVERED: usize = 13;

/// Reads the pool container's token from its socket directory before the
/// worker's first call deletes it; the socket path and the token.
#[expect(clippy::panic, reason = "a test helper fails loudly")]
async fn pool_token(data_dir: &Path) -> (PathBuf, String) {
    let run = data_dir.join("run");
    for _ in 0..5000 {
        let pool_dir = std::fs::read_dir(&run).ok().and_then(|entries| {
            entries.flatten().map(|entry| entry.path()).find(|path| {
                path.file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with("p-"))
            })
        });
        if let Some(token) = pool_dir
            .as_ref()
            .and_then(|dir| std::fs::read_to_string(dir.join("token")).ok())
            .filter(|token| !token.is_empty())
        {
            let dir = pool_dir.expect("read from it");
            return (dir.join("worker.sock"), token);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("no pool token file seen in {}", run.display());
}

/// The series a refused call must leave as they were.
async fn state_of(server: &TestServer) -> (Vec<String>, serde_json::Value) {
    let (_, page) = server.get("/metrics").await;
    let series = page
        .as_str()
        .expect("metrics text")
        .lines()
        .filter(|line| {
            [
                "corral_jobs{",
                "corral_events_stored_total",
                "corral_llm_calls_total",
                "corral_redactions_total",
            ]
            .iter()
            .any(|name| line.starts_with(name))
        })
        .map(str::to_owned)
        .collect();
    let (_, jobs) = server.get("/v1/jobs").await;
    (series, jobs)
}

#[tokio::test]
async fn an_unbound_pool_socket_refuses_every_route_but_get_job_and_changes_nothing() {
    assert_eq!(
        ROUTES_SOURCE.matches(".route(").count(),
        ROUTES_COVERED,
        "worker_api/routes.rs has a route this test does not call"
    );
    let server = TestServer::start_with(|config| config.pool.size = 1).await;
    let (socket, token) = pool_token(server.data_dir.path()).await;
    let idle =
        eventually(|| async { server.metric("corral_pool_idle_containers").await == Some(1) })
            .await;
    assert!(idle, "the pool filled");
    let before = state_of(&server).await;

    let (status, body) = unix_request(&socket, "GET", "/v1/job", None, "").await;
    assert_eq!(status, 401, "GET /v1/job without the token: {body}");
    let (status, body) = unix_request(&socket, "POST", "/v1/job", Some(&token), "{}").await;
    assert_eq!(status, 405, "POST /v1/job: {body}");
    for (method, path, request) in other_routes() {
        for (presented, expected) in [
            (None, 401),
            (Some("wrong"), 401),
            (Some(token.as_str()), 409),
        ] {
            let (status, body) = unix_request(&socket, method, &path, presented, request).await;
            let shown = presented.map(|token| {
                if token == "wrong" {
                    "a wrong token"
                } else {
                    "the pool's token"
                }
            });
            assert_eq!(
                status,
                expected,
                "{method} {path} with {}: {body}",
                shown.unwrap_or("no token")
            );
            assert!(!body.contains("forged"), "{method} {path}: {body}");
        }
    }
    assert_eq!(
        state_of(&server).await,
        before,
        "a refused call changed nothing"
    );

    // The pool container still serves its one job, which sees none of it.
    let id = server.create(&json!({"command": ["echo", "bound"]})).await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert_eq!(followed.stdout(), "bound\n");
    assert_eq!(
        server.metric("corral_pool_taken_total").await,
        Some(1),
        "it ran in the pool's container"
    );
    let events = serde_json::to_string(&followed.events).expect("events JSON");
    assert!(!events.contains("forged"), "{events}");
    assert_eq!(server.stop().await, 0);
}
