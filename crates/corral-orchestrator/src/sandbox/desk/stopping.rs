//! A sandbox's stop as its desk knows it: begun once, asked of its
//! watcher, or given up.

use std::sync::atomic::Ordering;

use super::Desk;

impl Desk {
    /// Asks the sandbox's watcher to remove its container, the sandbox kept.
    pub fn request_stop(&self) {
        self.stop.cancel();
    }

    /// Marks the sandbox as stopping; false when it already was (a second
    /// stop must not write the snapshot the first one writes).
    pub fn begin_stop(&self) -> bool {
        !self.stopping.swap(true, Ordering::SeqCst)
    }

    /// A stop begun with [`Desk::begin_stop`] gave up before it asked for
    /// the container's removal: another may be begun.
    pub fn end_stop(&self) {
        self.stopping.store(false, Ordering::SeqCst);
    }

    /// Returns once a stop is asked for.
    pub async fn stop_requested(&self) {
        self.stop.cancelled().await;
    }
}
