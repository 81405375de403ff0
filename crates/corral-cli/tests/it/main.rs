//! End-to-end tests of the `corral` binary: a real `corral serve` process,
//! real jobs in Docker, the CLI as users type it.

mod harness;
mod run;
