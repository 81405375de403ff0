//! A client of corral's user API, shared by the `corral` command, the MCP
//! tools, the test kit and the benchmarks: it finds a local server and its
//! token, turns API errors into messages that name the field, follows a
//! job's event stream over SSE (reconnecting from the last event seen),
//! and makes any text a server or a job wrote safe to show on a terminal.
//!
//! It must never print: it returns what it read, and the caller shows it.
//!
//! # Layout
//! - [`client`]: [`ApiClient`], one method per API call, and the SSE follower
//! - `sandboxes`: the sandbox calls: create, list, exec, files
//! - `review`: a job's review branch: diff, apply, discard
//! - `secrets`: the secret store: put, list, delete
//! - `ids`: a job named by the start of its id
//! - `segment`: routes filled with ids and names, each one path segment
//!   and nothing more
//! - [`local`]: whether a server's address is on this host
//! - `failure`: an API error, and the same in the command line's terms
//! - [`sanitize`]: text made visible: terminal controls shown, never acted on
//! - [`mcp`]: the job tools for MCP clients, over any [`mcp::JobsBackend`]

pub mod client;
mod failure;
mod ids;
pub mod local;
pub mod mcp;
mod review;
mod sandboxes;
pub mod sanitize;
mod secrets;
mod segment;

pub use client::{ApiClient, JobList, StreamEnd, exit_code_of};
pub use failure::{ApiFailure, ClientError, error_chain, split_index};
pub use sandboxes::ExecAnswer;
