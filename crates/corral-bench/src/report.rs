//! Percentiles, the printed table, and `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use crate::start::StartFigures;

mod fanout;
mod proxy;
mod redact;
mod sandbox;
mod scale;

pub use fanout::fanout_table;
pub use proxy::proxy_table;
pub use redact::redact_table;
pub use sandbox::sandbox_table;
pub use scale::scale_table;

/// The machine the figures were taken on.
pub struct Machine {
    cores: usize,
    /// The CPU's model and clock, as the kernel reports them.
    cpu: String,
    memory: String,
    docker: String,
}

impl Machine {
    pub async fn read() -> Self {
        let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_of(&text))
            .unwrap_or_else(|| "an unknown CPU".into());
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                let line = text
                    .lines()
                    .find(|line| line.starts_with("MemTotal:"))?
                    .to_owned();
                let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
                Some(format!("{} GiB", kib / (1 << 20)))
            })
            .unwrap_or_else(|| "unknown".into());
        let docker = corral_testkit::docker()
            .await
            .version()
            .await
            .ok()
            .map_or_else(
                || "unknown".into(),
                |version| {
                    format!(
                        "{} (API {})",
                        version.version.unwrap_or_default(),
                        version.api_version.unwrap_or_default()
                    )
                },
            );
        Self {
            cores,
            cpu,
            memory,
            docker,
        }
    }
}

#[expect(
    clippy::cast_precision_loss,
    reason = "sample counts are far below 2^52"
)]
/// The `p`th percentile (nearest rank) of `samples`, in milliseconds.
pub fn percentile(samples: &[Duration], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

/// The figures as a Markdown table.
pub fn table(figures: &StartFigures, runs: usize, oci: &str) -> String {
    let mut out =
        format!("\nCold start of `echo hello` under {oci}, {runs} runs each, interleaved:\n\n");
    out.push_str("| path | p50 ms | p95 ms | p50 ratio | p95 ratio |\n|---|---:|---:|---:|---:|\n");
    let rows = [
        (
            "bare Docker: create, attach, start → first output",
            &figures.bare_first_output,
            &figures.bare_first_output,
        ),
        (
            "corral: job created → first `output` event",
            &figures.corral_first_output,
            &figures.bare_first_output,
        ),
        (
            "bare Docker: … → exited and removed",
            &figures.bare_ended,
            &figures.bare_ended,
        ),
        (
            "corral: job created → ended, container removed",
            &figures.corral_ended,
            &figures.bare_ended,
        ),
    ];
    for (name, samples, baseline) in rows {
        let (p50, p95) = (percentile(samples, 50.0), percentile(samples, 95.0));
        let (base50, base95) = (percentile(baseline, 50.0), percentile(baseline, 95.0));
        let _ = writeln!(
            out,
            "| {name} | {p50:.1} | {p95:.1} | {:.2}× | {:.2}× |",
            p50 / base50,
            p95 / base95
        );
    }
    let _ = writeln!(
        out,
        "\nRatios are to the bare row just above. Goal for the first-output p50 ratio: ≤ 1.15×."
    );
    out
}

/// The warm-start figures as a Markdown table.
pub fn warm_table(figures: &crate::warm::WarmFigures, runs: usize) -> String {
    let floor = percentile(&figures.exec_first_output, 50.0);
    let bare = percentile(&figures.bare_first_output, 50.0);
    let mut out = format!(
        "\nWarm start of `echo hello` from a pool of {}, {runs} steady runs ({} served by the pool) \
         interleaved with the floors, then {runs} back to back ({} served by the pool, {} started cold):\n\n\
         | path | p50 ms | p95 ms | p50 ratio to `docker exec` | p50 ratio to bare `docker run` |\n|---|---:|---:|---:|---:|\n",
        crate::warm::POOL_SIZE,
        figures.steady_taken,
        figures.back_first_output.len(),
        figures.back_missed,
    );
    let rows = [
        (
            "floor: `docker exec` into a running container → first output",
            &figures.exec_first_output,
        ),
        (
            "bare Docker: create, attach, start → first output",
            &figures.bare_first_output,
        ),
        (
            "corral, steady (pool full and idle): job created → first `output` event",
            &figures.steady_first_output,
        ),
        (
            "corral, back to back (pool refilling), pool-served jobs: job created → first `output` event",
            &figures.back_first_output,
        ),
        (
            "corral, steady: job created → ended, container removed",
            &figures.steady_ended,
        ),
    ];
    for (name, samples) in rows {
        let (p50, p95) = (percentile(samples, 50.0), percentile(samples, 95.0));
        let _ = writeln!(
            out,
            "| {name} | {p50:.1} | {p95:.1} | {:.2}× | {:.2}× |",
            p50 / floor,
            p50 / bare
        );
    }
    let [starting, running, output] = &figures.steady_server;
    let _ = writeln!(
        out,
        "\nWhere a steady job's time goes, by the server's clock (ms resolution, p50): created → \
         `starting` {:.0} ms, → `running` {:.0} ms, → first `output` stored {:.0} ms.",
        percentile(starting, 50.0),
        percentile(running, 50.0),
        percentile(output, 50.0),
    );
    let steady = percentile(&figures.steady_first_output, 50.0);
    let back = percentile(&figures.back_first_output, 50.0);
    let _ = writeln!(
        out,
        "\nThe corral rows are measured from outside, through the user API: `POST /v1/jobs`, then its \
         event stream until the first `output` event. The floor is what Docker itself needs to run a \
         command in a container that already runs, through the same API: a pool container is such a \
         container, so the ratio to `docker exec` is the like-for-like one. The ratio to a bare \
         `docker run` compares a container that was running before the clock started with one that \
         must be created: it says what the pool saves a user, not that corral starts containers \
         faster than Docker. Goal: steady p50 < 5 ms (measured {steady:.1} ms: {}), back to back within 2× of \
         steady while the pool has containers (measured {:.2}×: {}).",
        if steady < 5.0 { "met" } else { "not met" },
        back / steady,
        if back <= 2.0 * steady {
            "met"
        } else {
            "not met"
        },
    );
    out
}

/// What each section compares, closing `BENCHMARKS.md`.
const READING: &str = "What each section compares:\n\n\
- Cold start: corral against a bare container of the same image running the same command\n  \
  through the same Docker API, interleaved in the same run. Read the ratios.\n\
- Warm start: corral from its pool against `docker exec` of the same command into a running\n  \
  container of the same image (the like-for-like floor) and against a bare `docker run`\n  \
  (what the pool saves), interleaved in the same run.\n\
- Sandboxes: create + first command has no baseline here (peers publish theirs); the exec\n  \
  round trip is against `docker exec` into a running container of the same image, and files\n  \
  against Docker's archive API into and out of it, interleaved in the same run.\n\
- Leak detector: the detector alone, in-process, on generated output; no baseline. The\n  \
  figures are absolute throughput, and the table says how many plantings were redacted.\n\
- LLM proxy: calls straight to a loopback upstream against calls through a job's socket and\n  \
  the proxy to an identical upstream, interleaved, both legs on fresh connections or both\n  \
  pooled. Read the overheads.\n\
- Events: real jobs, the server and 100 SSE subscribers sharing this machine; no baseline.\n  \
  The rates are absolute, for this machine.\n\
- Scale: 100 corral jobs at once against 100 bare containers of the same image and command at\n  \
  once, in the same run (read the ratio); the memory figure has no baseline but the\n  \
  orchestrator's own, in a process of its own.\n\n\
Absolute figures move with whatever else the machine is doing, and from one machine of the same\n\
kind to another (the same code's detector figures have differed by 40% between two 2-core\n\
machines): compare them only with figures taken on the CPU named above. Same-run comparisons\n\
move less.\n";

/// `/proc/cpuinfo`'s first model name and clock: `AMD EPYC at 1996 MHz`.
fn cpu_of(cpuinfo: &str) -> Option<String> {
    let field = |name: &str| {
        cpuinfo.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim().to_owned())
        })
    };
    let model = field("model name")?;
    Some(
        match field("cpu MHz").and_then(|mhz| mhz.parse::<f64>().ok()) {
            Some(mhz) => format!("{model} at {mhz:.0} MHz"),
            None => model,
        },
    )
}

/// Rewrites `BENCHMARKS.md` at the repository root.
pub fn write_benchmarks(machine: &Machine, table: &str) -> anyhow::Result<()> {
    let date = time::OffsetDateTime::now_utc().date();
    let text = format!(
        "# Benchmarks\n\nWritten on {date} by\n`CORRAL_WORKER_BIN=$(scripts/build-worker.sh --release) cargo run -p corral-bench --release`\n(the release worker; without the variable the debug worker is used).\n\n\
         Machine: {} cores of {}, {} memory, Docker engine {}.\n\n{table}\n{READING}",
        machine.cores, machine.cpu, machine.memory, machine.docker
    );
    std::fs::write(corral_testkit::repo_root().join("BENCHMARKS.md"), text)?;
    Ok(())
}

/// A line on stdout.
pub fn say(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::cpu_of;

    #[test]
    fn the_cpu_is_named_by_its_first_model_and_clock() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n\
                       cpu MHz\t\t: 1996.249\n\nprocessor\t: 1\nmodel name\t: Other\n";
        assert_eq!(cpu_of(cpuinfo).as_deref(), Some("AMD EPYC at 1996 MHz"));
        assert_eq!(
            cpu_of("model name : Arm Neoverse\n").as_deref(),
            Some("Arm Neoverse")
        );
        assert_eq!(cpu_of("processor : 0\n"), None);
    }
}
