//! The scale table.

use crate::scale::{JOBS, POLL, ScaleFigures};

/// Growth per live job the goal allows.
const GOAL_MIB_PER_JOB: f64 = 2.0;

/// The scale figures as a Markdown table.
#[expect(
    clippy::cast_precision_loss,
    reason = "job and KiB counts far below 2^52"
)]
pub fn scale_table(figures: &ScaleFigures) -> String {
    let jobs = JOBS as f64;
    let corral_rate = jobs / figures.corral_wall.as_secs_f64();
    let bare_rate = jobs / figures.bare_wall.as_secs_f64();
    let grown_mib = figures.peak_kib.saturating_sub(figures.baseline_kib) as f64 / 1024.0;
    let per_job = grown_mib / figures.most_running.max(1) as f64;
    let verdict = if figures.most_running == 0 {
        "not measured: no job was seen running".to_owned()
    } else if per_job < GOAL_MIB_PER_JOB {
        format!("met ({per_job:.2} MiB)")
    } else {
        format!("**not met**: {per_job:.2} MiB")
    };
    format!(
        "\nScale: {JOBS} corral jobs (`echo hello`) created at once, all slots open, then {JOBS} bare \
         containers of the same image and command at once (create, attach, start, wait, remove \
         through the Docker API), in the same run; memory from a process of its own (`VmHWM`, \
         the orchestrator runs in it):\n\n\
         | figure | value |\n|---|---:|\n\
         | corral: jobs per second (first created → all ended) | {corral_rate:.1} |\n\
         | bare Docker: containers per second (first created → all removed) | {bare_rate:.1} |\n\
         | corral / bare Docker | {:.2}× |\n\
         | peak RSS of the orchestrator's process, from the baseline on | {:.1} MiB |\n\
         | growth over the baseline (server up, one job done) | {grown_mib:.1} MiB |\n\
         | most jobs running at once (polled every {} ms) | {} |\n\
         | growth per job running at once | {per_job:.2} MiB |\n\n\
         Most jobs holding a slot (starting or running) at once: {}. \
         Goal: < 2 MiB per live job: {verdict}.\n",
        corral_rate / bare_rate,
        figures.peak_kib as f64 / 1024.0,
        POLL.as_millis(),
        figures.most_running,
        figures.most_slots,
    )
}
