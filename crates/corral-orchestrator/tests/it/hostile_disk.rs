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
