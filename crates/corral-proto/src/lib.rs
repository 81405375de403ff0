//! Wire types shared by every corral process: the user API, the per-job
//! worker API and the CLI all speak these, so each type is declared once.
//!
//! This crate must never do I/O or depend on another corral crate: it is the
//! contract, and both sides of the container boundary compile it.
//!
//! # Layout
//! - [`job`]: job specs as users send them, jobs as the API returns them
//! - [`event`]: the event stream of a job
//! - [`llm`]: the model-call format on the job socket (OpenAI chat subset)
//! - [`egress`]: the hosts a job may reach and the credentials added for it
//! - [`worker`]: what the worker and the orchestrator say over the job socket
//! - [`sandbox`]: long-lived sandboxes: their spec, execs, files, and the worker's orders
//! - [`size`]: byte sizes and durations written the way people write them
//! - [`timestamp`]: the one shape of every time on the wire
//! - [`sse`]: a parser of server-sent events, for clients of the event stream
//! - [`error`]: the JSON body of every API error
//! - [`local_server`]: how a client finds the server: default address, data-directory files
//! - [`env_vars`]: the environment variables corral reads, server and CLI alike
//! - [`verify`]: the sandbox self-test: probe observations, container profiles, rows
//! - [`fuzz`]: a seeded mutation fuzzer the decoders' tests share

#![warn(missing_docs)]

pub mod egress;
pub mod env_vars;
pub mod error;
pub mod event;
pub mod fuzz;
pub mod job;
pub mod llm;
pub mod local_server;
pub mod sandbox;
pub mod size;
pub mod sse;
pub mod timestamp;
pub mod verify;
pub mod worker;

pub use egress::{EgressPolicy, EgressSpec, InjectRule};
pub use error::ErrorBody;
pub use event::{Event, EventKind, NewEvent};
pub use job::{
    ClaudeSettings, ClaudeSpec, CommandSpec, FileChange, Grant, GrantSpec, Isolation,
    IsolationKind, IsolationLevel, Job, JobDiff, JobLlm, JobMode, JobSpec, JobState, JobUsage,
    Limits, LimitsSpec, LlmSpec, ProjectCheck, ProjectMode, ProjectSpec, Prompt, PromptSpec,
    ReviewOutcome, Reviewed,
};
pub use size::{ByteSize, DurationSpec};
