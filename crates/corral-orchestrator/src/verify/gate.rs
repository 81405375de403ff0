//! Whether jobs may run: not while the sandbox check at start has failed,
//! and not before it has finished (a job created meanwhile waits for it).

use std::time::Duration;

use corral_proto::verify::{VerifyReport, VerifyRow};
use tokio::sync::watch;

/// Where the check stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateState {
    /// The check at start has not finished.
    Pending,
    /// The last check of the server's own isolation passed.
    Open,
    /// The last check failed on these rows.
    Closed(Vec<VerifyRow>),
    /// Checking was turned off (`--no-verify`).
    Off,
}

/// The gate; cheap to share behind the job manager.
#[derive(Debug)]
pub struct Gate {
    state: watch::Sender<GateState>,
}

impl Gate {
    /// A gate that waits for the check at start, or one that is off.
    pub fn new(check_at_start: bool) -> Self {
        let initial = if check_at_start {
            GateState::Pending
        } else {
            GateState::Off
        };
        Self {
            state: watch::Sender::new(initial),
        }
    }

    /// Opens or closes the gate on `report` (unless it is off).
    pub fn record(&self, report: &VerifyReport) {
        self.state.send_if_modified(|state| {
            if *state == GateState::Off {
                return false;
            }
            *state = if report.passed {
                GateState::Open
            } else {
                GateState::Closed(report.failing().cloned().collect())
            };
            true
        });
    }

    /// Where the check stands now.
    pub fn state(&self) -> GateState {
        self.state.borrow().clone()
    }

    /// Lets a job through, waiting up to `wait` for a pending check.
    ///
    /// # Errors
    /// Why the job may not run, in words for its user.
    pub async fn admit(&self, wait: Duration) -> Result<(), String> {
        let mut receiver = self.state.subscribe();
        let settled = tokio::time::timeout(
            wait,
            receiver.wait_for(|state| *state != GateState::Pending),
        )
        .await;
        let state = match settled {
            Ok(Ok(state)) => state.clone(),
            Ok(Err(_)) | Err(_) => {
                return Err(
                    "the sandbox check run at start has not finished yet; try again shortly"
                        .to_owned(),
                );
            }
        };
        match state {
            GateState::Open | GateState::Off => Ok(()),
            GateState::Pending => Err("the sandbox check has not finished".to_owned()),
            GateState::Closed(rows) => Err(refusal(&rows)),
        }
    }
}

/// The 503's message: each failing row, and what to do.
fn refusal(rows: &[VerifyRow]) -> String {
    let failing: Vec<String> = rows
        .iter()
        .map(|row| {
            format!(
                "{} (expected {}; observed {})",
                row.promise, row.expected, row.observed
            )
        })
        .collect();
    format!(
        "jobs are refused: the sandbox check failed on this host: {}. Run `corral verify` for details; `corral serve --no-verify` runs jobs anyway",
        failing.join("; ")
    )
}
