//! A job as its socket serves it ([`ServedJob`]), made from what the job
//! manager provisions it with ([`JobProvisions`]): its completion, its
//! credentials, and the intake of its events, where every event passes the
//! leak detector before it is stored.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use corral_proto::event::ExecEndedData;
use corral_proto::worker::{Completion, WORKSPACE, WorkerEgress, WorkerJob};
use corral_proto::{EventKind, Job, JobMode, NewEvent, ProjectMode};
use tracing::{error, warn};

use super::gate::Gate;
use super::limits::{EventRate, split_output};
use super::provisions::JobProvisions;
use super::rows::Rows;
use super::streams::OutputStreams;
use crate::events::EventLog;
use crate::llm::ModelProxy;
use crate::redact::{Findings, Redactor};
use crate::secrets::SecretValue;
use crate::store::{HeldStreams, SecretRecords, StoreError};
use crate::token::TokenHash;

/// A job bound to its socket: what it was provisioned with, and what its
/// worker did since (completion, output counted, prompts handed out).
pub(crate) struct ServedJob {
    pub(super) job: Job,
    /// Set when the job ends: every later call is a 401.
    revoked: AtomicBool,
    /// The worker's completion report, first one wins. Std mutexes here are
    /// never held across an `.await`.
    completion: Mutex<Option<Completion>>,
    /// Zeroized when the session ends.
    pub(super) credentials: Vec<(String, SecretValue)>,
    /// The job's model proxy, in agent modes.
    pub(super) llm: Option<Arc<ModelProxy>>,
    /// The job's egress proxy, when it may reach some host.
    pub(super) egress: Option<Arc<crate::egress::EgressProxy>>,
    /// The stand-in key its `claude` presents (claude mode): derived from
    /// the token's hash, so a re-adopted job keeps it.
    pub(super) placeholder: Option<String>,
    /// The project held open at start (copy mode reads it).
    pub(super) project: Option<Arc<crate::project::PinnedDir>>,
    pub(super) events: EventLog,
    audit: Arc<dyn SecretRecords>,
    pub(super) redactor: Arc<Redactor>,
    streams: Mutex<OutputStreams>,
    /// A sandbox's desk: its orders, answers and activity.
    pub(super) desk: Option<Arc<crate::sandbox::Desk>>,
    output_bytes: AtomicU64,
    max_output_bytes: u64,
    output_capped: AtomicBool,
    /// The last numbered batch stored and the last sequence number it got,
    /// once known (read from the store on first use: a restart loses it),
    /// so a batch costs no read of the store. Held while a numbered batch
    /// is checked and stored, so a retried batch waits for its first copy.
    /// A tokio mutex: held across the store.
    last_batch: tokio::sync::Mutex<Option<u64>>,
    /// Events admitted per second.
    rate: EventRate,
    /// How batches reach the detector: a bounded few at once, whole or
    /// not at all, none after the output's end.
    pub(super) gate: Gate,
    /// Set once the orchestrator recorded the job `running`: the worker's
    /// events wait for it, so the stream never shows the job's own events
    /// before its `running` status.
    running: tokio::sync::watch::Sender<bool>,
    /// The highest prompt number handed to the worker.
    delivered: AtomicU64,
    /// The `delivered` a waiting mark was last tried for (`u64::MAX`:
    /// none yet): one try per prompt handed out, however often it asks.
    wait_tried: AtomicU64,
}

/// Longest a worker's events wait for the `running` status (a start that
/// stalls past this must not hold the job's events for ever).
const RUNNING_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The placeholder key of the job whose token hashes to `token`.
fn placeholder_for(token: &TokenHash) -> String {
    let digest =
        crate::token::hash_hex(format!("corral-placeholder:{}", token.as_hex()).as_bytes());
    format!("corral-placeholder-{}", &digest[..32])
}

impl ServedJob {
    /// A session for `setup`'s job on the socket whose token hashes to
    /// `token`; `running` when the job is already recorded running (a
    /// re-adopted job).
    pub(super) fn new(setup: JobProvisions, token: &TokenHash, running: bool) -> Self {
        let placeholder = (setup.job.mode == JobMode::Claude).then(|| placeholder_for(token));
        Self {
            job: setup.job,
            revoked: AtomicBool::new(false),
            completion: Mutex::new(None),
            credentials: setup.credentials,
            llm: setup.llm,
            egress: setup.egress,
            placeholder,
            project: setup.project,
            events: setup.events,
            audit: setup.audit,
            redactor: setup.redactor,
            streams: Mutex::new(OutputStreams::default()),
            desk: setup.desk,
            output_bytes: AtomicU64::new(0),
            max_output_bytes: setup.max_output_bytes,
            output_capped: AtomicBool::new(false),
            // A new worker numbers its batches from 1, whatever an earlier
            // container of the job (a sandbox stopped and started) stored;
            // only a re-adopted worker goes on from the store's number.
            last_batch: tokio::sync::Mutex::new((!running).then_some(0)),
            rate: EventRate::default(),
            gate: Gate::default(),
            running: tokio::sync::watch::channel(running).0,
            delivered: AtomicU64::new(0),
            wait_tried: AtomicU64::new(u64::MAX),
        }
    }

    /// The job as its worker sees it: what it runs and how, never the
    /// host's paths, the grants' names or the provider's key. The one place
    /// a [`Job`] becomes a [`WorkerJob`].
    pub(super) fn worker_job(&self) -> WorkerJob {
        let job = &self.job;
        WorkerJob {
            id: job.id.clone(),
            mode: job.mode,
            command: job.command.clone(),
            prompt: job.prompt.clone(),
            workdir: job.project.as_ref().map(|_| WORKSPACE.to_owned()),
            limits: job.limits,
            llm: job.llm.clone(),
            interactive: job.interactive,
            claude: job.claude.clone(),
            placeholder_key: self.placeholder.clone(),
            egress: self.egress.as_ref().map(|egress| WorkerEgress {
                ca_pem: egress.ca_pem(),
            }),
            project_copy: job.project.is_some() && job.project_mode == ProjectMode::Copy,
        }
    }

    /// Notes the prompts handed to the worker.
    pub(super) fn delivered(&self, prompts: &[corral_proto::Prompt]) {
        if let Some(last) = prompts.iter().map(|prompt| prompt.seq).max() {
            self.delivered.fetch_max(last, Ordering::SeqCst);
        }
    }

    /// The last prompt handed out, when a waiting mark has not been tried
    /// for it yet.
    pub(super) fn waiting_to_mark(&self) -> Option<u64> {
        let seen = self.delivered.load(Ordering::SeqCst);
        (self.wait_tried.swap(seen, Ordering::SeqCst) != seen).then_some(seen)
    }

    /// Lets the worker's events through: the job is recorded `running`.
    pub(super) fn mark_running(&self) {
        self.running.send_replace(true);
    }

    /// Waits (boundedly) until the job is recorded `running`.
    async fn until_running(&self) {
        let mut running = self.running.subscribe();
        let _ = tokio::time::timeout(RUNNING_WAIT, running.wait_for(|running| *running)).await;
    }

    pub(super) fn revoke(&self) {
        self.revoked.store(true, Ordering::SeqCst);
        if let Some(egress) = &self.egress {
            egress.stop.cancel();
        }
    }

    /// Work in flight for a sandbox's idle timeout, while the guard lives.
    pub(super) fn busy(&self) -> Option<crate::sandbox::Busy> {
        self.desk.as_ref().map(|desk| desk.activity.busy())
    }

    pub(super) fn is_revoked(&self) -> bool {
        self.revoked.load(Ordering::SeqCst)
    }

    /// The worker's completion report, if it sent one.
    pub(super) fn completion(&self) -> Option<Completion> {
        self.completion
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records the first completion; false when one was already recorded.
    pub(super) fn set_completion(&self, completion: Completion) -> bool {
        let mut binding = self
            .completion
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if binding.is_some() {
            return false;
        }
        *binding = Some(completion);
        true
    }

    /// Goes on from what an earlier orchestrator's leak detector held of
    /// this job's output (read back from the store after a restart).
    pub(super) fn resume_held(&self, streams: OutputStreams) {
        *self.streams.lock().unwrap_or_else(PoisonError::into_inner) = streams;
    }

    /// Stores a batch once: a batch numbered at or below the last one the
    /// store recorded for this job (before a restart too) is a retry,
    /// answered with the answer the first copy got. Batches are taken one
    /// at a time, so what is held is stored in the order it was cut.
    pub(super) async fn accept_batch(
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
        self.accept(events, Some(number)).await?;
        *last_batch = Some(number);
        Ok(())
    }

    /// Caps, redacts, audits and stores a batch from the worker; only
    /// under `last_batch` (see [`ServedJob::accept_batch`]).
    async fn accept(&self, events: Vec<NewEvent>, batch: Option<u64>) -> Result<u64, StoreError> {
        self.until_running().await;
        let asked = batch.is_some() || !events.is_empty();
        let events = split_output(events);
        let wait = self.rate.take(events.len());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let mut rows = Rows::default();
        let mut findings = Findings::default();
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
        let finished = self.gate.is_finished();
        for mut event in self.cap_output(events) {
            let mut found = Findings::default();
            let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(output) = event.output() {
                if finished {
                    // After the output's end: no stream to take it.
                    warn!(job_id = %self.job.id, "output after the job's output ended was dropped");
                    continue;
                }
                rows.emitted(streams.push(
                    &self.redactor,
                    output.exec,
                    output.stream,
                    output.text,
                    &mut found,
                ));
                rows.sent(output.exec, output.stream);
            } else {
                // An exec's end comes after all its output: what its
                // redactor holds goes first.
                // Only once, and only for an exec that runs: a forged end
                // cannot make another exec's redactor let go early.
                if let Some(ended) = (event.kind == EventKind::ExecEnded)
                    .then(|| event.payload::<ExecEndedData>())
                    .flatten()
                    && self
                        .desk
                        .as_ref()
                        .is_some_and(|desk| desk.exec_ended(ended.exec, ended.duration_ms))
                {
                    rows.emitted(streams.flush_exec(&self.redactor, Some(ended.exec), &mut found));
                }
                self.redactor.redact_json(&mut event.data, &mut found);
                event.redacted = found.any();
                rows.other(event);
            }
            findings.names.extend(found.names);
        }
        // Written with every append the worker asked for, whatever it
        // held: the work a request does must not tell it (see `held`).
        let held = asked.then(|| self.holding());
        let stored = self.store(rows.into_events(), findings, batch, held).await;
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if stored.is_ok() {
            streams.commit();
        } else {
            streams.roll_back();
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
    pub(super) async fn flush_streams(&self) -> Result<u64, StoreError> {
        let _one_at_a_time = self.last_batch.lock().await;
        // From here on no output is taken: what comes after the end would
        // start a stream afresh, behind what the flush let go.
        self.gate.finish();
        let mut findings = Findings::default();
        let emitted = {
            let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
            // A batch stopped midway left its journal open: back to before it.
            streams.roll_back();
            streams.flush(&self.redactor, &mut findings)
        };
        let mut rows = Rows::default();
        rows.emitted(emitted);
        let held = Some(self.holding());
        self.store(rows.into_events(), findings, None, held).await
    }

    pub(super) async fn store(
        &self,
        events: Vec<NewEvent>,
        findings: Findings,
        batch: Option<u64>,
        held: Option<HeldStreams>,
    ) -> Result<u64, StoreError> {
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
        if events.is_empty() && batch.is_none() && held.is_none() {
            return Ok(0);
        }
        let last_seq = self
            .events
            .append_batch(&self.job.id, events, batch, held)
            .await?;
        if let Some(desk) = &self.desk {
            desk.note_seq(last_seq);
        }
        Ok(last_seq)
    }

    /// Drops output past the job's budget, replacing it with one warning.
    fn cap_output(&self, events: Vec<NewEvent>) -> Vec<NewEvent> {
        let mut kept = Vec::with_capacity(events.len());
        for event in events {
            if let Some(output) = event.output() {
                let size = output.text.len() as u64;
                let before = self.output_bytes.fetch_add(size, Ordering::SeqCst);
                if before + size > self.max_output_bytes {
                    if !self.output_capped.swap(true, Ordering::SeqCst) {
                        let message =
                            format!("output past {} bytes was dropped", self.max_output_bytes);
                        kept.push(NewEvent::warning(message));
                    }
                    continue;
                }
            }
            kept.push(event);
        }
        kept
    }
}
