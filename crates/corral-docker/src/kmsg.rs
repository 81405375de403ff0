//! Whether the kernel's OOM killer struck inside a container, read from
//! the kernel log, which names the container's memory cgroup in its
//! `oom-kill:` record. Two engines leave it unsaid:
//! - Podman 4.3 on a cgroup v1 host never sets `OOMKilled` (nor sends an
//!   `oom` event): `oom_memcg=/libpod_parent/libpod-ID`, or
//!   `…/libpod-ID.scope` on v2.
//! - Docker sets `OOMKilled` when it hears containerd's `oom` event, which
//!   can come after the exit it answers a wait with: a container inspected
//!   at once may have been killed (exit 137), or have had a child killed
//!   (any exit), with the flag not yet set. `oom_memcg=/docker/ID` (the
//!   cgroupfs driver) or `/system.slice/docker-ID.scope` (systemd's).
//!
//! Where the engine may have said nothing (Podman always, a Docker
//! container killed with exit 137), the whole log is read at the exit.
//! Any other Docker exit (a child killed while the job went on) is looked
//! up only in what was logged since its wait began ([`Tail::now`]), so
//! the look costs what the kernel logged meanwhile; a kill before that
//! (between the start and the wait, or before a restart) is then Docker's
//! flag's alone to tell.
//!
//! Only root may read `/dev/kmsg`; when it cannot be read the answer is
//! "no", as before. Only the kernel's own records count: one written to
//! `/dev/kmsg` from user space is filed under the user facility, whatever
//! it claims. A job cannot write there anyway (containers get no
//! `/dev/kmsg` and no `CAP_SYSLOG`), so it cannot make another job look
//! killed. It can keep the record from being written, though: the kernel
//! writes its OOM report only ten times in five seconds, host-wide, so a
//! job that has its own children killed in a loop silences the reports of
//! other containers' kills meanwhile (they fall back on the engine's flag,
//! on Podman none); a flood of kernel messages can also overwrite one.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
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

/// The kernel log from where it ended when this was taken: only what is
/// logged after is read through it.
#[derive(Debug)]
pub struct Tail(File);

impl Tail {
    /// The log's end now; `None` when the log cannot be read.
    pub fn now() -> Option<Self> {
        let mut log = open()?;
        log.seek(SeekFrom::End(0)).ok()?;
        Some(Self(log))
    }
}

/// Whether the kernel log holds an OOM kill in the memory cgroup of the
/// container `container_id` (its full id), which exited with `exit_code`
/// and whose engine did not say it was killed: the whole log on Podman,
/// which never says so on cgroup v1, and for a killed Docker container;
/// for any other Docker exit, what was logged `since` its wait began.
pub async fn oom_in_kernel_log(
    dialect: Dialect,
    container_id: &str,
    exit_code: i64,
    since: Option<Tail>,
) -> bool {
    let whole = dialect == Dialect::Podman || exit_code == KILLED;
    let log = match (whole, since) {
        (true, _) => open(),
        (false, since) => since.map(|Tail(log)| log),
    };
    let Some(log) = log else {
        return false;
    };
    let id = container_id.to_owned();
    tokio::task::spawn_blocking(move || {
        any_record(log, |record| names_an_oom_kill_in(record, dialect, &id))
    })
    .await
    .unwrap_or(false)
}

/// The kernel log, read without waiting, from its first record kept.
fn open() -> Option<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open("/dev/kmsg")
        .ok()
}

/// Whether a record of `log`, from where it stands to the end, `matches`.
fn any_record(mut log: File, mut matches: impl FnMut(&[u8]) -> bool) -> bool {
    let mut record = vec![0; RECORD];
    loop {
        match log.read(&mut record) {
            Ok(0) => return false,
            Ok(read) => {
                if matches(&record[..read]) {
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
    // `PRI,SEQ,TIME,FLAGS;MESSAGE`, then continuation lines. PRI is the
    // facility times 8 plus the level: the kernel's own are below 8.
    let Some((prefix, message)) = text.split_once(';') else {
        return false;
    };
    let from_the_kernel = prefix
        .split(',')
        .next()
        .and_then(|priority| priority.parse::<u32>().ok())
        .is_some_and(|priority| priority < 8);
    if !from_the_kernel {
        return false;
    }
    // The kernel's line starts so (longer than a task's name, which some
    // messages start with).
    let Some(fields) = message.strip_prefix("oom-kill:constraint=") else {
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
    // The first such field only: the kernel prints it before the task's
    // own cgroup, whose path a nested cgroup's name could fill with one.
    fields
        .split(',')
        .find_map(|field| field.strip_prefix("oom_memcg="))
        .is_some_and(|memcg| {
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
        let libpod = format!(
            "6,1,2,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/libpod_parent/libpod-{ID},task=sh\n"
        );
        assert!(!docker(&libpod));
        let nested = cgroupfs.replace("oom_memcg=/docker/", "oom_memcg=/user/docker/");
        assert!(!docker(&nested));
        // Written to `/dev/kmsg` from user space: filed under the user
        // facility (8 and up), whatever its text says.
        assert!(!docker(&cgroupfs.replacen("6,", "14,", 1)));
        assert!(!docker(&cgroupfs.replacen("6,", "8,", 1)));
        assert!(docker(&cgroupfs.replacen("6,", "0,", 1)));
        assert!(!docker(&cgroupfs.replacen("6,", ",", 1)));
        assert!(!docker(&cgroupfs.replacen(';', ":", 1)));
        // Only the first `oom_memcg`: a nested cgroup named to hold a
        // second one in the task's path names no other container.
        let other = ID.replace('5', "6");
        let injected = format!(
            "6,1,2,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/docker/{other},task_memcg=/docker/{other}/a,oom_memcg=/docker/{ID},task=sh\n"
        );
        assert!(!docker(&injected));
        // A message that starts with a task's name (`oom-kill:` can be
        // one) is not the OOM killer's line.
        assert!(!docker(&format!(
            "6,1,2,-;oom-kill: segfault at 0 in x,oom_memcg=/docker/{ID}\n"
        )));
    }

    /// A tail reads what is logged after it was taken, and nothing from
    /// before. Two records are written to the kernel log: like the other
    /// kernel-log test, this needs root (the tests run as root).
    #[test]
    fn a_tail_reads_only_what_came_after_it() {
        let marker = format!("corral kmsg test {}", std::process::id());
        let write = |text: &str| {
            std::fs::write("/dev/kmsg", format!("{text}\n"))
                .expect("root writes to /dev/kmsg (the tests run as root)");
        };
        let before = format!("{marker}: before");
        let after = format!("{marker}: after");
        write(&before);
        let tail = Tail::now().expect("root reads /dev/kmsg");
        write(&after);
        let holds = |log: File, text: &str| {
            any_record(log, |record| String::from_utf8_lossy(record).contains(text))
        };
        assert!(holds(tail.0, &after));
        let tail = Tail::now().expect("root reads /dev/kmsg");
        write(&after);
        assert!(!holds(tail.0, &before));
        let whole = open().expect("root reads /dev/kmsg");
        assert!(holds(whole, &before), "the whole log holds both");
    }

    /// An OOM killer's line written to `/dev/kmsg` from user space, at the
    /// kernel's own priority, arrives under the user facility and counts
    /// for nothing; the same text as the kernel files it would.
    #[test]
    fn an_oom_record_written_from_user_space_counts_for_nothing() {
        let line = format!(
            "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset={ID},mems_allowed=0,oom_memcg=/docker/{ID},task_memcg=/docker/{ID},task=tail,pid=1,uid=0"
        );
        let tail = Tail::now().expect("root reads /dev/kmsg");
        std::fs::write("/dev/kmsg", format!("<6>{line}\n")).expect("root writes to /dev/kmsg");
        let mut seen = Vec::new();
        let found = any_record(tail.0, |record| {
            if String::from_utf8_lossy(record).contains(&line) {
                seen.push(String::from_utf8_lossy(record).into_owned());
            }
            names_an_oom_kill_in(record, Dialect::Docker, ID)
        });
        assert!(!found, "{seen:?}");
        assert_eq!(seen.len(), 1, "the record was written and read back");
        assert!(seen[0].starts_with("14,"), "{seen:?}");
        let as_the_kernel_files_it = seen[0].replacen("14,", "6,", 1);
        assert!(names_an_oom_kill_in(
            as_the_kernel_files_it.as_bytes(),
            Dialect::Docker,
            ID
        ));
    }
}
