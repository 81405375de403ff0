//! Integration tests of the orchestrator against real Docker, real `SQLite`
//! and real HTTP on loopback. Each test runs its own server and removes its
//! containers even when it fails.

mod api_auth;
mod bad_specs;
mod lifecycle;
mod queue;
mod sandbox;
mod worker_endpoint;
mod worker_socket;
