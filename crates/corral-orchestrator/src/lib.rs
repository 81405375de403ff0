//! corral's orchestrator: the long-lived server that gives every job its own
//! locked-down container, serves the job's worker API on a per-job Unix
//! socket, stores and streams events, and decides how each job ended.
//!
//! It must never hand a container anything beyond its own socket directory,
//! the worker binary and its project directory, never log or store a token,
//! and never leave a container behind.
//!
//! # Layout
//! In the order a job's data flows through them:
//! - `config`: the one `Config`, its defaults and bounds
//! - `server`: `serve` and `start`, shutdown; `data_dir`: the data
//!   directory, private and locked, and its secret files
//! - `http`: HTTP plumbing the APIs share: `ApiError`, JSON extractors, socket settings
//! - `api`: the user API (route table, handlers); `mcp_local`: `/mcp`,
//!   `corral-client`'s MCP job tools over the job manager
//! - `jobs`: the job manager: validate, queue, run, cancel, recover
//! - `project`: a job's project directory: checked, held open, handed over by descriptor;
//!   `workspace`: job-owned copies of a project for review (branch mode)
//! - `secrets`: the sealed secrets store and job grants; `token`: bearer tokens, random ids
//! - (the container itself: `corral-runtime`'s trait, `corral-docker`'s engine)
//! - `worker_api`: the per-job worker API on the job's socket; `sandbox`: a running
//!   sandbox's desk (orders for its worker, answers, activity for its idle timeout)
//! - `llm`: the LLM proxy (providers, Anthropic translation, budgets) and the scripted model;
//!   `egress`: the egress proxy: allowlist, public addresses only, credentials added
//! - `redact`: the leak detector every job event passes through
//! - `events`: the store-then-wake event log; `store`: the `Store` trait and its `SQLite` implementation
//! - `verify`: the sandbox check's rows, its last report and the gate on jobs
//! - `metrics`: Prometheus metrics, rendered from a snapshot

mod api;
mod config;
mod data_dir;
mod egress;
mod events;
mod http;
mod jobs;
mod llm;
mod mcp_local;
mod metrics;
mod project;
mod redact;
mod sandbox;
mod secrets;
mod server;
mod store;
#[cfg(test)]
mod testing;
mod text;
mod token;
mod verify;
mod worker_api;
mod workspace;

// The entry points: `corral serve`, and the CLI's local commands that read
// the configuration and the data directory.
pub use config::{Config, ConfigOverrides, default_data_dir};
pub use data_dir::DataDirError;
pub use llm::{Provider, ProviderKey, ProviderKind};
pub use server::{RunningServer, ServeError, serve, start};
pub use verify::load as load_verify_report;

/// The parts below the HTTP API that the testkit, the benchmarks, the fuzz
/// targets and this crate's own integration tests drive directly: the leak
/// detector, the event log and store, a job socket with its provisions, the
/// model proxy and the scripted model servers. Not an API for anyone else.
#[doc(hidden)]
pub mod internals {
    pub use crate::egress::EgressNet;
    pub use crate::events::EventLog;
    pub use crate::http::weight::{text_weight, value_weight};
    pub use crate::jobs::JobManager;
    pub use crate::llm::scripted::{RecordedRequest, Script, ScriptedServer};
    pub use crate::llm::{MAX_WARNINGS, ModelProxy, ProxyContext, Upstream};
    pub use crate::project::PinnedDir;
    pub use crate::redact::{Findings, Redactor, StreamRedactor};
    pub use crate::sandbox::{Desk, SandboxStats};
    pub use crate::secrets::{MasterKey, SecretValue};
    pub use crate::store::{AgentRecords, EventRecords, JobRecords, SecretRecords, SqliteStore};
    pub use crate::token::{TokenHash, random_hex};
    pub use crate::verify::{Expected, judge};
    pub use crate::worker_api::{
        JobProvisions, MAX_BODIES, MAX_CONNECTIONS, ROW_COST, WorkerEndpoint, WorkerReport,
        event_cost,
    };
    pub use crate::workspace::REVIEW_CAP;

    // What only the fuzz targets reach.
    #[cfg(fuzzing)]
    pub use crate::{
        config::check_limits, jobs::fuzzing::validate_spec, llm::LlmSettings, llm::anthropic,
        redact::secret_forms,
    };
}
