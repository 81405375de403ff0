//! Branch mode: each job works on its own copy; the user diffs, applies or
//! discards; nothing the job planted runs on the host.

use std::path::Path;
use std::process::Command;

use corral_proto::{JobDiff, JobState};
use corral_testkit::TestServer;
use serde_json::{Value, json};

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=user",
            "-c",
            "user.email=user@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A repository with one commit (`notes.txt`) and one untracked file.
pub(crate) fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("repo dir");
    git(dir.path(), &["init", "-q"]);
    std::fs::write(dir.path().join("notes.txt"), "one\ntwo\nthree\n").expect("write");
    git(dir.path(), &["add", "notes.txt"]);
    git(dir.path(), &["commit", "-q", "-m", "first"]);
    std::fs::write(dir.path().join("draft.txt"), "not committed yet\n").expect("write");
    dir
}

pub(crate) fn isolated(project: &Path, command: &str) -> Value {
    json!({"command": command, "project": {"path": project.to_string_lossy(), "mode": "branch"}})
}

async fn diff(server: &TestServer, id: &str) -> JobDiff {
    let (status, body) = server.get(&format!("/v1/jobs/{id}/diff")).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).expect("diff JSON")
}

fn paths(diff: &JobDiff) -> Vec<&str> {
    diff.files.iter().map(|file| file.path.as_str()).collect()
}

#[tokio::test]
async fn two_jobs_on_one_repository_are_reviewed_and_applied_apart() {
    let server = TestServer::start().await;
    let repo = repository();
    let status_before = git(repo.path(), &["status", "--porcelain"]);
    let head_before = git(repo.path(), &["rev-parse", "HEAD"]);
    let first = server
        .create(&isolated(
            repo.path(),
            "cat /workspace/draft.txt; echo a > /workspace/a.txt; sleep 1",
        ))
        .await;
    let second = server
        .create(&isolated(repo.path(), "echo b > /workspace/b.txt; sleep 1"))
        .await;
    let first_run = server.follow(&first).await;
    let second_run = server.follow(&second).await;
    assert_eq!(
        first_run.job.state,
        JobState::Succeeded,
        "{:?}",
        first_run.job.reason
    );
    assert_eq!(
        second_run.job.state,
        JobState::Succeeded,
        "{:?}",
        second_run.job.reason
    );
    assert_eq!(
        first_run.stdout(),
        "not committed yet\n",
        "the job saw the user's uncommitted file"
    );

    assert_eq!(
        git(repo.path(), &["status", "--porcelain"]),
        status_before,
        "the user's tree is untouched"
    );
    assert_eq!(git(repo.path(), &["rev-parse", "HEAD"]), head_before);
    assert!(!repo.path().join("a.txt").exists() && !repo.path().join("b.txt").exists());
    let branches = git(repo.path(), &["branch", "--list", "corral/*"]);
    assert!(
        branches.contains(&format!("corral/{first}"))
            && branches.contains(&format!("corral/{second}")),
        "{branches}"
    );

    let first_diff = diff(&server, &first).await;
    let second_diff = diff(&server, &second).await;
    assert_eq!(paths(&first_diff), ["a.txt"]);
    assert_eq!(paths(&second_diff), ["b.txt"]);
    assert!(first_diff.patch.contains("+a"), "{}", first_diff.patch);

    for id in [&first, &second] {
        let (status, body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        std::fs::read_to_string(repo.path().join("a.txt")).expect("a.txt"),
        "a\n"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("b.txt")).expect("b.txt"),
        "b\n"
    );

    let (status, body) = server.post(&format!("/v1/jobs/{first}/discard"), "").await;
    assert_eq!(status, 200, "{body}");
    assert!(!git(repo.path(), &["branch", "--list", "corral/*"]).contains(&first));
    assert!(
        !server
            .data_dir
            .path()
            .join("workspaces")
            .join(&first)
            .exists()
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_conflicting_apply_names_the_files_and_changes_nothing() {
    let server = TestServer::start().await;
    let repo = repository();
    let id = server
        .create(&isolated(
            repo.path(),
            "sed -i 's/two/job/' /workspace/notes.txt; echo new > /workspace/extra.txt",
        ))
        .await;
    assert_eq!(server.follow(&id).await.job.state, JobState::Succeeded);
    std::fs::write(repo.path().join("notes.txt"), "one\nuser\nthree\n").expect("write");
    git(repo.path(), &["commit", "-q", "-am", "newer"]);
    let status_before = git(repo.path(), &["status", "--porcelain"]);
    let (status, body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|error| error.contains("notes.txt")),
        "{body}"
    );
    assert_eq!(
        git(repo.path(), &["status", "--porcelain"]),
        status_before,
        "nothing half-applied"
    );
    assert!(!repo.path().join("extra.txt").exists());
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn hooks_and_settings_a_job_plants_never_run_on_the_host() {
    let server = TestServer::start().await;
    let repo = repository();
    let marker = tempfile::tempdir().expect("marker dir");
    let marker_file = marker.path().join("ran");
    let plant = format!(
        r#"cd /workspace
        printf '#!/bin/sh\ntouch {m}\n' > .git/hooks/post-commit
        cp .git/hooks/post-commit .git/hooks/pre-commit
        chmod +x .git/hooks/post-commit .git/hooks/pre-commit
        printf '[core]\n\tfsmonitor = touch {m}\n\thooksPath = .git/hooks\n[filter "evil"]\n\tclean = touch {m}\n' >> .git/config
        echo '* filter=evil' > .gitattributes
        echo left > uncommitted.txt"#,
        m = marker_file.display()
    );
    let id = server.create(&isolated(repo.path(), &plant)).await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let changed = diff(&server, &id).await;
    assert!(
        paths(&changed).contains(&"uncommitted.txt"),
        "uncommitted work was committed: {:?}",
        paths(&changed)
    );
    let (status, body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
    assert_eq!(status, 200, "{body}");
    git(repo.path(), &["status", "--porcelain"]);
    assert!(
        !marker_file.exists(),
        "a planted hook or setting ran on the host"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_plain_directory_yields_a_patch_that_applies() {
    let server = TestServer::start().await;
    let project = tempfile::tempdir().expect("project");
    std::fs::write(project.path().join("notes.txt"), "one\ntwo\n").expect("write");
    let id = server
        .create(&isolated(
            project.path(),
            "echo three >> /workspace/notes.txt; echo hi > /workspace/new.txt",
        ))
        .await;
    assert_eq!(server.follow(&id).await.job.state, JobState::Succeeded);
    assert_eq!(
        std::fs::read_to_string(project.path().join("notes.txt")).expect("notes"),
        "one\ntwo\n"
    );
    let changed = diff(&server, &id).await;
    let mut files = paths(&changed);
    files.sort_unstable();
    assert_eq!(files, ["new.txt", "notes.txt"]);
    let (status, body) = server.post(&format!("/v1/jobs/{id}/apply"), "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        std::fs::read_to_string(project.path().join("notes.txt")).expect("notes"),
        "one\ntwo\nthree\n"
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("new.txt")).expect("new"),
        "hi\n"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn unsuitable_projects_get_a_clear_error() {
    let server = TestServer::start().await;
    let bare = tempfile::tempdir().expect("bare");
    git(bare.path(), &["init", "-q", "--bare"]);
    let unborn = tempfile::tempdir().expect("unborn");
    git(unborn.path(), &["init", "-q"]);
    let cases = [
        ("/no/such/project".to_owned(), "does not exist"),
        (bare.path().to_string_lossy().into_owned(), "bare"),
        (unborn.path().to_string_lossy().into_owned(), "unborn"),
    ];
    for (path, message) in cases {
        let (status, body) = server
            .post("/v1/jobs", &isolated(Path::new(&path), "true").to_string())
            .await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["field"], "project");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|error| error.contains(message)),
            "{body}"
        );
    }
    let (_, list) = server.get("/v1/jobs").await;
    assert_eq!(list["jobs"].as_array().map(Vec::len), Some(0));
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn git_works_inside_a_job_and_its_commits_come_back() {
    let server = TestServer::start().await;
    let repo = repository();
    let image = corral_testkit::git_image().await;
    let script = "cd /workspace && git status --short && echo c > c.txt && git add c.txt \
        && git -c user.name=job -c user.email=job@example.com commit -q -m 'job commit' \
        && git log --format=%s | head -n 1";
    let mut spec = isolated(repo.path(), script);
    spec["image"] = json!(image);
    let id = server.create(&spec).await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert_eq!(
        followed.stdout(),
        "job commit\n",
        "a clean tree (the user's draft is the first commit), then the job's commit"
    );
    let log = git(
        repo.path(),
        &["log", "--format=%s", &format!("corral/{id}")],
    );
    assert!(log.starts_with("job commit\n"), "{log}");
    assert_eq!(paths(&diff(&server, &id).await), ["c.txt"]);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn review_files_of_ended_jobs_are_pruned_after_the_retention_period() {
    let server = TestServer::start_with(|config| {
        config.reap_interval_secs = 1;
        config.workspace_retention_secs = 1;
    })
    .await;
    let project = tempfile::tempdir().expect("project");
    std::fs::write(project.path().join("notes.txt"), "one\n").expect("write");
    let id = server
        .create(&isolated(
            project.path(),
            "echo two >> /workspace/notes.txt",
        ))
        .await;
    assert_eq!(server.follow(&id).await.job.state, JobState::Succeeded);
    let kept = server.data_dir.path().join("workspaces").join(&id);
    let pruned = corral_testkit::eventually(|| async { !kept.exists() }).await;
    assert!(
        pruned,
        "{} was kept past the retention period",
        kept.display()
    );
    let (status, _) = server.get(&format!("/v1/jobs/{id}/diff")).await;
    assert_eq!(status, 409, "nothing left to review");
    assert_eq!(server.stop().await, 0);
}
