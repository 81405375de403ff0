//! What the leak detector holds of a job's output, kept sealed in the
//! store with each append. The worker is never told how much is held: that
//! number depends on the output's content (the longest end of it that may
//! start a secret), so a job could ask it byte by byte and spell out every
//! secret the detector knows. An orchestrator that restarts reads it back
//! instead, and the rest of a secret cut by the restart is still caught.

use corral_proto::Job;
use tracing::error;

use super::streams::OutputStreams;
use crate::secrets::MasterKey;
use crate::store::{EventRecords, HeldOutput};

/// The label a job's held output is sealed under: opened for its job only.
fn label(job_id: &str) -> String {
    format!("held-output:{job_id}")
}

/// What to store with an append that left `streams` as they are;
/// `stored` when the last append stored something held.
pub(super) fn to_store(
    key: &MasterKey,
    job_id: &str,
    streams: &OutputStreams,
    stored: bool,
) -> HeldOutput {
    if streams.held() == 0 {
        return if stored {
            HeldOutput::Nothing
        } else {
            HeldOutput::Unchanged
        };
    }
    let sealed = streams
        .to_bytes()
        .map_err(|error| error.to_string())
        .and_then(|bytes| {
            key.seal_blob(&label(job_id), &bytes)
                .map_err(|error| error.to_string())
        });
    match sealed {
        Ok(sealed) => HeldOutput::Sealed(sealed),
        Err(message) => {
            // Not reached in practice (serializing plain data, sealing with
            // a valid key); a restart would then lose what is held.
            error!(job_id = %job_id, error = %message, "cannot seal the held output");
            HeldOutput::Unchanged
        }
    }
}

/// What the last append of `job` left held, opened; `None` when nothing.
pub(super) async fn restore(
    store: &dyn EventRecords,
    key: &MasterKey,
    job: &Job,
) -> Option<OutputStreams> {
    let opened = match store.held_output(&job.id).await {
        Ok(Some(sealed)) => key
            .open_blob(&label(&job.id), &sealed)
            .map_err(|error| error.to_string())
            .and_then(|bytes| OutputStreams::from_bytes(&bytes).map_err(|error| error.to_string())),
        Ok(None) => return None,
        Err(error) => Err(error.to_string()),
    };
    match opened {
        Ok(streams) => Some(streams),
        Err(message) => {
            error!(job_id = %job.id, error = %message, "cannot read back the held output");
            None
        }
    }
}
