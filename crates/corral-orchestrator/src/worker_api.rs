//! The per-job worker API, served on the job's own Unix socket.
//!
//! Each job gets a directory `<data-dir>/run/<job-id>/` holding `worker.sock`
//! and, until the worker's first authenticated call, `token`. The directory
//! is mounted read-only at `/run/corral` in the job's container and nowhere
//! else, so a container can reach its own job's socket and no other. This
//! process keeps only the token's hash; the file is deleted once used, and
//! every request is checked against the hash in constant time.
//!
//! A warm-pool container's socket is opened before any job exists
//! ([`UnboundEndpoint`]): it serves only `GET /v1/job`, held until a job is
//! bound, and then that one job, as a cold socket does (`binding`).
//!
//! # Layout
//! - `admission`: how many connections and bodies a job's socket takes at once
//! - `endpoint`: the socket directory, token file and listener; serving until the job ends
//! - `binding`: the token and the job bound to the socket, once bound
//! - `routes`: the handlers, behind the token check
//! - `events_route`: the routes that take a worker's event batches and its completion
//! - `intake`: what a worker may put in its event batches
//! - `provisions`: the [`JobProvisions`] a job is bound with
//! - `served`: the job as its socket serves it: intake of events, completion, credentials
//! - `report`: what a served job leaves: its [`WorkerReport`], a claude job's session
//! - `limits`: event rates and output caps
//! - `streams`: output held by the leak detector, per sandbox exec
//! - `sandbox_routes`: a sandbox worker's orders, uploads and answers
//! - `project`: a copy-mode job's project as a tar stream
//! - `egress_route`: a connection upgraded into one of the job's proxy connections

mod admission;
mod binding;
mod egress_route;
mod endpoint;
mod events_route;
mod gate;
mod held;
mod intake;
mod limits;
mod project;
mod provisions;
mod report;
mod routes;
mod rows;
mod sandbox_routes;
mod served;
mod streams;

pub use admission::{MAX_BODIES, MAX_CONNECTIONS};
pub use endpoint::{UnboundEndpoint, WorkerEndpoint};
pub use limits::{ROW_COST, event_cost};
pub use provisions::JobProvisions;
pub use report::WorkerReport;
