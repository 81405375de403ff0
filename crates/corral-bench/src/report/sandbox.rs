//! The sandbox table: create + first command warm and cold, the exec round
//! trip beside `docker exec`, files beside `docker cp`.

use std::fmt::Write as _;

use super::percentile;
use crate::sandbox::{FILE_BYTES, SandboxFigures};

/// The figures as Markdown.
pub fn sandbox_table(figures: &SandboxFigures, runs: usize) -> String {
    let mut out = format!(
        "\nSandboxes: create and run the first command (`echo hello`, its result through `?wait`), \
         {runs} runs each, warm (a pool of {}) and cold; then the exec round trip of `true` in a \
         running sandbox, {} runs interleaved with `docker exec` of `true` into a running container \
         of the same image (exec create, start attached, its end, through Docker's API):\n\n\
         | path | p50 ms | p95 ms |\n|---|---:|---:|\n",
        crate::warm::POOL_SIZE,
        figures.exec_true.len(),
    );
    let rows = [
        (
            "warm: `POST /v1/sandboxes` → first command's result",
            &figures.warm_first,
        ),
        (
            "cold: `POST /v1/sandboxes` → first command's result",
            &figures.cold_first,
        ),
        (
            "exec `true` in a running sandbox, `?wait` → result",
            &figures.exec_true,
        ),
        (
            "`docker exec` of `true` into a running container",
            &figures.docker_exec,
        ),
    ];
    for (name, samples) in rows {
        let _ = writeln!(
            out,
            "| {name} | {:.1} | {:.1} |",
            percentile(samples, 50.0),
            percentile(samples, 95.0)
        );
    }
    let warm = percentile(&figures.warm_first, 50.0);
    let exec = percentile(&figures.exec_true, 50.0);
    let docker = percentile(&figures.docker_exec, 50.0);
    let _ = writeln!(
        out,
        "\nGoals: warm create + first command p50 < 60 ms (measured {warm:.1} ms: {}); exec round \
         trip p50 < 10 ms (measured {exec:.1} ms: {}) and ≤ 0.2× `docker exec` (measured {:.2}×: {}).",
        if warm < 60.0 { "met" } else { "not met" },
        if exec < 10.0 { "met" } else { "not met" },
        exec / docker,
        if exec <= 0.2 * docker {
            "met"
        } else {
            "not met"
        },
    );
    let mb = f64::from(u32::try_from(FILE_BYTES >> 20).unwrap_or(u32::MAX));
    let rate = |samples: &[std::time::Duration]| mb / (percentile(samples, 50.0) / 1000.0);
    let _ = writeln!(
        out,
        "\nA {mb:.0} MB file, {} times each way, interleaved with Docker's archive API (`docker cp`) \
         into and out of the running container (p50):\n\n\
         | path | p50 ms | MB/s |\n|---|---:|---:|\n\
         | sandbox `PUT …/files` (into its tmpfs) | {:.0} | {:.0} |\n\
         | `docker cp` in (into the container's writable layer) | {:.0} | {:.0} |\n\
         | sandbox `GET …/files` (scanned for {} stored secrets) | {:.0} | {:.0} |\n\
         | `docker cp` out | {:.0} | {:.0} |\n\n\
         Goal: at least `docker cp` each way: up {:.2}× its rate ({}), down {:.2}× ({}; every \
         download is scanned by the sandbox's leak detector before it is handed out).",
        figures.upload.len(),
        percentile(&figures.upload, 50.0),
        rate(&figures.upload),
        percentile(&figures.cp_in, 50.0),
        rate(&figures.cp_in),
        crate::redact::SECRETS,
        percentile(&figures.download, 50.0),
        rate(&figures.download),
        percentile(&figures.cp_out, 50.0),
        rate(&figures.cp_out),
        rate(&figures.upload) / rate(&figures.cp_in),
        verdict(rate(&figures.upload) >= rate(&figures.cp_in)),
        rate(&figures.download) / rate(&figures.cp_out),
        verdict(rate(&figures.download) >= rate(&figures.cp_out)),
    );
    out
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**not met**" }
}
