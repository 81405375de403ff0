//! What Podman says only through its own API (`/libpod/info`): whether it
//! runs rootless, its cgroup version and the controllers it may use. Its
//! Docker-compatible `info` says neither truthfully: a rootless Podman on a
//! cgroup v1 host answers that it can limit memory, pids and CPU (it sets
//! none of them) and names no `rootless` security option.

use std::path::Path;
use std::time::Duration;

use corral_runtime::{IdMap, RuntimeError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest answer read (the whole `info` is a few kilobytes).
const MAX_ANSWER: u64 = 4 << 20;
/// How long Podman may take to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Podman's host, as `/libpod/info` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodmanHost {
    /// It runs as an unprivileged user.
    pub rootless: bool,
    /// `v1` or `v2`.
    pub cgroup_version: String,
    /// The cgroup controllers its containers may use (v2; empty on v1).
    pub controllers: Vec<String>,
}

/// Asks the Podman service on `socket` for its host (HTTP/1.0, closed by
/// the server after one answer).
pub async fn host(socket: &Path) -> Result<PodmanHost, String> {
    let ask = async {
        let mut stream = tokio::net::UnixStream::connect(socket)
            .await
            .map_err(|error| error.to_string())?;
        stream
            .write_all(b"GET /v4.0.0/libpod/info HTTP/1.0\r\nHost: podman\r\n\r\n")
            .await
            .map_err(|error| error.to_string())?;
        let mut answer = Vec::new();
        stream
            .take(MAX_ANSWER)
            .read_to_end(&mut answer)
            .await
            .map_err(|error| error.to_string())?;
        Ok::<_, String>(answer)
    };
    let answer = tokio::time::timeout(ANSWER_TIMEOUT, ask)
        .await
        .map_err(|_| "Podman did not describe its host in time".to_owned())??;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("Podman's /libpod/info answer has no body")?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        let status = head.lines().next().unwrap_or_default();
        return Err(format!("Podman's /libpod/info answered {status}"));
    }
    let info: serde_json::Value = serde_json::from_str(body)
        .map_err(|error| format!("Podman's /libpod/info is not JSON: {error}"))?;
    parse(&info)
}

/// The host from a `/libpod/info` answer.
pub fn parse(info: &serde_json::Value) -> Result<PodmanHost, String> {
    let host = &info["host"];
    let rootless = host["security"]["rootless"]
        .as_bool()
        .ok_or("Podman's /libpod/info does not say whether it is rootless")?;
    Ok(PodmanHost {
        rootless,
        cgroup_version: host["cgroupVersion"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned(),
        controllers: host["cgroupControllers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|controller| controller.as_str().map(str::to_owned))
            .collect(),
    })
}

/// Whether the Podman on `path` (named `socket` in errors) is rootless and
/// how it maps ids, or why it must not run jobs (see [`limits_refusal`]);
/// `id_map` is what its Docker-compatible `info` implied.
pub(crate) async fn connect_check(
    socket: &impl std::fmt::Display,
    path: &Path,
    id_map: IdMap,
) -> Result<(bool, IdMap), RuntimeError> {
    let refuse = |message: String| RuntimeError::Engine {
        message: format!("{socket}: {message}"),
    };
    let host = host(path).await.map_err(refuse)?;
    if let Some(refusal) = limits_refusal(&host) {
        return Err(refuse(refusal));
    }
    // Rootless Podman maps ids in ranges its compat API does not say.
    let map = if host.rootless {
        IdMap::Unknown
    } else {
        id_map
    };
    Ok((host.rootless, map))
}

/// Why no job may run on this Podman because its limits would not hold,
/// or `None`. Rootful Podman sets them as Docker does; rootless Podman
/// only on cgroup v2 with the memory, pids and cpu controllers delegated.
pub fn limits_refusal(host: &PodmanHost) -> Option<String> {
    if !host.rootless {
        return None;
    }
    if host.cgroup_version != "v2" {
        return Some(format!(
            "this Podman is rootless on a cgroup {} host, where it sets no memory, pids or CPU limit (its Docker-compatible API says otherwise); corral runs no job without its limits: run Podman rootful, or rootless on cgroup v2 with the controllers delegated",
            host.cgroup_version
        ));
    }
    let missing: Vec<&str> = ["memory", "pids", "cpu"]
        .into_iter()
        .filter(|wanted| !host.controllers.iter().any(|have| have == wanted))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "this rootless Podman may not use the cgroup controllers {} (not delegated to its user); corral runs no job without its limits",
            missing.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_of(rootless: bool, version: &str, controllers: &[&str]) -> PodmanHost {
        parse(&serde_json::json!({"host": {
            "security": {"rootless": rootless},
            "cgroupVersion": version,
            "cgroupControllers": controllers,
        }}))
        .expect("a host")
    }

    #[test]
    fn rootless_podman_is_refused_unless_cgroup_v2_delegates_every_limit() {
        // What Debian's Podman 4.3 answers rootless on this cgroup v1 host.
        let refusal = limits_refusal(&host_of(true, "v1", &[])).expect("refused");
        assert!(
            refusal.contains("rootless on a cgroup v1 host"),
            "{refusal}"
        );
        let refusal =
            limits_refusal(&host_of(true, "v2", &["cpu", "memory"])).expect("no pids controller");
        assert!(refusal.contains("pids"), "{refusal}");
        assert!(!refusal.contains("memory"), "{refusal}");
        assert_eq!(
            limits_refusal(&host_of(
                true,
                "v2",
                &["cpuset", "cpu", "io", "memory", "pids"]
            )),
            None
        );
        assert_eq!(limits_refusal(&host_of(false, "v1", &[])), None);
    }

    #[test]
    fn an_answer_that_does_not_say_rootless_is_an_error() {
        assert!(parse(&serde_json::json!({"host": {"cgroupVersion": "v1"}})).is_err());
    }
}
