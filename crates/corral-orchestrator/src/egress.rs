//! Controlled egress: a job's one way out. Its container has no network;
//! its worker relays each connection its processes make to the proxy at
//! `127.0.0.1:3128` over the job's socket (`GET /v1/egress`, upgraded), and
//! this module decides: the host must be on the job's allowlist, the name
//! must resolve to public addresses only (unless the operator pinned it),
//! and the job's connection and byte budgets must hold. Hosts with an
//! `inject` rule get their TLS ended by a per-job CA and a header added
//! from the secrets store, and what they answer is scrubbed of it; every
//! other host is tunnelled untouched once the tunnel's TLS ClientHello
//! names the `CONNECT` host. Each connection is an event.
//!
//! # Layout
//! - `proxy`: a job's [`EgressProxy`]: policy, CA, counters, clients, its records
//! - `policy`: checking a policy, and which addresses are never reachable
//! - `forward`: what the proxy's ways share: sending upstream, answers made here
//! - `allow`: the `allow` entries: hosts, ports, raw TCP
//! - `ca`: the per-job certificate authority
//! - `meter`: byte counting and the byte budget on the job's side
//! - `connection`: one proxied connection's HTTP (`CONNECT`, absolute-form requests)
//! - `inject`: a tunnel to an inject host: TLS ended, requests guarded, answers scrubbed
//! - `scrub`: finding an injected credential, in its encoded forms, in answers
//! - `tunnel`: a `CONNECT` tunnel relayed untouched, its ClientHello checked
//! - `hello`: reading a TLS ClientHello's server name
//! - `quote`: a host as events quote it, never with a secret in it
//! - `resolve`: name lookups, bounded for a job and for the server

pub mod allow;
pub mod ca;
mod connection;
mod forward;
mod hello;
mod inject;
mod meter;
pub mod policy;
mod proxy;
mod quote;
mod resolve;
pub(crate) mod scrub;
mod tunnel;

pub use connection::serve;
pub use proxy::{EgressError, EgressNet, EgressProxy, Target};
