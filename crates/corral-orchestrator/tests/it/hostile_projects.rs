//! A project directory is hostile ground: a running job can change any
//! path beneath its own project while another job waits in the queue for a
//! directory on that path. The directory a job gets must be the one that
//! was checked, and the data directory can never reach a job by any path.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use corral_proto::JobState;
use corral_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::json;

const PRIVATE: &str = "PRIVATE-HOST-CONTENT";

/// A host directory no job was given, readable by anyone (so a job that
/// got it would show it).
fn private_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("private dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::create_dir(dir.path().join("b")).expect("mkdir");
    for file in ["secret.txt", "b/secret.txt"] {
        std::fs::write(dir.path().join(file), PRIVATE).expect("write");
    }
    dir
}

/// Makes `path` (under a job project) a directory the job user owns.
fn job_dir(path: &Path) {
    std::fs::create_dir_all(path).expect("mkdir");
    std::os::unix::fs::chown(path, Some(10001), Some(10001)).expect("chown");
}

/// What job A (bound to the parent project) does to the path once told.
struct Swap {
    /// The queued job's project, under A's.
    target: &'static str,
    /// A's shell commands, in `/workspace`.
    script: String,
}

fn swaps(private: &Path) -> Vec<Swap> {
    let private = private.display();
    vec![
        Swap {
            target: "sub",
            script: format!("mv sub sub.old && ln -s {private} sub"),
        },
        Swap {
            target: "a/b",
            script: format!("mv a a.old && ln -s {private} a"),
        },
        Swap {
            target: "sub",
            script: "mv sub sub.old && mkdir sub && echo planted > sub/planted".to_owned(),
        },
    ]
}

#[tokio::test]
async fn a_running_job_cannot_swap_a_queued_jobs_project_for_another_directory() {
    let server = TestServer::start_with(|config| config.max_concurrent_jobs = 1).await;
    let private = private_dir();
    for swap in swaps(private.path()) {
        let project = corral_testkit::job_project();
        job_dir(&project.path().join(swap.target));
        std::fs::write(project.path().join(swap.target).join("mine.txt"), "MINE").expect("write");
        let go = project.path().join("go");
        let a = server
            .create(&json!({
                "command": format!(
                    "while [ ! -e go ]; do sleep 0.1; done; {}", swap.script
                ),
                "project": project.path(),
            }))
            .await;
        server.wait_for_state(&a, JobState::Running).await;
        let queued: Vec<String> = futures_of(&server, &project.path().join(swap.target)).await;
        std::fs::write(&go, "").expect("go");
        server.follow(&a).await.assert_succeeded();
        for id in queued {
            let followed = server.follow(&id).await;
            let everything = serde_json::to_string(&followed.events).expect("events");
            assert!(
                !everything.contains(PRIVATE),
                "{}: the queued job read another directory: {everything}",
                swap.script
            );
            assert!(!everything.contains("planted"), "{everything}");
            assert_eq!(
                followed.job.state,
                JobState::Failed,
                "{}: {:?}",
                swap.script,
                followed.job.reason
            );
            let reason = followed.job.reason.unwrap_or_default();
            assert!(
                reason.contains("symbolic link") || reason.contains("replaced"),
                "{reason}"
            );
        }
    }
    assert_eq!(server.stop().await, 0);
}

/// Queues, under `path`, a bound and a copied job that allow the overlap
/// (so only the check at start stands between them and a swapped path).
async fn futures_of(server: &TestServer, path: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for mode in ["bind", "copy"] {
        let id = server
            .create(&json!({
                "command": "cat /workspace/* /workspace/*/* 2>&1; ls -la /workspace",
                "project": {"path": path, "mode": mode, "allow_overlap": true},
            }))
            .await;
        assert_eq!(server.job(&id).await.state, JobState::Queued);
        ids.push(id);
    }
    ids
}

#[tokio::test]
async fn a_project_overlapping_a_running_jobs_directory_is_refused_unless_allowed() {
    let server = TestServer::start().await;
    let outer = corral_testkit::job_project();
    let project = outer.path().join("p");
    job_dir(&project);
    job_dir(&project.join("sub"));
    let private = private_dir();
    let a = server
        .create(&json!({
            "command": format!("ln -s {} out; while [ ! -e go ]; do sleep 0.1; done", private.path().display()),
            "project": project,
        }))
        .await;
    server.wait_for_state(&a, JobState::Running).await;
    let planted = corral_testkit::eventually(|| async { project.join("out").is_symlink() }).await;
    assert!(planted, "the running job planted a link");
    let parent = outer.path().to_owned();
    let inside = project.join("sub");
    for (path, mode) in [
        (&inside, "bind"),
        (&inside, "copy"),
        (&inside, "branch"),
        (&project, "bind"),
        (&parent, "copy"),
        // A link the running job planted: it chose where this leads.
        (&project.join("out"), "bind"),
        (&project.join("out"), "copy"),
    ] {
        let spec = json!({"command": "true", "project": {"path": path, "mode": mode}});
        let (status, body) = server.post("/v1/jobs", &spec.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path:?} {mode}: {body}");
        assert_eq!(body["field"], "project", "{body}");
        assert!(
            body.to_string().contains(&a),
            "names the running job: {body}"
        );
    }
    let allowed = server
        .create(&json!({
            "command": "cat /workspace/../workspace/mine 2>/dev/null; echo ran",
            "project": {"path": inside, "mode": "copy", "allow_overlap": true},
        }))
        .await;
    let followed = server.follow(&allowed).await;
    followed.assert_succeeded();
    std::fs::write(project.join("go"), "").expect("go");
    server.follow(&a).await.assert_succeeded();
    let after = server
        .create(&json!({"command": "true", "project": inside}))
        .await;
    server.follow(&after).await.assert_succeeded();
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_data_directory_never_reaches_a_job_by_any_path() {
    let server = TestServer::start().await;
    let data = server.data_dir.path().to_owned();
    let links = tempfile::tempdir().expect("temp dir");
    let link = links.path().join("innocent");
    std::os::unix::fs::symlink(&data, &link).expect("link");
    let alias = links.path().join("alias");
    std::fs::create_dir(&alias).expect("mkdir");
    let mounted = std::process::Command::new("mount")
        .arg("--bind")
        .arg(&data)
        .arg(&alias)
        .status()
        .expect("mount");
    assert!(
        mounted.success(),
        "bind-mount an alias of the data directory"
    );
    let guard = Unmount(alias.clone());
    for path in [
        data.clone(),
        data.join("run"),
        link.clone(),
        link.join("run"),
        alias.clone(),
        alias.join("run"),
        data.parent().expect("parent").to_owned(),
    ] {
        for mode in ["bind", "copy", "branch"] {
            let spec = json!({"command": "true", "project": {"path": path, "mode": mode}});
            let (status, body) = server.post("/v1/jobs", &spec.to_string()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path:?} {mode}: {body}");
            assert_eq!(body["field"], "project", "{body}");
        }
    }
    drop(guard);
    assert_eq!(server.stop().await, 0);
}

/// Unmounts a test's bind mount even when the test fails.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// The held directory reaches the job through its private mount under
/// runc and gVisor alike, and the mount is gone from the host once the
/// container has its own.
#[tokio::test]
async fn a_bound_project_is_the_held_directory_under_both_isolation_levels() {
    let server = TestServer::start().await;
    for isolation in ["runc", "gvisor"] {
        let project = corral_testkit::job_project();
        std::fs::write(project.path().join("in.txt"), "from the host\n").expect("write");
        let id = server
            .create(&json!({
                "command": format!("cat in.txt; echo {isolation} > out.txt"),
                "project": project.path(),
                "isolation": isolation,
            }))
            .await;
        let followed = server.follow(&id).await;
        followed.assert_succeeded();
        assert_eq!(followed.stdout(), "from the host\n");
        assert_eq!(
            std::fs::read_to_string(project.path().join("out.txt")).expect("written back"),
            format!("{isolation}\n")
        );
        let stage = server.data_dir.path().join("stage").join(&id);
        assert!(!stage.exists(), "the staged mount point is gone");
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
        assert!(!mounts.contains(&id), "no host mount left: {mounts}");
    }
    assert_eq!(server.stop().await, 0);
}

/// Something mounted inside a project (it may be any host directory: the
/// data directory, `/etc`) is not entered when the project is copied,
/// neither for a copy-mode job nor for a branch-mode job's own copy.
#[tokio::test]
async fn a_mount_inside_a_copied_project_is_not_entered() {
    let server = TestServer::start().await;
    let private = private_dir();
    let project = corral_testkit::job_project();
    std::fs::write(project.path().join("mine.txt"), "MINE").expect("write");
    let mount_point = project.path().join("m");
    job_dir(&mount_point);
    let mounted = std::process::Command::new("mount")
        .arg("--bind")
        .arg(private.path())
        .arg(&mount_point)
        .status()
        .expect("mount");
    assert!(
        mounted.success(),
        "bind-mount a host directory into the project"
    );
    let guard = Unmount(mount_point.clone());
    for mode in ["copy", "branch"] {
        let id = server
            .create(&json!({
                "command": "cat /workspace/mine.txt; cat /workspace/m/secret.txt /workspace/m/b/secret.txt 2>&1; ls -la /workspace/m",
                "project": {"path": project.path(), "mode": mode},
            }))
            .await;
        let followed = server.follow(&id).await;
        let everything = serde_json::to_string(&followed.events).expect("events");
        assert!(everything.contains("MINE"), "{mode}: {everything}");
        assert!(!everything.contains(PRIVATE), "{mode}: {everything}");
    }
    drop(guard);
    assert_eq!(server.stop().await, 0);
}

/// `/mcp` holds a project to the directories its policy allows on the
/// directory the server pinned, not on the path the tool call named: a
/// link that leads out (swapped in after the tool's own check, say) is
/// refused, and nothing is created.
#[tokio::test]
async fn a_project_held_to_allowed_directories_is_checked_where_it_is_pinned() {
    let server = TestServer::start().await;
    let root = tempfile::tempdir().expect("allowed root");
    let outside = private_dir();
    std::fs::create_dir(root.path().join("app")).expect("app");
    std::os::unix::fs::symlink(outside.path(), root.path().join("link")).expect("a link out");
    let roots = [root.path().to_owned()];
    let spec = |dir: &str| -> corral_proto::JobSpec {
        serde_json::from_value(json!({
            "command": ["ls", "/workspace"],
            "project": {"path": root.path().join(dir), "mode": "copy"},
        }))
        .expect("a spec")
    };
    let count = async || {
        server
            .client
            .jobs(None, None, 1000)
            .await
            .expect("jobs")
            .jobs
            .len()
    };
    let before = count().await;
    let error = server
        .jobs()
        .create_within(spec("link"), Some(&roots))
        .await
        .expect_err("a project resolved outside the roots");
    assert!(
        error.to_string().contains("none the MCP server allows"),
        "{error}"
    );
    let after = count().await;
    assert_eq!(after, before, "nothing was created");
    let inside = server
        .jobs()
        .create_within(spec("app"), Some(&roots))
        .await
        .expect("a project under the roots");
    server.follow(&inside.id).await.assert_succeeded();
    // The same bound asked for through the API (`corral mcp` over stdio).
    let asked = |dir: &str| {
        json!({
            "command": ["ls", "/workspace"],
            "project": {"path": root.path().join(dir), "mode": "copy", "within": [root.path()]},
        })
        .to_string()
    };
    let (status, body) = server.post("/v1/jobs", &asked("link")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "project.within", "{body}");
    assert_eq!(count().await, before + 1, "nothing more was created");
    // An empty list allows none; a list past the bound is refused whole.
    let bounds = [
        json!([]),
        json!(vec![
            root.path().to_str().expect("utf-8");
            corral_proto::job::MAX_WITHIN + 1
        ]),
    ];
    for within in bounds {
        let spec = json!({
            "command": ["true"],
            "project": {"path": root.path().join("app"), "mode": "copy", "within": within},
        });
        let (status, body) = server.post("/v1/jobs", &spec.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["field"], "project.within", "{body}");
    }
    // Each entry absolute: a relative one (or an empty one) is named.
    for relative in ["", "app"] {
        let spec = json!({
            "command": ["true"],
            "project": {"path": root.path().join("app"), "mode": "copy",
                "within": [root.path(), relative]},
        });
        let (status, body) = server.post("/v1/jobs", &spec.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["field"], "project.within[1]", "{body}");
    }
    assert_eq!(count().await, before + 1, "nothing more was created");
    let (status, body) = server.post("/v1/jobs", &asked("app")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    server
        .follow(body["id"].as_str().expect("an id"))
        .await
        .assert_succeeded();
    assert_eq!(server.stop().await, 0);
}
