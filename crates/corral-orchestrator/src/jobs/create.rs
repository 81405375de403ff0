//! Creating a job: validate, store as `queued`, wake the scheduler.

use std::path::Path;

use corral_proto::{Isolation, IsolationLevel, Job, JobSpec, JobState, ProjectMode};
use tracing::{info, instrument};

use super::validate::{Defaults, ValidJob, validate};
use super::{JobError, JobManager};
use crate::token::random_hex;
use crate::workspace;
use corral_runtime::GVISOR_RUNTIME;

/// Random bytes in a job id: 64 bits, `j-` + 16 hex digits.
const JOB_ID_BYTES: usize = 8;

/// A fresh job id.
pub(super) fn new_job_id() -> Result<String, JobError> {
    Ok(format!("j-{}", random_hex(JOB_ID_BYTES)?))
}

impl JobManager {
    /// Validates `spec` and queues the job. Nothing is stored if it is
    /// invalid, or while the sandbox check fails (a job created while the
    /// check at start runs waits for it).
    #[instrument(name = "jobs.create", skip_all)]
    pub async fn create(&self, spec: JobSpec) -> Result<Job, JobError> {
        self.create_within(spec, None).await
    }

    /// [`JobManager::create`], its project (if any) required to lie in or
    /// under one of `within` (for `/mcp`: the directories the user let tool
    /// calls use), checked on the directory pinned for the job, so no link
    /// swapped in after the caller looked can move it out.
    pub async fn create_within(
        &self,
        spec: JobSpec,
        within: Option<&[std::path::PathBuf]>,
    ) -> Result<Job, JobError> {
        self.inner
            .gate
            .admit(super::verify::PROBE_DEADLINE)
            .await
            .map_err(|message| JobError::Unverified { message })?;
        self.create_job(spec, within).await
    }

    /// [`JobManager::create_within`] past the gate: the probe job's own way in.
    pub(super) async fn create_job(
        &self,
        spec: JobSpec,
        within: Option<&[std::path::PathBuf]>,
    ) -> Result<Job, JobError> {
        let config = &self.inner.config;
        // The caller's own bound (`project.within`), beside the server's.
        let asked: Option<Vec<std::path::PathBuf>> = spec
            .project
            .as_ref()
            .and_then(|project| project.within())
            .map(|within| within.iter().map(std::path::PathBuf::from).collect());
        if asked
            .as_ref()
            .is_some_and(|within| within.len() > corral_proto::job::MAX_WITHIN)
        {
            return Err(JobError::invalid(
                "project.within",
                format!("at most {} directories", corral_proto::job::MAX_WITHIN),
            ));
        }
        // A relative entry would be read against the server's working
        // directory: named, not skipped.
        if let Some(index) = asked.iter().flatten().position(|root| !root.is_absolute()) {
            return Err(JobError::invalid(
                format!("project.within[{index}]"),
                "must be an absolute path",
            ));
        }
        if let Some(project) = &spec.project {
            self.check_links(Path::new(project.path()), project.allow_overlap())
                .map_err(|error| JobError::invalid("project", error.to_string()))?;
        }
        let valid = validate(
            spec,
            &Defaults {
                limits: &config.default_limits,
                image: &config.default_image,
                claude_image: &config.claude_image,
                isolation: config.isolation,
                data_dir: &self.inner.data_dir,
                llm: &config.llm,
                egress: config.default_egress.as_ref(),
                id_map: self.inner.runtime.id_map(),
            },
        )?;
        self.check_secrets(&valid).await?;
        if valid.isolation_level == IsolationLevel::Gvisor {
            let registered = self
                .inner
                .runtime
                .has_runtime(GVISOR_RUNTIME)
                .await
                .map_err(|error| JobError::invalid("isolation", error.to_string()))?;
            if !registered {
                return Err(JobError::invalid(
                    "isolation",
                    "gVisor (runsc) is not registered with Docker on this host: run scripts/ensure-gvisor.sh",
                ));
            }
        }
        let id = new_job_id()?;
        if let (Some(project), Some(check)) = (&valid.project, valid.project_check) {
            let pinned = crate::project::PinnedDir::open(Path::new(project))
                .and_then(|pinned| {
                    pinned.expect_identity(check.into())?;
                    Ok(pinned)
                })
                .map_err(|error| JobError::invalid("project", error.to_string()))?;
            let lies_within = |roots: &[std::path::PathBuf]| {
                roots.iter().any(|root| {
                    crate::project::PinnedDir::open(root)
                        .is_ok_and(|root| pinned.is_within(root.identity()))
                })
            };
            if within.is_some_and(|roots| !lies_within(roots)) {
                return Err(JobError::invalid(
                    "project",
                    "the directory resolved here lies under none the MCP server allows",
                ));
            }
            if asked.as_deref().is_some_and(|asked| !lies_within(asked)) {
                return Err(JobError::invalid(
                    "project.within",
                    "the directory resolved here lies under none of these (each absolute, \
                     free of links)",
                ));
            }
            self.check_overlap(&id, &pinned, check.allow_overlap)
                .map_err(|error| JobError::invalid("project", error.to_string()))?;
        }
        let isolation = match (&valid.project, valid.project_mode) {
            (Some(project), ProjectMode::Branch) => Some(
                self.isolate(
                    &id,
                    Path::new(project),
                    valid.project_check.map(Into::into),
                    valid.limits.tmpfs_bytes,
                )
                .await?,
            ),
            _ => None,
        };
        let job = valid.into_job(id, isolation);
        self.queue(&job).await?;
        Ok(job)
    }

    /// Every secret the job names (grants, inject rules) must exist.
    async fn check_secrets(&self, valid: &ValidJob) -> Result<(), JobError> {
        for (index, grant) in valid.grants.iter().enumerate() {
            let exists =
                self.inner
                    .secrets
                    .exists(&grant.secret)
                    .await
                    .map_err(|error| match error {
                        crate::secrets::SecretError::Store(error) => JobError::Store(error),
                        other => {
                            JobError::invalid(format!("grants[{index}].secret"), other.to_string())
                        }
                    })?;
            if !exists {
                return Err(JobError::invalid(
                    format!("grants[{index}].secret"),
                    format!("no secret named {}", grant.secret),
                ));
            }
        }
        for (index, rule) in valid
            .egress
            .iter()
            .flat_map(|egress| &egress.inject)
            .enumerate()
        {
            let field = format!("egress.inject[{index}].secret");
            let exists = self
                .inner
                .secrets
                .exists(&rule.secret)
                .await
                .map_err(|error| JobError::invalid(field.clone(), error.to_string()))?;
            if !exists {
                return Err(JobError::invalid(
                    field,
                    format!("no secret named {}", rule.secret),
                ));
            }
        }
        Ok(())
    }

    /// Stores a new job as `queued` and wakes the scheduler.
    pub(super) async fn queue(&self, job: &Job) -> Result<(), JobError> {
        self.inner.store.insert_job(job).await?;
        self.inner
            .events
            .status(&job.id, JobState::Queued, None)
            .await?;
        info!(job_id = %job.id, image = %job.image, "job queued");
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Makes the job's own copy of `project` (branch mode).
    pub(super) async fn isolate(
        &self,
        job_id: &str,
        project: &Path,
        expected: Option<crate::project::DirIdentity>,
        limit: u64,
    ) -> Result<Isolation, JobError> {
        let data_dir = self.inner.config.data_dir.clone();
        let (copy_id, project) = (job_id.to_owned(), project.to_owned());
        let invalid = |error: String| JobError::invalid("project", error);
        // The directory checked when the job (or the one it continues) was
        // made, not whatever the path leads to now.
        let pinned = crate::project::PinnedDir::open(&project)
            .and_then(|pinned| {
                if let Some(expected) = expected {
                    pinned.expect_identity(expected)?;
                }
                Ok(pinned)
            })
            .map_err(|error| invalid(error.to_string()))?;
        let hold = self
            .hold_for_git(&project)
            .map_err(|error| invalid(error.to_string()))?;
        // The copy is the owner's inside when the engine has such a user;
        // else corral's own (a copy needs no host owner to be kept).
        let map = self.inner.runtime.id_map();
        let user = pinned.job_user(map).unwrap_or_else(|_| map.corral());
        let copy_of = project.clone();
        let isolation = tokio::task::spawn_blocking(move || {
            workspace::prepare(&data_dir, &copy_id, &copy_of, user, limit)
        })
        .await
        .map_err(|error| invalid(crate::text::task_failure(&error).to_owned()))?
        .map_err(|error| invalid(error.to_string()))?;
        // The copy was read by path: the path must still lead, link-free,
        // to the directory that was checked (the hold kept jobs that could
        // write it from starting in between).
        let moved = crate::project::PinnedDir::open(&project)
            .and_then(|after| after.expect_identity(pinned.identity()));
        drop(hold);
        if let Err(error) = moved {
            let _ = workspace::remove_copies(
                &workspace::workspaces_dir(&self.inner.config.data_dir).join(job_id),
            );
            return Err(invalid(error.to_string()));
        }
        Ok(isolation)
    }

    /// One job.
    pub async fn get(&self, job_id: &str) -> Result<Job, JobError> {
        self.inner
            .store
            .get_job(job_id)
            .await?
            .ok_or_else(|| JobError::NotFound {
                job_id: job_id.to_owned(),
            })
    }
}
