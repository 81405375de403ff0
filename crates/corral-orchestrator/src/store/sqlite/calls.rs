//! How work reaches the connections: a write on the blocking pool under
//! the one connection's lock, a read on one of the read-only connections.

use std::sync::Arc;

use rusqlite::Connection;

use super::SqliteStore;
use crate::store::StoreError;

impl SqliteStore {
    /// Runs a read on one of the read-only connections, in turn.
    pub(super) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        let index = self
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % readers.len();
        tokio::task::spawn_blocking(move || {
            let guard = readers[index]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            work(&guard)
        })
        .await?
    }

    pub(super) async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A poisoned lock only means another call panicked mid-way. Every
            // transaction begins and ends under one hold of the lock, so one
            // still open here was abandoned (a panic, a failed rollback):
            // undone first, or this write would run inside it and be undone
            // with it after it was answered.
            let mut guard = connection
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !guard.is_autocommit() {
                guard.execute_batch("ROLLBACK")?;
            }
            work(&mut guard)
        })
        .await?
    }
}
