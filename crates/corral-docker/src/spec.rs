//! The container profile of DESIGN.md as one pure function of the job.
//!
//! Every security setting a job container gets is decided here and nowhere
//! else, so it can be read in one place and tested without Docker.

use std::collections::HashMap;
use std::path::Path;

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountTypeEnum};
use corral_proto::worker::{JOB_HOME, SOCKET_DIR, WORKER_PATH, WORKSPACE};

use corral_runtime::{
    GVISOR_RUNTIME, LABEL_INSTANCE, LABEL_JOB, LABEL_POOL, SandboxRequest, host_pids_limit,
};

/// Where an engine's create body differs from Docker's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Docker's own engine.
    #[default]
    Docker,
    /// Podman's Docker-compatible service: a tmpfs takes no `uid=`/`gid=`
    /// (4.3 refuses them), so an owned tmpfs says `U` instead, which
    /// mounts it owned by the container's user — the same uid and gid;
    /// and its own writable tmpfs under a read-only root are covered (see
    /// `tmpfs_of`).
    Podman,
}

/// Where Podman mounts a writable tmpfs of its own under a read-only root.
const PODMAN_WRITABLE: &[&str] = &["/run", "/var/tmp"];

/// The Docker create body for a job's container, as `dialect` takes it;
/// `seccomp` is a profile file the engine must be given instead of its
/// own default (Podman's, tightened: see `seccomp`).
pub fn container_spec(
    request: &SandboxRequest,
    dialect: Dialect,
    seccomp: Option<&Path>,
) -> ContainerCreateBody {
    let job = &request.job;
    let limits = &job.limits;
    let gvisor = job.isolation_level == corral_proto::IsolationLevel::Gvisor;
    let memory = i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX);
    let (uid, gid) = (request.user.uid, request.user.gid);
    let mut mounts = vec![
        bind(&request.socket_dir.to_string_lossy(), SOCKET_DIR, true),
        bind(&request.worker_bin.to_string_lossy(), WORKER_PATH, true),
    ];
    let bound = request.project_source.as_deref();
    if let Some(source) = bound {
        mounts.push(bind(&source.to_string_lossy(), WORKSPACE, false));
    }
    let tmpfs = tmpfs_of(request, dialect, &mounts);
    let mut labels = HashMap::from([
        (LABEL_JOB.to_owned(), job.id.clone()),
        (LABEL_INSTANCE.to_owned(), request.instance_id.clone()),
    ]);
    if request.pooled {
        labels.insert(LABEL_POOL.to_owned(), "1".to_owned());
    }
    ContainerCreateBody {
        image: Some(job.image.clone()),
        entrypoint: Some(vec![WORKER_PATH.to_owned()]),
        cmd: Some(Vec::new()),
        user: Some(format!("{uid}:{gid}")),
        // Nothing job-specific: a warm-pool container is made before its
        // job is known, and must not differ from a cold one (the worker
        // gives the job's processes `CORRAL_JOB_ID`).
        env: Some(vec![format!("HOME={JOB_HOME}")]),
        working_dir: bound.map(|_| WORKSPACE.to_owned()),
        labels: Some(labels),
        network_disabled: Some(true),
        attach_stdin: Some(false),
        open_stdin: Some(false),
        tty: Some(false),
        host_config: Some(HostConfig {
            network_mode: Some("none".to_owned()),
            readonly_rootfs: Some(true),
            tmpfs: Some(tmpfs),
            cap_drop: Some(vec!["ALL".to_owned()]),
            security_opt: Some(
                std::iter::once("no-new-privileges".to_owned())
                    .chain(seccomp.map(crate::seccomp::security_opt))
                    .collect(),
            ),
            privileged: Some(false),
            pids_limit: Some(host_pids_limit(limits.pids, gvisor)),
            memory: Some(memory),
            memory_swap: Some(memory),
            cpu_shares: Some(limits.cpu_shares),
            init: Some(true),
            ipc_mode: Some("private".to_owned()),
            mounts: Some(mounts),
            runtime: if gvisor {
                Some(GVISOR_RUNTIME.to_owned())
            } else {
                request.oci_runtime.clone()
            },
            auto_remove: Some(false),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    }
}

/// Every tmpfs of the job's container: `/tmp` and the home directory,
/// `/workspace` when no project is bound, one per image `VOLUME` not
/// covered by a mount of the job's, and on Podman the paths it would mount
/// writable itself. `noexec` is said, not left to the engine's default.
fn tmpfs_of(
    request: &SandboxRequest,
    dialect: Dialect,
    mounts: &[Mount],
) -> HashMap<String, String> {
    let tmpfs_size = request.job.limits.tmpfs_bytes;
    let (uid, gid) = (request.user.uid, request.user.gid);
    // A tmpfs owned by the job's user, in the engine's words.
    let owned = match dialect {
        Dialect::Docker => format!("uid={uid},gid={gid}"),
        Dialect::Podman => "U".to_owned(),
    };
    let bound = request.project_source.as_deref();
    let mut tmpfs = HashMap::from([
        (
            "/tmp".to_owned(),
            format!("rw,noexec,nosuid,nodev,size={tmpfs_size},mode=1777"),
        ),
        (
            JOB_HOME.to_owned(),
            format!("rw,noexec,nosuid,nodev,size={tmpfs_size},{owned},mode=0700"),
        ),
    ]);
    if dialect == Dialect::Podman {
        // With a read-only root Podman mounts a tmpfs of its own, writable,
        // executable and uncapped, on each of these; Docker leaves them the
        // image's, read-only. Small, root's and `noexec`: the job cannot
        // write there, as under Docker.
        for path in PODMAN_WRITABLE {
            tmpfs.insert(
                (*path).to_owned(),
                "rw,nosuid,nodev,noexec,size=65536,mode=0755".to_owned(),
            );
        }
    }
    if bound.is_none() {
        // Scratch space, where a copy-mode job's project is unpacked: every
        // job without a bound project has it, so a warm-pool container
        // serves either. `exec`, as a bound project is: projects hold
        // scripts and build their own binaries (Docker's tmpfs default is
        // `noexec`, kept for `/tmp` and the home directory).
        tmpfs.insert(
            WORKSPACE.to_owned(),
            format!("rw,exec,nosuid,nodev,size={tmpfs_size},{owned},mode=0700"),
        );
    }
    // An image's `VOLUME` would be a directory on the host's disk with no
    // cap: each gets a tmpfs of the job's size instead (unless a mount of
    // the job's own already covers the path).
    for volume in &request.image_volumes {
        let covered = tmpfs.contains_key(volume)
            || mounts
                .iter()
                .any(|mount| mount.target.as_deref() == Some(volume.as_str()));
        if volume.starts_with('/') && !covered {
            tmpfs.insert(
                volume.clone(),
                format!("rw,noexec,nosuid,nodev,size={tmpfs_size},{owned},mode=0700"),
            );
        }
    }
    tmpfs
}

fn bind(source: &str, target: &str, read_only: bool) -> Mount {
    Mount {
        source: Some(source.to_owned()),
        target: Some(target.to_owned()),
        typ: Some(MountTypeEnum::BIND),
        read_only: Some(read_only),
        ..Mount::default()
    }
}

#[cfg(test)]
mod tests;

/// `path` as Docker cleans a mount path (no empty, `.` or `..` parts), so
/// a tmpfs for `VOLUME /data/` covers the volume Docker calls `/data`.
pub(crate) fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    if path.starts_with('/') {
        format!("/{}", parts.join("/"))
    } else {
        parts.join("/")
    }
}
