//! End-to-end tests of the `corral` binary: a real `corral serve` process,
//! real jobs in Docker, the CLI as users type it.

#![expect(
    clippy::expect_used,
    reason = "test helpers outside #[test] fns fail loudly"
)]

mod basics;
mod config_file;
mod egress;
mod engines;
mod harness;
mod held_secret;
mod help;
mod hostile_output;
mod interrupt;
mod mcp;
mod mcp_policy;
mod mcp_sandbox;
mod papercuts;
mod readme;
mod readme_agent;
mod readme_sandbox;
mod readme_steps;
mod run;
mod sandbox;
mod sandbox_cut_off;
mod sandbox_upgrade;
mod secrets;
mod verify;
mod worker;
