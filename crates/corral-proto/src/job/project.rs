//! A job's project directory: how it is given to the job, and the job's own
//! copy of it for review.

use serde::{Deserialize, Serialize};

/// Most directories a project's `within` may name.
pub const MAX_WITHIN: usize = 64;

/// A project as a user writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ProjectSpec {
    /// A path, bound read-write as is.
    Path(String),
    /// A path and how to give it to the job.
    Options {
        /// The host directory.
        path: String,
        /// `bind` (the default), `branch` or `copy`.
        #[serde(default)]
        mode: ProjectMode,
        /// Run even when the project lies inside, or holds, a directory
        /// another running job can write (which could change what this job
        /// gets). Off by default: such a job waits for nothing, it is refused.
        #[serde(default)]
        allow_overlap: bool,
        /// Directories the project must lie in or under, checked on the
        /// directory the server resolves and pins for the job (an MCP
        /// client's allowed directories: a link swapped in after its own
        /// check cannot move the project out). Each absolute and free of
        /// links, at most 64; an empty list allows none. Any
        /// directory when left out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        within: Option<Vec<String>>,
    },
}

impl ProjectSpec {
    /// The host path.
    pub fn path(&self) -> &str {
        match self {
            Self::Path(path) | Self::Options { path, .. } => path,
        }
    }

    /// Whether the user allowed an overlap with another job's directory.
    pub fn allow_overlap(&self) -> bool {
        match self {
            Self::Path(_) => false,
            Self::Options { allow_overlap, .. } => *allow_overlap,
        }
    }

    /// Directories it must lie in or under; `None` for any.
    pub fn within(&self) -> Option<&[String]> {
        match self {
            Self::Path(_) => None,
            Self::Options { within, .. } => within.as_deref(),
        }
    }

    /// How the job gets it.
    pub fn mode(&self) -> ProjectMode {
        match self {
            Self::Path(_) => ProjectMode::Bind,
            Self::Options { mode, .. } => *mode,
        }
    }
}

/// How a job gets its project directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectMode {
    /// The directory itself, read-write: the job changes it in place.
    #[default]
    Bind,
    /// A job-owned copy: a git clone on branch `corral/<job-id>` (or a plain
    /// copy for a non-git directory); the user reviews, applies or discards.
    Branch,
    /// A snapshot copied into the container's own `/workspace` (a tmpfs)
    /// when the job starts: the job sees the files and may change them, and
    /// its changes go with the container. Nothing of the host is mounted,
    /// so such a job can start in a warm-pool container.
    Copy,
}

impl ProjectMode {
    /// The name used on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bind => "bind",
            Self::Branch => "branch",
            Self::Copy => "copy",
        }
    }
}

/// What was checked of a job's project when the job was created: the
/// directory it must still be when the job starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectCheck {
    /// The device the directory lives on.
    pub dev: u64,
    /// Its inode.
    pub ino: u64,
    /// The user allowed an overlap with another running job's directory.
    #[serde(default)]
    pub allow_overlap: bool,
}

/// A job's own copy of its project, for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Isolation {
    /// `git` (a clone on a branch) or `copy` (a plain directory; the result is a patch).
    pub kind: IsolationKind,
    /// The host directory bound at `/workspace`.
    pub workspace: String,
    /// The commit the job started from (git).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The job's branch, `corral/<job-id>` (git).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// What the user did with the change, once they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed: Option<Reviewed>,
}

/// What the user did with a job's change, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reviewed {
    /// `applied` or `discarded`.
    pub outcome: ReviewOutcome,
    /// When.
    #[serde(with = "crate::timestamp")]
    pub at: time::OffsetDateTime,
}

/// The end of a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The change went into the user's working tree.
    Applied,
    /// The change was dropped unapplied.
    Discarded,
}

impl ReviewOutcome {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Discarded => "discarded",
        }
    }
}

/// What kind of copy a job works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IsolationKind {
    /// A git clone; the result is a branch.
    Git,
    /// A plain copy; the result is a patch.
    Copy,
}

/// One file of a job's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileChange {
    /// Path relative to the project.
    pub path: String,
    /// Lines added (`None` for binary files).
    pub added: Option<u64>,
    /// Lines removed (`None` for binary files).
    pub removed: Option<u64>,
}

/// `GET /v1/jobs/{id}/diff`: what a job changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobDiff {
    /// The job.
    pub job_id: String,
    /// The changed files.
    pub files: Vec<FileChange>,
    /// The change as a unified diff (binary-safe), every secret corral
    /// knows shown as `[REDACTED:NAME]`.
    pub patch: String,
    /// The secrets found in the change (names): applying it writes them
    /// into the project, so apply asks for `allow_secrets` first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
}
