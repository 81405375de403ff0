//! `corral-worker`: the entrypoint of every job container.
//!
//! It must stay static (`-C target-feature=+crt-static`) so it runs in any
//! image, bind-mounted read-only; see `corral_worker` for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(corral_worker::main())
}
