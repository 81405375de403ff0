//! A sandbox's execs in its event stream: one `exec_started`, its `output`
//! (tagged with the exec's number), one `exec_ended`.

use serde::{Deserialize, Serialize};

use super::{EventKind, Payload};
use crate::job::CommandSpec;

/// `exec_started`: a sandbox began running a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecStartedData {
    /// The exec's number within its sandbox.
    pub exec: u64,
    /// What it runs.
    pub cmd: CommandSpec,
    /// Where.
    pub cwd: String,
}

/// `exec_ended`: a sandbox's command ended; all its output came before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecEndedData {
    /// The exec's number within its sandbox.
    pub exec: u64,
    /// Its exit code (128 + signal when killed); none when it never started.
    #[serde(default)]
    pub exit_code: Option<i64>,
    /// How long it ran.
    pub duration_ms: u64,
    /// Whether its timeout killed it.
    #[serde(default)]
    pub timed_out: bool,
    /// Why it did not start or finish, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Payload for ExecStartedData {
    const KIND: EventKind = EventKind::ExecStarted;
}
impl Payload for ExecEndedData {
    const KIND: EventKind = EventKind::ExecEnded;
}
