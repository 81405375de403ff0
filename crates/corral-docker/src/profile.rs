//! A container's security profile as the engine reports it back, for each
//! job's first `running` status event and for `corral verify`: evidence of
//! what is in force, not of what corral asked for.

use bollard::models::ContainerInspectResponse;
use corral_proto::verify::{ContainerProfile, ProfileMount};

/// The profile in `inspected` (a `docker inspect` of a job's container).
pub fn profile_of(inspected: &ContainerInspectResponse) -> ContainerProfile {
    let host = inspected.host_config.clone().unwrap_or_default();
    let user = inspected
        .config
        .as_ref()
        .and_then(|config| config.user.clone())
        .unwrap_or_default();
    ContainerProfile {
        readonly_rootfs: host.readonly_rootfs.unwrap_or(false),
        network_mode: host.network_mode.unwrap_or_default(),
        user,
        cap_drop: host.cap_drop.unwrap_or_default(),
        cap_add: host.cap_add.unwrap_or_default(),
        security_opt: host.security_opt.unwrap_or_default(),
        privileged: host.privileged.unwrap_or(false),
        pids_limit: host.pids_limit,
        memory: host.memory,
        memory_swap: host.memory_swap,
        tmpfs: host.tmpfs.unwrap_or_default().into_iter().collect(),
        // Docker leaves it empty for its default runtime.
        runtime: host.runtime.unwrap_or_else(|| "runc".to_owned()),
        mounts: inspected
            .mounts
            .iter()
            .flatten()
            .map(|mount| ProfileMount {
                kind: mount.typ.map(|kind| kind.to_string()).unwrap_or_default(),
                source: mount.source.clone().unwrap_or_default(),
                destination: mount.destination.clone().unwrap_or_default(),
                read_write: mount.rw.unwrap_or(true),
            })
            .collect(),
    }
}
