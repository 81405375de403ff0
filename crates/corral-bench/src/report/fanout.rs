//! The fan-out table.

use std::fmt::Write as _;

use crate::fanout::{FanoutFigures, Load, PACED_RUNS, SUBSCRIBERS};

/// Events ingested per second the goal asks for, all jobs together.
const GOAL_EVENTS_PER_S: f64 = 50_000.0;

/// The fan-out figures as Markdown: the paced load's median run in full,
/// with every paced run's figure, and the flat-out run. The goal's
/// verdict is on the paced median, whose writes come one at a time.
pub fn fanout_table(all: &[FanoutFigures]) -> String {
    let mut text = format!(
        "\nEvents, end to end: exec jobs print through their workers and sockets while \
         {SUBSCRIBERS} SSE connections to `GET /v1/jobs/{{id}}/events/stream` (spread evenly over \
         the jobs, opened before any output) read everything over HTTP on loopback. Jobs, server \
         and subscribers share the machine. A worker merges what piles up on a stream into one \
         event, so events per second depend on how far the printing runs ahead of the reading: \
         the paced load (one line a stream, then a tick) measures the goal, and the flat-out \
         load, whose events hold many lines, lines per second. Lines an event above 1 on the \
         paced load mean its writes came faster than they were read one at a time. Each run \
         has a fresh server: {PACED_RUNS} paced, one flat out.\n",
    );
    let mut paced: Vec<&FanoutFigures> = all
        .iter()
        .filter(|figures| figures.load == Load::Paced)
        .collect();
    paced.sort_by(|a, b| a.ingested_per_s().total_cmp(&b.ingested_per_s()));
    let median = paced.get(paced.len() / 2).copied();
    if let Some(median) = median {
        text.push_str(&one_load(median));
        let runs: Vec<String> = paced
            .iter()
            .map(|run| {
                format!(
                    "{:.0} ({:.2} lines an event)",
                    run.ingested_per_s(),
                    run.lines_per_event()
                )
            })
            .collect();
        let _ = write!(
            text,
            "\nThe paced runs, lowest first, in `output` events ingested a second: {}. The table \
             above is the median run's.\n",
            runs.join(", ")
        );
    }
    for figures in all.iter().filter(|figures| figures.load != Load::Paced) {
        text.push_str(&one_load(figures));
    }
    if let Some(paced) = median {
        let ingested = paced.ingested_per_s();
        let verdict = if ingested >= GOAL_EVENTS_PER_S {
            format!(
                "met ({ingested:.0} events/s, {:.2} lines an event)",
                paced.lines_per_event()
            )
        } else {
            format!(
                "**not met**: {ingested:.0} events/s ({:.2} lines an event)",
                paced.lines_per_event()
            )
        };
        text.push_str(
            "\nGoal: ≥ 50,000 events/s ingested in all, every subscriber receiving every event of \
             its job in order, on the median paced run: ",
        );
        text.push_str(&verdict);
        text.push_str(".\n");
    }
    text
}

/// How many subscribers follow each of `jobs` jobs.
fn per_job(jobs: usize) -> String {
    let fewest = SUBSCRIBERS / jobs;
    if SUBSCRIBERS.is_multiple_of(jobs) {
        fewest.to_string()
    } else {
        format!("{fewest} or {}", fewest + 1)
    }
}

#[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
fn one_load(figures: &FanoutFigures) -> String {
    let load = figures.load;
    let title = match load {
        Load::Paced => "Paced",
        Load::FlatOut => "Flat out",
    };
    let ceiling = load.ceiling().map_or_else(String::new, |most| {
        format!(
            " The jobs can offer at most {most} lines a second (every tick 1 ms, printing taking \
             no time)."
        )
    });
    format!(
        "\n**{title}**: {}; {SUBSCRIBERS} subscribers, {} a job.{ceiling}\n\n\
         | figure | value |\n|---|---:|\n\
         | lines printed and stored, all jobs | {} |\n\
         | `output` events stored, all jobs | {} ({:.2} lines an event) |\n\
         | ingested: `output` events per second, first to last stored | {:.0} |\n\
         | ingested: lines per second, in those events | {:.0} |\n\
         | delivered: `output` events per second, all subscribers | {:.0} |\n\
         | SSE bytes read by all subscribers | {:.1} MB |\n\
         | start → last event stored | {:.2} s |\n\
         | start → every subscriber had every event of its job | {:.2} s |\n\
         {}\n\
         Every subscriber received every event its job stored ({} events of all kinds in all \
         jobs), each once and in order, and each job's stored output was exactly the lines it \
         printed, stream by stream, in order (the run fails otherwise).\n",
        load.describe(),
        per_job(load.jobs()),
        figures.lines,
        figures.outputs,
        figures.lines_per_event(),
        figures.ingested_per_s(),
        figures.lines_per_s(),
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
        "| CPU, server (every thread of the bench's process but the subscribers': the server's runtime and blocking pool, and the bench driving it) | {:.2} s, {:.1} µs an event |\n\
         | CPU, the {SUBSCRIBERS} subscribers (a runtime of their own) | {:.2} s, {:.1} µs an event |\n\
         | CPU, the jobs' containers (their shells and workers: Docker's cgroup, so any other container running too) | {containers} |\n\
         | CPU, the whole machine (the above, Docker, anything else running) | {:.2} s of {:.2} s ({cores} cores) |\n",
        cpu.server.as_secs_f64(),
        per_event(cpu.server),
        cpu.subscribers.as_secs_f64(),
        per_event(cpu.subscribers),
        cpu.machine.as_secs_f64(),
        wall * cores as f64,
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn run(load: Load, outputs: u64) -> FanoutFigures {
        FanoutFigures {
            load,
            lines: outputs,
            outputs,
            events: outputs + 2,
            ingest: Duration::from_secs(1),
            delivered: outputs * 3,
            delivery: Duration::from_secs(1),
            bytes: 0,
            stored_all: Duration::from_secs(1),
            everyone_had_all: Duration::from_secs(1),
            cpu: None,
        }
    }

    #[test]
    fn the_verdict_is_on_the_median_paced_run_not_the_best_or_the_flat_out_one() {
        let all = [
            run(Load::Paced, 61_000),
            run(Load::Paced, 42_000),
            run(Load::Paced, 47_000),
            run(Load::FlatOut, 90_000),
        ];
        let table = fanout_table(&all);
        assert!(
            table.contains("**not met**: 47000 events/s"),
            "the median: {table}"
        );
        assert!(
            table.contains("42000 (1.00 lines an event), 47000 (1.00 lines an event), 61000"),
            "every paced run, lowest first: {table}"
        );
        let met = fanout_table(&[
            run(Load::Paced, 52_000),
            run(Load::Paced, 30_000),
            run(Load::Paced, 50_000),
        ]);
        assert!(met.contains(": met (50000 events/s"), "{met}");
    }
}
