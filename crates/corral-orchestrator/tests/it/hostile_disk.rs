//! A job's disk: an image's `VOLUME` would give it a directory on the
//! host's disk with no cap; it gets a tmpfs of its own size instead.

use corral_testkit::TestServer;
use serde_json::json;

#[tokio::test]
async fn an_image_volume_is_a_capped_tmpfs_not_the_hosts_disk() {
    let server = TestServer::start().await;
    let image = corral_testkit::volume_image().await;
    for isolation in ["runc", "gvisor"] {
        volumes_are_capped(&server, &image, isolation).await;
    }
    assert_eq!(server.stop().await, 0);
}

async fn volumes_are_capped(server: &TestServer, image: &str, isolation: &str) {
    let id = server
        .create(&json!({
            "image": image,
            "isolation": isolation,
            "command": "grep -E ' /data | /var/cache/app ' /proc/mounts; \
                        dd if=/dev/zero of=/data/big bs=1M count=24 2>/dev/null; echo data=$?; \
                        dd if=/dev/zero of=/var/cache/app/big bs=1M count=24 2>/dev/null; echo cache=$?",
            "limits": {"tmpfs": "8m", "memory": "256m"},
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let stdout = followed.stdout();
    for path in ["/data", "/var/cache/app"] {
        assert!(
            stdout.lines().any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.get(1) == Some(&path) && fields.get(2) == Some(&"tmpfs")
            }),
            "{isolation}: {path} is a tmpfs: {stdout}"
        );
    }
    assert!(
        stdout.contains("data=1"),
        "{isolation}: the cap holds: {stdout}"
    );
    assert!(
        stdout.contains("cache=1"),
        "{isolation}: the cap holds: {stdout}"
    );
}

/// A branch-mode job's copy lives in a tmpfs of its `limits.tmpfs`: a
/// project larger than that is refused at creation naming the limit, and
/// the job cannot write past it into the host's disk.
#[tokio::test]
async fn a_branch_mode_copy_is_capped_by_the_jobs_tmpfs() {
    let server = TestServer::start().await;
    let project = corral_testkit::job_project();
    std::fs::write(project.path().join("big"), vec![b'x'; 12 << 20]).expect("write");
    let spec = json!({
        "command": "true",
        "project": {"path": project.path(), "mode": "branch"},
        "limits": {"tmpfs": "8m"},
    });
    let (status, body) = server.post("/v1/jobs", &spec.to_string()).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "project", "{body}");
    assert!(body.to_string().contains("limits.tmpfs"), "{body}");
    std::fs::remove_file(project.path().join("big")).expect("remove");
    std::fs::write(project.path().join("small"), "small\n").expect("write");
    let id = server
        .create(&json!({
            "command": "dd if=/dev/zero of=/workspace/fill bs=1M count=24 2>/dev/null; echo rc=$?",
            "project": {"path": project.path(), "mode": "branch"},
            "limits": {"tmpfs": "8m"},
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert!(
        followed.stdout().contains("rc=1"),
        "the cap holds: {}",
        followed.stdout()
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert!(
        !mounts.contains(&id),
        "the copy's tmpfs is gone once the work came back"
    );
    assert_eq!(server.stop().await, 0);
}
