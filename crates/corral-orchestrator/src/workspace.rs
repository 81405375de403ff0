//! Review before it lands: a job in `branch` mode works on its own copy of
//! the project, never on the user's tree.
//!
//! For a git repository the copy is a full clone (objects copied, not
//! hard-linked: the job must not reach the user's object files) on branch
//! `corral/<job-id>`, started from `HEAD` plus the user's uncommitted
//! changes as a first commit. For any other directory it is a plain copy
//! beside a pristine base. When the job ends, its work is read back without
//! trusting the copy (see `git`): the branch is fetched into the user's
//! repository, or a patch is written; then the copies are deleted. The user
//! diffs, applies or discards.
//!
//! # Layout
//! - `copies`: where the copies live, their scratch mount, removal; [`WorkspaceError`]
//! - `git`: hardened host-side git, and the only door to the user's
//!   repository (`UserRepository`, checked before each use)
//! - `prepare`: making the job's copy
//! - `harvest`: reading the job's work back when it ends
//! - `review`: diff, apply, discard

mod copies;
mod git;
mod harvest;
mod prepare;
mod review;

pub use copies::{WorkspaceError, mount_work, remove_copies, workspaces_dir};
pub use harvest::harvest;
pub use prepare::prepare;
pub use review::{REVIEW_CAP, apply, diff, discard, scan_change};
