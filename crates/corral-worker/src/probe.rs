//! `corral-worker probe`: the sandbox self-test's eyes inside a container.
//!
//! Run as an exec job's command (so through the normal job path), it looks
//! at what the job's own processes get: interfaces, the root filesystem,
//! its ids and capabilities, seccomp, cgroup limits, `/tmp`, sockets, the
//! worker's binary and memory, and loopback connections. It prints one
//! [`Observations`] as JSON on stdout; the orchestrator judges it beside
//! `docker inspect`. It tries no address but the loopback ones it is given.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use corral_proto::verify::{Observations, PROBE_CONNECT_ARG};
use corral_proto::worker::{SOCKET_PATH, TOKEN_PATH, WORKER_PATH};

/// How long one loopback connect may take before it counts as refused.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Where an engine's socket would be if one were mounted in.
const ENGINE_SOCKETS: [&str; 5] = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/podman/podman.sock",
    "/var/run/crio/crio.sock",
];
/// Directories searched for stray sockets, and how deep.
const SOCKET_DIRS: [&str; 4] = ["/run", "/var/run", "/tmp", "/home"];
const SOCKET_DEPTH: usize = 4;

/// Runs the probe with the arguments after `probe`; returns the exit code.
pub fn run(args: &[String]) -> u8 {
    let targets = connect_targets(args);
    let observations = observe(&targets);
    match serde_json::to_string(&observations) {
        Ok(json) => {
            let mut stdout = std::io::stdout();
            if writeln!(stdout, "{json}")
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return crate::failure::EXIT_WORKER_FAILED;
            }
            0
        }
        Err(error) => {
            crate::failure::complain(&format!("cannot encode the observations: {error}"));
            crate::failure::EXIT_WORKER_FAILED
        }
    }
}

/// The `--connect ADDR:PORT` arguments that name a loopback address; any
/// other address is left out, never tried.
fn connect_targets(args: &[String]) -> Vec<SocketAddr> {
    args.windows(2)
        .filter(|pair| pair[0] == PROBE_CONNECT_ARG)
        .filter_map(|pair| pair[1].parse::<SocketAddr>().ok())
        .filter(|addr| addr.ip().is_loopback())
        .collect()
}

fn observe(targets: &[SocketAddr]) -> Observations {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| status_field(&status, name);
    let capabilities = ["CapEff", "CapPrm", "CapBnd"]
        .into_iter()
        .map(|name| (name.to_owned(), field(name).unwrap_or_default()))
        .collect();
    let worker_pid = find_worker();
    let proc_open = |leaf: &str| {
        worker_pid.map_or_else(
            || "no worker found".to_owned(),
            |pid| outcome(std::fs::File::open(format!("/proc/{pid}/{leaf}")).map(drop)),
        )
    };
    Observations {
        interfaces: interfaces(),
        root_write: outcome(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open("/.corral-probe")
                .map(drop),
        ),
        root_read_only: mount_entry("/")
            .map(|(_, options)| options.split(',').any(|option| option == "ro")),
        uid: rustix::process::getuid().as_raw(),
        capabilities,
        no_new_privs: field("NoNewPrivs"),
        no_new_privs_prctl: rustix::thread::no_new_privs().ok(),
        seccomp: field("Seccomp"),
        kernel: rustix::system::uname()
            .release()
            .to_string_lossy()
            .into_owned(),
        pids_max: read_first(&["/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max"]),
        memory_max: read_first(&[
            "/sys/fs/cgroup/memory.max",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        ]),
        tmp_fs_type: mount_entry("/tmp").map(|(kind, _)| kind),
        tmp_size: rustix::fs::statvfs("/tmp")
            .ok()
            .map(|stat| stat.f_blocks.saturating_mul(stat.f_frsize)),
        sockets: sockets(),
        worker_read: outcome(std::fs::File::open(WORKER_PATH).map(drop)),
        worker_write: outcome(
            std::fs::OpenOptions::new()
                .write(true)
                .open(WORKER_PATH)
                .map(drop),
        ),
        worker_pid,
        worker_mem: proc_open("mem"),
        worker_environ: proc_open("environ"),
        token_file_present: Path::new(TOKEN_PATH).exists(),
        connects: targets
            .iter()
            .map(|addr| {
                let tried = TcpStream::connect_timeout(addr, CONNECT_TIMEOUT).map(drop);
                (addr.to_string(), outcome(tried))
            })
            .collect::<BTreeMap<_, _>>(),
    }
}

/// `Name:\tvalue` of `/proc/self/status`.
fn status_field(status: &str, name: &str) -> Option<String> {
    status.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim().to_owned())
    })
}

/// The first of `paths` that can be read (cgroup v2's name, then v1's).
fn read_first(paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|path| {
        std::fs::read_to_string(path)
            .ok()
            .map(|text| text.trim().to_owned())
    })
}

fn interfaces() -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir("/sys/class/net") {
        Ok(entries) => entries
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => std::fs::read_to_string("/proc/net/dev")
            .unwrap_or_default()
            .lines()
            .skip(2)
            .filter_map(|line| Some(line.split_once(':')?.0.trim().to_owned()))
            .collect(),
    };
    names.sort();
    names
}

/// The filesystem type and options mounted at `path` in
/// `/proc/self/mounts`, the last mount winning (statvfs would not do: gVisor
/// leaves `ST_RDONLY` out of a read-only root).
fn mount_entry(path: &str) -> Option<(String, String)> {
    std::fs::read_to_string("/proc/self/mounts")
        .ok()?
        .lines()
        .rev()
        .find_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, target, kind) = (fields.next()?, fields.next()?, fields.next()?);
            let options = fields.next()?;
            (target == path).then(|| (kind.to_owned(), options.to_owned()))
        })
}

/// Engine sockets that exist, and any socket under the searched
/// directories but the job's own.
fn sockets() -> Vec<String> {
    let mut found: Vec<String> = ENGINE_SOCKETS
        .iter()
        .filter(|path| std::fs::symlink_metadata(path).is_ok())
        .map(|path| (*path).to_owned())
        .collect();
    for dir in SOCKET_DIRS {
        find_sockets(Path::new(dir), SOCKET_DEPTH, &mut found);
    }
    found.retain(|path| path != SOCKET_PATH);
    found.sort();
    found.dedup();
    found
}

fn find_sockets(dir: &Path, depth: usize, found: &mut Vec<String>) {
    use std::os::unix::fs::FileTypeExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_socket() {
            found.push(entry.path().to_string_lossy().into_owned());
        } else if kind.is_dir() && depth > 0 {
            find_sockets(&entry.path(), depth - 1, found);
        }
    }
}

/// The pid of the worker that runs this job: a process other than this
/// one whose command line starts with the worker's path.
fn find_worker() -> Option<u32> {
    let own = std::process::id();
    let entries = std::fs::read_dir("/proc").ok()?;
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own)
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                cmdline.split(|&byte| byte == 0).next() == Some(WORKER_PATH.as_bytes())
            })
        })
}

/// `ok`, or the errno's name.
fn outcome(result: std::io::Result<()>) -> String {
    match result {
        Ok(()) => "ok".to_owned(),
        Err(error) => error.raw_os_error().map_or_else(
            || format!("{:?}", error.kind()),
            |code| errno_name(code).map_or_else(|| format!("errno {code}"), str::to_owned),
        ),
    }
}

fn errno_name(code: i32) -> Option<&'static str> {
    use rustix::io::Errno;
    let errno = Errno::from_raw_os_error(code);
    [
        (Errno::ROFS, "EROFS"),
        (Errno::ACCESS, "EACCES"),
        (Errno::PERM, "EPERM"),
        (Errno::NOENT, "ENOENT"),
        (Errno::EXIST, "EEXIST"),
        (Errno::CONNREFUSED, "ECONNREFUSED"),
        (Errno::NETUNREACH, "ENETUNREACH"),
        (Errno::HOSTUNREACH, "EHOSTUNREACH"),
        (Errno::TIMEDOUT, "ETIMEDOUT"),
        (Errno::ADDRNOTAVAIL, "EADDRNOTAVAIL"),
        (Errno::AFNOSUPPORT, "EAFNOSUPPORT"),
        (Errno::TXTBSY, "ETXTBSY"),
    ]
    .into_iter()
    .find_map(|(known, name)| (known == errno).then_some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_ever_tried() {
        let args: Vec<String> = [
            "--connect",
            "127.0.0.1:9",
            "--connect",
            "10.0.0.1:80",
            "--connect",
            "[::1]:9",
            "--connect",
            "1.1.1.1:53",
        ]
        .map(str::to_owned)
        .to_vec();
        let targets: Vec<String> = connect_targets(&args)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(targets, ["127.0.0.1:9", "[::1]:9"]);
    }

    #[test]
    fn status_fields_are_read_by_exact_name() {
        let status = "CapAmb:\t0000000000000000\nCapEff:\t0000000000000000\nSeccomp:\t2\nSeccomp_filters:\t1\n";
        assert_eq!(status_field(status, "Seccomp").as_deref(), Some("2"));
        assert_eq!(
            status_field(status, "CapEff").as_deref(),
            Some("0000000000000000")
        );
        assert_eq!(status_field(status, "CapBnd"), None);
    }
}
