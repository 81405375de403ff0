//! [`SecretRecords`] on `SQLite`: sealed values only, plus server metadata and
//! the redaction audit.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::SqliteStore;
use super::rows::{from_millis, millis};
use crate::store::{SecretRecord, SecretRecords, StoreError};

fn record_from_row(row: &Row<'_>) -> Result<SecretRecord, StoreError> {
    Ok(SecretRecord {
        name: row.get("name")?,
        nonce: row.get("nonce")?,
        ciphertext: row.get("ciphertext")?,
        created_at: from_millis("created_at", row.get("created_at")?)?,
        updated_at: from_millis("updated_at", row.get("updated_at")?)?,
        last_used_at: row
            .get::<_, Option<i64>>("last_used_at")?
            .map(|value| from_millis("last_used_at", value))
            .transpose()?,
    })
}

const SECRET_COLUMNS: &str = "name, nonce, ciphertext, created_at, updated_at, last_used_at";

#[async_trait]
impl SecretRecords for SqliteStore {
    async fn put_secret(
        &self,
        name: &str,
        nonce: Vec<u8>,
        ciphertext: Vec<u8>,
    ) -> Result<SecretRecord, StoreError> {
        let name = name.to_owned();
        let now = millis(OffsetDateTime::now_utc());
        self.call(move |connection| {
            connection.execute(
                "INSERT INTO secrets (name, nonce, ciphertext, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4) \
                 ON CONFLICT (name) DO UPDATE SET nonce = ?2, ciphertext = ?3, updated_at = ?4",
                params![name, nonce, ciphertext, now],
            )?;
            let sql = format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE name = ?1");
            let mut statement = connection.prepare_cached(&sql)?;
            let mut rows = statement.query([&name])?;
            let row = rows.next()?.ok_or(StoreError::Corrupt {
                column: "secrets",
                message: "a secret vanished while being written".into(),
            })?;
            record_from_row(row)
        })
        .await
    }

    async fn secret(&self, name: &str) -> Result<Option<SecretRecord>, StoreError> {
        let name = name.to_owned();
        self.read(move |connection| {
            let sql = format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE name = ?1");
            let mut statement = connection.prepare_cached(&sql)?;
            let mut rows = statement.query([name])?;
            rows.next()?.map(record_from_row).transpose()
        })
        .await
    }

    async fn secrets(&self) -> Result<Vec<SecretRecord>, StoreError> {
        self.read(|connection| {
            let sql = format!("SELECT {SECRET_COLUMNS} FROM secrets ORDER BY name");
            let mut statement = connection.prepare_cached(&sql)?;
            let mut rows = statement.query([])?;
            let mut records = Vec::new();
            while let Some(row) = rows.next()? {
                records.push(record_from_row(row)?);
            }
            Ok(records)
        })
        .await
    }

    async fn delete_secret(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.call(move |connection| {
            Ok(connection.execute("DELETE FROM secrets WHERE name = ?1", [name])? == 1)
        })
        .await
    }

    async fn touch_secret(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        let now = millis(OffsetDateTime::now_utc());
        self.call(move |connection| {
            connection.execute(
                "UPDATE secrets SET last_used_at = ?2 WHERE name = ?1",
                params![name, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_owned();
        self.read(move |connection| {
            Ok(connection
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                    row.get(0)
                })
                .optional()?)
        })
        .await
    }

    async fn put_meta(&self, key: &str, value: Vec<u8>) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.call(move |connection| {
            connection.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
                params![key, value],
            )?;
            Ok(())
        })
        .await
    }

    async fn record_redactions(&self, job_id: &str, names: Vec<String>) -> Result<(), StoreError> {
        let job_id = job_id.to_owned();
        let now = millis(OffsetDateTime::now_utc());
        self.call(move |connection| {
            let transaction = connection.transaction()?;
            {
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO redactions (job_id, name, ts) VALUES (?1, ?2, ?3)",
                )?;
                for name in names {
                    insert.execute(params![job_id, name, now])?;
                }
            }
            transaction.commit()?;
            Ok(())
        })
        .await
    }

    async fn redaction_count(&self) -> Result<u64, StoreError> {
        self.read(|connection| {
            Ok(connection.query_row("SELECT COUNT(*) FROM redactions", [], |row| row.get(0))?)
        })
        .await
    }

    async fn redactions(&self, job_id: &str) -> Result<Vec<String>, StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT name FROM redactions WHERE job_id = ?1 ORDER BY ts, rowid",
            )?;
            let names = statement
                .query_map([job_id], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(names)
        })
        .await
    }
}
