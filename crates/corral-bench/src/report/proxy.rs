//! The LLM proxy table.

use std::fmt::Write as _;

use super::percentile;
use crate::proxy::{Comparison, ProxyFigures, STREAM_CALLS};

/// The proxy figures as a Markdown table.
pub fn proxy_table(figures: &ProxyFigures) -> String {
    let mut out = format!(
        "\nLLM proxy: one recorded answer of the scripted model ({} bytes whole, {} streamed), \
         served by two identical replaying upstreams on loopback, one a leg. Direct: the bench \
         calls its upstream over TCP. Proxied: the bench calls the job's Unix socket and the \
         orchestrator's proxy calls its upstream through its shared HTTP client. {} whole and \
         {STREAM_CALLS} streamed answers each way per configuration, interleaved:\n\n",
        figures.answer_bytes.0, figures.answer_bytes.1, figures.calls,
    );
    out.push_str(
        "| connections | call | direct p50 ms | proxied p50 ms | p50 overhead ms | direct p99 ms | proxied p99 ms | p99 overhead ms |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    rows(
        &mut out,
        "fresh: a new one every call, on every hop",
        &figures.fresh,
    );
    rows(
        &mut out,
        "pooled: one kept alive, on every hop",
        &figures.pooled,
    );
    let _ = write!(
        out,
        "\nConnections opened during the timed calls (each configuration first makes one untimed \
         call each way): fresh, direct {} and proxied {} to the upstreams (which closed each after \
         one answer) and {} to the socket; pooled, direct {} and proxied {} to the upstreams and \
         {} to the socket. A worker opens a new socket connection \
         a call while the proxy's client pools upstream connections, which lies between the two \
         rows. Goal for the p50 overhead: < 1 ms.\n",
        figures.fresh.direct_upstream,
        figures.fresh.proxied_upstream,
        figures.fresh.socket,
        figures.pooled.direct_upstream,
        figures.pooled.proxied_upstream,
        figures.pooled.socket,
    );
    out
}

fn rows(out: &mut String, connections: &str, comparison: &Comparison) {
    for (call, direct, proxied) in [
        ("whole answer", &comparison.direct, &comparison.proxied),
        (
            "streamed, to the first byte",
            &comparison.direct_first_byte,
            &comparison.proxied_first_byte,
        ),
    ] {
        let (d50, p50) = (percentile(direct, 50.0), percentile(proxied, 50.0));
        let (d99, p99) = (percentile(direct, 99.0), percentile(proxied, 99.0));
        let _ = writeln!(
            out,
            "| {connections} | {call} | {d50:.2} | {p50:.2} | {:.2} | {d99:.2} | {p99:.2} | {:.2} |",
            p50 - d50,
            p99 - d99
        );
    }
}
