//! Stop, start and fork: a stopped sandbox's files are kept sealed in the
//! data directory (no file there holds them in clear) and come back in a
//! new container; a fork is an independent copy; deleting a stopped
//! sandbox drops its snapshot; no container is left.

use std::time::Duration;

use corral_proto::sandbox::{Sandbox, SandboxState};
use corral_runtime::LABEL_JOB;
use corral_testkit::{TestServer, remove_labelled};
use reqwest::StatusCode;
use serde_json::json;

use crate::sandboxes::{create, delete, sh, wait_ended};

async fn act(server: &TestServer, id: &str, action: &str) -> (StatusCode, serde_json::Value) {
    server
        .post(&format!("/v1/sandboxes/{id}/{action}"), "")
        .await
}

/// Every file under `dir`, read whole.
fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            bytes.extend(all_bytes(&path));
        } else if let Ok(read) = std::fs::read(&path) {
            bytes.extend(read);
        }
    }
    bytes
}

#[tokio::test]
async fn a_stopped_sandbox_keeps_its_files_sealed_and_gets_them_back_and_a_fork_is_its_own() {
    let server = TestServer::start().await;
    let marker = "kept-across-stop-5f3a9c";
    let id = create(&server, json!({})).await;
    // Made inside, so the command line (stored in the events) never holds it whole.
    sh(&server, &id, "mkdir -p /workspace/src && echo \"$(echo kept-acr)oss-stop-5f3a9c\" > /workspace/src/a.txt && ln -s src/a.txt /workspace/link && echo home > $HOME/.profile-note").await;
    // A read-only directory (as Go's module cache is) must come back whole.
    sh(
        &server,
        &id,
        "mkdir -p $HOME/cache && echo mod > $HOME/cache/m && chmod 555 $HOME/cache",
    )
    .await;

    // Two stops at once: one takes the snapshot, the other is refused.
    let (first, second) = tokio::join!(act(&server, &id, "stop"), act(&server, &id, "stop"));
    let mut answers = [first, second];
    answers.sort_by_key(|(status, _)| status.as_u16());
    let [(status, body), (refused, _)] = answers;
    assert_eq!(
        (status, refused),
        (StatusCode::OK, StatusCode::CONFLICT),
        "{body}"
    );
    assert_eq!(body["state"], "stopped", "{body}");
    assert_eq!(
        remove_labelled(LABEL_JOB, &id).await,
        0,
        "the container is gone"
    );
    let snapshot = server
        .data_dir
        .path()
        .join(format!("sandboxes/{id}.snapshot"));
    assert!(snapshot.is_file());
    assert_eq!(
        server.metric(r#"corral_sandboxes{state="stopped"}"#).await,
        Some(1)
    );
    let kept = std::fs::metadata(&snapshot).expect("the snapshot").len();
    assert_eq!(
        server.metric("corral_sandbox_snapshot_bytes_total").await,
        Some(kept)
    );
    let data = all_bytes(server.data_dir.path());
    assert!(
        !data
            .windows(marker.len())
            .any(|window| window == marker.as_bytes()),
        "a file holds the sandbox's files in clear"
    );
    let (status, body) = server
        .post(
            &format!("/v1/sandboxes/{id}/exec"),
            &json!({"cmd": "true"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|error| error.contains("stopped")),
        "{body}"
    );

    let (status, body) = act(&server, &id, "start").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        sh(
            &server,
            &id,
            "cat /workspace/src/a.txt; readlink /workspace/link; cat $HOME/.profile-note $HOME/cache/m"
        )
        .await,
        format!("{marker}\nsrc/a.txt\nhome\nmod\n")
    );
    assert!(!snapshot.exists(), "a restored snapshot is dropped");
    let (status, body) = act(&server, &id, "start").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    a_fork_is_its_own(&server, &id, marker).await;

    // Stopped, then deleted: the snapshot goes with it.
    let (status, _) = act(&server, &id, "stop").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/sandboxes/{id}"),
            None,
            Some(&server.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ended: Sandbox = wait_ended(&server, &id).await;
    assert_eq!(ended.state, SandboxState::Ended);
    for _ in 0..50 {
        if !snapshot.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !snapshot.exists(),
        "a deleted sandbox's snapshot is dropped"
    );
    assert_eq!(server.stop().await, 0);
}

/// A fork of running sandbox `id`: the same files, changed on its own.
async fn a_fork_is_its_own(server: &TestServer, id: &str, marker: &str) {
    let (status, forked) = act(server, id, "fork").await;
    assert_eq!(status, StatusCode::CREATED, "{forked}");
    let fork = forked["id"].as_str().expect("an id").to_owned();
    assert_ne!(fork, id);
    assert_eq!(
        sh(server, &fork, "cat /workspace/src/a.txt").await,
        format!("{marker}\n")
    );
    sh(server, &fork, "echo changed > /workspace/src/a.txt").await;
    assert_eq!(
        sh(server, id, "cat /workspace/src/a.txt").await,
        format!("{marker}\n")
    );
    delete(server, &fork).await;
}
