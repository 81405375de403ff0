//! Durable state: jobs and their events, behind the [`Store`] trait so the
//! `SQLite` store can give way to `PostgreSQL` when several orchestrators share
//! one database.
//!
//! Conditional updates (`finish` only from a live state, `claim_next_queued`)
//! live here rather than in the job manager, so two racing paths (a cancel
//! and a scheduler, say) cannot both win.
//!
//! # Layout
//! - `contract`: the [`Store`] traits, in parts: [`JobRecords`], [`EventRecords`],
//!   [`AgentRecords`]; [`SecretRecords`]; [`StoreError`]
//! - `sqlite`: [`SqliteStore`], the embedded default, each part implemented in
//!   its own file (`sqlite.rs` jobs, `sqlite/events.rs`, `sqlite/prompts.rs`, `sqlite/secrets.rs`)

mod contract;
mod sqlite;

pub use contract::{
    AgentRecords, EventRecords, Finish, HeldStreams, JobRecords, SecretRecord, SecretRecords,
    Store, StoreError,
};
pub use sqlite::SqliteStore;
