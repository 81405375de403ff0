//! What a job's worker API session needs, opened before its container
//! starts: its grants, its model proxy, its egress, and a leak detector that
//! knows every stored secret and the provider's key.

use std::sync::Arc;

use corral_proto::{Job, JobLlm};

use super::JobManager;
use crate::llm::{LlmSession, Provider, ProviderKey, ProxyContext};
use crate::redact::Redactor;
use crate::runtime::JobUser;
use crate::secrets::{SecretError, SecretValue};
use crate::worker_api::SessionSetup;
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
    pub(super) async fn session_setup(
        &self,
        job: &Job,
        user: JobUser,
    ) -> Result<SessionSetup, SetupError> {
        let secrets = &self.inner.secrets;
        let mut credentials = Vec::with_capacity(job.grants.len());
        for grant in &job.grants {
            credentials.push((grant.env.clone(), secrets.reveal(&grant.secret).await?));
        }
        let provider = match &job.llm {
            Some(llm) => Some(self.llm_provider(llm).await?),
            None => None,
        };
        let mut known = secrets.reveal_all().await?;
        if let Some((_, Some(key))) = &provider {
            known.push(("model provider key".to_owned(), key.clone()));
        }
        let redactor = Redactor::new(
            known
                .iter()
                .map(|(name, value)| (name.as_str(), value.expose())),
        );
        let redactor = Arc::new(redactor);
        let llm = job
            .llm
            .as_ref()
            .zip(provider)
            .map(|(llm, (provider, key))| {
                Arc::new(LlmSession::new(
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
                ))
            });
        let egress = match &job.egress {
            Some(policy) => {
                let mut values = std::collections::HashMap::new();
                for rule in &policy.inject {
                    values.insert(rule.secret.clone(), secrets.reveal(&rule.secret).await?);
                }
                Some(Arc::new(crate::egress::EgressSession::new(
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
        Ok(SessionSetup {
            job: job.clone(),
            user,
            credentials,
            redactor,
            events: self.inner.events.clone(),
            audit: Arc::clone(secrets.records()),
            max_output_bytes: self.inner.config.max_output_bytes,
            llm,
            egress,
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
        let key = match &provider.key {
            ProviderKey::None => None,
            ProviderKey::Value(value) => Some(value.clone()),
            ProviderKey::Secret(name) => Some(self.inner.secrets.reveal(name).await?),
        };
        Ok((provider, key))
    }
}
