//! [`Runtime`] on a Docker engine, through bollard.
//!
//! The API version is negotiated at connect time: Debian's engine speaks 1.41
//! while bollard defaults to a newer one.

use std::collections::HashMap;

use async_trait::async_trait;
use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum};
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, ListContainersOptions, RemoveContainerOptions,
    RenameContainerOptions, StartContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt;
use tracing::instrument;

use corral_runtime::{
    ContainerExit, Runtime, RuntimeError, SandboxRequest, SandboxSummary, container_name,
};

use crate::spec::{Dialect, container_spec};

/// Docker through its HTTP API.
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    pub(crate) docker: Docker,
    /// How this engine's create body is written.
    pub(crate) dialect: Dialect,
    /// Podman's seccomp profile, tightened, for every container; the
    /// file lives as long as any clone of this runtime.
    pub(crate) seccomp: Option<std::sync::Arc<tempfile::NamedTempFile>>,
    /// Its containers' ids on the host (read at connect).
    pub(crate) id_map: corral_runtime::IdMap,
    /// It runs as an unprivileged user (Podman says so only through its
    /// own API: see `libpod`).
    pub(crate) rootless: bool,
}

impl DockerRuntime {
    /// The engine's account of a container.
    async fn inspect(&self, id: &str) -> Result<ContainerInspectResponse, RuntimeError> {
        let options = None::<bollard::query_parameters::InspectContainerOptions>;
        self.docker
            .inspect_container(id, options)
            .await
            .map_err(classify)
    }

    /// The container's state; `None` when there is no such container.
    async fn state(
        &self,
        container_id: &str,
    ) -> Result<Option<bollard::models::ContainerState>, RuntimeError> {
        match self.inspect(container_id).await {
            Ok(inspected) => Ok(Some(inspected.state.unwrap_or_default())),
            Err(RuntimeError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The negotiated client, for image builds and diagnostics.
    pub fn client(&self) -> &Docker {
        &self.docker
    }
}

/// Classifies a bollard error by meaning (status code), never by its text.
pub fn classify(error: BollardError) -> RuntimeError {
    match error {
        BollardError::DockerResponseServerError {
            status_code: 404,
            message,
        } => RuntimeError::NotFound { what: message },
        BollardError::DockerResponseServerError {
            status_code: 409 | 304,
            message,
        } => RuntimeError::Conflict { message },
        BollardError::DockerResponseServerError { message, .. } => RuntimeError::Engine { message },
        BollardError::IOError { .. }
        | BollardError::HyperResponseError { .. }
        | BollardError::RequestTimeoutError
        | BollardError::SocketNotFoundError(_) => RuntimeError::Unavailable {
            message: error.to_string(),
        },
        other => RuntimeError::Engine {
            message: other.to_string(),
        },
    }
}

#[async_trait]
impl Runtime for DockerRuntime {
    #[instrument(name = "runtime.create", skip_all, fields(job_id = %request.job.id))]
    async fn create(&self, request: &SandboxRequest) -> Result<String, RuntimeError> {
        self.refuse_an_unusable_runtime(
            request.job.isolation_level,
            request.oci_runtime.as_deref(),
        )?;
        let options = CreateContainerOptions {
            name: Some(container_name(&request.job.id)),
            ..CreateContainerOptions::default()
        };
        let image = self
            .docker
            .inspect_image(&request.job.image)
            .await
            .map_err(classify)?;
        let mut volumes: Vec<String> = image
            .config
            .and_then(|config| config.volumes)
            .map(|volumes| {
                volumes
                    .keys()
                    .map(|path| crate::spec::clean_path(path))
                    .collect()
            })
            .unwrap_or_default();
        volumes.sort();
        volumes.dedup();
        let request = SandboxRequest {
            image_volumes: volumes,
            ..request.clone()
        };
        let created = self
            .docker
            .create_container(
                Some(options),
                container_spec(
                    &request,
                    self.dialect,
                    self.seccomp.as_deref().map(tempfile::NamedTempFile::path),
                ),
            )
            .await
            .map_err(classify)?;
        // Whatever spelling an image found, no volume may back the job: a
        // volume is an uncapped directory on the host's disk.
        let inspected = self.inspect(&created.id).await;
        let volume = inspected.as_ref().ok().and_then(|inspected| {
            inspected
                .mounts
                .iter()
                .flatten()
                .find(|mount| mount.typ == Some(bollard::models::MountPointTypeEnum::VOLUME))
        });
        if inspected.is_err() || volume.is_some() {
            let path = volume
                .and_then(|mount| mount.destination.clone())
                .unwrap_or_default();
            let _ = self.remove(&created.id).await;
            return Err(inspected.err().unwrap_or(RuntimeError::Engine {
                message: format!(
                    "the image's volume {path} would be an uncapped directory on the host's disk; refused"
                ),
            }));
        }
        Ok(created.id)
    }

    #[instrument(name = "runtime.start", skip(self))]
    async fn start(&self, container_id: &str) -> Result<(), RuntimeError> {
        self.docker
            .start_container(container_id, None::<StartContainerOptions>)
            .await
            .map_err(classify)
    }

    #[instrument(name = "runtime.wait", skip(self))]
    async fn wait(&self, container_id: &str) -> Result<ContainerExit, RuntimeError> {
        // An OOM kill while it runs is logged after this: read at its exit.
        // Podman's look reads the whole log, so it takes no tail to hold.
        let log_since = (self.dialect == Dialect::Docker)
            .then(crate::kmsg::Tail::now)
            .flatten();
        let options = WaitContainerOptions {
            condition: "not-running".to_owned(),
        };
        let mut waiting = self.docker.wait_container(container_id, Some(options));
        // The stream yields once, when the container stops. bollard reports a
        // non-zero exit as an error; it is an exit all the same.
        match waiting.next().await {
            Some(Ok(_) | Err(BollardError::DockerContainerWaitError { .. })) | None => {}
            Some(Err(error)) => return Err(classify(error)),
        }
        let inspected = self.inspect(container_id).await?;
        let state = inspected.state.unwrap_or_default();
        // Removed by someone else while it ran: the exit says nothing about the job.
        if matches!(
            state.status,
            Some(ContainerStateStatusEnum::REMOVING | ContainerStateStatusEnum::DEAD)
        ) {
            return Err(RuntimeError::NotFound {
                what: format!("container {container_id} (removed while running)"),
            });
        }
        let id = inspected.id.as_deref().unwrap_or(container_id);
        let exit_code = state.exit_code.unwrap_or(-1);
        Ok(ContainerExit {
            exit_code,
            oom_killed: state.oom_killed.unwrap_or(false)
                || crate::kmsg::oom_in_kernel_log(self.dialect, id, exit_code, log_since).await,
        })
    }

    async fn is_running(&self, container_id: &str) -> Result<bool, RuntimeError> {
        Ok(self
            .state(container_id)
            .await?
            .is_some_and(|state| state.running == Some(true)))
    }

    async fn is_paused(&self, container_id: &str) -> Result<bool, RuntimeError> {
        Ok(self
            .state(container_id)
            .await?
            .is_some_and(|state| state.paused == Some(true)))
    }

    #[instrument(name = "runtime.kill", skip(self))]
    async fn kill(&self, container_id: &str) -> Result<(), RuntimeError> {
        match self
            .docker
            .kill_container(
                container_id,
                Some(KillContainerOptions {
                    signal: "KILL".to_owned(),
                }),
            )
            .await
            .map_err(classify)
        {
            Ok(()) | Err(RuntimeError::Conflict { .. } | RuntimeError::NotFound { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    #[instrument(name = "runtime.pause", skip(self))]
    async fn pause(&self, container_id: &str) -> Result<(), RuntimeError> {
        self.docker
            .pause_container(container_id)
            .await
            .map_err(classify)
    }

    #[instrument(name = "runtime.resume", skip(self))]
    async fn resume(&self, container_id: &str) -> Result<(), RuntimeError> {
        match self
            .docker
            .unpause_container(container_id)
            .await
            .map_err(classify)
        {
            Ok(()) | Err(RuntimeError::Conflict { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    #[instrument(name = "runtime.remove", skip(self))]
    async fn remove(&self, container_id: &str) -> Result<(), RuntimeError> {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..RemoveContainerOptions::default()
        };
        match self
            .docker
            .remove_container(container_id, Some(options))
            .await
            .map_err(classify)
        {
            Ok(()) | Err(RuntimeError::NotFound { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn list_by_label(
        &self,
        label: &str,
        value: &str,
    ) -> Result<Vec<SandboxSummary>, RuntimeError> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![format!("{label}={value}")],
            )])),
            ..ListContainersOptions::default()
        };
        let containers = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(classify)?;
        Ok(containers
            .into_iter()
            .filter_map(|container| {
                Some(SandboxSummary {
                    job_id: container
                        .labels
                        .as_ref()
                        .and_then(|labels| labels.get(corral_runtime::LABEL_JOB).cloned()),
                    container_id: container.id?,
                })
            })
            .collect())
    }

    #[instrument(name = "runtime.update", skip(self, limits))]
    async fn update_limits(
        &self,
        container_id: &str,
        limits: &corral_proto::Limits,
        gvisor: bool,
    ) -> Result<(), RuntimeError> {
        let memory = i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX);
        let body = bollard::models::ContainerUpdateBody {
            memory: Some(memory),
            memory_swap: Some(memory),
            cpu_shares: Some(limits.cpu_shares),
            pids_limit: Some(corral_runtime::host_pids_limit(limits.pids, gvisor)),
            ..bollard::models::ContainerUpdateBody::default()
        };
        self.docker
            .update_container(container_id, body)
            .await
            .map_err(classify)
    }

    #[instrument(name = "runtime.rename", skip(self))]
    async fn rename(&self, container_id: &str, name: &str) -> Result<(), RuntimeError> {
        let options = RenameContainerOptions {
            name: name.to_owned(),
        };
        self.docker
            .rename_container(container_id, options)
            .await
            .map_err(classify)
    }

    async fn exists(&self, container_id: &str) -> Result<bool, RuntimeError> {
        Ok(self.state(container_id).await?.is_some())
    }

    fn id_map(&self) -> corral_runtime::IdMap {
        self.id_map
    }

    fn can_update_limits(&self) -> bool {
        // Podman 4.3's compat API answers 404; its own API sets the
        // cgroup, but its inspect keeps the old limits.
        self.dialect != Dialect::Podman
    }

    async fn describe(&self) -> Result<String, RuntimeError> {
        self.engine().await.map(|engine| engine.to_string())
    }

    async fn has_runtime(&self, name: &str) -> Result<bool, RuntimeError> {
        self.can_choose_a_runtime()?;
        let info = self.docker.info().await.map_err(classify)?;
        Ok(info
            .runtimes
            .is_some_and(|runtimes| runtimes.contains_key(name)))
    }

    async fn profile(
        &self,
        container_id: &str,
    ) -> Result<corral_proto::verify::ContainerProfile, RuntimeError> {
        let inspected = self.inspect(container_id).await?;
        Ok(crate::profile::profile_of(&inspected))
    }

    async fn image_exists(&self, image: &str) -> Result<bool, RuntimeError> {
        match self.docker.inspect_image(image).await.map_err(classify) {
            Ok(_) => Ok(true),
            Err(RuntimeError::NotFound { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }
}
