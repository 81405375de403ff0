//! `corral-bench`: measures corral on this machine and rewrites
//! `BENCHMARKS.md`. Where there is a baseline (bare Docker for starts and
//! scale, direct calls for the LLM proxy) it is measured in the same run,
//! interleaved where the section allows; the detector and event figures
//! are absolute, with the checks that make them mean something (every
//! planted secret redacted, every event delivered in order).
//!
//! Figures are printed, never asserted as goals: on a shared two-core
//! machine only same-run comparisons mean much. A section whose checks
//! fail makes the run fail, and `BENCHMARKS.md` is then left alone.
//!
//! # Layout
//! - `start`: cold job start vs a bare create+start+wait of the same image, under runc and crun
//! - `warm`: a job served by the warm pool vs the same bare container
//! - `redact`: leak detector throughput on generated output with 100 secrets planted
//! - `redact-profile`: only the detector's stream, RUNS times, for a profiler
//!   (`redact-profile:hexdump` streams that filler kind alone)
//! - `proxy`: LLM proxy overhead, direct vs through a job's socket, fresh or pooled connections
//! - `fanout`: events from real jobs to 100 SSE subscribers, end to end
//! - `sandbox`: a sandbox's create + first command (warm and cold), an exec round trip vs
//!   `docker exec`, 100 MB up and down vs `docker cp`
//! - `scale`: 100 jobs at once vs 100 bare containers, and memory per live job (in a child process)
//! - `report`: percentiles, the tables, `BENCHMARKS.md`
//! - `rng`: the generator behind the detector's corpus

mod fanout;
mod proxy;
mod redact;
mod report;
mod rng;
mod sandbox;
mod scale;
mod start;
mod warm;

use std::process::ExitCode;

/// Cold starts measured on each side.
const DEFAULT_RUNS: usize = 20;
/// Model calls measured on each side.
const PROXY_CALLS: usize = 1000;

/// `corral-bench [RUNS] [SECTION]`: every section (and `BENCHMARKS.md`
/// rewritten), or only SECTION printed. `corral-bench --child scale` is
/// the bench measuring scale in a process of its own, for its parent.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let child = args.first().is_some_and(|arg| arg == scale::CHILD);
    let runs = args
        .iter()
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(DEFAULT_RUNS);
    let only = args
        .iter()
        .find(|arg| arg.parse::<usize>().is_err())
        .cloned();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            report::say(&format!("cannot start the async runtime: {error}"));
            return ExitCode::FAILURE;
        }
    };
    let done = match only {
        Some(_) if child => runtime.block_on(scale_child(args.get(1).map(String::as_str))),
        Some(section) => runtime.block_on(run_one(runs, &section)),
        None => runtime.block_on(run(runs)),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report::say(&format!("benchmark failed: {error:#}"));
            ExitCode::FAILURE
        }
    }
}

/// One section, printed; `BENCHMARKS.md` is left alone.
async fn run_one(runs: usize, section: &str) -> anyhow::Result<()> {
    let table = match section {
        "start" => report::table(&start::measure(runs, None).await?, runs, "runc"),
        "crun" => report::table(&start::measure(runs, Some("crun")).await?, runs, "crun"),
        "warm" => report::warm_table(&warm::measure(runs).await?, runs),
        "redact" => {
            let figures = tokio::task::spawn_blocking(redact::measure).await?;
            report::say(&report::redact_table(&figures));
            return redact_verdict(&figures);
        }
        profile if profile.starts_with("redact-profile") => {
            let kind = profile.strip_prefix("redact-profile:").map(str::to_owned);
            let lines = tokio::task::spawn_blocking(move || redact::profile(runs, kind.as_deref()))
                .await??;
            for line in &lines {
                report::say(line);
            }
            return Ok(());
        }
        "proxy" => report::proxy_table(&proxy::measure(PROXY_CALLS).await?),
        "fanout" => report::fanout_table(&fanout::measure().await?),
        "scale" => report::scale_table(&scale::measure().await?),
        "sandbox" => report::sandbox_table(&sandbox::measure(runs).await?, runs),
        other => anyhow::bail!(
            "no section `{other}`: start, crun, warm, sandbox, redact, proxy, fanout or scale"
        ),
    };
    report::say(&table);
    Ok(())
}

async fn run(runs: usize) -> anyhow::Result<()> {
    // First, while the machine is quiet: the Docker sections leave
    // containers being removed behind them, which took a third off it.
    let redaction = tokio::task::spawn_blocking(redact::measure).await?;
    let figures = start::measure(runs, None).await?;
    // crun when `scripts/ensure-crun.sh` registered it; else the table says so.
    let crun = match start::measure(runs, Some("crun")).await {
        Ok(figures) => Some(figures),
        Err(error) => {
            report::say(&format!("crun not measured: {error:#}"));
            None
        }
    };
    let warm = warm::measure(runs).await?;
    let sandboxes = sandbox::measure(runs).await?;
    let proxy = proxy::measure(PROXY_CALLS).await?;
    let fanout = fanout::measure().await?;
    let scale = scale::measure().await?;
    let machine = report::Machine::read().await;
    let mut table = report::table(&figures, runs, "runc");
    match &crun {
        Some(crun) => table.push_str(&report::table(crun, runs, "crun")),
        None => table.push_str("\ncrun: not registered with Docker (`scripts/ensure-crun.sh`).\n"),
    }
    table.push_str(&report::warm_table(&warm, runs));
    table.push_str(&report::sandbox_table(&sandboxes, runs));
    table.push_str(&report::redact_table(&redaction));
    table.push_str(&report::proxy_table(&proxy));
    table.push_str(&report::fanout_table(&fanout));
    table.push_str(&report::scale_table(&scale));
    report::say(&table);
    redact_verdict(&redaction)?;
    report::write_benchmarks(&machine, &table)?;
    report::say("wrote BENCHMARKS.md");
    Ok(())
}

/// The child's part of a section measured in a process of its own: its
/// figures as one JSON line.
async fn scale_child(section: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(section == Some("scale"), "only `scale` runs as a child");
    report::say(&scale::child().await?);
    Ok(())
}

/// Fails unless the leak detector redacted exactly what was planted (its
/// table names the problems).
fn redact_verdict(figures: &redact::RedactFigures) -> anyhow::Result<()> {
    anyhow::ensure!(
        figures.problems().is_empty(),
        "the leak detector did not redact exactly what was planted"
    );
    Ok(())
}
