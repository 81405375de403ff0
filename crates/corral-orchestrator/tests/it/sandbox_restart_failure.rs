//! A stopped sandbox whose start fails (here its image is gone) is stopped
//! again with its files kept, not ended with them dropped: once the image
//! is back, a start brings them back.

use std::process::Command;

use corral_proto::sandbox::SandboxState;
use corral_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::json;

use crate::sandboxes::{create, delete, sh, wait_until};

/// Tags (or untags) `image` as `tag` with the Docker CLI.
fn docker(args: &[&str]) {
    let output = Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs");
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_stopped_sandbox_whose_start_fails_is_stopped_again_with_its_files() {
    let image = corral_testkit::default_image().await;
    let tag = format!("corral-test-start-fails:{}", std::process::id());
    docker(&["tag", &image, &tag]);
    let server = TestServer::start().await;
    let id = create(&server, json!({"image": tag})).await;
    sh(
        &server,
        &id,
        "echo kept-through-a-failed-start > /workspace/note",
    )
    .await;
    let (status, body) = server.post(&format!("/v1/sandboxes/{id}/stop"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    docker(&["rmi", &tag]);
    let (status, body) = server.post(&format!("/v1/sandboxes/{id}/start"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // It may be seen stopped before the start is claimed: wait for the
    // warning that says the start failed, then for the state.
    let events = server
        .follow_until(&id, |event| {
            event.kind == corral_proto::EventKind::Warning
                && event.data.to_string().contains("could not start again")
        })
        .await;
    assert!(
        events
            .last()
            .is_some_and(|event| event.kind == corral_proto::EventKind::Warning),
        "no warning of the failed start: {events:?}"
    );
    wait_until(&server, &id, |state| state == SandboxState::Stopped).await;
    assert!(
        server
            .data_dir
            .path()
            .join(format!("sandboxes/{id}.snapshot"))
            .is_file(),
        "the snapshot was dropped"
    );

    docker(&["tag", &image, &tag]);
    let (status, body) = server.post(&format!("/v1/sandboxes/{id}/start"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        sh(&server, &id, "cat /workspace/note").await,
        "kept-through-a-failed-start\n"
    );
    delete(&server, &id).await;
    docker(&["rmi", &tag]);
    assert_eq!(server.stop().await, 0);
}
