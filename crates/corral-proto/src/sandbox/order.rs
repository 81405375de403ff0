//! What a sandbox's worker is asked to do, over the job socket. The worker
//! long-polls [`ORDERS_PATH`] for the next [`Order`]; an exec's output and
//! end come back as events, a file order's answer at [`RESULT_PATH`].
//!
//! The worker resolves every path inside the container, as the job's user:
//! links there are the container's, and the host never opens the files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::job::CommandSpec;

/// `GET ?wait=S`: the next order, held up to `S` seconds; `204` when none came.
pub const ORDERS_PATH: &str = "/v1/sandbox/orders";
/// `GET /v1/sandbox/uploads/{order}`: the bytes of a [`Order::Write`].
pub const UPLOAD_PATH: &str = "/v1/sandbox/uploads";
/// `POST /v1/sandbox/results/{order}`: a file order's answer; the body is
/// the bytes (a read) or JSON (a list), or a [`OrderFailure`] with header
/// [`FAILED_HEADER`] set.
pub const RESULT_PATH: &str = "/v1/sandbox/results";
/// Set on a result that is a [`OrderFailure`].
pub const FAILED_HEADER: &str = "x-corral-failed";
/// Set by the worker on a read's result: `file` or `tar`.
pub const CONTENT_HEADER: &str = "x-corral-content";
/// Longest the orders long-poll holds, in seconds.
pub const ORDER_POLL_SECS: u64 = 25;

/// One thing the worker is asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "order", rename_all = "snake_case", deny_unknown_fields)]
pub enum Order {
    /// Run a command; its output goes out as events tagged with `exec`.
    Exec(ExecOrder),
    /// Fetch bytes at [`UPLOAD_PATH`] and write them at `path`.
    Write {
        /// The order's number (it names the upload and the result).
        id: u64,
        /// Where, checked against the roots.
        path: String,
        /// The bytes are a tar of a directory to unpack at `path`.
        tar: bool,
    },
    /// Send back the file at `path` (its bytes), or the directory (a tar).
    Read {
        /// The order's number.
        id: u64,
        /// What, checked against the roots.
        path: String,
        /// Most bytes the answer may have.
        max_bytes: u64,
    },
    /// Send back the entries of the directory at `path`.
    List {
        /// The order's number.
        id: u64,
        /// Which directory.
        path: String,
    },
}

impl Order {
    /// A file order's number (it names its upload and its answer); `None`
    /// for an exec.
    pub fn file_id(&self) -> Option<u64> {
        match self {
            Self::Write { id, .. } | Self::Read { id, .. } | Self::List { id, .. } => Some(*id),
            Self::Exec(_) => None,
        }
    }
}

/// A command to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecOrder {
    /// The exec's number within the sandbox.
    pub exec: u64,
    /// What to run.
    pub cmd: CommandSpec,
    /// Its working directory.
    pub cwd: String,
    /// Variables added to its environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// What it reads on standard input, base64 (any bytes).
    #[serde(default)]
    pub stdin_base64: Option<String>,
    /// Seconds it may run.
    pub timeout_secs: u64,
}

/// A file order that could not be done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderFailure {
    /// What kind of failure: the HTTP status the user gets.
    pub kind: FailureKind,
    /// What went wrong, for people.
    pub message: String,
}

/// The classes of [`OrderFailure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The path does not exist (404).
    NotFound,
    /// The path leads outside the roots through a link, or is the wrong
    /// kind of thing (400, naming `path`).
    BadPath,
    /// Too big for the limit (413).
    TooLarge,
    /// Anything else (502: the sandbox failed to do it).
    Failed,
}
