//! Which engine corral talks to, and what that engine is.
//!
//! The engine is reached over a Unix socket on this host only: a path or a
//! `unix://` URL, from `--docker-host`, then `DOCKER_HOST`, then the config
//! file's `[runtime] socket`, else `/var/run/docker.sock`. A TCP or SSH
//! address is refused rather than followed: whoever reaches an engine's
//! API is root on its host, and corral will not hand its jobs' containers
//! to an engine it cannot tell is this one.

use std::fmt;
use std::path::PathBuf;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use corral_runtime::RuntimeError;

use crate::engine::{DockerRuntime, classify};
use crate::spec::Dialect;

/// Where a socket setting came from, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketSource {
    /// `--docker-host`.
    Flag,
    /// The `DOCKER_HOST` environment variable.
    Environment,
    /// `[runtime] socket` in `corral.toml`.
    ConfigFile,
    /// None given: Docker's own default.
    Default,
}

impl fmt::Display for SocketSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Flag => "--docker-host",
            Self::Environment => "DOCKER_HOST",
            Self::ConfigFile => "[runtime] socket",
            Self::Default => "the default",
        })
    }
}

/// Docker's own default socket.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// The engine's API socket and where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSocket {
    /// The socket's path on this host.
    pub path: PathBuf,
    /// Where the setting came from.
    pub source: SocketSource,
}

/// A socket setting corral will not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{from} is {value:?}: corral reaches its engine over a Unix socket on this host only \
     (a path or unix:///PATH)"
)]
pub struct SocketError {
    /// Where the setting came from.
    pub from: SocketSource,
    /// What it said.
    pub value: String,
}

impl EngineSocket {
    /// The first of `flag`, `environment` and `config_file` that is set
    /// (an empty value counts as unset, as Docker's CLI counts it), else
    /// the default socket.
    pub fn choose(
        flag: Option<&str>,
        environment: Option<&str>,
        config_file: Option<&str>,
    ) -> Result<Self, SocketError> {
        let chosen = [
            (flag, SocketSource::Flag),
            (environment, SocketSource::Environment),
            (config_file, SocketSource::ConfigFile),
        ]
        .into_iter()
        .find_map(|(value, source)| value.filter(|value| !value.is_empty()).map(|v| (v, source)));
        match chosen {
            Some((value, source)) => Self::parse(value, source),
            None => Ok(Self {
                path: PathBuf::from(DEFAULT_SOCKET),
                source: SocketSource::Default,
            }),
        }
    }

    /// As [`choose`](Self::choose), with `DOCKER_HOST` read from the
    /// environment (a value that is not UTF-8 is refused, not skipped).
    #[expect(
        clippy::disallowed_methods,
        reason = "DOCKER_HOST is Docker's own variable: read here for the config and for tools without one"
    )]
    pub fn from_environment(
        flag: Option<&str>,
        config_file: Option<&str>,
    ) -> Result<Self, SocketError> {
        let environment = match std::env::var("DOCKER_HOST") {
            Ok(value) => Some(value),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(value)) => {
                return Err(SocketError {
                    from: SocketSource::Environment,
                    value: value.to_string_lossy().into_owned(),
                });
            }
        };
        Self::choose(flag, environment.as_deref(), config_file)
    }

    /// `value` as a socket path: `/PATH` or `unix:///PATH`.
    fn parse(value: &str, source: SocketSource) -> Result<Self, SocketError> {
        let path = value.strip_prefix("unix://").unwrap_or(value);
        if !path.starts_with('/') || path.contains('\0') {
            return Err(SocketError {
                from: source,
                value: value.to_owned(),
            });
        }
        Ok(Self {
            path: PathBuf::from(path),
            source,
        })
    }
}

impl fmt::Display for EngineSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.path.display(), self.source)
    }
}

/// Which engine answers on the socket, as it describes itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    /// `Docker` or `Podman` (from the engine's version components).
    pub name: String,
    /// The engine's own version.
    pub version: String,
    /// The API version both sides speak.
    pub api_version: String,
    /// The engine runs as an unprivileged user (its `rootless` security option).
    pub rootless: bool,
    /// Containers' users are remapped on the host (its `userns` security option).
    pub user_namespaces: bool,
    /// The OCI runtime a container gets when it names none.
    pub default_runtime: String,
    /// How its containers' ids map to the host's.
    pub id_map: corral_runtime::IdMap,
}

impl EngineInfo {
    /// The engine from its `version` and `info` answers.
    pub fn from_answers(
        version: &bollard::models::SystemVersion,
        info: &bollard::models::SystemInfo,
    ) -> Self {
        let podman = is_podman(version);
        let options = info.security_options.iter().flatten();
        let has = |name: &str| {
            options
                .clone()
                .any(|option| option.split(',').any(|part| part == format!("name={name}")))
        };
        Self {
            name: if podman { "Podman" } else { "Docker" }.to_owned(),
            version: version.version.clone().unwrap_or_default(),
            api_version: version.api_version.clone().unwrap_or_default(),
            rootless: has("rootless"),
            user_namespaces: has("userns"),
            default_runtime: info.default_runtime.clone().unwrap_or_default(),
            // The range's length as Docker's default; the runtime's own
            // reading (with /etc/subuid and /etc/subgid) replaces it in `engine()`.
            id_map: crate::remap::id_map(info, &crate::subids::SubIds::default()),
        }
    }
}

impl fmt::Display for EngineInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (API {}), {}, {}",
            self.name,
            self.version,
            self.api_version,
            if self.rootless { "rootless" } else { "rootful" },
            match self.id_map {
                corral_runtime::IdMap::Identity if !self.user_namespaces =>
                    "no user namespace remapping".to_owned(),
                map => format!("user namespaces: {map}"),
            }
        )
    }
}

/// Whether the engine's version answer names Podman among its components.
fn is_podman(version: &bollard::models::SystemVersion) -> bool {
    version
        .components
        .iter()
        .flatten()
        .any(|component| component.name.to_ascii_lowercase().contains("podman"))
}

/// Why a container cannot name its OCI runtime (gVisor's `runsc`, or
/// `--oci-runtime`) on Podman.
pub const PODMAN_RUNTIME: &str = "Podman's Docker-compatible API ignores the OCI runtime a container \
     names (it would run under Podman's default runtime): gVisor and --oci-runtime need Docker";

/// bollard's request timeout, as `connect_with_defaults` sets it.
const CONNECT_TIMEOUT_SECS: u64 = 120;

impl DockerRuntime {
    /// Connects to the socket `DOCKER_HOST` names, else Docker's default
    /// one (see [`crate::host`]), and negotiates the API version.
    pub async fn connect() -> Result<Self, RuntimeError> {
        let socket = EngineSocket::from_environment(None, None).map_err(|error| {
            RuntimeError::Unavailable {
                message: error.to_string(),
            }
        })?;
        Self::connect_to(&socket).await
    }

    /// Connects to the engine on `socket` and negotiates the API version.
    pub async fn connect_to(socket: &EngineSocket) -> Result<Self, RuntimeError> {
        let unreachable = |error: BollardError| RuntimeError::Unavailable {
            message: format!("no engine answers on {socket}: {error}"),
        };
        let path = socket
            .path
            .to_str()
            .ok_or_else(|| RuntimeError::Unavailable {
                message: format!("the socket path {} is not UTF-8", socket.path.display()),
            })?;
        let docker =
            Docker::connect_with_unix(path, CONNECT_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
                .map_err(unreachable)?
                .negotiate_version()
                .await
                .map_err(unreachable)?;
        let version = docker.version().await.map_err(unreachable)?;
        let info = docker.info().await.map_err(unreachable)?;
        let id_map =
            crate::remap::connect_check(&info).map_err(|refusal| RuntimeError::Engine {
                message: format!("{socket}: {refusal}"),
            })?;
        let (dialect, seccomp) = if is_podman(&version) {
            let profile = crate::seccomp::podman_profile()
                .map_err(|message| RuntimeError::Engine { message })?;
            (Dialect::Podman, Some(std::sync::Arc::new(profile)))
        } else {
            (Dialect::Docker, None)
        };
        let (rootless, id_map) = match dialect {
            Dialect::Docker => (EngineInfo::from_answers(&version, &info).rootless, id_map),
            Dialect::Podman => crate::libpod::connect_check(socket, &socket.path, id_map).await?,
        };
        Ok(Self {
            docker,
            dialect,
            seccomp,
            id_map,
            rootless,
        })
    }

    /// How this engine's create body is written.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Which engine this is, as it describes itself.
    pub async fn engine(&self) -> Result<EngineInfo, RuntimeError> {
        let version = self.docker.version().await.map_err(classify)?;
        let info = self.docker.info().await.map_err(classify)?;
        Ok(EngineInfo {
            id_map: self.id_map,
            rootless: self.rootless,
            ..EngineInfo::from_answers(&version, &info)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{EngineInfo, EngineSocket, SocketSource};

    #[test]
    fn the_flag_beats_the_environment_which_beats_the_file() {
        let chosen = EngineSocket::choose(Some("/a.sock"), Some("/b.sock"), Some("/c.sock"));
        assert_eq!(chosen.expect("a socket").source, SocketSource::Flag);
        let chosen =
            EngineSocket::choose(None, Some("unix:///b.sock"), Some("/c.sock")).expect("a socket");
        assert_eq!(
            (chosen.path.to_str(), chosen.source),
            (Some("/b.sock"), SocketSource::Environment)
        );
        let chosen = EngineSocket::choose(None, Some(""), Some("/c.sock")).expect("a socket");
        assert_eq!(chosen.source, SocketSource::ConfigFile);
        let chosen = EngineSocket::choose(None, None, None).expect("a socket");
        assert_eq!(
            (chosen.path.to_str(), chosen.source),
            (Some(super::DEFAULT_SOCKET), SocketSource::Default)
        );
    }

    #[test]
    fn an_address_off_this_host_is_refused_naming_where_it_came_from() {
        for value in [
            "tcp://127.0.0.1:2375",
            "ssh://user@host",
            "relative/docker.sock",
            "unix://relative.sock",
            "npipe:////./pipe/docker_engine",
        ] {
            let error = EngineSocket::choose(None, Some(value), None).expect_err(value);
            assert_eq!(error.from, SocketSource::Environment);
            assert!(error.to_string().starts_with("DOCKER_HOST is"), "{error}");
        }
        let error = EngineSocket::choose(Some("tcp://h:1"), None, None).expect_err("tcp");
        assert!(error.to_string().starts_with("--docker-host is"), "{error}");
    }

    #[test]
    fn podman_and_rootless_are_told_from_the_engines_answers() {
        let version: bollard::models::SystemVersion = serde_json::from_value(serde_json::json!({
            "Version": "4.3.1",
            "ApiVersion": "1.41",
            "Components": [{"Name": "Podman Engine", "Version": "4.3.1"}]
        }))
        .expect("a version answer");
        let info: bollard::models::SystemInfo = serde_json::from_value(serde_json::json!({
            "SecurityOptions": ["name=seccomp,profile=default", "name=rootless"]
        }))
        .expect("an info answer");
        let engine = EngineInfo::from_answers(&version, &info);
        assert_eq!(engine.name, "Podman");
        assert!(engine.rootless);
        assert!(!engine.user_namespaces);

        let version: bollard::models::SystemVersion = serde_json::from_value(serde_json::json!({
            "Version": "20.10.24+dfsg1",
            "ApiVersion": "1.41",
            "Components": [{"Name": "Engine", "Version": "20.10.24+dfsg1"}]
        }))
        .expect("a version answer");
        let info: bollard::models::SystemInfo = serde_json::from_value(serde_json::json!({
            "SecurityOptions": ["name=apparmor", "name=seccomp,profile=default", "name=userns"],
            "DockerRootDir": "/var/lib/docker/100000.100000"
        }))
        .expect("an info answer");
        let engine = EngineInfo::from_answers(&version, &info);
        assert_eq!(engine.name, "Docker");
        assert!(!engine.rootless);
        assert!(engine.user_namespaces);
        assert_eq!(
            engine.to_string(),
            "Docker 20.10.24+dfsg1 (API 1.41), rootful, user namespaces: containers' uids 0-65535 \
             are host uids 100000-165535 (gids from 100000)"
        );
    }
}
