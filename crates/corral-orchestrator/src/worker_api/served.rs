//! A job as its socket serves it ([`ServedJob`]), made from what the job
//! manager provisions it with ([`JobProvisions`]): its completion, its
//! credentials, and the intake of its events, where every event passes the
//! leak detector before it is stored.
//!
//! - `taking`: a batch through the leak detector into the store

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use corral_proto::worker::{
    Completion, Credential, WORKER_PROTOCOL, WORKSPACE, WorkerEgress, WorkerJob,
};
use corral_proto::{Job, JobMode, ProjectMode};

use super::gate::Gate;
use super::limits::EventRate;
use super::provisions::JobProvisions;
use super::streams::OutputStreams;
use crate::events::EventLog;
use crate::llm::ModelProxy;
use crate::redact::Redactor;
use crate::secrets::SecretValue;
use crate::store::SecretRecords;
use crate::token::TokenHash;

mod redacting;
mod taking;

pub(super) use taking::Taken;

/// The job's session, put on each request once its token was checked.
pub(super) type Session = axum::Extension<Arc<ServedJob>>;

/// A job bound to its socket: what it was provisioned with, and what its
/// worker did since (completion, output counted, prompts handed out).
pub(crate) struct ServedJob {
    pub(super) job: Job,
    /// Set when the job ends: every later call is a 401.
    revoked: AtomicBool,
    /// The worker's completion report, first one wins. Std mutexes here are
    /// never held across an `.await`.
    completion: Mutex<Option<Completion>>,
    /// Set when the store refused a completion claimed here (its claim was
    /// let go): what the job's end tells if none is stored after it.
    completion_refused: AtomicBool,
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
    /// Held while the project is sent: one copy at a time (each ties up a
    /// blocking thread until its reader takes it all or goes).
    pub(super) project_sending: Arc<tokio::sync::Semaphore>,
    pub(super) events: EventLog,
    audit: Arc<dyn SecretRecords>,
    pub(super) redactor: Arc<Redactor>,
    streams: Mutex<OutputStreams>,
    /// A sandbox's desk: its orders, answers and activity.
    pub(super) desk: Option<Arc<crate::sandbox::Desk>>,
    /// What the worker's events may carry.
    budget: super::limits::Budget,
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
    /// The last numbered batch the store refused, and the streams it
    /// touched, until it is taken or a later one comes instead.
    pub(super) refused: Mutex<Option<(u64, Vec<Option<u64>>)>>,
    /// Numbered batches the store refused and the worker gave up on (it
    /// sent a later one): their output and events were never stored.
    given_up: AtomicU64,
    /// Output events no stream took (after the output's end, of no
    /// running exec, past the streams held at once): warned of when the
    /// first is dropped, not each time.
    pub(super) dropped_output: AtomicU64,
    /// Set once the orchestrator recorded the job `running`: the worker's
    /// events wait for it, so the stream never shows the job's own events
    /// before its `running` status.
    running: tokio::sync::watch::Sender<bool>,
    /// Set once something the worker sent was stored, or the session
    /// ended: what a warm start waits for before it asks Docker for more.
    reported: tokio::sync::watch::Sender<bool>,
    /// The highest prompt number handed to the worker.
    delivered: AtomicU64,
    /// The `delivered` a waiting mark was last tried for (`u64::MAX`:
    /// none yet): one try per prompt handed out, however often it asks.
    wait_tried: AtomicU64,
}

/// A claim on a job's completion.
enum Claimed {
    /// Claimed by this call.
    Now,
    /// Another call claimed this one before.
    Before(Completion),
    /// The token was revoked first.
    Revoked,
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
            completion_refused: AtomicBool::new(false),
            credentials: setup.credentials,
            llm: setup.llm,
            egress: setup.egress,
            placeholder,
            project: setup.project,
            project_sending: Arc::new(tokio::sync::Semaphore::new(1)),
            events: setup.events,
            audit: setup.audit,
            redactor: setup.redactor,
            streams: Mutex::new(OutputStreams::default()),
            desk: setup.desk,
            budget: super::limits::Budget::new(setup.max_output_bytes),
            // A new worker numbers its batches from 1, whatever an earlier
            // container of the job (a sandbox stopped and started) stored;
            // only a re-adopted worker goes on from the store's number.
            last_batch: tokio::sync::Mutex::new((!running).then_some(0)),
            rate: EventRate::default(),
            gate: Gate::default(),
            refused: Mutex::new(None),
            given_up: AtomicU64::new(0),
            dropped_output: AtomicU64::new(0),
            running: tokio::sync::watch::channel(running).0,
            reported: tokio::sync::watch::channel(false).0,
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
            protocol: WORKER_PROTOCOL,
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
            // This job's grants, and only this job's: the session holds
            // nothing else.
            credentials: self
                .credentials
                .iter()
                .map(|(env_var, value)| Credential {
                    env_var: env_var.clone(),
                    value: value.expose().to_owned(),
                })
                .collect(),
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

    /// Notes that something the worker sent was stored.
    pub(super) fn note_report(&self) {
        self.reported
            .send_if_modified(|reported| !std::mem::replace(reported, true));
    }

    /// Resolves once something the worker sent was stored, or the session
    /// ended.
    pub(super) fn first_report(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut reported = self.reported.subscribe();
        async move {
            // An error is the session gone: nothing more will be stored.
            let _ = reported.wait_for(|reported| *reported).await;
        }
    }

    pub(super) fn revoke(&self) {
        self.note_report();
        self.revoked.store(true, Ordering::SeqCst);
        if let Some(egress) = &self.egress {
            egress.stop.cancel();
        }
    }

    /// Work in flight for a sandbox's idle timeout, while the guard lives.
    pub(super) fn busy(&self) -> Option<crate::sandbox::Busy> {
        self.desk.as_ref().map(|desk| desk.activity.busy())
    }

    /// Numbered batches never stored: those the worker gave up on, and a
    /// refused one not sent again (yet; read once the session ended, it
    /// never will be). A refused batch with no number (our worker numbers
    /// every one) is not counted: sent again, it cannot be told from a
    /// new one.
    pub(super) fn lost_batches(&self) -> u64 {
        let refused = self
            .refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        self.given_up.load(Ordering::SeqCst) + u64::from(refused)
    }

    /// Counts a refused batch the worker gave up on.
    pub(super) fn give_up(&self) {
        self.given_up.fetch_add(1, Ordering::SeqCst);
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

    /// Claims `completion` for the job, unless one was before or the
    /// token was revoked (see [`ServedJob::accept_completion`]). Under the
    /// completion's lock, as [`ServedJob::report`] reads it after
    /// revoking: a completion is in the report exactly when it was
    /// claimed before the token was revoked, and stored (the endpoint's
    /// close reads it again, after one being stored was taken or let go).
    fn claim_completion(&self, completion: &Completion) -> Claimed {
        let mut slot = self
            .completion
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(taken) = &*slot {
            return Claimed::Before(taken.clone());
        }
        if self.is_revoked() {
            return Claimed::Revoked;
        }
        *slot = Some(completion.clone());
        Claimed::Now
    }

    /// Forgets a completion that could not be stored, so the one sent
    /// again is taken.
    fn clear_completion(&self) {
        *self
            .completion
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.completion_refused.store(true, Ordering::SeqCst);
    }

    /// Whether the store refused a completion the worker sent.
    pub(super) fn completion_refused(&self) -> bool {
        self.completion_refused.load(Ordering::SeqCst)
    }

    /// Takes up a completion stored before a restart: the job's output
    /// had ended there, so none is taken after it.
    pub(super) fn resume_completed(&self, completion: Completion) {
        self.gate.finish();
        *self
            .completion
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(completion);
    }

    /// Goes on from what an earlier orchestrator's leak detector held of
    /// this job's output (read back from the store after a restart).
    pub(super) fn resume_held(&self, streams: OutputStreams) {
        *self.streams.lock().unwrap_or_else(PoisonError::into_inner) = streams;
    }
}
