//! corral's Docker engine: the [`Runtime`](corral_runtime::Runtime) over
//! bollard, the container profile every job gets (a pure function of the
//! request, unit-tested without Docker), reading that profile back, offline
//! image builds from in-memory tar contexts, and finding and checking the
//! static worker binary that is bind-mounted into every container.
//!
//! It must never hand a container more than the request names (its socket
//! directory, the worker binary, its project source) and imports nothing of
//! the orchestrator: a second engine is one more crate beside this one.
//!
//! # Layout
//! - [`spec`]: the container a request becomes (profile, mounts, limits, labels)
//! - [`engine`]: [`DockerRuntime`], create/start/wait/update/remove over bollard
//! - [`host`]: which engine socket, and what answers on it (Docker or Podman, rootless)
//! - [`libpod`]: what Podman says only through its own API (rootless, cgroups).
//! - `kmsg`: an OOM kill in a Podman container, from the kernel log (Podman never says)
//! - [`remap`]: how the engine maps container ids, and whether it can limit
//! - `runtimes`: which OCI runtime a job may ask for on this engine
//! - [`subids`]: the host's subordinate id ranges, and whether an engine's is its own
//! - [`seccomp`]: Podman's seccomp profile, as strict as Docker's on namespaces
//! - [`profile`]: a container's security profile as Docker reports it
//! - [`image`]: offline image builds (busybox, Debian, Claude Code)
//! - [`worker_binary`]: finding and checking the static worker

pub mod engine;
pub mod host;
pub mod image;
mod kmsg;
pub mod libpod;
pub mod profile;
pub mod remap;
mod runtimes;
pub mod seccomp;
pub mod spec;
pub mod subids;
pub mod worker_binary;

pub use engine::DockerRuntime;
pub use spec::Dialect;
