//! A job's project directory on the host, from the user's path to what the
//! container gets: checked when the job is created, checked again and held
//! open when it starts, and handed over by descriptor, so the directory a
//! job gets is the one that was checked whatever happens to its path in
//! between (another job may own a directory on that path and swap a
//! component for a link while this job waits in the queue).
//!
//! # Layout
//! - `error`: [`ProjectError`], worded so a user can act on it
//! - `pin`: a directory held open by descriptor, walked without links; its
//!   private bind mount for Docker
//! - `check`: what may never be a project (system directories, the data
//!   directory, the Docker socket), at creation and at start
//! - `tree`: reading a held directory's tree without following links (the
//!   copy sent to a `copy`-mode job)

mod check;
mod error;
mod pin;
pub mod tree;

pub use check::{Placement, resolve_at_creation};
pub use error::ProjectError;
pub use pin::{DirIdentity, PinnedDir};
