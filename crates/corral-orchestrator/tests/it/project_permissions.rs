//! A bound project the job's user cannot write is refused when the job is
//! created, naming the ways out, instead of failing inside the job with a
//! bare `Permission denied`; a copy of it works.

use std::os::unix::fs::PermissionsExt;

use corral_testkit::TestServer;
use corral_testkit::reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_root_owned_project_is_refused_for_binding_and_works_as_a_copy() {
    let server = TestServer::start().await;
    let project = tempfile::tempdir().expect("a project");
    std::fs::set_permissions(project.path(), std::fs::Permissions::from_mode(0o755))
        .expect("mode 755");
    std::fs::write(project.path().join("input.txt"), "read me\n").expect("a file");
    let path = project.path().to_string_lossy().into_owned();
    let (status, body) = server
        .post(
            "/v1/jobs",
            &json!({"command": "touch /workspace/out", "project": path}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "project", "{body}");
    let message = body["error"].as_str().expect("a message");
    for way_out in ["--copy", "--branch", "chown -R 10001:10001 '"] {
        assert!(message.contains(way_out), "names {way_out}: {message}");
    }
    let (_, listed) = server.get("/v1/jobs").await;
    assert_eq!(listed["jobs"], json!([]), "nothing was created: {listed}");

    let id = server
        .create(&json!({
            "command": "cat input.txt && touch out",
            "project": {"path": path, "mode": "copy"},
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert_eq!(followed.stdout(), "read me\n");

    std::fs::set_permissions(project.path(), std::fs::Permissions::from_mode(0o777))
        .expect("mode 777");
    let id = server
        .create(&json!({"command": "touch /workspace/out", "project": path}))
        .await;
    server.follow(&id).await.assert_succeeded();
    assert!(project.path().join("out").exists());
    server.stop().await;
}
