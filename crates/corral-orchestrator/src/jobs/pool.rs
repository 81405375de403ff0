//! The warm pool: `pool.size` containers per image, created and started
//! ahead of demand with the server's default profile, each worker waiting
//! on its own socket for a job.
//!
//! A job whose container can become a pool container takes the oldest
//! ready one: no project directory bound (a bind mount cannot be added to a
//! running container, but a `project_mode: copy` project is unpacked over
//! the socket), the pool's image, tmpfs size (a mount option) and
//! isolation. Its memory, CPU shares and pids limit are set on the running
//! container first when they differ from the pool's (Docker's container
//! update), so its `docker inspect` reads as a cold container's would. Its
//! socket directory is moved to the job's name and the job's
//! session (grants, model proxy, egress, leak detector, and the token the
//! container already holds) is bound to it; the worker's held
//! `GET /v1/job` then answers. A pool container serves one job and is
//! removed with it, like a cold one. The pool refills in the background.
//!
//! Pool containers carry `corral.job=p-…` and `corral.pool=1`; the reaper
//! spares them while the pool or a job holds them (by name and by container
//! id, as labels cannot change), and removes them otherwise. A pool
//! container that exits while idle is dropped and replaced; the server's
//! shutdown removes every idle one.

use std::sync::atomic::Ordering;
use std::time::Duration;

use corral_proto::{IsolationLevel, Job};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::warm::{Pool, Profile, Warm, template};
use super::{JobManager, PoolStats};
use crate::worker_api::UnboundEndpoint;
use corral_runtime::RuntimeError;

/// How long a new pool container's worker may take to reach its socket.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// The pause after a pool container could not be made (a missing image,
/// Docker away), so a broken pool does not spin.
const RETRY_PAUSE: Duration = Duration::from_secs(10);

impl JobManager {
    /// Takes the oldest ready pool container `job` can run in, if any, its
    /// limits set to the job's and its socket directory moved to
    /// `socket_dir`.
    pub(super) async fn take_warm(&self, job: &Job, socket_dir: &std::path::Path) -> Option<Warm> {
        let pool = self.inner.pool.as_ref()?;
        let profile = Profile::of(job)
            .filter(|profile| pool.profiles.iter().any(|pooled| pooled.fits(profile)))?;
        let adjustable = self.inner.runtime.can_update_limits();
        let found = {
            let mut idle = pool.lock_idle();
            let exact = idle.iter().position(|warm| warm.profile == profile);
            exact
                .or_else(|| {
                    // Else only where its limits can be set to the job's.
                    let fits = |warm: &Warm| adjustable && warm.profile.fits(&profile);
                    idle.iter().position(fits)
                })
                .map(|index| idle.remove(index))
        };
        // A taken container is replaced once its job's worker first
        // reported (`run::settle`), so the replacement's creation does not
        // compete with the job's first steps; a miss asks at once.
        let Some(mut warm) = found else {
            pool.wake.notify_one();
            pool.missed.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        warm.watch.cancel();
        let gvisor = job.isolation_level == IsolationLevel::Gvisor;
        let adjusted = if warm.profile == profile {
            Ok(())
        } else {
            warm.read_back = None;
            self.inner
                .runtime
                .update_limits(&warm.container_id, &job.limits, gvisor)
                .await
                .map_err(|error| format!("cannot set its limits: {error}"))
        };
        let moved = adjusted.and_then(|()| {
            warm.endpoint
                .relocate(socket_dir)
                .map_err(|error| format!("cannot move its socket: {error}"))
        });
        if let Err(error) = moved {
            warn!(job_id = %job.id, pool = %warm.name, error = %error, "cannot use a pool container; starting cold");
            self.inner.tasks.spawn(self.clone().discard_warm(warm));
            pool.wake.notify_one();
            pool.missed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        pool.taken.fetch_add(1, Ordering::Relaxed);
        info!(job_id = %job.id, pool = %warm.name, container_id = %warm.container_id, "job takes a pool container");
        Some(warm)
    }

    /// Asks the filler to replace a container a job took; called once the
    /// job's worker first reported.
    pub(super) fn refill_pool(&self) {
        if let Some(pool) = self.inner.pool.as_ref() {
            pool.wake.notify_one();
        }
    }

    /// What the pool holds; `None` without a pool.
    pub fn pool_stats(&self) -> Option<PoolStats> {
        self.inner.pool.as_ref().map(Pool::stats)
    }

    /// Keeps the pool full until shutdown, then removes what it holds.
    pub(super) async fn fill_pool(self) {
        let Some(pool) = self.inner.pool.as_ref() else {
            return;
        };
        let shutdown = self.inner.shutdown.clone();
        while !shutdown.is_cancelled() {
            let Some(profile) = pool.short_profile() else {
                tokio::select! {
                    () = pool.wake.notified() => {}
                    () = shutdown.cancelled() => {}
                }
                continue;
            };
            match self.warm_up(&profile).await {
                Ok(warm) => {
                    self.watch_idle(&warm);
                    pool.lock_idle().push(warm);
                }
                Err(error) => {
                    warn!(image = %profile.image, error = %error, "cannot add a container to the pool");
                    tokio::select! {
                        () = tokio::time::sleep(RETRY_PAUSE) => {}
                        () = shutdown.cancelled() => {}
                    }
                }
            }
        }
        let drained: Vec<Warm> = std::mem::take(&mut *pool.lock_idle());
        for warm in drained {
            self.clone().discard_warm(warm).await;
        }
    }

    /// Creates and starts one pool container and waits for its worker.
    async fn warm_up(&self, profile: &Profile) -> Result<Warm, RuntimeError> {
        let name = format!("p-{}", crate::token::random_hex(8).map_err(engine)?);
        let socket_dir = self.inner.config.data_dir.join("run").join(&name);
        let user = self.inner.runtime.id_map().corral();
        let endpoint = UnboundEndpoint::open(&socket_dir, user, &self.inner.tasks)
            .await
            .map_err(engine)?;
        self.spare(&name);
        let mut warm = Warm {
            name,
            container_id: String::new(),
            endpoint,
            profile: profile.clone(),
            read_back: None,
            watch: CancellationToken::new(),
        };
        let job = template(&warm.name, profile, &self.inner.config.default_limits);
        let request = self.sandbox_request(job, socket_dir, user, true);
        let started = match self.inner.runtime.create(&request).await {
            Ok(id) => {
                warm.container_id = id;
                self.inner.runtime.start(&warm.container_id).await
            }
            Err(error) => Err(error),
        };
        let ready = match started {
            Ok(()) => tokio::select! {
                ready = warm.endpoint.until_worker_asked(READY_LIMIT) => ready,
                () = self.inner.shutdown.cancelled() => false,
            },
            Err(error) => {
                self.clone().discard_warm(warm).await;
                return Err(error);
            }
        };
        if !ready {
            self.clone().discard_warm(warm).await;
            return Err(RuntimeError::Engine {
                message: "the pool container's worker did not reach its socket".into(),
            });
        }
        match self.inner.runtime.profile(&warm.container_id).await {
            Ok(read_back) => warm.read_back = Some(read_back),
            Err(error) => {
                warn!(pool = %warm.name, error = %error, "cannot read the pool container's profile back; its job will");
            }
        }
        info!(pool = %warm.name, container_id = %warm.container_id, "pool container ready");
        Ok(warm)
    }

    /// Watches an idle pool container: when it exits before a job takes
    /// it, it leaves the pool (and is replaced).
    fn watch_idle(&self, warm: &Warm) {
        let manager = self.clone();
        let (container_id, name, stop) = (
            warm.container_id.clone(),
            warm.name.clone(),
            warm.watch.clone(),
        );
        self.inner.tasks.spawn(async move {
            tokio::select! {
                _ = manager.inner.runtime.wait(&container_id) => {}
                () = stop.cancelled() => return,
            }
            let Some(pool) = manager.inner.pool.as_ref() else {
                return;
            };
            let lost = {
                let mut idle = pool.lock_idle();
                idle.iter()
                    .position(|warm| warm.name == name)
                    .map(|index| idle.remove(index))
            };
            if let Some(warm) = lost {
                warn!(pool = %name, container_id = %container_id, "an idle pool container exited; replacing it");
                pool.wake.notify_one();
                manager.clone().discard_warm(warm).await;
            }
        });
    }

    /// Removes a pool container that serves no job, and its socket.
    async fn discard_warm(self, warm: Warm) {
        warm.watch.cancel();
        if !warm.container_id.is_empty()
            && let Err(error) = self.inner.runtime.remove(&warm.container_id).await
        {
            warn!(pool = %warm.name, error = %error, "cannot remove a pool container");
        }
        let socket_dir = warm.endpoint.socket_dir().to_owned();
        warm.endpoint.close().await;
        if let Err(error) = tokio::fs::remove_dir_all(&socket_dir).await {
            warn!(pool = %warm.name, error = %error, "cannot remove a pool socket directory");
        }
        self.unspare(&warm.name);
    }
}

fn engine(error: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Engine {
        message: error.to_string(),
    }
}
