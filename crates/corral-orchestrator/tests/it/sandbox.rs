use std::os::unix::fs::MetadataExt;

use bollard::query_parameters::InspectContainerOptions;
use corral_docker::Dialect;
use corral_docker::host::EngineInfo;
use corral_proto::JobState;
use corral_testkit::{TestServer, docker, job_project, plain_image};
use serde_json::json;

#[tokio::test]
async fn a_running_container_carries_the_whole_profile() {
    let server = TestServer::start().await;
    check_profile(&server, None).await;
    assert_eq!(server.stop().await, 0);
}

/// crun (`scripts/ensure-crun.sh`, `oci_runtime = "crun"`) runs the same
/// profile as runc.
#[tokio::test]
async fn under_crun_a_job_runs_with_the_same_profile() {
    let server = TestServer::start_with(|config| config.oci_runtime = Some("crun".into())).await;
    let id = server
        .create(&json!({"command": "echo hello from $(id -u)"}))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert_eq!(followed.stdout(), "hello from 10001\n");
    check_profile(&server, Some("crun")).await;
    assert_eq!(server.stop().await, 0);
}

/// Starts a long job on `server` and checks its container's whole profile
/// and OCI runtime (Docker's default when `None`).
async fn check_profile(server: &TestServer, runtime: Option<&str>) {
    let id = server
        .create(&json!({
            "command": ["sleep", "300"],
            "limits": {"memory": "96m", "cpu_shares": 256, "pids": 64, "tmpfs": "16m"}
        }))
        .await;
    server.wait_for_state(&id, JobState::Running).await;
    let container_id = server.job(&id).await.container_id.expect("container id");
    let inspected = docker()
        .await
        .inspect_container(&container_id, None::<InspectContainerOptions>)
        .await
        .expect("inspect");
    let host = inspected.host_config.expect("host config");
    let config = inspected.config.expect("config");
    let (engine, dialect) = corral_testkit::engine().await;
    assert_eq!(
        host.runtime.as_deref(),
        Some(runtime.unwrap_or(reported_default_runtime(&engine, dialect)))
    );
    assert_eq!(host.network_mode.as_deref(), Some("none"));
    assert_eq!(host.readonly_rootfs, Some(true));
    assert_all_capabilities_dropped(host.cap_drop.as_deref(), dialect);
    assert_eq!(host.cap_add.unwrap_or_default(), Vec::<String>::new());
    assert_security_opt(host.security_opt.as_deref(), dialect);
    assert_eq!(host.privileged, Some(false));
    assert_eq!(host.memory, Some(96 << 20));
    assert_eq!(host.memory_swap, Some(96 << 20));
    assert_eq!(host.pids_limit, Some(64));
    assert_eq!(host.cpu_shares, Some(256));
    assert_eq!(host.init, Some(true));
    let tmpfs = host.tmpfs.expect("tmpfs");
    assert!(
        tmpfs["/tmp"].contains(&format!("size={}", 16 << 20)),
        "{tmpfs:?}"
    );
    assert!(
        tmpfs["/home/corral"].contains(&format!("size={}", 16 << 20)),
        "{tmpfs:?}"
    );
    assert_eq!(config.user.as_deref(), Some("10001:10001"));
    let labels = config.labels.expect("labels");
    assert_eq!(labels["corral.job"], id);
    assert_eq!(labels["corral.instance"], server.instance_id);
    let mounts = inspected.mounts.expect("mounts");
    let targets: Vec<&str> = mounts
        .iter()
        .filter_map(|mount| mount.destination.as_deref())
        .collect();
    assert_eq!(
        targets.len(),
        2,
        "only the socket directory and the worker: {targets:?}"
    );
    assert!(targets.contains(&"/run/corral") && targets.contains(&"/run/corral-worker"));
    assert!(
        mounts.iter().all(|mount| mount.rw == Some(false)),
        "both read-only: {mounts:?}"
    );
    let (status, _) = server.post(&format!("/v1/jobs/{id}/cancel"), "").await;
    assert_eq!(status, 200);
    server.follow(&id).await;
}

#[tokio::test]
async fn only_tmp_home_and_the_workspace_are_writable() {
    let server = TestServer::start().await;
    // A user's project belongs to that user: the job runs as its owner.
    let project = job_project();
    let script = r#"
        for path in /probe /etc/probe /usr/probe /run/corral/probe /bin/probe /run/probe /var/tmp/probe; do
            if echo x > "$path" 2>/dev/null; then echo "WROTE $path"; else echo "refused $path"; fi
        done
        echo tmp > /tmp/probe && echo "wrote /tmp"
        echo home > "$HOME/probe" && echo "wrote home"
        echo "from the job" > /workspace/result.txt && echo "wrote workspace"
    "#;
    let id = server
        .create(&json!({"command": script, "project": project.path().to_string_lossy()}))
        .await;
    let followed = server.follow(&id).await;
    let stdout = followed.stdout();
    assert!(!stdout.contains("WROTE"), "{stdout}\n{}", followed.stderr());
    for line in [
        "refused /probe",
        "refused /etc/probe",
        "refused /run/corral/probe",
        "refused /run/probe",
        "refused /var/tmp/probe",
        "wrote /tmp",
        "wrote home",
        "wrote workspace",
    ] {
        assert!(
            stdout.contains(line),
            "missing `{line}` in:\n{stdout}\n{}",
            followed.stderr()
        );
    }
    assert_eq!(followed.job.state, JobState::Succeeded);
    let written = project.path().join("result.txt");
    assert_eq!(
        std::fs::read_to_string(&written).expect("file on the host"),
        "from the job\n"
    );
    assert_eq!(
        std::fs::metadata(&written).expect("metadata").uid(),
        std::fs::metadata(project.path()).expect("metadata").uid(),
        "owned by the project's owner"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_job_runs_in_an_image_with_nothing_of_corral() {
    let server = TestServer::start().await;
    let image = plain_image().await;
    let id = server
        .create(&json!({"command": "id -u; ls /etc 2>&1 | head -1; echo ok", "image": image}))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert!(
        followed.stdout().starts_with("10001\n"),
        "{}",
        followed.stdout()
    );
    assert!(followed.stdout().ends_with("ok\n"));
    assert_eq!(server.stop().await, 0);
}

/// Docker reports the `ALL` it was given; Podman reports each capability
/// of its default set as dropped (that none is left inside is checked by
/// the hostile suite and `corral verify`).
pub(crate) fn assert_all_capabilities_dropped(dropped: Option<&[String]>, dialect: Dialect) {
    let dropped = dropped.unwrap_or_default();
    match dialect {
        Dialect::Docker => assert_eq!(dropped, ["ALL"]),
        Dialect::Podman => {
            for capability in [
                "CHOWN",
                "DAC_OVERRIDE",
                "FOWNER",
                "KILL",
                "SETGID",
                "SETUID",
            ] {
                assert!(
                    dropped
                        .iter()
                        .any(|name| name.trim_start_matches("CAP_") == capability),
                    "{capability} not dropped: {dropped:?}"
                );
            }
        }
    }
}

/// The runtime the engine's inspect names for a container that named none:
/// Docker's default, or Podman's `oci`, which it reports for every container.
pub(crate) fn reported_default_runtime(engine: &EngineInfo, dialect: Dialect) -> &str {
    match dialect {
        Dialect::Docker => &engine.default_runtime,
        Dialect::Podman => "oci",
    }
}

/// `no-new-privileges`, and on Podman corral's tightened seccomp profile
/// (Docker applies its own default, which needs no file).
pub(crate) fn assert_security_opt(options: Option<&[String]>, dialect: Dialect) {
    let options = options.unwrap_or_default();
    match dialect {
        Dialect::Docker => assert_eq!(options, ["no-new-privileges"]),
        Dialect::Podman => {
            assert_eq!(options.len(), 2, "{options:?}");
            assert_eq!(options[0], "no-new-privileges");
            assert!(
                options[1].starts_with("seccomp=") && options[1].contains("corral-seccomp-"),
                "{options:?}"
            );
        }
    }
}
