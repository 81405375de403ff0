//! What keeps a sandbox from being idle: work in flight (an exec, a file
//! transfer, a model call, an egress connection: each holds a [`Busy`]
//! while it lasts) and anything that happened lately (output, an API call:
//! each [`Activity::touch`]es). Idle means nothing in flight and nothing
//! happened for the whole timeout.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// A sandbox's activity. A std mutex: never held across an `.await`.
#[derive(Debug)]
pub struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Clone, Copy)]
struct State {
    /// Work in flight.
    busy: u64,
    /// When something last happened or ended.
    last: Instant,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                busy: 0,
                last: Instant::now(),
            }),
            changed: Notify::new(),
        }
    }
}

/// Work in flight: the sandbox is not idle while it lives.
#[derive(Debug)]
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        {
            let mut state = self.0.lock();
            state.busy = state.busy.saturating_sub(1);
            state.last = Instant::now();
        }
        self.0.changed.notify_waiters();
    }
}

impl Activity {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Something happened now.
    pub fn touch(&self) {
        self.lock().last = Instant::now();
    }

    /// Work begins; it lasts until the guard is dropped.
    pub fn busy(self: &Arc<Self>) -> Busy {
        {
            let mut state = self.lock();
            state.busy += 1;
            state.last = Instant::now();
        }
        Busy(Arc::clone(self))
    }

    /// Since when nothing is in flight and nothing happened; `None` while
    /// something is in flight.
    pub fn idle_since(&self) -> Option<Instant> {
        let state = *self.lock();
        (state.busy == 0).then_some(state.last)
    }

    /// Work in flight now.
    pub fn in_flight(&self) -> u64 {
        self.lock().busy
    }

    /// Returns once the sandbox has been idle for `timeout` in one stretch.
    pub async fn idle_for(&self, timeout: Duration) {
        loop {
            let changed = self.changed.notified();
            match self.idle_since() {
                None => changed.await,
                Some(since) => {
                    let deadline = since + timeout;
                    if Instant::now() >= deadline {
                        return;
                    }
                    // A touch meanwhile moves the deadline: checked again.
                    tokio::select! {
                        () = changed => {}
                        () = tokio::time::sleep_until(deadline) => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn work_in_flight_keeps_it_from_idling_and_the_clock_starts_when_it_ends() {
        let activity = Arc::new(Activity::default());
        let busy = activity.busy();
        let idle = tokio::time::timeout(
            Duration::from_secs(100),
            activity.idle_for(Duration::from_secs(10)),
        )
        .await;
        assert!(idle.is_err(), "idle while work was in flight");
        drop(busy);
        let ended = Instant::now();
        activity.idle_for(Duration::from_secs(10)).await;
        assert!(Instant::now() - ended >= Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_touch_moves_the_deadline() {
        let activity = Arc::new(Activity::default());
        let start = Instant::now();
        let waiting = activity.idle_for(Duration::from_secs(10));
        tokio::pin!(waiting);
        assert!(
            tokio::time::timeout(Duration::from_secs(6), &mut waiting)
                .await
                .is_err()
        );
        activity.touch();
        waiting.await;
        assert!(Instant::now() - start >= Duration::from_secs(16));
    }
}
