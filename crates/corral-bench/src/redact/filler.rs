//! The text the plantings sit in: build logs, JSON log lines, base64
//! blobs, hex dumps and digests of random bytes, and lines holding the
//! prefixes of token shapes that are not tokens (a short `sk-`, `ghp_` or
//! `AKIA`, a lone `eyJ…` header, a certificate or public key block): the
//! detector must read past all of them and redact none.

use std::fmt::Write as _;

use super::layout;
use crate::rng::{ALNUM, HEX, Rng};

const CRATES: &[&str] = &[
    "serde",
    "tokio",
    "hyper",
    "regex",
    "axum",
    "rustls",
    "bollard",
    "tracing",
    "clap",
    "anyhow",
    "rayon",
    "bytes",
    "futures",
    "reqwest",
    "sqlx",
    "thiserror",
    "memchr",
    "smallvec",
];
const WORDS: &[&str] = &[
    "config",
    "worker",
    "store",
    "events",
    "limits",
    "highlight",
    "session",
    "right",
    "weight",
    "length",
    "github",
    "through",
    "might",
    "flight",
    "ghost",
    "cache",
    "retry",
    "sketch",
];
const DASHED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A kind of filler line, and its share of the lines in a hundred.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Compiler, package manager and CI lines.
    BuildLog,
    /// Structured log lines.
    JsonLog,
    /// Random bytes in base64, wrapped at 76.
    Base64,
    /// Random bytes as `hexdump -C`.
    HexDump,
    /// Digests and commit ids.
    Digest,
    /// Token-shape prefixes that are no token.
    Decoy,
    /// Test runner lines.
    TestLine,
}

/// Every kind with its share of a hundred lines.
pub const KINDS: [(Kind, usize); 7] = [
    (Kind::BuildLog, 35),
    (Kind::JsonLog, 25),
    (Kind::Base64, 6),
    (Kind::HexDump, 6),
    (Kind::Digest, 8),
    (Kind::Decoy, 12),
    (Kind::TestLine, 8),
];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::BuildLog => "build log lines",
            Self::JsonLog => "JSON log lines",
            Self::Base64 => "base64 blobs",
            Self::HexDump => "`hexdump -C` of random bytes",
            Self::Digest => "digests and commit ids",
            Self::Decoy => "token-shape prefixes, no token",
            Self::TestLine => "test runner lines",
        }
    }

    /// Appends one line or block of this kind to `out`; strings that must
    /// come out unredacted go to `decoys`, in order.
    pub fn push(self, rng: &mut Rng, out: &mut String, decoys: &mut Vec<String>) {
        match self {
            Self::BuildLog => build_log(rng, out),
            Self::JsonLog => json_log(rng, out),
            Self::Base64 => {
                let blob = layout::base64(&rng.bytes_in(60, 400));
                let _ = writeln!(out, "{}", layout::wrap(&blob, 76, "\n"));
            }
            Self::HexDump => out.push_str(&layout::hexdump_canonical(&rng.bytes_in(16, 96))),
            Self::Digest => {
                let _ = match rng.below(3) {
                    0 => writeln!(
                        out,
                        "sha256:{}  target/release/{}",
                        rng.string(HEX, 64),
                        rng.pick(CRATES)
                    ),
                    1 => writeln!(out, "commit {}", rng.string(HEX, 40)),
                    _ => writeln!(out, "Author: dev <dev@example.invalid>"),
                };
            }
            Self::Decoy => decoy(rng, out, decoys),
            Self::TestLine => {
                let _ = writeln!(
                    out,
                    "test {}::{}_{} ... ok",
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.pick(WORDS)
                );
            }
        }
    }
}

/// Appends one filler line or block of a kind drawn by its share.
pub fn push(rng: &mut Rng, out: &mut String, decoys: &mut Vec<String>) {
    let mut draw = rng.below(100);
    for (kind, share) in KINDS {
        if draw < share {
            return kind.push(rng, out, decoys);
        }
        draw -= share;
    }
}

fn version(rng: &mut Rng) -> String {
    format!("{}.{}.{}", rng.below(3), rng.below(40), rng.below(20))
}

fn build_log(rng: &mut Rng, out: &mut String) {
    let (name, word) = (*rng.pick(CRATES), *rng.pick(WORDS));
    let version = version(rng);
    let _ = match rng.below(9) {
        0 => writeln!(out, "   Compiling {name} v{version}"),
        1 => writeln!(out, "  Downloaded {name} v{version}"),
        2 => writeln!(out, "warning: unused variable: `{word}`"),
        3 => writeln!(
            out,
            "   --> crates/{name}/src/{word}.rs:{}:{}",
            rng.below(400),
            rng.below(80)
        ),
        4 => writeln!(out, "go: downloading github.com/{word}/{name} v{version}"),
        5 => writeln!(out, "#12 [build 4/9] RUN apk add --no-cache {name} {word}"),
        6 => writeln!(
            out,
            "npm WARN deprecated {name}@{version}: this package is no longer supported"
        ),
        7 => writeln!(
            out,
            "+ docker push ghcr.io/{word}/{name}:{}",
            rng.string(HEX, 7)
        ),
        _ => writeln!(
            out,
            "    Finished `release` profile [optimized] target(s) in {}.{}s",
            rng.below(90),
            rng.below(100)
        ),
    };
}

fn json_log(rng: &mut Rng, out: &mut String) {
    let level = *rng.pick(&["info", "debug", "warn"]);
    let _ = writeln!(
        out,
        "{{\"ts\":\"2026-12-01T21:{:02}:{:02}.{:03}Z\",\"level\":\"{level}\",\"target\":\"corral::{}\",\"msg\":\"{} in {}\",\"job_id\":\"j-{}\",\"latency_ms\":{},\"trace_id\":\"{}\"}}",
        rng.below(60),
        rng.below(60),
        rng.below(1000),
        rng.pick(WORDS),
        rng.pick(&["GET /v1/jobs", "POST /v1/events", "GET /v1/prompts"]),
        rng.pick(CRATES),
        rng.string(HEX, 16),
        rng.below(500),
        rng.string(HEX, 32)
    );
}

/// A line with a token shape's prefix that is no token.
fn decoy(rng: &mut Rng, out: &mut String, decoys: &mut Vec<String>) {
    let (line, decoy) = match rng.below(12) {
        0 => {
            let key = format!("sk-{}", rng.string_in(ALNUM, 8, 20));
            (format!("note: placeholder key {key} in .env.example"), key)
        }
        1 => {
            let task = format!("task-{}", rng.string(ALNUM, 40));
            (format!("running {task} on node 3"), task)
        }
        2 => {
            let disk = format!("disk-{}", rng.string(ALNUM, 36));
            (format!("mounted {disk} at /data"), disk)
        }
        3 => {
            let token = format!("ghp_{}", rng.string(ALNUM, 20));
            (format!("cached {token} (truncated)"), token)
        }
        4 => {
            let token = format!("github_pat_{}", rng.string(ALNUM, 10));
            (format!("{token} is too short to be a token"), token)
        }
        5 => {
            let header = format!("eyJ{}", rng.string(DASHED, 30));
            (format!("jwt header {header}"), header)
        }
        6 => {
            let unsigned = format!(
                "eyJ{}.eyJ{}.{}",
                rng.string(DASHED, 12),
                rng.string(DASHED, 12),
                rng.string(DASHED, 5)
            );
            (format!("truncated jwt {unsigned} ..."), unsigned)
        }
        7 => {
            let id = format!("AKIA{}", rng.string(UPPER, 7));
            (format!("example id {id} from the docs"), id)
        }
        8 => {
            let id = format!("AKIA{}", rng.string(UPPER, 18));
            (format!("order {id} shipped"), id)
        }
        9 => {
            let kind = *rng.pick(&["CERTIFICATE", "PUBLIC KEY"]);
            let body = layout::wrap(&layout::base64(&rng.bytes_in(200, 500)), 64, "\n");
            let pem = format!("-----BEGIN {kind}-----\n{body}\n-----END {kind}-----");
            (pem.clone(), pem)
        }
        10 => {
            let token = format!("xoxb-{}", rng.string(b"0123456789", 6));
            (format!("slack placeholder {token}"), token)
        }
        _ => {
            let key = format!("sk-ant-{}", rng.string(ALNUM, 10));
            (format!("see {key}... in the README"), key)
        }
    };
    out.push_str(&line);
    out.push('\n');
    decoys.push(decoy);
}
