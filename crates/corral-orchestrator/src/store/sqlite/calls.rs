//! How work reaches the connections: a write on the writer thread (see
//! `group`), a read on one of the read-only connections.

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

    /// Runs a write on the writer thread, in its turn with the appends
    /// and every other write (see `group`).
    pub(super) async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.call(work).await
    }
}
