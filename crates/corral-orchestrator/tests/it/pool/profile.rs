//! A container's profile as pooled and cold containers must share it,
//! read from either engine's inspect.

use corral_runtime::{LABEL_JOB, LABEL_POOL};
use serde_json::{Value, json};

/// Everything in a container's profile that must not depend on whether it
/// came from the pool: host config, user, environment, entrypoint, image,
/// mounts (their targets and modes) and its labels but the job's own.
pub fn profile(inspected: &bollard::models::ContainerInspectResponse) -> Value {
    let mut host = serde_json::to_value(inspected.host_config.clone()).expect("host json");
    let socket_dir = "<the job's socket directory>";
    // Docker lists the job's mounts in `Mounts`, Podman as `Binds`.
    for mount in host["Mounts"].as_array_mut().into_iter().flatten() {
        if mount["Target"] == "/run/corral" {
            mount["Source"] = json!(socket_dir);
        }
    }
    for bind in host["Binds"].as_array_mut().into_iter().flatten() {
        if let Some((_, target)) = bind
            .as_str()
            .and_then(|bind| bind.split_once(":/run/corral:"))
        {
            *bind = json!(format!("{socket_dir}:/run/corral:{target}"));
        }
    }
    assert!(
        host["Mounts"].is_array() || host["Binds"].is_array(),
        "no mounts: {host}"
    );
    // Podman's seccomp profile is a file each server writes for itself.
    for option in host["SecurityOpt"].as_array_mut().into_iter().flatten() {
        if option
            .as_str()
            .is_some_and(|option| option.starts_with("seccomp=/"))
        {
            *option = json!("seccomp=<corral's profile for Podman>");
        }
    }
    let config = inspected.config.clone().expect("config");
    // Podman adds the container's own HOSTNAME to its environment.
    let mut env = config.env.clone().unwrap_or_default();
    env.retain(|variable| !variable.starts_with("HOSTNAME="));
    env.sort();
    let mut labels = config.labels.unwrap_or_default();
    labels.remove(LABEL_JOB);
    labels.remove(LABEL_POOL);
    json!({
        "host": host,
        "user": config.user,
        "env": env,
        "entrypoint": config.entrypoint,
        "cmd": config.cmd,
        "image": config.image,
        "working_dir": config.working_dir,
        "labels": labels,
    })
}
