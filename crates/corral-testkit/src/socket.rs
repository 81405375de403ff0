//! A job socket without a server: what tests and benchmarks that open a
//! worker endpoint directly provision it with.

use std::sync::Arc;

use corral_orchestrator::internals::{EventLog, JobProvisions, Redactor, SqliteStore};
use corral_proto::Job;
use corral_runtime::JobUser;

/// Provisions for `job`, stored in `store`, its output passing `redactor`:
/// the corral user, no credentials, no model or egress proxy, no project,
/// no sandbox desk, a MiB of output. Tests change what they need with `..`.
pub fn provisions(store: &Arc<SqliteStore>, job: &Job, redactor: Redactor) -> JobProvisions {
    JobProvisions {
        job: job.clone(),
        user: JobUser::CORRAL,
        credentials: Vec::new(),
        redactor: Arc::new(redactor),
        events: EventLog::new(store.clone()),
        audit: store.clone(),
        max_output_bytes: 1 << 20,
        llm: None,
        egress: None,
        project: None,
        desk: None,
    }
}
