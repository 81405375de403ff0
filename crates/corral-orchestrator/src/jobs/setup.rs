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
        adopting: bool,
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
                .map(|proxy| Arc::new(proxy.resuming(&job.usage)))
            })
            .transpose()
            .map_err(SetupError::Provider)?;
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
        let desk = self.open_desk(job, &redactor, adopting).await?;
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
    /// numbered on past whatever it handed out before (`adopting`: its
    /// container still runs, and so may execs of the last desk's).
    async fn open_desk(
        &self,
        job: &Job,
        redactor: &Arc<Redactor>,
        adopting: bool,
    ) -> Result<Option<Arc<crate::sandbox::Desk>>, SetupError> {
        if job.mode != corral_proto::JobMode::Sandbox {
            return Ok(None);
        }
        let store = &self.inner.store;
        let read = |error: crate::store::StoreError| {
            SetupError::Provider(format!("cannot read the sandbox's events: {error}"))
        };
        let last_batch = store.last_batch(&job.id).await.map_err(read)?;
        let (first, reserved) = store.exec_numbers(&job.id).await.map_err(read)?;
        let stored = last_batch.map_or(0, |(_, last_seq)| last_seq);
        // Past every number reserved before (see `sandbox::desk::numbers`)
        // and every one of an earlier container (its first number is past
        // them); and, for a sandbox an older corral stored (which set
        // neither), past what was stored, every number stored as started,
        // and as many as a sandbox may run at once: a handed out exec whose
        // start was not stored was running, and the desk refuses more.
        let older = reserved == 0 && first == 0;
        let unreserved = if older && (adopting || last_batch.is_some()) {
            let started = store.highest_started_exec(&job.id).await.map_err(read)?;
            legacy_floor(&job.id, stored, started)
                .saturating_add(crate::config::MAX_SANDBOX_EXECS as u64)
        } else {
            stored
        };
        let handed_out = reserved.max(unreserved).max(first.saturating_sub(1));
        let desk = Arc::new(crate::sandbox::Desk::new(
            self.inner.config.sandbox_max_execs,
            handed_out,
            Arc::clone(redactor),
            Arc::clone(&self.inner.sandbox_stats),
        ));
        desk.limit_to_reserved(handed_out);
        desk.note_seq(stored);
        if adopting {
            // Its execs from before, since its container started.
            desk.execs_from(first);
            self.open_before(job, &desk, first..=handed_out).await;
        } else {
            // A new container: no exec before this one's first runs in it.
            desk.execs_from(handed_out + 1);
            store
                .set_execs_from(&job.id, handed_out + 1)
                .await
                .map_err(|error| {
                    SetupError::Provider(format!(
                        "cannot record the sandbox's exec numbers: {error}"
                    ))
                })?;
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

    /// Opens on `desk` those of a re-adopted sandbox's execs numbered
    /// in `numbers` that may still run: started and not ended in the
    /// store, or holding output in the leak detector when the last batch
    /// was stored. Their output is taken, and their end lets go of what
    /// the detector holds of it. Unreadable, none is: their output is
    /// dropped, never stored unredacted.
    async fn open_before(
        &self,
        job: &Job,
        desk: &crate::sandbox::Desk,
        numbers: std::ops::RangeInclusive<u64>,
    ) {
        let store = &self.inner.store;
        let most = u32::try_from(self.inner.config.sandbox_max_execs).unwrap_or(u32::MAX);
        let held = store.held_streams(&job.id).await;
        let started = store.open_execs(&job.id, numbers.clone(), most).await;
        match held.and_then(|held| Ok((held, started?))) {
            Ok((held, started)) => {
                let held = held.into_iter().flatten();
                for exec in started.into_iter().chain(held) {
                    if numbers.contains(&exec) {
                        desk.open_before(exec);
                    }
                }
            }
            Err(error) => {
                tracing::warn!(job_id = %job.id, error = %error, "cannot read which of the sandbox's execs may still run: their output is dropped");
            }
        }
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

/// How far past the last sequence number an older corral numbered its
/// execs, at most: a start stored further out was forged by its worker,
/// and numbering past it would run the numbers past what the store holds.
const LEGACY_GAP: u64 = 1 << 32;

/// The highest exec number an older corral may have handed out, before
/// the gap for those whose start was never stored: the last sequence
/// number or the highest stored start, a forged one left out.
fn legacy_floor(job_id: &str, stored: u64, started: u64) -> u64 {
    if started > stored.saturating_add(LEGACY_GAP) {
        tracing::warn!(
            job_id,
            started,
            "an exec start stored far past the sandbox's events was left out of its numbering"
        );
        return stored;
    }
    stored.max(started)
}

#[cfg(test)]
mod tests {
    use super::{LEGACY_GAP, legacy_floor};

    #[test]
    fn an_older_corrals_numbering_floor_leaves_out_a_start_forged_far_past_its_events() {
        assert_eq!(legacy_floor("j-1", 10, 5000), 5000);
        assert_eq!(legacy_floor("j-1", 7000, 5000), 7000);
        assert_eq!(legacy_floor("j-1", 10, 10 + LEGACY_GAP), 10 + LEGACY_GAP);
        assert_eq!(legacy_floor("j-1", 10, 11 + LEGACY_GAP), 10);
        assert_eq!(legacy_floor("j-1", 10, i64::MAX as u64), 10);
        assert_eq!(legacy_floor("j-1", u64::MAX, u64::MAX), u64::MAX);
    }
}
