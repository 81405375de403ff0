use std::path::PathBuf;

use bollard::models::MountTypeEnum;
use corral_proto::{CommandSpec, Job, JobMode, JobState, Limits};

use super::{Dialect, clean_path, container_spec};
use corral_runtime::{JobUser, SandboxRequest};

fn request(project: Option<&str>) -> SandboxRequest {
    SandboxRequest {
        job: Job {
            state: JobState::Starting,
            command: Some(CommandSpec::Shell("true".into())),
            project: project.map(str::to_owned),
            ..Job::queued(
                "j-0123456789abcdef".into(),
                JobMode::Exec,
                "busybox-like".into(),
                Limits {
                    memory_bytes: 256 << 20,
                    cpu_shares: 512,
                    pids: 128,
                    timeout_secs: 30,
                    tmpfs_bytes: 64 << 20,
                    max_llm_calls: 10,
                    max_tokens: 1000,
                    max_iterations: 5,
                    idle_timeout_secs: 60,
                },
            )
        },
        socket_dir: PathBuf::from("/data/run/j-0123456789abcdef"),
        worker_bin: PathBuf::from("/opt/corral-worker"),
        instance_id: "inst-1".into(),
        oci_runtime: None,
        user: JobUser::CORRAL,
        pooled: false,
        project_source: project.map(|_| PathBuf::from("/data/stage/j-0123456789abcdef")),
        image_volumes: Vec::new(),
    }
}

#[test]
fn the_profile_locks_the_container_down() {
    let body = container_spec(&request(None), Dialect::Docker, None);
    let host = body.host_config.expect("host config");
    assert_eq!(host.network_mode.as_deref(), Some("none"));
    assert_eq!(host.readonly_rootfs, Some(true));
    assert_eq!(host.cap_drop, Some(vec!["ALL".to_owned()]));
    assert_eq!(
        host.security_opt,
        Some(vec!["no-new-privileges".to_owned()])
    );
    assert_eq!(host.privileged, Some(false));
    assert_eq!(host.init, Some(true));
    assert_eq!(host.memory, Some(256 << 20));
    assert_eq!(host.memory_swap, host.memory);
    assert_eq!(host.pids_limit, Some(128));
    assert_eq!(host.cpu_shares, Some(512));
    let tmpfs = host.tmpfs.expect("tmpfs");
    assert!(tmpfs["/tmp"].contains(&format!("size={}", 64 << 20)));
    assert!(tmpfs["/home/corral"].contains("uid=10001"));
    assert_eq!(body.user.as_deref(), Some("10001:10001"));
    let labels = body.labels.expect("labels");
    assert_eq!(labels["corral.job"], "j-0123456789abcdef");
    assert_eq!(labels["corral.instance"], "inst-1");
}

#[test]
fn only_the_socket_the_worker_and_the_project_are_mounted() {
    let body = container_spec(&request(Some("/home/me/project")), Dialect::Docker, None);
    let mounts = body
        .host_config
        .and_then(|host| host.mounts)
        .expect("mounts");
    let summary: Vec<(String, String, bool)> = mounts
        .iter()
        .map(|mount| {
            assert_eq!(mount.typ, Some(MountTypeEnum::BIND));
            (
                mount.source.clone().expect("source"),
                mount.target.clone().expect("target"),
                mount.read_only.expect("read_only set"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "/data/run/j-0123456789abcdef".into(),
                "/run/corral".into(),
                true
            ),
            (
                "/opt/corral-worker".into(),
                "/run/corral-worker".into(),
                true
            ),
            (
                "/data/stage/j-0123456789abcdef".into(),
                "/workspace".into(),
                false
            ),
        ]
    );
    assert_eq!(body.working_dir.as_deref(), Some("/workspace"));
    assert_eq!(body.entrypoint, Some(vec!["/run/corral-worker".to_owned()]));
}

/// The project's own path is never handed to Docker: a job may have
/// changed what it leads to since it was checked. Only the staged mount of
/// the held directory is.
#[test]
fn the_project_path_itself_is_never_mounted() {
    let mut request = request(Some("/home/me/project"));
    request.project_source = None;
    let body = container_spec(&request, Dialect::Docker, None);
    let mounts = body
        .host_config
        .and_then(|host| host.mounts)
        .expect("mounts");
    assert!(
        mounts
            .iter()
            .all(|mount| mount.source.as_deref() != Some("/home/me/project")),
        "{mounts:?}"
    );
    assert_eq!(mounts.len(), 2, "socket and worker only");
}

#[test]
fn a_job_runs_as_the_owner_of_its_project() {
    let mut request = request(Some("/home/me/project"));
    // Under remapping the container's ids, not the host's, are written.
    request.user = corral_runtime::IdMap::Shifted {
        first_uid: 100_000,
        first_gid: 100_000,
        length: 65_536,
    }
    .user(1000, 1001);
    let body = container_spec(&request, Dialect::Docker, None);
    assert_eq!(body.user.as_deref(), Some("1000:1001"));
    let tmpfs = body.host_config.and_then(|host| host.tmpfs).expect("tmpfs");
    assert!(tmpfs["/home/corral"].contains("uid=1000,gid=1001"));
}

#[test]
fn no_secret_or_token_is_put_in_the_environment() {
    let body = container_spec(&request(None), Dialect::Docker, None);
    let env = body.env.expect("env");
    assert!(
        env.iter()
            .all(|entry| !entry.contains("TOKEN") && !entry.contains("KEY")),
        "{env:?}"
    );
}

#[test]
fn a_gvisor_job_runs_on_runsc_with_room_for_the_sandbox_pids() {
    let mut gvisor = request(None);
    gvisor.job.isolation_level = corral_proto::IsolationLevel::Gvisor;
    let host = container_spec(&gvisor, Dialect::Docker, None)
        .host_config
        .expect("host config");
    assert_eq!(host.runtime.as_deref(), Some("runsc"));
    // Every sandboxed process costs the ptrace platform about 8 host pids
    // and the sandbox itself about 45 before the job starts: 128 job
    // processes need far more than 128 host pids.
    let limit = host.pids_limit.expect("pids limit");
    assert!(limit >= 128 * 8 + 45, "{limit}");
    assert!(limit <= 128 * 16 + 200, "still a bound: {limit}");
}

/// An image's `VOLUME` gets a tmpfs of the job's size, never a volume on
/// the host's disk; a path the job's own mounts cover is left to them.
#[test]
fn image_volumes_are_capped_tmpfs() {
    let mut request = request(Some("/home/me/project"));
    request.image_volumes = vec!["/data".into(), "/workspace".into(), "/tmp".into()];
    let body = container_spec(&request, Dialect::Docker, None);
    let host = body.host_config.expect("host config");
    let tmpfs = host.tmpfs.expect("tmpfs");
    assert!(
        tmpfs["/data"].contains(&format!("size={}", 64 << 20)),
        "{tmpfs:?}"
    );
    assert!(!tmpfs.contains_key("/workspace"), "the bound project stays");
    assert!(
        tmpfs["/tmp"].contains("mode=1777"),
        "the job's own /tmp stays"
    );
}

/// Podman refuses `uid=`/`gid=` on a tmpfs: each owned tmpfs says `U`
/// (owned by the container's user, which is the job's uid and gid); the
/// writable tmpfs Podman adds are covered by small read-only-to-the-job
/// ones; nothing else of the profile differs.
#[test]
fn podman_gets_owned_tmpfs_in_its_own_words_and_the_rest_unchanged() {
    let docker = container_spec(&request(None), Dialect::Docker, None);
    let podman = container_spec(&request(None), Dialect::Podman, None);
    let tmpfs = podman
        .host_config
        .as_ref()
        .and_then(|host| host.tmpfs.clone())
        .expect("tmpfs");
    for (path, options) in &tmpfs {
        assert!(
            !options.contains("uid=") && !options.contains("gid="),
            "{path}: {options}"
        );
    }
    assert!(tmpfs["/home/corral"].split(',').any(|option| option == "U"));
    for path in ["/run", "/var/tmp"] {
        let options: Vec<&str> = tmpfs[path].split(',').collect();
        for option in ["noexec", "nosuid", "nodev", "mode=0755", "size=65536"] {
            assert!(options.contains(&option), "{path}: {options:?}");
        }
    }
    assert!(
        !tmpfs["/tmp"].split(',').any(|option| option == "U"),
        "/tmp stays root's, 1777"
    );
    assert_eq!(podman.user.as_deref(), Some("10001:10001"));
    assert!(
        !docker
            .host_config
            .as_ref()
            .and_then(|host| host.tmpfs.as_ref())
            .is_some_and(|tmpfs| tmpfs.contains_key("/run")),
        "Docker leaves the image's /run, read-only"
    );
    let without_tmpfs = |body: &bollard::models::ContainerCreateBody| {
        let mut body = body.clone();
        if let Some(host) = body.host_config.as_mut() {
            host.tmpfs = None;
        }
        serde_json::to_value(body).expect("JSON")
    };
    assert_eq!(without_tmpfs(&docker), without_tmpfs(&podman));
}

#[test]
fn volume_paths_are_cleaned_as_docker_cleans_them() {
    for (given, clean) in [
        ("/data", "/data"),
        ("/data/", "/data"),
        ("//data", "/data"),
        ("/data/.", "/data"),
        ("/var//cache/./app/", "/var/cache/app"),
        ("/a/b/../c", "/a/c"),
        ("/..", "/"),
    ] {
        assert_eq!(clean_path(given), clean, "{given}");
    }
}
