//! `project_mode: copy`: the project is unpacked into the container's own
//! `/workspace` over the job's socket; the host tree is never mounted.

use std::os::unix::fs::PermissionsExt;

use corral_proto::JobState;
use corral_testkit::{TestServer, eventually};
use serde_json::json;

#[tokio::test]
async fn a_copied_project_is_unpacked_in_a_pool_container_and_the_host_tree_is_untouched() {
    let server = TestServer::start_with(|config| config.pool.size = 1).await;
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("host-only"), "HOST-ONLY-CONTENT").expect("write");
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(project.path().join("a.txt"), "hello from the project\n").expect("write");
    std::fs::create_dir(project.path().join("bin")).expect("mkdir");
    let script = project.path().join("bin/run.sh");
    std::fs::write(&script, "#!/bin/sh\necho the script ran\n").expect("write");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::os::unix::fs::symlink(
        outside.path().join("host-only"),
        project.path().join("link"),
    )
    .expect("link");
    let ready =
        eventually(|| async { server.metric("corral_pool_idle_containers").await == Some(1) })
            .await;
    assert!(ready, "the pool filled");
    let command = "pwd; id -u; cat a.txt; ./bin/run.sh; \
                   cat link 2>/dev/null || echo 'link target absent'; \
                   echo changed > a.txt && cat a.txt; touch made-here; ls /run/corral";
    let id = server
        .create(&json!({
            "command": command,
            "project": {"path": project.path(), "mode": "copy"},
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let stdout = followed.stdout();
    for line in [
        "/workspace\n",
        "10001\n",
        "hello from the project\n",
        "the script ran\n",
        "link target absent\n",
        "changed\n",
    ] {
        assert!(
            stdout.contains(line),
            "missing {line:?} in:\n{stdout}\n{}",
            followed.stderr()
        );
    }
    assert!(!stdout.contains("HOST-ONLY"), "{stdout}");
    assert_eq!(followed.job.project_mode, corral_proto::ProjectMode::Copy);
    assert_eq!(
        server.metric("corral_pool_taken_total").await,
        Some(1),
        "a copy-mode job takes a pool container"
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("a.txt")).expect("read"),
        "hello from the project\n",
        "the host's file is untouched"
    );
    assert!(!project.path().join("made-here").exists());
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_project_larger_than_the_workspace_fails_the_job_with_the_reason() {
    let server = TestServer::start().await;
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(project.path().join("big"), vec![b'x'; 3 << 20]).expect("write");
    let id = server
        .create(&json!({
            "command": ["ls"],
            "project": {"path": project.path(), "mode": "copy"},
            "limits": {"tmpfs": "2m"},
        }))
        .await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::Failed);
    let reason = followed.job.reason.clone().unwrap_or_default();
    let errors: Vec<String> = followed
        .events
        .iter()
        .filter(|event| event.kind == corral_proto::EventKind::Error)
        .map(|event| event.data["message"].to_string())
        .collect();
    assert!(
        errors
            .iter()
            .any(|message| message.contains("limits.tmpfs")),
        "reason {reason:?}, errors {errors:?}"
    );
    assert_eq!(server.stop().await, 0);
}
