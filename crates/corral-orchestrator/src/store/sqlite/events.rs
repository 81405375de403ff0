//! A job's events: appended densely numbered, read in pages.
//!
//! Appends come a thousand a second from one chatty job: every statement
//! of theirs is prepared once and kept (`prepare_cached`), the
//! transaction's `BEGIN` and `COMMIT` included, so no append parses SQL;
//! and the appends of many jobs share transactions (see `group`).

use corral_proto::{Event, EventKind, NewEvent};
use rusqlite::params;

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::SqliteStore;
use super::rows::{from_json, from_millis, highest_seq, to_json};
use crate::store::{EventRecords, HeldStreams, StoreError};

#[async_trait]
impl EventRecords for SqliteStore {
    async fn append_events(
        &self,
        job_id: &str,
        events: Vec<NewEvent>,
        batch: Option<u64>,
        held: Option<HeldStreams>,
    ) -> Result<Vec<Event>, StoreError> {
        let held = held
            .map(|held| to_json("held_streams", &held))
            .transpose()?;
        let job_id = job_id.to_owned();
        // Written here, on the caller's thread, not the writer's: the
        // writer only binds them, and groups appends by their size.
        let data = events
            .iter()
            .map(|event| to_json("data", &event.data))
            .collect::<Result<Vec<_>, _>>()?;
        self.writer
            .append(|reply| super::group::Append {
                job_id,
                events,
                data,
                batch,
                held,
                reply,
            })
            .await
    }

    async fn last_state_but_running(&self, job_id: &str) -> Result<u64, StoreError> {
        let job_id = job_id.to_owned();
        // Read backwards from the last event: only the current container's
        // are passed over.
        self.read(move |connection| {
            let seq: Option<u64> = connection
                .prepare_cached(
                    "SELECT seq FROM events WHERE job_id = ?1 AND kind = 'status' \
                     AND json_extract(data, '$.state') IS NOT NULL \
                     AND json_extract(data, '$.state') != 'running' \
                     ORDER BY seq DESC LIMIT 1",
                )?
                .query_row([job_id], |row| row.get(0))
                .optional()?;
            Ok(seq.unwrap_or(0))
        })
        .await
    }

    async fn last_of_kind(
        &self,
        job_id: &str,
        kind: EventKind,
    ) -> Result<Option<Event>, StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT seq, ts, kind, data, redacted FROM events WHERE job_id = ?1 AND kind = ?2 \
                 ORDER BY seq DESC LIMIT 1",
            )?;
            let mut rows = statement.query(params![job_id, kind.as_str()])?;
            rows.next()?.map(|row| event_of(&job_id, row)).transpose()
        })
        .await
    }

    async fn events_within(
        &self,
        job_id: &str,
        after: u64,
        limit: u32,
        max_bytes: usize,
    ) -> Result<(Vec<Event>, u64), StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT seq, ts, kind, data, redacted, LENGTH(CAST(data AS BLOB)) FROM events \
                 WHERE job_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let mut rows = statement.query(params![job_id, after, limit])?;
            let mut events = Vec::new();
            let mut bytes: usize = 0;
            while let Some(row) = rows.next()? {
                // Counted before the row is read: a large one past the
                // bound is not parsed at all.
                let size = usize::try_from(row.get::<_, i64>(5)?).unwrap_or(usize::MAX);
                bytes = bytes.saturating_add(size);
                if !events.is_empty() && bytes > max_bytes {
                    break;
                }
                events.push(event_of(&job_id, row)?);
            }
            drop(rows);
            // Read after the page: at least its last.
            let highest = highest_seq(connection, &job_id)?;
            let last = events.last().map_or(0, |event| event.seq);
            Ok((events, highest.max(last)))
        })
        .await
    }

    async fn held_streams(&self, job_id: &str) -> Result<HeldStreams, StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            let held: Option<Option<String>> = connection
                .query_row(
                    "SELECT held_streams FROM jobs WHERE id = ?1",
                    [job_id],
                    |row| row.get(0),
                )
                .optional()?;
            match held.flatten() {
                Some(held) => from_json("held_streams", &held),
                None => Ok(Vec::new()),
            }
        })
        .await
    }

    async fn last_batch(&self, job_id: &str) -> Result<Option<(u64, u64)>, StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            let row: Option<(Option<u64>, Option<u64>)> = connection
                .query_row(
                    "SELECT last_batch, last_batch_seq FROM jobs WHERE id = ?1",
                    [job_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            Ok(row.and_then(|(batch, seq)| Some((batch?, seq?))))
        })
        .await
    }

    async fn open_execs(
        &self,
        job_id: &str,
        numbers: std::ops::RangeInclusive<u64>,
        limit: u32,
    ) -> Result<Vec<u64>, StoreError> {
        let job_id = job_id.to_owned();
        let first = i64::try_from((*numbers.start()).max(1)).unwrap_or(i64::MAX);
        let last = i64::try_from(*numbers.end()).unwrap_or(i64::MAX);
        // On a reader, once a re-adoption: a long sandbox's scan must not
        // hold every job's writes. A number a worker sent that SQLite does
        // not read back as an integer (2^63 and past it read as a real) is
        // no exec of this desk's.
        self.read(move |connection| {
            let mut statement = connection.prepare(
                "SELECT DISTINCT json_extract(data, '$.exec') AS exec FROM events \
                 WHERE job_id = ?1 AND kind = 'exec_started' \
                 AND typeof(json_extract(data, '$.exec')) = 'integer' \
                 AND exec BETWEEN ?2 AND ?3 \
                 AND exec NOT IN (SELECT json_extract(data, '$.exec') FROM events \
                 WHERE job_id = ?1 AND kind = 'exec_ended') \
                 ORDER BY exec DESC LIMIT ?4",
            )?;
            let execs = statement
                .query_map(params![job_id, first, last, limit], |row| {
                    row.get::<_, i64>(0)
                })?
                .map(|exec| Ok(u64::try_from(exec?).unwrap_or(0)))
                .collect::<Result<Vec<u64>, rusqlite::Error>>()?;
            Ok(execs)
        })
        .await
    }

    async fn exec_numbers(&self, job_id: &str) -> Result<(u64, u64), StoreError> {
        let job_id = job_id.to_owned();
        self.read(move |connection| {
            let numbers: Option<(u64, u64)> = connection
                .query_row(
                    "SELECT execs_from, execs_reserved FROM jobs WHERE id = ?1",
                    [job_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            Ok(numbers.unwrap_or_default())
        })
        .await
    }

    async fn highest_started_exec(&self, job_id: &str) -> Result<u64, StoreError> {
        let job_id = job_id.to_owned();
        // As in `open_execs`: on a reader, integers only.
        self.read(move |connection| {
            let highest: Option<i64> = connection.query_row(
                "SELECT MAX(json_extract(data, '$.exec')) FROM events \
                 WHERE job_id = ?1 AND kind = 'exec_started' \
                 AND typeof(json_extract(data, '$.exec')) = 'integer'",
                [job_id],
                |row| row.get(0),
            )?;
            Ok(highest.map_or(0, |exec| u64::try_from(exec).unwrap_or(0)))
        })
        .await
    }

    async fn set_execs_from(&self, job_id: &str, first: u64) -> Result<(), StoreError> {
        let job_id = job_id.to_owned();
        self.call(move |connection| {
            connection.execute(
                "UPDATE jobs SET execs_from = ?2 WHERE id = ?1",
                params![job_id, first],
            )?;
            Ok(())
        })
        .await
    }

    async fn reserve_execs(&self, job_id: &str, upto: u64) -> Result<(), StoreError> {
        let job_id = job_id.to_owned();
        self.call(move |connection| {
            connection
                .prepare_cached(
                    "UPDATE jobs SET execs_reserved = MAX(execs_reserved, ?2) WHERE id = ?1",
                )?
                .execute(params![job_id, upto])?;
            Ok(())
        })
        .await
    }

    async fn worker_bytes(&self, job_id: &str, per_row: u64) -> Result<u64, StoreError> {
        let job_id = job_id.to_owned();
        // On a reader: a large job's scan must not hold every job's writes.
        self.read(move |connection| {
            let bytes: i64 = connection.query_row(
                "SELECT COALESCE(SUM(?2 + LENGTH(CAST(data AS BLOB))), 0) FROM events \
                 WHERE job_id = ?1 AND kind IN ('output', 'message', 'tool_call', \
                 'tool_result', 'error', 'warning', 'status', 'exec_started', 'exec_ended')",
                rusqlite::params![job_id, per_row],
                |row| row.get(0),
            )?;
            Ok(u64::try_from(bytes).unwrap_or(0))
        })
        .await
    }
}

/// An event read back: `seq, ts, kind, data, redacted`.
fn event_of(job_id: &str, row: &rusqlite::Row<'_>) -> Result<Event, StoreError> {
    let kind: String = row.get(2)?;
    let data: String = row.get(3)?;
    Ok(Event {
        job_id: job_id.to_owned(),
        seq: row.get(0)?,
        ts: from_millis("ts", row.get(1)?)?,
        kind: EventKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
            column: "kind",
            message: kind.clone(),
        })?,
        data: from_json("data", &data)?,
        redacted: row.get(4)?,
    })
}
