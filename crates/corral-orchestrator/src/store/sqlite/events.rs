//! A job's events: appended densely numbered, read in pages.

use corral_proto::{Event, EventKind, NewEvent};
use rusqlite::params;
use time::OffsetDateTime;

use super::SqliteStore;
use super::rows::{from_json, from_millis, millis, to_json};
use crate::store::StoreError;

impl SqliteStore {
    pub(super) async fn insert_events(
        &self,
        job_id: &str,
        events: Vec<NewEvent>,
        batch: Option<u64>,
    ) -> Result<Vec<Event>, StoreError> {
        let job_id = job_id.to_owned();
        let now = millis(OffsetDateTime::now_utc());
        // As read back: the stored time has millisecond precision.
        let ts = from_millis("ts", now)?;
        self.call(move |connection| {
            let transaction = connection.transaction()?;
            let mut seq: u64 = transaction.query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE job_id = ?1",
                [&job_id],
                |row| row.get(0),
            )?;
            let mut stored = Vec::with_capacity(events.len());
            {
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO events (job_id, seq, ts, kind, data, redacted) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for event in events {
                    seq += 1;
                    insert.execute(params![
                        job_id,
                        seq,
                        now,
                        event.kind.as_str(),
                        to_json("data", &event.data)?,
                        event.redacted,
                    ])?;
                    stored.push(Event {
                        job_id: job_id.clone(),
                        seq,
                        ts,
                        kind: event.kind,
                        data: event.data,
                        redacted: event.redacted,
                    });
                }
            }
            if let Some(batch) = batch {
                transaction.execute(
                    "UPDATE jobs SET last_batch = ?2, last_batch_seq = ?3 WHERE id = ?1",
                    params![job_id, batch, seq],
                )?;
            }
            transaction.commit()?;
            Ok(stored)
        })
        .await
    }

    pub(super) async fn select_events(
        &self,
        job_id: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT seq, ts, kind, data, redacted FROM events WHERE job_id = ?1 AND seq > ?2 \
                 ORDER BY seq LIMIT ?3",
            )?;
            let mut rows = statement.query(params![job_id, after, limit])?;
            let mut events = Vec::new();
            while let Some(row) = rows.next()? {
                let kind: String = row.get(2)?;
                let data: String = row.get(3)?;
                events.push(Event {
                    job_id: job_id.clone(),
                    seq: row.get(0)?,
                    ts: from_millis("ts", row.get(1)?)?,
                    kind: EventKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
                        column: "kind",
                        message: kind.clone(),
                    })?,
                    data: from_json("data", &data)?,
                    redacted: row.get(4)?,
                });
            }
            Ok(events)
        })
        .await
    }
}
