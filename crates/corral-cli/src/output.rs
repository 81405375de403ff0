//! Everything `corral` writes to the terminal goes through here.
//!
//! Text from a job or a server (output, messages, reasons, names, diffs,
//! errors quoting them) is hostile: every writer here makes its control
//! characters visible (`sanitize`) before corral adds its own colours, so a
//! job can neither move the cursor, erase a line, set the title nor write the
//! clipboard. Only `--raw` into a pipe or a file passes a job's own output
//! through untouched ([`JobOutput`]).
//!
//! # Layout
//! - `sanitize` (in `corral-client`): control and invisible characters made visible
//! - `event`: one event for people
//! - `job`: a job's details and its diff
//! - `spinner`: the spinner on stderr
//! - `table`: the jobs table
//! - `timing`: times and durations for people
//! - `write`: the writers: a job's output as [`JobOutput`] says, corral's own lines, notes, errors, colour, JSON
//! - `command`: a job's command described in one line

mod command;
mod event;
#[cfg(test)]
mod fixtures;
mod job;
mod spinner;
mod table;
mod timing;
mod write;

pub use command::describe_command;
pub use corral_client::sanitize::{visible, visible_line, visible_log};
pub use event::Events;
pub use job::{diff, job_details};
pub use spinner::Spinner;
pub use table::jobs_table;
pub use timing::{human_duration, human_time_text};
pub use write::{
    JobOutput, colour, error, job_stderr, job_stdout, json, line, note, own_text, table_width,
};
