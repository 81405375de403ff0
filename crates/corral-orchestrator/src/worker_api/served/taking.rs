//! Taking a job's events: a batch through the caps, the leak detector
//! and the audit into the store, whole or not at all.

use std::sync::PoisonError;

use corral_proto::NewEvent;
use corral_proto::worker::Completion;
use tracing::{error, warn};

use super::super::limits::split_output;
use super::super::rows::Rows;
use super::redacting::Redacted;
use super::{Claimed, ServedJob};
use crate::redact::Findings;
use crate::store::{HeldStreams, StoreError};

impl ServedJob {
    /// Stores a batch once: a batch numbered at or below the last one the
    /// store recorded for this job (before a restart too) is a retry,
    /// answered with the answer the first copy got. Batches are taken one
    /// at a time, so what is held is stored in the order it was cut.
    pub(in crate::worker_api) async fn accept_batch(
        &self,
        number: Option<u64>,
        events: Vec<NewEvent>,
    ) -> Result<(), StoreError> {
        let mut last_batch = self.last_batch.lock().await;
        self.gate.still_whole()?;
        let Some(number) = number else {
            self.accept(events, None).await?;
            return Ok(());
        };
        let known = match *last_batch {
            Some(known) => Some(known),
            None => self
                .events
                .store()
                .last_batch(&self.job.id)
                .await?
                .map(|(stored, _)| stored),
        };
        if known.is_some_and(|stored| number <= stored) {
            return Ok(());
        }
        self.skip_lost(number);
        self.accept(events, Some(number)).await?;
        *last_batch = Some(number);
        // Taken at last: no longer one to give up on.
        let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        if refused.as_ref().is_some_and(|(lost, _)| *lost == number) {
            *refused = None;
        }
        Ok(())
    }

    /// A batch after the one the store refused means the worker gave up
    /// on that one (or another sender went past it): its output is lost,
    /// and what comes next may be the rest of a secret it began, so the
    /// streams it touched start covered, as after a restart.
    fn skip_lost(&self, number: u64) {
        let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        match refused.take() {
            Some((lost, touched)) if number > lost => {
                self.give_up();
                self.streams
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .lost(&touched, self.redactor.reach());
            }
            // The refused batch sent again meets the streams as they were,
            // and stays kept until it is stored (refused again, the streams
            // this copy touches are kept with those of the last).
            other => *refused = other,
        }
    }

    /// The refused batch still kept, given up on: the streams it touched.
    fn abandon_refused(&self) -> Option<Vec<Option<u64>>> {
        let (_, touched) = self
            .refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        self.give_up();
        Some(touched)
    }

    /// Keeps refused batch `number` and the streams it `touched`, to be
    /// sent again or given up. Another refused batch still kept (a worker
    /// that sends out of order; ours sends one at a time) is counted as
    /// given up; its streams, or those of an earlier copy of this one
    /// (which a worker may have sent with other output), are kept with
    /// these: should it come again and be stored, a batch is counted lost
    /// that was not, and text is redacted that need not be, never the other
    /// way.
    fn refuse(&self, number: u64, mut touched: Vec<Option<u64>>) {
        let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((before, streams)) = refused.take() {
            if before != number {
                self.give_up();
            }
            for exec in streams {
                if !touched.contains(&exec) {
                    touched.push(exec);
                }
            }
        }
        *refused = Some((number, touched));
    }

    /// Caps, redacts, audits and stores a batch from the worker; only
    /// under `last_batch` (see [`ServedJob::accept_batch`]).
    async fn accept(&self, events: Vec<NewEvent>, batch: Option<u64>) -> Result<u64, StoreError> {
        self.until_running().await;
        if !self.budget.counted_before() {
            let stored = self
                .events
                .store()
                .worker_bytes(&self.job.id, crate::worker_api::ROW_COST)
                .await?;
            self.budget.count_before(stored);
        }
        let asked = batch.is_some() || !events.is_empty();
        let events = split_output(events);
        let counted = events.len();
        let wait = self.rate.take(counted);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        if let Some(desk) = &self.desk {
            desk.activity.touch();
        }
        // Should the batch not be stored, the worker sends it again, and it
        // must meet the detector as it was: pushed twice, a held first half
        // of a secret would no longer start one, and would be let go in
        // clear. Stopped midway (a panic), the intake takes no more.
        let armed = self.gate.arm();
        self.streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .begin();
        // The budget as it was, for a batch not stored.
        let budget = self.budget.spent();
        let Redacted {
            rows,
            findings,
            ended_here,
        } = self.redact_batch(events, self.gate.is_finished());
        // Written with every append the worker asked for, whatever it
        // held: the work a request does must not tell it (see `held`).
        let held = asked.then(|| self.holding());
        let stored = self.store(rows.into_events(), findings, batch, held).await;
        if let (Ok(_), Some(desk)) = (&stored, &self.desk) {
            for ended in ended_here {
                desk.exec_ended(ended.exec, ended.duration_ms);
            }
        }
        let touched = self
            .streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .settle(stored.is_ok());
        if stored.is_err() {
            match batch {
                Some(number) => self.refuse(number, touched),
                // No number to send it again under: given up now.
                None => self
                    .streams
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .lost(&touched, self.redactor.reach()),
            }
            // Sent again, its output and its events must not count twice.
            self.budget.give_back(budget);
            self.rate.give_back(counted);
        }
        armed.disarm();
        stored
    }

    /// The streams that hold something now.
    fn holding(&self) -> HeldStreams {
        self.streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .holding()
    }

    /// Stores what the stream redactor still holds back, as output events.
    pub(in crate::worker_api) async fn flush_streams(&self) -> Result<u64, StoreError> {
        let _one_at_a_time = self.last_batch.lock().await;
        self.flush_with(None).await
    }

    /// Takes the worker's completion: what the detector holds and the
    /// completion's event are stored in one append, or neither is (stored
    /// apart, a restart between the two lost the completion). The first
    /// completion wins. Sent again while the first copy is being stored, a
    /// copy waits for it, and is answered as it was.
    pub(in crate::worker_api) async fn accept_completion(
        &self,
        completion: Completion,
    ) -> Result<Taken, StoreError> {
        self.until_running().await;
        let _one_at_a_time = self.last_batch.lock().await;
        // A batch stopped midway: nothing more is taken, as before it.
        self.gate.still_whole()?;
        match self.claim_completion(&completion) {
            Claimed::Before(taken) if self.same_completion(&taken, &completion) => {
                return Ok(Taken::AsBefore);
            }
            Claimed::Before(_) => return Ok(Taken::Other),
            Claimed::Revoked => return Ok(Taken::Late),
            Claimed::Now => {}
        }
        // Not stored (a full disk, a panic), the claim is let go: the
        // worker sends it again.
        let claim = Unclaim(Some(self));
        self.flush_with(Some(NewEvent::of(&completion))).await?;
        claim.keep();
        Ok(Taken::Stored)
    }

    /// Whether `sent` is the completion `taken` (as stored, redacted,
    /// when it was read back after a restart).
    fn same_completion(&self, taken: &Completion, sent: &Completion) -> bool {
        if taken == sent {
            return true;
        }
        let Ok(mut value) = serde_json::to_value(sent) else {
            return false;
        };
        self.redactor
            .redact_json(&mut value, &mut Findings::default());
        serde_json::from_value::<Completion>(value).is_ok_and(|redacted| redacted == *taken)
    }

    /// Stores what every stream holds, and `last` after it; only under
    /// `last_batch`.
    async fn flush_with(&self, last: Option<NewEvent>) -> Result<u64, StoreError> {
        // From here on no output is taken: what comes after the end would
        // start a stream afresh, behind what the flush let go.
        self.gate.finish();
        let mut findings = Findings::default();
        // A refused batch is not sent again after this: it is lost, and
        // what the streams it touched hold may begin a secret its text went
        // on with. Not undone should this flush not be stored.
        let abandoned = self.abandon_refused();
        let emitted = {
            let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
            // A batch stopped midway left its journal open: back to before it.
            streams.roll_back();
            if let Some(touched) = abandoned {
                streams.lost(&touched, self.redactor.reach());
            }
            // Not stored, what was held is held again for the flush that
            // comes with the completion sent again.
            streams.begin();
            streams.flush(&self.redactor, &mut findings)
        };
        let mut rows = Rows::default();
        rows.emitted(emitted);
        if let Some(mut event) = last {
            let mut found = Findings::default();
            self.redactor.redact_json(&mut event.data, &mut found);
            event.redacted = found.any();
            findings.names.extend(found.names);
            rows.other(event);
        }
        let held = Some(self.holding());
        let stored = self.store(rows.into_events(), findings, None, held).await;
        self.streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .settle(stored.is_ok());
        stored
    }

    pub(in crate::worker_api) async fn store(
        &self,
        events: Vec<NewEvent>,
        findings: Findings,
        batch: Option<u64>,
        held: Option<HeldStreams>,
    ) -> Result<u64, StoreError> {
        let mut last_seq = 0;
        if !events.is_empty() || batch.is_some() || held.is_some() {
            last_seq = self
                .events
                .append_batch(&self.job.id, events, batch, held)
                .await?;
            if let Some(desk) = &self.desk {
                desk.note_seq(last_seq);
            }
            self.note_report();
        }
        // Audited once stored: a batch the store refused is sent again,
        // and its redactions are audited then.
        if findings.any() {
            warn!(job_id = %self.job.id, count = findings.names.len(), "redacted secrets from job events");
            if let Err(error) = self
                .audit
                .record_redactions(&self.job.id, findings.names)
                .await
            {
                error!(job_id = %self.job.id, error = %error, "cannot audit redactions");
            }
        }
        Ok(last_seq)
    }
}

/// What became of a completion sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::worker_api) enum Taken {
    /// Stored now.
    Stored,
    /// The one taken before, sent again.
    AsBefore,
    /// Another completion was taken before.
    Other,
    /// The job's token was revoked first (its container stopped): its
    /// end was judged without it.
    Late,
}

/// A completion's claim, let go when dropped unless kept.
struct Unclaim<'a>(Option<&'a ServedJob>);

impl Unclaim<'_> {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Unclaim<'_> {
    fn drop(&mut self) {
        if let Some(job) = self.0 {
            job.clear_completion();
        }
    }
}
