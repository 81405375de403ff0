//! What the job manager provisions a job's socket with before its
//! container starts.

use std::sync::Arc;

use corral_proto::Job;
use corral_runtime::JobUser;

use crate::events::EventLog;
use crate::llm::ModelProxy;
use crate::redact::Redactor;
use crate::secrets::SecretValue;
use crate::store::SecretRecords;

/// What the job manager provisions a job's socket with: the job, its
/// opened grants, its leak detector, its model and egress proxies, its project.
pub struct JobProvisions {
    /// The job.
    pub job: Job,
    /// Who owns the socket and token file.
    pub user: JobUser,
    /// The job's granted credentials, opened: (environment variable, value).
    pub credentials: Vec<(String, SecretValue)>,
    /// The job's leak detector.
    pub redactor: Arc<Redactor>,
    /// Where the job's events go.
    pub events: EventLog,
    /// Where redactions are audited.
    pub audit: Arc<dyn SecretRecords>,
    /// Bytes of output and event data the job's worker may store.
    pub max_output_bytes: u64,
    /// The job's model proxy, in agent modes.
    pub llm: Option<Arc<ModelProxy>>,
    /// The job's way out, when its policy allows some host.
    pub egress: Option<Arc<crate::egress::EgressProxy>>,
    /// The project held open at start, read for a `copy`-mode job.
    pub project: Option<Arc<crate::project::PinnedDir>>,
    /// A sandbox's desk, where its orders wait for its worker.
    pub desk: Option<Arc<crate::sandbox::Desk>>,
}
