use corral_proto::JobState;
use corral_testkit::{TestServer, unix_request};
use serde_json::json;

#[tokio::test]
async fn the_worker_socket_refuses_wrong_tokens_and_changes_nothing() {
    let server = TestServer::start().await;
    let id = server.create(&json!({"command": ["sleep", "300"]})).await;
    server.wait_for_state(&id, JobState::Running).await;
    let socket = server
        .data_dir
        .path()
        .join("run")
        .join(&id)
        .join("worker.sock");
    let token_file = server.data_dir.path().join("run").join(&id).join("token");
    // `running` is recorded when the container starts; the worker's first
    // call (which deletes the file) follows shortly.
    let deleted = corral_testkit::eventually(|| async { !token_file.exists() }).await;
    assert!(
        deleted,
        "the token file is deleted after the worker's first call"
    );
    let (_, before) = server.get(&format!("/v1/jobs/{id}/events")).await;
    let event =
        r#"{"events": [{"kind": "output", "data": {"stream": "stdout", "text": "forged"}}]}"#;
    for token in [
        None,
        Some("wrong"),
        Some("0000000000000000000000000000000000000000000000000000000000000000"),
    ] {
        let (status, body) = unix_request(&socket, "POST", "/v1/events", token, event).await;
        assert_eq!(status, 401, "{token:?}: {body}");
        let (status, _) = unix_request(&socket, "GET", "/v1/job", token, "").await;
        assert_eq!(status, 401);
        let (status, _) = unix_request(
            &socket,
            "POST",
            "/v1/complete",
            token,
            r#"{"status": "succeeded"}"#,
        )
        .await;
        assert_eq!(status, 401);
    }
    let (_, after) = server.get(&format!("/v1/jobs/{id}/events")).await;
    assert_eq!(before, after, "no event was stored");
    let (status, _) = server.post(&format!("/v1/jobs/{id}/cancel"), "").await;
    assert_eq!(status, 200);
    let followed = server.follow(&id).await;
    assert_eq!(
        followed.job.state,
        JobState::Cancelled,
        "a forged completion did not end it"
    );
    assert!(!socket.exists(), "the socket is gone with the job");
    assert_eq!(server.stop().await, 0);
}
