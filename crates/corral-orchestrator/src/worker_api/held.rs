//! What the leak detector holds of a job's output across an orchestrator
//! restart. The worker is never told how much is held: that depends on
//! the output's content (the longest end of it that may start a secret),
//! so a job that could read it would spell out every secret the detector
//! knows a byte at a time. Nor is the held text stored: writing it only
//! when something is held made a request slower exactly then, the same
//! oracle read off a clock.
//!
//! With every append the store records which streams hold something (the
//! same statement whatever they hold). What they held dies with the
//! orchestrator; a restarted one starts each of those streams with one
//! redaction over as much output as the rest of a secret could take
//! (`Redactor::reach`), so the rest of a secret cut by the restart never
//! comes out in clear. The price: the held bytes and that much output after them are
//! lost, only for a stream that held something when the orchestrator died.
//!
//! A completion stored before the restart is taken up again as well; of a
//! sandbox, only its current container's (one stored before the sandbox's
//! last stop or start was an earlier container's).

use corral_proto::worker::Completion;
use corral_proto::{EventKind, Job};

use super::streams::OutputStreams;
use crate::redact::Redactor;
use crate::store::{EventRecords, StoreError};

/// Streams for `job` as an orchestrator that restarted takes them: those
/// that held something when the last one stopped start covered.
pub(super) async fn restore(
    store: &dyn EventRecords,
    redactor: &Redactor,
    job: &Job,
) -> Result<OutputStreams, StoreError> {
    let held = store.held_streams(&job.id).await?;
    Ok(OutputStreams::covering(&held, redactor.reach()))
}

/// The completion the job's worker reported before the orchestrator
/// restarted, read back from its stored result: the worker does not send
/// it again, and without it the job would be judged as never completed.
pub(super) async fn completion(
    store: &dyn EventRecords,
    job: &Job,
) -> Result<Option<Completion>, StoreError> {
    let Some(result) = store.last_of_kind(&job.id, EventKind::Result).await? else {
        return Ok(None);
    };
    // Reported before the sandbox's last stop or start: by an earlier
    // container. A status a worker sends has no state, so it moves
    // nothing; one stored after `running` (a slow start) is its own.
    if job.mode == corral_proto::JobMode::Sandbox
        && result.seq < store.last_state_but_running(&job.id).await?
    {
        return Ok(None);
    }
    Ok(result.payload::<Completion>())
}
