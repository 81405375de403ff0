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
//! - [`config`]: the one `Config`, its defaults and bounds
//! - [`server`]: `serve` and `start`, shutdown; [`data_dir`]: the data
//!   directory, private and locked, and its secret files
//! - [`http`]: HTTP plumbing the APIs share: `ApiError`, JSON extractors, socket settings
//! - [`api`]: the user API (route table, handlers); [`mcp_local`]: `/mcp`,
//!   `corral-client`'s MCP job tools over the job manager
//! - [`jobs`]: the job manager: validate, queue, run, cancel, recover
//! - [`project`]: a job's project directory: checked, held open, handed over by descriptor;
//!   [`workspace`]: job-owned copies of a project for review (branch mode)
//! - [`secrets`]: the sealed secrets store and job grants; [`token`]: bearer tokens, random ids
//! - (the container itself: `corral-runtime`'s trait, `corral-docker`'s engine)
//! - [`worker_api`]: the per-job worker API on the job's socket
//! - [`llm`]: the LLM proxy (providers, Anthropic translation, budgets) and the scripted model;
//!   [`egress`]: the egress proxy: allowlist, public addresses only, credentials added
//! - [`redact`]: the leak detector every job event passes through
//! - [`events`]: the store-then-wake event log; [`store`]: the `Store` trait and its `SQLite` implementation
//! - [`verify`]: the sandbox check's rows, its last report and the gate on jobs
//! - [`metrics`]: Prometheus metrics, rendered from a snapshot

pub mod api;
pub mod config;
pub mod data_dir;
pub mod egress;
pub mod events;
pub mod http;
pub mod jobs;
pub mod llm;
pub mod mcp_local;
pub mod metrics;
pub mod project;
pub mod redact;
pub mod secrets;
pub mod server;
pub mod store;
pub mod token;
pub mod verify;
pub mod worker_api;
pub mod workspace;

pub use config::{Config, ConfigOverrides};
pub use server::{RunningServer, ServeError, serve, start};
