//! Which OCI runtime a job may ask for on this engine: none on Podman,
//! whose Docker-compatible API would ignore it, and not gVisor where the
//! engine remaps ids (runsc cannot open the job's mounts there). Checked
//! when `serve` starts, when a job is validated, and again when its
//! container is made, so a job queued before a restart onto such an
//! engine fails naming why, not with the engine's own error.

use corral_proto::IsolationLevel;
use corral_runtime::{GVISOR_RUNTIME, RuntimeError};

use crate::engine::DockerRuntime;
use crate::host::PODMAN_RUNTIME;
use crate::spec::Dialect;

impl DockerRuntime {
    /// Refuses a container (or, at `serve` start, every job) whose
    /// isolation or OCI runtime names a runtime this engine would ignore
    /// (Podman: weaker than asked, so not at all), or gVisor where ids are
    /// remapped.
    pub fn refuse_an_unusable_runtime(
        &self,
        isolation: IsolationLevel,
        oci_runtime: Option<&str>,
    ) -> Result<(), RuntimeError> {
        let gvisor = isolation == IsolationLevel::Gvisor || oci_runtime == Some(GVISOR_RUNTIME);
        if oci_runtime.is_some() || gvisor {
            self.can_choose_a_runtime()?;
        }
        match self.id_map.gvisor_refusal() {
            Some(message) if gvisor => Err(RuntimeError::Engine { message }),
            _ => Ok(()),
        }
    }

    /// Whether a container may name its OCI runtime on this engine (not
    /// on Podman: see [`PODMAN_RUNTIME`]).
    pub fn can_choose_a_runtime(&self) -> Result<(), RuntimeError> {
        if self.dialect == Dialect::Podman {
            return Err(RuntimeError::Engine {
                message: PODMAN_RUNTIME.to_owned(),
            });
        }
        Ok(())
    }
}
