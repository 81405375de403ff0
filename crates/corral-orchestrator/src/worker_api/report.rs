//! What a served job leaves behind beyond its events: the account its
//! endpoint hands back on closing ([`WorkerReport`]), and a claude job's
//! session, kept redacted so a follow-up can resume it.

use corral_proto::worker::{ClaudeSession, Completion};

use super::served::ServedJob;
use crate::redact::Findings;
use crate::store::StoreError;

impl ServedJob {
    /// What the worker and the model proxy reported so far.
    pub(super) fn report(&self) -> WorkerReport {
        let llm = self.llm.as_ref();
        WorkerReport {
            completion: self.completion(),
            failure: llm.and_then(|llm| llm.failure()),
            model_error: llm.and_then(|llm| llm.last_error()),
            // Counted at close, once every request was served (see
            // `WorkerEndpoint::close`): a batch being stored now may yet
            // be refused.
            lost_batches: 0,
            completion_refused: false,
        }
    }

    /// Keeps the job's Claude session, redacted like its events, so a
    /// follow-up can resume it after the job ends.
    pub(super) async fn keep_claude_session(
        &self,
        mut session: ClaudeSession,
    ) -> Result<(), StoreError> {
        let mut findings = Findings::default();
        if let Some(clean) = self
            .redactor
            .redact_text(&session.transcript, &mut findings)
        {
            session.transcript = clean;
        }
        self.events
            .store()
            .save_claude_session(&self.job.id, &session)
            .await?;
        // Audited once saved: a session the store refused is sent again.
        self.store(Vec::new(), findings, None, None).await?;
        Ok(())
    }
}

/// What a job's worker and its model proxy reported while its container
/// ran, as its endpoint hands it back on closing.
#[derive(Debug, Clone, Default)]
pub struct WorkerReport {
    /// What the worker reported at `/v1/complete`, if it did.
    pub completion: Option<Completion>,
    /// Why the job must fail whatever its worker says (its model budget ran
    /// out, its provider failed), if it must.
    pub failure: Option<String>,
    /// The last error the model's upstream answered with, if any.
    pub model_error: Option<String>,
    /// Batches of the worker's events the store refused and that were
    /// never stored (the worker gave up on them, or the job ended first).
    pub lost_batches: u64,
    /// Whether the worker's completion was refused by the store and never
    /// stored (then `completion` is `None`).
    pub completion_refused: bool,
}
