//! What a job's worker API session needs, opened before its container
//! starts: its grants, its model proxy, its egress, and a leak detector that
//! knows every stored secret and the provider's key.

use std::sync::Arc;

use corral_proto::{Job, JobLlm};

use super::JobManager;
use crate::llm::{ModelProxy, Provider, ProviderKey, ProxyContext};
use crate::redact::Redactor;
use crate::secrets::{SecretError, SecretValue};
use crate::worker_api::JobProvisions;
use corral_runtime::JobUser;
use tracing::instrument;

/// Why a job's session could not be set up.
#[derive(Debug, thiserror::Error)]
pub(super) enum SetupError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Provider(String),
    #[error(transparent)]
    Egress(#[from] crate::egress::EgressError),
}

impl JobManager {
    /// Opens the job's grants, sets up its model proxy and builds its leak
    /// detector from every stored secret and the provider's key.
    #[instrument(name = "jobs.setup", skip_all, fields(job_id = %job.id))]
    pub(super) async fn provisions(
        &self,
        job: &Job,
        user: JobUser,
        project: Option<Arc<crate::project::PinnedDir>>,
        redactor: Arc<Redactor>,
    ) -> Result<JobProvisions, SetupError> {
        let secrets = &self.inner.secrets;
        let mut credentials = Vec::with_capacity(job.grants.len());
        for grant in &job.grants {
            credentials.push((grant.env.clone(), secrets.reveal(&grant.secret).await?));
        }
        let provider = match &job.llm {
            Some(llm) => Some(self.llm_provider(llm).await?),
            None => None,
        };
        let llm = job
            .llm
            .as_ref()
            .zip(provider)
            .map(|(llm, (provider, key))| {
                Arc::new(
                    ModelProxy::new(
                        job.id.clone(),
                        provider,
                        key,
                        llm.model.clone(),
                        ProxyContext {
                            upstream: self.inner.upstream.clone(),
                            events: self.inner.events.clone(),
                            tasks: self.inner.tasks.clone(),
                        },
                        &job.limits,
                        Arc::clone(&redactor),
                    )
                    // A re-adopted job's stored usage: its budget counts on.
                    .resuming(&job.usage),
                )
            });
        let egress = match &job.egress {
            Some(policy) => {
                let mut values = std::collections::HashMap::new();
                for rule in &policy.inject {
                    values.insert(rule.secret.clone(), secrets.reveal(&rule.secret).await?);
                }
                Some(Arc::new(crate::egress::EgressProxy::new(
                    &job.id,
                    policy.clone(),
                    &values,
                    Arc::clone(&self.inner.config.egress),
                    self.inner.events.clone(),
                    Arc::clone(&redactor),
                )?))
            }
            None => None,
        };
        let desk = self.open_desk(job, &redactor).await?;
        Ok(JobProvisions {
            job: job.clone(),
            user,
            credentials,
            redactor,
            events: self.inner.events.clone(),
            audit: Arc::clone(secrets.records()),
            max_output_bytes: self.inner.config.max_output_bytes,
            llm,
            egress,
            project,
            desk,
        })
    }

    /// A sandbox's desk, registered so the user API finds it; its execs
    /// numbered on past whatever a re-adopted sandbox stored before.
    async fn open_desk(
        &self,
        job: &Job,
        redactor: &Arc<Redactor>,
    ) -> Result<Option<Arc<crate::sandbox::Desk>>, SetupError> {
        if job.mode != corral_proto::JobMode::Sandbox {
            return Ok(None);
        }
        let before = self
            .inner
            .store
            .last_batch(&job.id)
            .await
            .map_err(|error| {
                SetupError::Provider(format!("cannot read the sandbox's events: {error}"))
            })?
            .map_or(0, |(_, last_seq)| last_seq);
        let desk = Arc::new(crate::sandbox::Desk::new(
            self.inner.config.sandbox_max_execs,
            before,
            Arc::clone(redactor),
            Arc::clone(&self.inner.sandbox_stats),
        ));
        desk.note_seq(before);
        // Those of its execs that may still run: their output is taken,
        // and their end lets go of what the detector holds of it.
        let open = self
            .inner
            .store
            .open_execs(
                &job.id,
                u32::try_from(self.inner.config.sandbox_max_execs).unwrap_or(u32::MAX),
            )
            .await
            .map_err(|error| {
                SetupError::Provider(format!("cannot read the sandbox's execs: {error}"))
            })?;
        for exec in open {
            desk.open_before(exec);
        }
        if self.has_snapshot(&job.id) {
            desk.set_restoring();
        }
        self.lock_desks().insert(job.id.clone(), Arc::clone(&desk));
        // Deleted while it started (before it had a desk to close).
        let cancelled = self
            .lock_active()
            .get(&job.id)
            .is_some_and(tokio_util::sync::CancellationToken::is_cancelled);
        if cancelled {
            desk.close();
        }
        Ok(Some(desk))
    }

    /// The job's leak detector: every stored secret, the provider's key,
    /// and the well-known token shapes. Everything of the job's that leaves
    /// the orchestrator passes it: events, its reason, its warnings.
    pub(super) async fn job_redactor(&self, job: &Job) -> Result<Arc<Redactor>, SetupError> {
        let mut known = self.inner.secrets.reveal_all().await?;
        if let Some(key) = match &job.llm {
            Some(llm) => self.provider_key(&llm.provider).await?,
            None => None,
        } {
            known.push(("model provider key".to_owned(), key));
        }
        Ok(Arc::new(Redactor::new(
            known
                .iter()
                .map(|(name, value)| (name.as_str(), value.expose())),
        )))
    }

    /// The key of provider `name`, opened, when it has one.
    async fn provider_key(
        &self,
        name: &str,
    ) -> Result<Option<crate::secrets::SecretValue>, SetupError> {
        let Some(provider) = self.inner.config.llm.providers.get(name) else {
            return Ok(None);
        };
        Ok(match &provider.key {
            ProviderKey::None => None,
            ProviderKey::Value(value) => Some(value.clone()),
            ProviderKey::Secret(secret) => Some(self.inner.secrets.reveal(secret).await?),
        })
    }

    /// The job's model provider as configured now, its key opened from
    /// wherever the provider keeps it.
    async fn llm_provider(
        &self,
        llm: &JobLlm,
    ) -> Result<(Provider, Option<SecretValue>), SetupError> {
        let provider = self
            .inner
            .config
            .llm
            .providers
            .get(&llm.provider)
            .cloned()
            .ok_or_else(|| {
                SetupError::Provider(format!(
                    "model provider `{}` is not configured on this server",
                    llm.provider
                ))
            })?;
        let key = self.provider_key(&llm.provider).await?;
        Ok((provider, key))
    }
}
