//! The `SQLite` schema, as a list of migrations applied in order.

use rusqlite::Connection;

use crate::store::StoreError;

/// Each entry moves the schema one version up; never edit a released one.
pub(super) const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    mode         TEXT NOT NULL,
    state        TEXT NOT NULL,
    image        TEXT NOT NULL,
    command      TEXT,
    prompt       TEXT,
    project      TEXT,
    limits       TEXT NOT NULL,
    container_id TEXT,
    exit_code    INTEGER,
    reason       TEXT,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    queue_order  INTEGER NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state, queue_order);
CREATE INDEX jobs_by_created ON jobs (created_at);
CREATE TABLE events (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    seq    INTEGER NOT NULL,
    ts     INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
",
    r"
ALTER TABLE jobs ADD COLUMN grants TEXT NOT NULL DEFAULT '[]';
ALTER TABLE events ADD COLUMN redacted INTEGER NOT NULL DEFAULT 0;
CREATE TABLE secrets (
    name         TEXT PRIMARY KEY,
    nonce        BLOB NOT NULL,
    ciphertext   BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE redactions (
    job_id TEXT NOT NULL,
    name   TEXT NOT NULL,
    ts     INTEGER NOT NULL
);
CREATE INDEX redactions_by_job ON redactions (job_id);
",
    r"
ALTER TABLE jobs ADD COLUMN isolation TEXT;
",
    r"
ALTER TABLE jobs ADD COLUMN token_hash TEXT;
",
    r"
ALTER TABLE jobs ADD COLUMN last_batch INTEGER;
ALTER TABLE jobs ADD COLUMN last_batch_seq INTEGER;
",
    r"
ALTER TABLE jobs ADD COLUMN llm TEXT;
ALTER TABLE jobs ADD COLUMN interactive INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN llm_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
CREATE TABLE prompts (
    job_id TEXT NOT NULL REFERENCES jobs (id),
    seq    INTEGER NOT NULL,
    ts     INTEGER NOT NULL,
    text   TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
",
    r"
ALTER TABLE jobs ADD COLUMN claude TEXT;
",
    r"
ALTER TABLE jobs ADD COLUMN isolation_level TEXT NOT NULL DEFAULT 'runc';
",
    r"
CREATE TABLE claude_sessions (
    job_id     TEXT PRIMARY KEY REFERENCES jobs (id),
    session_id TEXT NOT NULL,
    dir        TEXT NOT NULL,
    transcript TEXT NOT NULL,
    ts         INTEGER NOT NULL
) WITHOUT ROWID;
",
    r"
ALTER TABLE jobs ADD COLUMN egress TEXT;
",
    r"
ALTER TABLE jobs ADD COLUMN project_mode TEXT NOT NULL DEFAULT 'bind';
",
    r"
ALTER TABLE jobs ADD COLUMN project_check TEXT;
",
    r"
ALTER TABLE jobs ADD COLUMN waiting_since INTEGER;
ALTER TABLE prompts ADD COLUMN ends INTEGER NOT NULL DEFAULT 0;
",
    r"
ALTER TABLE jobs ADD COLUMN held_output BLOB;
",
    r"
ALTER TABLE jobs ADD COLUMN held_streams TEXT;
UPDATE jobs SET held_output = NULL;
",
    r"
ALTER TABLE jobs ADD COLUMN execs_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN execs_reserved INTEGER NOT NULL DEFAULT 0;
",
];

/// Brings `connection`'s schema up to date, one transaction per step.
pub(super) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let version: usize = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
    }
    Ok(())
}
