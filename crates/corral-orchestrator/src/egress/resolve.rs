//! Looking up the names jobs connect to. `getaddrinfo` runs on a blocking
//! thread and cannot be cancelled: a name whose DNS never answers holds
//! its thread for the resolver's whole timeout. The store's queries run on
//! the same blocking pool, so lookups are bounded: at most
//! [`JOB_LOOKUPS`] at once for a job and [`LOOKUPS`] in the whole server,
//! each permit held by the thread until its lookup returns (not by the
//! connection, which gives up after [`LOOKUP_WAIT`]).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

/// Lookups running at once in the whole server: 16 jobs' worth, well
/// under tokio's 512 blocking threads, which the store's queries share.
const LOOKUPS: usize = 64;
/// Lookups running at once for one job.
pub(super) const JOB_LOOKUPS: usize = 4;
/// The longest a connection waits for its name.
const LOOKUP_WAIT: Duration = Duration::from_secs(10);

static THREADS: Semaphore = Semaphore::const_new(LOOKUPS);

/// The addresses of `host:port`, looked up within the job's `own` permits
/// and the server's; why not, in words that name the host.
pub(super) async fn resolve(
    own: &Arc<Semaphore>,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, String> {
    let name = host.to_owned();
    let lookup = move || {
        (name.as_str(), port)
            .to_socket_addrs()
            .map(Iterator::collect::<Vec<_>>)
    };
    match tokio::time::timeout(LOOKUP_WAIT, on_lookup_thread(own, &THREADS, lookup)).await {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(error)) => Err(format!("cannot resolve `{host}`: {error}")),
        Err(_) => Err(format!(
            "cannot resolve `{host}` within {} s (its DNS did not answer, or the \
             server's lookups were all busy)",
            LOOKUP_WAIT.as_secs()
        )),
    }
}

/// Runs `work` on a blocking thread once a permit of `own` and one of
/// `threads` are free; the thread holds both until `work` returns, even
/// when the caller stopped waiting.
async fn on_lookup_thread<T: Send + 'static>(
    own: &Arc<Semaphore>,
    threads: &'static Semaphore,
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    let closed = |_| std::io::Error::other("the lookups were closed");
    let own: OwnedSemaphorePermit = Arc::clone(own).acquire_owned().await.map_err(closed)?;
    let thread: SemaphorePermit<'static> = threads.acquire().await.map_err(closed)?;
    tokio::task::spawn_blocking(move || {
        let _held = (own, thread);
        work()
    })
    .await
    .map_err(|error| {
        let why = crate::text::task_failure(&error);
        std::io::Error::other(format!("the lookup failed: {why}"))
    })?
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    /// A lookup that blocks its thread until told to end.
    fn stuck() -> (
        mpsc::Sender<()>,
        impl FnOnce() -> std::io::Result<()> + Send + 'static,
    ) {
        let (end, ended) = mpsc::channel::<()>();
        (end, move || {
            let _ = ended.recv();
            Ok(())
        })
    }

    #[tokio::test]
    async fn a_stuck_lookup_keeps_its_permits_after_its_caller_gave_up() {
        static THREADS: Semaphore = Semaphore::const_new(2);
        let job = Arc::new(Semaphore::new(JOB_LOOKUPS));
        let (end_first, first) = stuck();
        let (end_second, second) = stuck();
        // Each caller stops waiting; each thread stays in its lookup.
        for work in [first, second] {
            let waited = tokio::time::timeout(
                Duration::from_millis(20),
                on_lookup_thread(&job, &THREADS, work),
            )
            .await;
            assert!(waited.is_err(), "still looking up");
        }
        assert_eq!(THREADS.available_permits(), 0, "both threads still held");
        assert_eq!(job.available_permits(), JOB_LOOKUPS - 2);
        // A third waits for a thread, however long its caller would.
        let third = tokio::time::timeout(
            Duration::from_millis(50),
            on_lookup_thread(&job, &THREADS, || Ok(3)),
        )
        .await;
        assert!(third.is_err(), "no thread for it");
        end_first.send(()).expect("end");
        let third = on_lookup_thread(&job, &THREADS, || Ok(3)).await;
        assert_eq!(third.expect("looked up"), 3);
        end_second.send(()).expect("end");
    }

    #[tokio::test]
    async fn a_job_s_lookups_wait_for_its_own_permits_not_another_s() {
        static THREADS: Semaphore = Semaphore::const_new(8);
        let busy = Arc::new(Semaphore::new(1));
        let (end, stuck) = stuck();
        let waited = tokio::time::timeout(
            Duration::from_millis(20),
            on_lookup_thread(&busy, &THREADS, stuck),
        )
        .await;
        assert!(waited.is_err());
        let again = tokio::time::timeout(
            Duration::from_millis(50),
            on_lookup_thread(&busy, &THREADS, || Ok(())),
        )
        .await;
        assert!(again.is_err(), "the busy job waits for its own permit");
        let other = Arc::new(Semaphore::new(1));
        assert!(on_lookup_thread(&other, &THREADS, || Ok(())).await.is_ok());
        end.send(()).expect("end");
    }

    /// `localhost` only (from the hosts file): a test sends nothing to a
    /// DNS server, which would be off this machine.
    #[tokio::test]
    async fn a_name_is_resolved_and_the_permits_come_back() {
        let job = Arc::new(Semaphore::new(JOB_LOOKUPS));
        let addrs = resolve(&job, "localhost", 443).await.expect("localhost");
        assert!(!addrs.is_empty());
        assert!(
            addrs
                .iter()
                .all(|addr| addr.port() == 443 && addr.ip().is_loopback())
        );
        assert_eq!(job.available_permits(), JOB_LOOKUPS, "every permit back");
    }
}
