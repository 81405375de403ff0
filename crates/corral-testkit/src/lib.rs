//! Test support for corral, used only as a dev-dependency: a real server
//! in-process on `127.0.0.1:0` with its own data directory, the static
//! worker, offline test images, and guards that remove every container a
//! test created even when the test fails.
//!
//! It must never talk to anything but loopback and the local Docker socket.
//!
//! # Layout
//! - `docker`: make sure an engine runs, build the test images
//! - `worker`: build or find the static worker
//! - `server`: [`TestServer`], a running orchestrator and a client for it
//! - `model`: scripted model upstreams registered as a provider
//! - `tls`: TLS upstreams for egress tests
//! - `files`: a project the job user can write, a running job row, a value hunted for in files
//! - `memory`: peak RSS, for the benchmarks
//! - `socket`: provisions for a job socket opened without a server

#![expect(
    clippy::missing_panics_doc,
    reason = "test support panics with a message on purpose"
)]
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test support fails loudly"
)]

mod docker;
mod files;
mod memory;
mod model;
mod server;
mod socket;
mod tls;
mod worker;

pub use docker::{
    claude_image, curl_image, default_image, docker, engine, engine_ids, ensure_docker, eventually,
    exec_in_container, exec_in_job, git_image, job_project, plain_image, remove_instance_now,
    remove_labelled, volume_image,
};
pub use files::{assert_in_no_file, repo_root, running_job};
pub use memory::{peak_rss_kib, reset_peak_rss};
pub use model::{TEST_MODEL, TEST_PROVIDER, Upstream};
pub use reqwest;
pub use server::{Followed, TestServer, metric_value, unix_request};
pub use socket::provisions;
pub use tls::{Handler, TlsUpstream, UpstreamBody, client_hello};
pub use worker::worker_bin;
