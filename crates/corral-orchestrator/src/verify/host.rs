//! The rows on what of the host a job reaches: engine sockets, host paths,
//! the worker's binary and memory, and the network beyond loopback.

use std::path::Path;

use corral_proto::verify::{ContainerProfile, Observations, VerifyRow};
use corral_proto::worker::{SOCKET_DIR, WORKER_PATH};

use super::row::{Expected, row};

pub(super) fn no_engine_socket(inside: &Observations, outside: &ContainerProfile) -> VerifyRow {
    let mounted: Vec<&str> = outside
        .mounts
        .iter()
        .flat_map(|mount| [mount.source.as_str(), mount.destination.as_str()])
        .filter(|path| {
            Path::new(path)
                .extension()
                .is_some_and(|extension| extension.eq_ignore_ascii_case("sock"))
                || path.to_ascii_lowercase().contains("docker")
        })
        .collect();
    row(
        "no Docker (or other engine) socket in the container",
        "no socket found inside but the job's own; none mounted",
        format!("found inside {:?}; mounted {mounted:?}", inside.sockets),
        inside.sockets.is_empty() && mounted.is_empty(),
    )
}

pub(super) fn own_paths_only(outside: &ContainerProfile, expected: &Expected<'_>) -> VerifyRow {
    let under_data_dir = |source: &str| {
        expected
            .data_dirs
            .iter()
            .any(|dir| Path::new(source).starts_with(dir))
    };
    let same_file = |source: &str| {
        Path::new(source) == expected.worker_bin
            || Path::new(source)
                .canonicalize()
                .is_ok_and(|path| expected.worker_bin.canonicalize().ok() == Some(path))
    };
    let stray: Vec<String> = outside
        .mounts
        .iter()
        .filter(|mount| {
            let own = mount.kind == "bind"
                && !mount.read_write
                && ((mount.destination == WORKER_PATH && same_file(&mount.source))
                    || (mount.destination == SOCKET_DIR && under_data_dir(&mount.source)));
            !own
        })
        .map(|mount| {
            format!(
                "{} {} -> {} ({})",
                mount.kind,
                mount.source,
                mount.destination,
                if mount.read_write { "rw" } else { "ro" }
            )
        })
        .collect();
    row(
        "no host path mounted but the job's own",
        "only the worker binary and the job's socket directory, both read-only (a project at /workspace when the job has one)",
        if stray.is_empty() {
            format!("{} own mounts, nothing else", outside.mounts.len())
        } else {
            format!("also mounted: {}", stray.join("; "))
        },
        stray.is_empty() && !outside.mounts.is_empty(),
    )
}

pub(super) fn worker_binary(inside: &Observations) -> VerifyRow {
    let ok = !inside.worker_write.is_empty() && inside.worker_write != "ok";
    row(
        "the job cannot change the worker's binary",
        "opening it for writing fails (reading it is allowed: it is public code and holds no secret)",
        format!(
            "write: {}; read: {}",
            inside.worker_write, inside.worker_read
        ),
        ok,
    )
}

pub(super) fn worker_memory(inside: &Observations, gvisor: bool) -> VerifyRow {
    let closed = |outcome: &str| !outcome.is_empty() && outcome != "ok";
    // gVisor refuses the non-dumpable worker's memory but not its
    // environment; the worker keeps nothing there (its token is read from
    // a file, credentials go to its children only), so only its memory
    // and the token file decide the row there.
    let environ_ok = closed(&inside.worker_environ) || gvisor;
    let ok = inside.worker_pid.is_some()
        && closed(&inside.worker_mem)
        && environ_ok
        && !inside.token_file_present;
    let environ_note = if gvisor && !closed(&inside.worker_environ) {
        " (gVisor does not guard it; it holds no secret)"
    } else {
        ""
    };
    row(
        "the job cannot read the worker's memory or its token",
        "the worker's /proc/PID/mem refused, and its environ (but under gVisor, where it holds no secret); the token file gone",
        format!(
            "worker pid {}: mem {}, environ {}{environ_note}; token file {}",
            inside
                .worker_pid
                .map_or_else(|| "not found".to_owned(), |pid| pid.to_string()),
            inside.worker_mem,
            inside.worker_environ,
            if inside.token_file_present {
                "present"
            } else {
                "gone"
            }
        ),
        ok,
    )
}

pub(super) fn egress(
    inside: &Observations,
    outside: &ContainerProfile,
    expected: &Expected<'_>,
) -> VerifyRow {
    let refused = !inside.connects.is_empty()
        && inside
            .connects
            .values()
            .all(|outcome| !outcome.is_empty() && outcome != "ok");
    let ok = expected.no_egress
        && refused
        && expected.host_connections == 0
        && outside.network_mode == "none";
    row(
        "egress refused without an allowlist",
        "every loopback connect fails (a host listener and the egress relay's port); the host listener accepted nothing",
        format!(
            "{}; host listener accepted {}",
            inside
                .connects
                .iter()
                .map(|(addr, outcome)| format!("{addr}: {outcome}"))
                .collect::<Vec<_>>()
                .join(", "),
            expected.host_connections
        ),
        ok,
    )
}
