//! The user's repository is job-writable (a `bind` job runs as its owner),
//! yet corral runs git in it as root: when it makes a `branch` job's
//! clone, fetches the job's work back, and diffs, applies or discards.
//! Whatever a job planted there (config that runs a command, includes,
//! filters with attributes, a `.git` leading elsewhere), corral's git
//! runs nothing and refuses, naming what it found.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use corral_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::review::{git, repository};

fn isolated(project: &Path, command: &str) -> Value {
    json!({"command": command, "project": {"path": project, "mode": "branch"}})
}

/// Config that makes any later `git fetch` by path run `touch marker`.
fn ext_url(marker: &Path) -> String {
    format!(
        "[protocol \"ext\"]\n\tallow = always\n[url \"ext::sh -c touch% {}% #\"]\n\tinsteadOf = /\n",
        marker.display()
    )
}

fn append(path: &Path, text: &str) {
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .expect("open for append")
        .write_all(text.as_bytes())
        .expect("append");
}

fn text(body: &Value) -> String {
    body["error"].as_str().unwrap_or_default().to_owned()
}

/// Tries to create a branch-mode job on `project`; if corral accepts it,
/// lets it run and end (its work is fetched back), so a planted command
/// gets every chance to run. Returns creation's answer.
async fn try_isolated(server: &TestServer, project: &Path) -> (StatusCode, Value) {
    let spec = isolated(project, "echo more >> notes.txt");
    let (status, body) = server.post("/v1/jobs", &spec.to_string()).await;
    if let Some(id) = body["id"].as_str() {
        server.follow(id).await;
    }
    (status, body)
}

fn assert_refused(status: StatusCode, body: &Value, names: &[&str]) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "project", "{body}");
    for name in names {
        assert!(text(body).contains(name), "names {name}: {body}");
    }
}

#[tokio::test]
async fn an_ext_url_planted_while_a_job_runs_never_runs_when_its_work_comes_back() {
    let server = TestServer::start().await;
    let repo = repository();
    let marker = tempfile::tempdir().expect("marker dir");
    let ran = marker.path().join("ran");
    let id = server
        .create(&isolated(
            repo.path(),
            "while [ ! -e go ]; do sleep 0.1; done; echo done > result.txt",
        ))
        .await;
    append(&repo.path().join(".git/config"), &ext_url(&ran));
    let work = server
        .data_dir
        .path()
        .join("workspaces")
        .join(&id)
        .join("work");
    std::fs::write(work.join("go"), "").expect("go");
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert!(!ran.exists(), "the planted command ran on the host");
    let warnings: Vec<String> = followed
        .events
        .iter()
        .filter_map(|event| event.data["message"].as_str().map(str::to_owned))
        .collect();
    assert!(
        warnings.iter().any(
            |warning| warning.contains("protocol.ext.allow") && warning.contains(".git/config")
        ),
        "the harvest names the setting and its file: {warnings:?}"
    );
    assert!(git(repo.path(), &["branch", "--list", "corral/*"]).is_empty());
    let (status, body) = try_isolated(&server, repo.path()).await;
    assert!(!ran.exists(), "the planted command ran on the host");
    assert_refused(status, &body, &["protocol.ext.allow", ".git/config"]);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_clean_filter_planted_before_review_never_runs_and_review_is_refused() {
    let server = TestServer::start().await;
    let repo = repository();
    let marker = tempfile::tempdir().expect("marker dir");
    let ran = marker.path().join("ran");
    let id = server
        .create(&isolated(repo.path(), "echo four >> notes.txt"))
        .await;
    server.follow(&id).await.assert_succeeded();
    append(
        &repo.path().join(".git/config"),
        &format!(
            "[filter \"evil\"]\n\tclean = touch {m}\n\tsmudge = touch {m}\n[diff \"evil\"]\n\ttextconv = touch {m}\n",
            m = ran.display()
        ),
    );
    append(
        &repo.path().join(".git/info/attributes"),
        "* filter=evil diff=evil\n",
    );
    std::fs::write(repo.path().join(".gitattributes"), "* filter=evil\n").expect("attributes");
    let (diff_status, diff_body) = server.get(&format!("/v1/jobs/{id}/diff")).await;
    let (apply_status, apply_body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
    let (discard_status, discard_body) = server.post(&format!("/v1/jobs/{id}/discard"), "").await;
    assert!(!ran.exists(), "the planted filter ran on the host");
    for (status, body) in [
        (diff_status, &diff_body),
        (apply_status, &apply_body),
        (discard_status, &discard_body),
    ] {
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            text(body).contains("filter.evil.clean") && text(body).contains(".git/config"),
            "{body}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(repo.path().join("notes.txt")).expect("notes"),
        "one\ntwo\nthree\n",
        "nothing applied"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn an_include_is_refused_as_a_key_and_never_followed() {
    let server = TestServer::start().await;
    let repo = repository();
    let marker = tempfile::tempdir().expect("marker dir");
    let ran = marker.path().join("ran");
    let id = server
        .create(&isolated(repo.path(), "echo four >> notes.txt"))
        .await;
    server.follow(&id).await.assert_succeeded();
    let included = marker.path().join("innocent.cfg");
    std::fs::write(
        &included,
        format!("[filter \"evil\"]\n\tclean = touch {}\n", ran.display()),
    )
    .expect("included file");
    append(
        &repo.path().join(".git/config"),
        &format!("[include]\n\tpath = {}\n", included.display()),
    );
    append(&repo.path().join(".git/info/attributes"), "* filter=evil\n");
    let (status, body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
    assert!(!ran.exists(), "the included filter ran on the host");
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(text(&body).contains("include.path"), "{body}");
    let (status, body) = try_isolated(&server, repo.path()).await;
    assert!(!ran.exists(), "the included filter ran on the host");
    assert_refused(status, &body, &["include.path"]);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_git_file_or_link_leading_to_another_repository_is_refused() {
    let server = TestServer::start().await;
    let marker = tempfile::tempdir().expect("marker dir");
    let ran = marker.path().join("ran");
    let elsewhere = tempfile::tempdir().expect("elsewhere");
    let by_file = repository();
    let real = elsewhere.path().join("real.git");
    std::fs::rename(by_file.path().join(".git"), &real).expect("move .git");
    append(&real.join("config"), &ext_url(&ran));
    std::fs::write(
        by_file.path().join(".git"),
        format!("gitdir: {}\n", real.display()),
    )
    .expect("gitdir file");
    let by_link = repository();
    let linked = elsewhere.path().join("linked.git");
    std::fs::rename(by_link.path().join(".git"), &linked).expect("move .git");
    append(&linked.join("config"), &ext_url(&ran));
    std::os::unix::fs::symlink(&linked, by_link.path().join(".git")).expect("symlink");
    for (repo, what) in [(&by_file, "is a file"), (&by_link, "symbolic link")] {
        let (status, body) = try_isolated(&server, repo.path()).await;
        assert!(!ran.exists(), "a command of the other repository ran");
        assert_refused(status, &body, &[".git", what]);
    }
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_bind_job_that_rewrites_git_config_gets_no_command_run_on_the_host() {
    let server = TestServer::start().await;
    // Made by root, then handed to the job user: a bind job runs as the
    // project's owner and can write all of it.
    let project = repository();
    let chown = std::process::Command::new("chown")
        .args(["-R", "10001:10001"])
        .arg(project.path())
        .status()
        .expect("chown");
    assert!(chown.success());
    let marker = tempfile::tempdir().expect("marker dir");
    let ran = marker.path().join("ran");
    let script = format!(
        "cat >> /workspace/.git/config <<'EOF'\n{}EOF\n",
        ext_url(&ran)
    );
    let bound = server
        .create(&json!({"command": script, "project": {"path": project.path(), "mode": "bind"}}))
        .await;
    server.follow(&bound).await.assert_succeeded();
    let config = std::fs::read_to_string(project.path().join(".git/config")).expect("config");
    assert!(
        config.contains("ext::"),
        "the job wrote the config: {config}"
    );
    let (status, body) = try_isolated(&server, project.path()).await;
    assert!(!ran.exists(), "the job's command ran on the host");
    assert_refused(status, &body, &["protocol.ext.allow"]);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn review_waits_until_no_running_job_can_write_the_repository() {
    let server = TestServer::start().await;
    let repo = repository();
    let id = server
        .create(&isolated(repo.path(), "echo four >> notes.txt"))
        .await;
    server.follow(&id).await.assert_succeeded();
    // A bound project must be writable by the job's user (10001 here).
    std::fs::set_permissions(repo.path(), std::fs::Permissions::from_mode(0o777))
        .expect("a project the job user can write");
    let writer = server
        .create(&json!({
            "command": "while [ ! -e /tmp/never ]; do sleep 0.1; done",
            "project": {"path": repo.path(), "mode": "bind"},
        }))
        .await;
    server
        .wait_for_state(&writer, corral_proto::JobState::Running)
        .await;
    for (status, body) in [
        server.get(&format!("/v1/jobs/{id}/diff")).await,
        server.post(&format!("/v1/jobs/{id}/apply"), "").await,
    ] {
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(text(&body).contains(&writer), "names the writer: {body}");
    }
    let (status, _) = server.post(&format!("/v1/jobs/{writer}/cancel"), "").await;
    assert!(status.is_success());
    server.follow(&writer).await;
    let (status, body) = server.get(&format!("/v1/jobs/{id}/diff")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_clean_repository_owned_by_its_user_is_copied_brought_back_and_applied() {
    let server = TestServer::start().await;
    let repo = repository();
    let chown = std::process::Command::new("chown")
        .args(["-R", "10001:10001"])
        .arg(repo.path())
        .status()
        .expect("chown");
    assert!(chown.success());
    let id = server
        .create(&isolated(repo.path(), "echo four >> notes.txt"))
        .await;
    server.follow(&id).await.assert_succeeded();
    let (status, body) = server.get(&format!("/v1/jobs/{id}/diff")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("notes.txt")).expect("notes"),
        "one\ntwo\nthree\nfour\n"
    );
    let (status, body) = server.post(&format!("/v1/jobs/{id}/discard"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["review"], "applied",
        "the applied change stays: {body}"
    );
    assert_eq!(server.stop().await, 0);
}
