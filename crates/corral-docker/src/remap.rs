//! What an engine does to a container's ids and limits, read from its
//! `info` answer when corral connects: how container uids map to the host's
//! ([`IdMap`]), and whether it can enforce the limits every job gets.
//!
//! Docker with `userns-remap` keeps its data under `DATA_ROOT/UID.GID`,
//! where `UID`/`GID` are the host ids container root becomes; the range's
//! length is the remapping user's entry in `/etc/subuid`. A rootless engine
//! (Docker or Podman) maps its own user's ids in a way `info` does not say.

use bollard::models::SystemInfo;
use corral_runtime::IdMap;

use crate::subids::{SubIds, range_length, range_refusal};

/// The engine's security options, each `key=value` on its own
/// (`name=seccomp,profile=default` is two).
fn security_options(info: &SystemInfo) -> Vec<&str> {
    info.security_options
        .iter()
        .flatten()
        .flat_map(|option| option.split(','))
        .collect()
}

/// A remapping engine's range when `/etc/subuid` does not say (Docker's
/// and Debian's default count).
const DEFAULT_RANGE: u32 = 65_536;

/// How the engine answering `info` maps container ids, given the host's
/// subordinate id files. The length is the shorter of the uid and gid
/// ranges: ids past it are mapped in neither.
pub fn id_map(info: &SystemInfo, subids: &SubIds) -> IdMap {
    let options = security_options(info);
    if options.contains(&"name=rootless") {
        return IdMap::Unknown;
    }
    if !options.contains(&"name=userns") {
        return IdMap::Identity;
    }
    let root_dir = info.docker_root_dir.as_deref().unwrap_or_default();
    let Some((uid, gid)) = root_dir
        .rsplit('/')
        .next()
        .and_then(|last| last.split_once('.'))
        .and_then(|(uid, gid)| Some((uid.parse::<u32>().ok()?, gid.parse::<u32>().ok()?)))
    else {
        // Remapped, but not in Docker's way: nothing can be handed over.
        return IdMap::Unknown;
    };
    let length = range_length(&subids.uids, uid)
        .unwrap_or(DEFAULT_RANGE)
        .min(range_length(&subids.gids, gid).unwrap_or(DEFAULT_RANGE));
    IdMap::Shifted {
        first_uid: uid,
        first_gid: gid,
        length,
    }
}

/// Why no job may run on this engine because a limit would not hold (a
/// rootless engine on cgroup v1 sets none), or `None`. `swap_in_use`: the
/// host has swap, so a memory limit without a swap limit leaks.
pub fn limits_refusal(info: &SystemInfo, swap_in_use: bool) -> Option<String> {
    let mut missing = Vec::new();
    let cannot = |flag: Option<bool>| flag == Some(false);
    if cannot(info.memory_limit) {
        missing.push("memory");
    }
    if cannot(info.pids_limit) {
        missing.push("pids");
    }
    if cannot(info.cpu_shares) {
        missing.push("CPU shares");
    }
    if swap_in_use && cannot(info.swap_limit) {
        missing.push("swap (this host has swap)");
    }
    if missing.is_empty() {
        return None;
    }
    let cgroups = info
        .cgroup_version
        .as_ref()
        .map_or_else(String::new, |version| {
            format!(
                " (cgroup v{version}, driver {})",
                info.cgroup_driver
                    .as_ref()
                    .map_or_else(|| "unknown".to_owned(), ToString::to_string)
            )
        });
    let missing = missing.join(", ");
    Some(if security_options(info).contains(&"name=rootless") {
        // Rootless Docker on cgroup v1 runs with the cgroup driver `none`.
        format!(
            "this Docker is rootless{cgroups} and cannot limit {missing}; corral runs no job without its limits: run Docker rootful, or rootless on cgroup v2 with the controllers delegated"
        )
    } else {
        format!(
            "this engine cannot limit {missing}{cgroups}; corral runs no job without its limits (a rootless engine needs cgroup v2 with delegation)"
        )
    })
}

/// What a connection to the engine answering `info` must know of its ids
/// and limits: how it maps ids, or why no job may run on it (a limit it
/// cannot set, or a range it cannot use safely).
pub fn connect_check(info: &SystemInfo) -> Result<IdMap, String> {
    if let Some(refusal) = limits_refusal(info, host_swap_in_use()) {
        return Err(refusal);
    }
    let subids = SubIds::read();
    let map = id_map(info, &subids);
    range_refusal(map, &subids).map_or(Ok(map), Err)
}

/// Whether the host has any swap device or file in use (`/proc/swaps`
/// lists more than its header).
pub fn host_swap_in_use() -> bool {
    std::fs::read_to_string("/proc/swaps").is_ok_and(|swaps| swaps.lines().count() > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(options: &[&str], root: &str) -> SystemInfo {
        SystemInfo {
            security_options: Some(options.iter().map(|&o| o.to_owned()).collect()),
            docker_root_dir: Some(root.to_owned()),
            ..SystemInfo::default()
        }
    }

    #[test]
    fn a_remapping_docker_is_read_from_its_data_root_and_subuid() {
        let remapped = info(
            &["name=seccomp,profile=default", "name=userns"],
            "/var/lib/docker/231072.231073",
        );
        let subids = SubIds {
            uids: "alice:100000:65536\ndockremap:231072:40960\n".into(),
            gids: "alice:100000:65536\ndockremap:231073:20480\n".into(),
        };
        assert_eq!(
            id_map(&remapped, &subids),
            IdMap::Shifted {
                first_uid: 231_072,
                first_gid: 231_073,
                length: 20480
            }
        );
        // No entry: Docker's default count.
        assert_eq!(
            id_map(&remapped, &SubIds::default()),
            IdMap::Shifted {
                first_uid: 231_072,
                first_gid: 231_073,
                length: DEFAULT_RANGE
            }
        );
    }

    #[test]
    fn plain_rootless_and_unreadable_remapping_are_told_apart() {
        let plain = info(&["name=seccomp,profile=default"], "/var/lib/docker");
        assert_eq!(id_map(&plain, &SubIds::default()), IdMap::Identity);
        let rootless = info(
            &["name=seccomp,profile=default", "name=rootless"],
            "/home/u/.local/share/docker",
        );
        assert_eq!(id_map(&rootless, &SubIds::default()), IdMap::Unknown);
        // Podman says rootless inside one option string.
        let podman = info(&["name=rootless,name=seccomp"], "/x");
        assert_eq!(id_map(&podman, &SubIds::default()), IdMap::Unknown);
        let odd = info(&["name=userns"], "/var/lib/docker");
        assert_eq!(id_map(&odd, &SubIds::default()), IdMap::Unknown);
    }

    #[test]
    fn an_engine_that_cannot_limit_is_refused_naming_what() {
        let able = SystemInfo {
            memory_limit: Some(true),
            pids_limit: Some(true),
            cpu_shares: Some(true),
            swap_limit: Some(false),
            ..SystemInfo::default()
        };
        assert_eq!(limits_refusal(&able, false), None);
        let refused = limits_refusal(&able, true).expect("swap leaks");
        assert!(refused.contains("swap"), "{refused}");
        let rootless_v1 = SystemInfo {
            memory_limit: Some(false),
            pids_limit: Some(false),
            cpu_shares: Some(false),
            cgroup_version: Some(bollard::models::SystemInfoCgroupVersionEnum::_1),
            cgroup_driver: Some(bollard::models::SystemInfoCgroupDriverEnum::NONE),
            ..SystemInfo::default()
        };
        let refused = limits_refusal(&rootless_v1, false).expect("no limits");
        assert!(
            refused.contains("memory, pids, CPU shares") && refused.contains("cgroup v1"),
            "{refused}"
        );
        assert!(!refused.contains("rootless (cgroup"), "{refused}");
        // Rootless Docker 20.10 on cgroup v1 says so in its options.
        let named = SystemInfo {
            security_options: Some(vec![
                "name=seccomp,profile=default".into(),
                "name=rootless".into(),
            ]),
            ..rootless_v1
        };
        let refused = limits_refusal(&named, false).expect("no limits");
        assert!(
            refused.contains("rootless (cgroup v1, driver none)")
                && refused.contains("memory, pids, CPU shares"),
            "{refused}"
        );
        // An engine that does not say (older Podman) is not refused for it.
        assert_eq!(limits_refusal(&SystemInfo::default(), true), None);
    }
}
