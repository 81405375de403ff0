//! The warm pool's containers and counters: what [`Pool`] holds, apart
//! from the job manager that fills and takes from it (`pool`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use corral_proto::verify::ContainerProfile;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

mod profile;
#[cfg(test)]
mod tests;

use super::PoolStats;
use crate::worker_api::{JobProvisions, UnboundEndpoint, WorkerEndpoint};
pub(super) use profile::{Profile, template};

/// A started pool container whose worker is waiting for a job.
pub(super) struct Warm {
    /// Its pool name, `p-…`: its `corral.job` label.
    pub(super) name: String,
    pub(super) container_id: String,
    pub(super) endpoint: UnboundEndpoint,
    pub(super) profile: Profile,
    /// Its security profile as the engine reported it once the worker was
    /// up: the evidence a job's `running` event carries, read off the
    /// job's path. `None` when it could not be read, or once the job's
    /// limits were set on the container (then it is read again).
    pub(super) read_back: Option<ContainerProfile>,
    /// Stops the task that watches the idle container for an exit.
    pub(super) watch: CancellationToken,
}

impl Warm {
    /// Binds `setup`'s job to the container's socket; what is left to know
    /// of the pool entry is its name and container.
    pub(super) fn bind(self, setup: JobProvisions) -> (Taken, WorkerEndpoint) {
        let taken = Taken {
            name: self.name,
            container_id: self.container_id,
            read_back: self.read_back,
        };
        (taken, self.endpoint.bind(setup))
    }
}

/// A pool container a job took.
pub(super) struct Taken {
    /// Its pool name, `p-…`: its `corral.job` label.
    pub(super) name: String,
    pub(super) container_id: String,
    /// Its profile as read back from the engine, if still current.
    pub(super) read_back: Option<ContainerProfile>,
}

/// The pool's state; `None` in the manager when `pool.size` is 0.
pub(super) struct Pool {
    pub(super) size: usize,
    pub(super) profiles: Vec<Profile>,
    pub(super) idle: Mutex<Vec<Warm>>,
    /// Wakes the filler: a container was taken or lost.
    pub(super) wake: Notify,
    pub(super) taken: AtomicU64,
    pub(super) missed: AtomicU64,
}

impl Pool {
    /// The pool of `config`, if it has one.
    pub(super) fn from_config(config: &crate::config::Config) -> Option<Self> {
        if config.pool.size == 0 || config.pool.images.is_empty() {
            return None;
        }
        let profiles = config
            .pool
            .images
            .iter()
            .map(|image| {
                // Claude jobs get more memory unless they set their own: the
                // Claude image is pooled for them.
                let mut limits = config.default_limits;
                if image == &config.claude_image {
                    limits.memory_bytes = limits.memory_bytes.max(super::validate::CLAUDE_MEMORY);
                }
                Profile::new(image, &limits, config.isolation)
            })
            .collect();
        Some(Self {
            size: config.pool.size,
            profiles,
            idle: Mutex::default(),
            wake: Notify::new(),
            taken: AtomicU64::new(0),
            missed: AtomicU64::new(0),
        })
    }

    pub(super) fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Warm>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The first profile with fewer than `size` idle containers.
    pub(super) fn short_profile(&self) -> Option<Profile> {
        let idle = self.lock_idle();
        self.profiles
            .iter()
            .find(|profile| {
                idle.iter().filter(|warm| &warm.profile == *profile).count() < self.size
            })
            .cloned()
    }

    pub(super) fn stats(&self) -> PoolStats {
        PoolStats {
            idle: self.lock_idle().len(),
            taken: self.taken.load(Ordering::Relaxed),
            missed: self.missed.load(Ordering::Relaxed),
        }
    }
}
