//! The rows on limits: pids, memory and tmpfs sizes, from `docker inspect`
//! and, where the container can read them, its own cgroup and mounts.

use corral_proto::verify::{ContainerProfile, Observations, VerifyRow};

use super::row::{Expected, HOME, row};

/// A tmpfs's size as `statvfs` reports it is the asked size rounded up to
/// whole pages.
const PAGE: u64 = 4096;

pub(super) fn pids(
    inside: &Observations,
    outside: &ContainerProfile,
    expected: &Expected<'_>,
) -> VerifyRow {
    let want = corral_runtime::host_pids_limit(expected.limits.pids, expected.gvisor);
    let inside_ok = inside
        .pids_max
        .as_deref()
        .is_none_or(|max| max == want.to_string());
    row(
        "a pids limit is in force",
        &format!("PidsLimit {want}; pids.max {want} where readable"),
        format!(
            "PidsLimit {}; pids.max {}",
            shown_number(outside.pids_limit),
            inside.pids_max.as_deref().unwrap_or("not readable inside")
        ),
        outside.pids_limit == Some(want) && inside_ok,
    )
}

pub(super) fn memory(
    inside: &Observations,
    outside: &ContainerProfile,
    expected: &Expected<'_>,
) -> VerifyRow {
    let want = i64::try_from(expected.limits.memory_bytes).unwrap_or(i64::MAX);
    let inside_ok = inside
        .memory_max
        .as_deref()
        .is_none_or(|max| max == want.to_string());
    row(
        "a memory limit is in force, with no swap beyond it",
        &format!("Memory {want} = MemorySwap; memory.max {want} where readable"),
        format!(
            "Memory {}, MemorySwap {}; memory.max {}",
            shown_number(outside.memory),
            shown_number(outside.memory_swap),
            inside
                .memory_max
                .as_deref()
                .unwrap_or("not readable inside")
        ),
        outside.memory == Some(want) && outside.memory_swap == Some(want) && inside_ok,
    )
}

pub(super) fn tmpfs(
    inside: &Observations,
    outside: &ContainerProfile,
    expected: &Expected<'_>,
) -> VerifyRow {
    let size = expected.limits.tmpfs_bytes;
    let sized = |path: &str| {
        outside.tmpfs.get(path).is_some_and(|options| {
            options
                .split(',')
                .any(|option| option == format!("size={size}"))
        })
    };
    let rounded = size.div_ceil(PAGE) * PAGE;
    let inside_ok = inside.tmp_fs_type.as_deref() == Some("tmpfs")
        && inside
            .tmp_size
            .is_some_and(|total| total > 0 && total <= rounded);
    row(
        "/tmp and the home directory are size-capped tmpfs",
        &format!("Tmpfs /tmp and {HOME} with size={size}; /tmp a tmpfs of at most that"),
        format!(
            "Tmpfs {:?}; /tmp {} of {} bytes",
            outside.tmpfs,
            inside.tmp_fs_type.as_deref().unwrap_or("?"),
            shown_number(inside.tmp_size)
        ),
        sized("/tmp") && sized(HOME) && inside_ok,
    )
}

fn shown_number<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "unset".to_owned(), |value| value.to_string())
}
