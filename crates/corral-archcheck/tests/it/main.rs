//! The checker on small crates written for each case, and on this workspace.

#![expect(
    clippy::expect_used,
    reason = "test helpers outside #[test] fns fail loudly"
)]

mod checker;
mod workspace;
