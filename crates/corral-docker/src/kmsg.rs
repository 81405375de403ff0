//! Whether the kernel's OOM killer struck inside a container, read from
//! the kernel log, which names the container's memory cgroup in its
//! `oom-kill:` record. Two engines leave it unsaid:
//! - Podman 4.3 on a cgroup v1 host never sets `OOMKilled` (nor sends an
//!   `oom` event): `oom_memcg=/libpod_parent/libpod-ID`, or
//!   `…/libpod-ID.scope` on v2.
//! - Docker sets `OOMKilled` when it hears containerd's `oom` event, which
//!   can come after the exit it answers a wait with: a container inspected
//!   at once may be killed (exit 137) with the flag not yet set.
//!   `oom_memcg=/docker/ID` (the cgroupfs driver) or
//!   `/system.slice/docker-ID.scope` (systemd's).
//!
//! Only root may read `/dev/kmsg`; when it cannot be read the answer is
//! "no", as before. A job cannot write there (containers get no
//! `/dev/kmsg` and no `CAP_SYSLOG`), so it cannot make another job look
//! killed; at most the ring buffer, overwritten by a flood of kernel
//! messages, loses the record.

use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;

use crate::spec::Dialect;

/// `O_NONBLOCK` on Linux (x86-64 and aarch64): a read past the last
/// record answers `EAGAIN` instead of waiting for the next one.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const O_NONBLOCK: i32 = 0o4000;
/// Longest record the kernel hands out in one read.
const RECORD: usize = 8192;

/// Exit code of a process killed by `SIGKILL`, as the OOM killer kills.
const KILLED: i64 = 137;

/// Whether the kernel log holds an OOM kill in the memory cgroup of the
/// container `container_id` (its full id), which exited with `exit_code`
/// and whose engine did not say it was killed: always asked on Podman,
/// which never says so on cgroup v1; on Docker only for a killed
/// container (the flag's race), so other exits cost no read of the log.
pub async fn oom_in_kernel_log(dialect: Dialect, container_id: &str, exit_code: i64) -> bool {
    if dialect == Dialect::Docker && exit_code != KILLED {
        return false;
    }
    let id = container_id.to_owned();
    tokio::task::spawn_blocking(move || read_for(dialect, &id))
        .await
        .unwrap_or(false)
}

/// [`oom_in_kernel_log`], reading the log here.
fn read_for(dialect: Dialect, container_id: &str) -> bool {
    let Ok(mut log) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open("/dev/kmsg")
    else {
        return false;
    };
    let mut record = vec![0; RECORD];
    loop {
        match log.read(&mut record) {
            Ok(0) => return false,
            Ok(read) => {
                if names_an_oom_kill_in(&record[..read], dialect, container_id) {
                    return true;
                }
            }
            // A record overwritten while read: go on with the next.
            Err(error) if error.raw_os_error() == Some(EPIPE) => {}
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// `EPIPE`: the record asked for was overwritten in the ring buffer.
const EPIPE: i32 = 32;

/// Whether one `/dev/kmsg` record is the OOM killer's, naming the memory
/// cgroup `dialect`'s engine made for container `id` as the one out of
/// memory.
fn names_an_oom_kill_in(record: &[u8], dialect: Dialect, id: &str) -> bool {
    let Ok(text) = std::str::from_utf8(record) else {
        return false;
    };
    // `PRI,SEQ,TIME,FLAGS;MESSAGE`, then continuation lines.
    let message = text.split_once(';').map_or("", |(_, message)| message);
    let Some(fields) = message.strip_prefix("oom-kill:") else {
        return false;
    };
    // Only the cgroups a rootful engine makes for the container: a user
    // with a delegated subtree could name one of its own after a job's id.
    let made = match dialect {
        Dialect::Podman => [
            format!("/libpod_parent/libpod-{id}"),
            format!("/machine.slice/libpod-{id}.scope"),
        ],
        Dialect::Docker => [
            format!("/docker/{id}"),
            format!("/system.slice/docker-{id}.scope"),
        ],
    };
    fields
        .split(',')
        .filter_map(|field| field.strip_prefix("oom_memcg="))
        .any(|memcg| {
            let memcg = memcg.lines().next().unwrap_or_default().trim_end();
            made.iter().any(|path| memcg == path)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "5558c068d881d26a34338e0b2251468f9c6c9161a906d02e79c714a69c2560eb";

    #[test]
    fn the_oom_killers_record_names_the_containers_memory_cgroup() {
        let podman = |record: &str| names_an_oom_kill_in(record.as_bytes(), Dialect::Podman, ID);
        let v1 = format!(
            "6,52931,47500438640,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=libpod-{ID},mems_allowed=0,oom_memcg=/libpod_parent/libpod-{ID},task_memcg=/libpod_parent/libpod-{ID},task=sh,pid=31862,uid=0\n"
        );
        assert!(podman(&v1));
        let v2 = format!(
            "6,1,2,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/machine.slice/libpod-{ID}.scope,task=sh\n"
        );
        assert!(podman(&v2));
        // Another container, one whose id merely starts alike, a record
        // that is not the OOM killer's, the task's cgroup only.
        let other = v1.replace(ID, &ID.replace('5', "6"));
        assert!(!podman(&other));
        let longer = v1.replace(ID, &format!("{ID}0"));
        assert!(!podman(&longer));
        let elsewhere = v2.replace("/machine.slice/", "/user.slice/user-1000.slice/x/");
        assert!(!podman(&elsewhere));
        let mention = format!("6,3,4,-;Memory cgroup out of memory: libpod-{ID}\n");
        assert!(!podman(&mention));
        let task_only = format!(
            "6,1,2,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/libpod_parent,task_memcg=/libpod_parent/libpod-{ID}\n"
        );
        assert!(!podman(&task_only));
    }

    /// Docker's records (its two cgroup drivers), as this host's kernel
    /// writes them; each engine's cgroup names only its own containers.
    #[test]
    fn a_docker_containers_oom_kill_is_read_from_its_own_cgroup() {
        let docker = |record: &str| names_an_oom_kill_in(record.as_bytes(), Dialect::Docker, ID);
        let podman = |record: &str| names_an_oom_kill_in(record.as_bytes(), Dialect::Podman, ID);
        let cgroupfs = format!(
            "6,812,15160196959,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset={ID},mems_allowed=0,oom_memcg=/docker/{ID},task_memcg=/docker/{ID},task=tail,pid=7797,uid=110001\n"
        );
        assert!(docker(&cgroupfs));
        let systemd = format!(
            "6,1,2,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/system.slice/docker-{ID}.scope,task=sh\n"
        );
        assert!(docker(&systemd));
        assert!(!podman(&cgroupfs));
        let libpod = format!("6,1,2,-;oom-kill:oom_memcg=/libpod_parent/libpod-{ID},task=sh\n");
        assert!(!docker(&libpod));
        let nested = cgroupfs.replace("oom_memcg=/docker/", "oom_memcg=/user/docker/");
        assert!(!docker(&nested));
    }
}
