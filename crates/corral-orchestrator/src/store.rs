//! Durable state: jobs and their events, behind the [`Store`] trait so the
//! `SQLite` store can give way to `PostgreSQL` when several orchestrators share
//! one database.
//!
//! Conditional updates (`finish` only from a live state, `claim_next_queued`)
//! live here rather than in the job manager, so two racing paths (a cancel
//! and a scheduler, say) cannot both win.
//!
//! # Layout
//! - `contract`: the [`Store`] and [`SecretRecords`] traits, [`StoreError`]
//! - `sqlite`: [`SqliteStore`], the embedded default

mod contract;
mod sqlite;

pub use contract::{Finish, SecretRecord, SecretRecords, Store, StoreError};
pub use sqlite::SqliteStore;
