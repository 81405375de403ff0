//! The rows of `corral verify`: each promise of the container profile,
//! judged from what the probe saw inside and what the engine reported.
//! Pure, so every row's failure can be shown without Docker.

use corral_proto::verify::{ContainerProfile, Observations, VerifyRow};

use super::row::{Expected, row, shown};

/// Every row, in a fixed order. `inside` is `None` when the probe printed
/// nothing usable, `profile` when the engine could not be asked.
pub fn judge(
    expected: &Expected<'_>,
    inside: Option<&Observations>,
    profile: Option<&ContainerProfile>,
) -> Vec<VerifyRow> {
    let none = Observations::default();
    let inside_or = inside.unwrap_or(&none);
    let empty = ContainerProfile::default();
    let outside = profile.unwrap_or(&empty);
    let seen = inside.is_some() && profile.is_some();
    let mut rows = vec![
        interfaces(inside_or, outside),
        read_only_root(inside_or, outside),
        not_root(inside_or, outside),
        no_capabilities(inside_or, outside),
        no_new_privileges(inside_or, outside),
        seccomp(inside_or, outside, expected.gvisor),
        super::limits::pids(inside_or, outside, expected),
        super::limits::memory(inside_or, outside, expected),
        super::limits::tmpfs(inside_or, outside, expected),
        super::host::no_engine_socket(inside_or, outside),
        super::host::own_paths_only(outside, expected),
        super::host::worker_binary(inside_or),
        super::host::worker_memory(inside_or, expected.gvisor),
        super::host::egress(inside_or, outside, expected),
    ];
    if !seen {
        for row in &mut rows {
            row.ok = false;
        }
        rows.insert(
            0,
            row(
                "the probe ran and was inspected",
                "the probe's observations and the container's profile",
                format!(
                    "observations: {}; profile: {}",
                    if inside.is_some() { "read" } else { "missing" },
                    if profile.is_some() { "read" } else { "missing" }
                ),
                false,
            ),
        );
    }
    rows
}

fn interfaces(inside: &Observations, outside: &ContainerProfile) -> VerifyRow {
    let ok = inside.interfaces == ["lo"] && outside.network_mode == "none";
    row(
        "no network: only the loopback interface",
        "interfaces [lo]; NetworkMode none",
        format!(
            "interfaces {:?}; NetworkMode {}",
            inside.interfaces, outside.network_mode
        ),
        ok,
    )
}

fn read_only_root(inside: &Observations, outside: &ContainerProfile) -> VerifyRow {
    let ok = inside.root_write != "ok"
        && !inside.root_write.is_empty()
        && inside.root_read_only == Some(true)
        && outside.readonly_rootfs;
    row(
        "the root filesystem is read-only",
        "a write to / fails; / mounted ro; ReadonlyRootfs true",
        format!(
            "write to /: {}; / mounted ro: {}; ReadonlyRootfs {}",
            inside.root_write,
            shown(inside.root_read_only),
            outside.readonly_rootfs
        ),
        ok,
    )
}

fn not_root(inside: &Observations, outside: &ContainerProfile) -> VerifyRow {
    let configured_uid = outside.user.split(':').next().unwrap_or_default();
    let ok = inside.uid != 0
        && !configured_uid.is_empty()
        && configured_uid != "0"
        && configured_uid != "root";
    row(
        "the job runs as a user other than root",
        "uid not 0; User not root",
        format!("uid {}; User {:?}", inside.uid, outside.user),
        ok,
    )
}

fn no_capabilities(inside: &Observations, outside: &ContainerProfile) -> VerifyRow {
    let sets = ["CapEff", "CapPrm", "CapBnd"];
    let all_zero = sets.iter().all(|name| {
        inside
            .capabilities
            .get(*name)
            .is_some_and(|value| !value.is_empty() && value.chars().all(|digit| digit == '0'))
    });
    // Docker reports the `ALL` it was given, Podman each capability it
    // dropped: either way a list, and the empty bounding set seen inside
    // (required above) says it was all of them.
    let dropped = !outside.cap_drop.is_empty() && outside.cap_add.is_empty() && !outside.privileged;
    let shown_sets: Vec<String> = sets
        .iter()
        .map(|name| {
            format!(
                "{name} {}",
                inside.capabilities.get(*name).map_or("?", String::as_str)
            )
        })
        .collect();
    row(
        "no capabilities (effective, permitted, bounding)",
        "CapEff, CapPrm, CapBnd all 0; CapDrop ALL (or, from Podman, every capability one by one), no CapAdd, not privileged",
        format!(
            "{}; CapDrop {:?}, CapAdd {:?}, Privileged {}",
            shown_sets.join(", "),
            outside.cap_drop,
            outside.cap_add,
            outside.privileged
        ),
        all_zero && dropped,
    )
}

fn no_new_privileges(inside: &Observations, outside: &ContainerProfile) -> VerifyRow {
    // gVisor shows no `NoNewPrivs` line; prctl answers under both.
    let status_ok = inside
        .no_new_privs
        .as_deref()
        .is_none_or(|value| value == "1");
    let ok = status_ok
        && inside.no_new_privs_prctl == Some(true)
        && outside
            .security_opt
            .iter()
            .any(|option| option.starts_with("no-new-privileges") && !option.ends_with("false"));
    row(
        "no new privileges (setuid binaries gain nothing)",
        "NoNewPrivs 1 (status line, or prctl where there is none); SecurityOpt no-new-privileges",
        format!(
            "NoNewPrivs {}; prctl {}; SecurityOpt {:?}",
            inside.no_new_privs.as_deref().unwrap_or("(no line)"),
            shown(inside.no_new_privs_prctl),
            outside.security_opt
        ),
        ok,
    )
}

fn seccomp(inside: &Observations, outside: &ContainerProfile, gvisor: bool) -> VerifyRow {
    let unconfined = outside
        .security_opt
        .iter()
        .any(|option| option.replace(':', "=") == "seccomp=unconfined");
    let filtered = inside.seccomp.as_deref() == Some("2");
    if gvisor {
        // Under gVisor the job's system calls reach gVisor's own kernel,
        // never the host's; the sandbox always runs under its own seccomp
        // filter on the host. What the job sees is gVisor's emulation of
        // Docker's profile (runsc --oci-seccomp).
        let ok = outside.runtime == corral_runtime::GVISOR_RUNTIME && !unconfined && filtered;
        return row(
            "system calls filtered (gVisor: served by its user-space kernel, Docker's profile applied inside)",
            "Runtime runsc; Seccomp 2 as gVisor shows it; no seccomp=unconfined",
            format!(
                "Runtime {}; Seccomp {}; kernel {}",
                outside.runtime,
                inside.seccomp.as_deref().unwrap_or("(no line)"),
                inside.kernel
            ),
            ok,
        );
    }
    row(
        "system calls filtered by seccomp",
        "Seccomp 2 (filter mode); no seccomp=unconfined",
        format!(
            "Seccomp {}; SecurityOpt {:?}",
            inside.seccomp.as_deref().unwrap_or("(no line)"),
            outside.security_opt
        ),
        filtered && !unconfined,
    )
}
