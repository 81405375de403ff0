//! The fan-out table.

use crate::fanout::{FanoutFigures, JOBS, LINES, SUBSCRIBERS};

/// Events ingested per second the goal asks for, all jobs together.
const GOAL_EVENTS_PER_S: f64 = 50_000.0;

/// The fan-out figures as a Markdown table.
#[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
pub fn fanout_table(figures: &FanoutFigures) -> String {
    let ingested = figures.ingested_per_s();
    let verdict = if ingested >= GOAL_EVENTS_PER_S {
        format!("met ({ingested:.0} events/s)")
    } else {
        format!("**not met**: {ingested:.0} events/s")
    };
    format!(
        "\nEvents, end to end: {JOBS} exec jobs at once, each printing {LINES} lines to stdout and \
         {LINES} to stderr, alternating, through its worker and socket; {SUBSCRIBERS} SSE \
         connections to `GET /v1/jobs/{{id}}/events/stream` ({} a job, opened before any output) \
         read everything over HTTP on loopback. Jobs, server and subscribers share the machine:\n\n\
         | figure | value |\n|---|---:|\n\
         | lines printed, all jobs | {} |\n\
         | `output` events stored, all jobs (a worker merges what piles up on a stream; the server joins one stream's consecutive output within a batch, up to 64 KiB) | {} |\n\
         | ingested: `output` events per second, first to last stored | {ingested:.0} |\n\
         | delivered: `output` events per second, all subscribers | {:.0} |\n\
         | SSE bytes read by all subscribers | {:.1} MB |\n\
         | start → last event stored | {:.2} s |\n\
         | start → every subscriber had every event of its job | {:.2} s |\n\
         {}\n\
         Every subscriber received every event its job stored ({} events of all kinds in all \
         jobs), each once and in order (the run fails otherwise). Goal: ≥ 50,000 events/s ingested in all, every \
         subscriber receiving every event of its job in order: {verdict}.\n",
        SUBSCRIBERS / JOBS,
        2 * JOBS * LINES,
        figures.outputs,
        figures.delivered_per_s(),
        figures.bytes as f64 / 1e6,
        figures.stored_all.as_secs_f64(),
        figures.everyone_had_all.as_secs_f64(),
        cpu_rows(figures),
        figures.events,
    )
}

/// Where the CPU went, from the start until every subscriber was done.
#[expect(clippy::cast_precision_loss, reason = "event counts far below 2^52")]
fn cpu_rows(figures: &FanoutFigures) -> String {
    let Some(cpu) = &figures.cpu else {
        return "| CPU | not measured (`/proc` unreadable) |\n".into();
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let wall = figures.everyone_had_all.as_secs_f64();
    let per_event = |used: std::time::Duration| used.as_secs_f64() * 1e6 / figures.events as f64;
    let containers = cpu.containers.map_or_else(
        || "not measured (Docker's cgroup unreadable)".to_owned(),
        |used| {
            format!(
                "{:.2} s, {:.1} µs an event",
                used.as_secs_f64(),
                per_event(used)
            )
        },
    );
    format!(
        "| CPU, server (its runtime and blocking pool) | {:.2} s, {:.1} µs an event |\n\
         | CPU, the {SUBSCRIBERS} subscribers (a runtime of their own) | {:.2} s, {:.1} µs an event |\n\
         | CPU, the jobs' containers (their shells and workers, from Docker's cgroup) | {containers} |\n\
         | CPU, the whole machine (the above, Docker, anything else running) | {:.2} s of {:.2} s ({cores} cores) |\n",
        cpu.server.as_secs_f64(),
        per_event(cpu.server),
        cpu.subscribers.as_secs_f64(),
        per_event(cpu.subscribers),
        cpu.machine.as_secs_f64(),
        wall * cores as f64,
    )
}
