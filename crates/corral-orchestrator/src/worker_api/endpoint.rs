//! A job's endpoint: its socket directory and token file made for the job's
//! user, the listener on the socket, the worker API served there until the
//! job ends, and a pool container's endpoint bound to its job later.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::UnixListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, warn};

use super::binding::SocketBinding;
use super::provisions::JobProvisions;
use super::report::WorkerReport;
use super::served::ServedJob;

use crate::token::{Token, TokenHash};
use corral_runtime::JobUser;

/// The socket's file name inside the job directory.
pub const SOCKET_NAME: &str = "worker.sock";
/// The token file's name inside the job directory.
pub const TOKEN_NAME: &str = "token";
/// How long a closing job waits for its model calls to be recorded; the
/// container is gone, so a call still streaming has no reader left.
const SETTLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a closing job's socket may take to finish its last requests.
const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);
/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// A job's listening socket; close it when the job ends.
pub struct WorkerEndpoint {
    binding: Arc<SocketBinding>,
    socket_dir: PathBuf,
    shutdown: CancellationToken,
    server: JoinHandle<()>,
    /// What was reported up to the token's revocation; taken once.
    report: std::sync::OnceLock<WorkerReport>,
}

impl WorkerEndpoint {
    /// Creates the job directory, token file and socket, and starts serving
    /// the job.
    #[tracing::instrument(name = "worker_api.open", skip_all)]
    pub async fn open(
        socket_dir: &Path,
        setup: JobProvisions,
        tasks: &TaskTracker,
    ) -> io::Result<Self> {
        Ok(UnboundEndpoint::open(socket_dir, setup.user, tasks)
            .await?
            .bind(setup))
    }

    /// Serves a job again after an orchestrator restart: the same socket
    /// path, the token checked against its stored hash, no token file.
    pub async fn reopen(
        socket_dir: &Path,
        setup: JobProvisions,
        token: TokenHash,
        tasks: &TaskTracker,
    ) -> io::Result<Self> {
        prepare_socket_dir(socket_dir).await?;
        match tokio::fs::remove_file(socket_dir.join(SOCKET_NAME)).await {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        let store = &**setup.events.store();
        let held = super::held::restore(store, &setup.redactor, &setup.job)
            .await
            .map_err(io::Error::other)?;
        let completion = super::held::completion(store, &setup.job)
            .await
            .map_err(io::Error::other)?;
        let endpoint = Self::serve(socket_dir, setup.user, token, true, tasks)?;
        let session = ServedJob::new(setup, &endpoint.binding.token, true);
        session.resume_held(held);
        if let Some(completion) = completion {
            session.resume_completed(completion);
        }
        endpoint.binding.bind(Arc::new(session));
        Ok(endpoint)
    }

    /// The hash of the job's token, for the store.
    pub fn token_hash(&self) -> &str {
        self.binding.token.as_hex()
    }

    fn serve(
        socket_dir: &Path,
        user: JobUser,
        token: TokenHash,
        token_consumed: bool,
        tasks: &TaskTracker,
    ) -> io::Result<Self> {
        let socket_path = socket_dir.join(SOCKET_NAME);
        let listener = bind_unix(&socket_path)?;
        hand_to_job_user(&socket_path, user, 0o600, 0o666)?;
        let token_file = socket_dir.join(TOKEN_NAME);
        let binding = Arc::new(SocketBinding::new(token, token_file, token_consumed));
        let shutdown = CancellationToken::new();
        let app = super::routes::router(Arc::clone(&binding), tasks.clone());
        let stop = shutdown.clone();
        let server = tasks.spawn(super::admission::serve(listener, app, stop));
        Ok(Self {
            binding,
            socket_dir: socket_dir.to_owned(),
            shutdown,
            server,
            report: std::sync::OnceLock::new(),
        })
    }

    /// The host directory to mount at `/run/corral`.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Revokes the token: from now on every call is a 401. Called as soon
    /// as the job's container has stopped; what was reported until then is
    /// the report [`WorkerEndpoint::close`] hands back.
    pub fn revoke(&self) {
        let session = self.binding.session();
        if let Some(session) = &session {
            session.revoke();
        }
        self.binding.close();
        self.report
            .get_or_init(|| session.map(|session| session.report()).unwrap_or_default());
    }

    /// Tells the endpoint the job is recorded `running`: the worker's
    /// events, held until then, are stored after that status.
    pub fn mark_running(&self) {
        if let Some(session) = self.binding.session() {
            session.mark_running();
        }
    }

    /// Resolves once something the job's worker sent was stored, or the
    /// job's session ended (at once on a socket no job is bound to).
    pub fn first_report(&self) -> impl Future<Output = ()> + Send + use<> {
        // The session itself is not held: it ends with the job.
        let waiting = self.binding.session().map(|session| session.first_report());
        async move {
            if let Some(waiting) = waiting {
                waiting.await;
            }
        }
    }

    /// Revokes the token, waits for model calls and egress connections
    /// still being recorded, releases held-back output, stops serving, and
    /// hands back what was reported before the token was revoked.
    pub async fn close(self) -> WorkerReport {
        self.revoke();
        if let Some(session) = self.binding.session() {
            if let Some(llm) = &session.llm {
                llm.settle(SETTLE_LIMIT).await;
            }
            if let Some(egress) = &session.egress {
                egress.settle(SETTLE_LIMIT).await;
            }
            if let Err(error) = session.flush_streams().await {
                error!(error = %error, "cannot store the last output");
            }
        }
        self.shutdown.cancel();
        // A request still streaming (a model answer whose reader is gone
        // with the container) would hold a graceful shutdown open.
        let mut server = self.server;
        match tokio::time::timeout(SHUTDOWN_LIMIT, &mut server).await {
            Ok(Err(error)) => error!(error = %error, "worker API task failed"),
            Ok(Ok(())) => {}
            Err(_) => {
                warn!("worker API still busy at job end; closing it");
                server.abort();
                // Wait for the abort, so the listener is gone on return.
                let _ = server.await;
            }
        }
        let mut report = self.report.into_inner().unwrap_or_default();
        // Read here, once every request was served, not at the revoke: a
        // batch or a completion being stored then may yet have been
        // refused. No completion is claimed after the revoke, and the
        // flush above waited for the one being stored (each is taken to
        // its end, under the lock the flush takes).
        if let Some(session) = self.binding.session() {
            report.lost_batches = session.lost_batches();
            report.completion = session.completion();
            report.completion_refused = report.completion.is_none() && session.completion_refused();
        }
        report
    }
}

/// A socket no job is bound to yet: a warm-pool container's, its worker's
/// `GET /v1/job` held until [`UnboundEndpoint::bind`]; every other call is
/// a 409 until then.
pub struct UnboundEndpoint(WorkerEndpoint);

impl UnboundEndpoint {
    /// Creates the directory, token file and socket, and starts serving.
    pub async fn open(socket_dir: &Path, user: JobUser, tasks: &TaskTracker) -> io::Result<Self> {
        prepare_socket_dir(socket_dir).await?;
        let token = Token::generate().map_err(io::Error::other)?;
        let token_file = socket_dir.join(TOKEN_NAME);
        write_token(&token_file, &token, user).await?;
        let hash = TokenHash::from_hex(token.hash_hex());
        WorkerEndpoint::serve(socket_dir, user, hash, false, tasks).map(Self)
    }

    /// Binds `setup`'s job: the worker's `GET /v1/job` answers with it. A
    /// socket serves one job in its life.
    pub fn bind(self, setup: JobProvisions) -> WorkerEndpoint {
        let endpoint = self.0;
        let session = ServedJob::new(setup, &endpoint.binding.token, false);
        endpoint.binding.bind(Arc::new(session));
        endpoint
    }

    /// Waits up to `limit` for the worker to ask for its job: true once its
    /// container is up and its worker reached the socket.
    pub async fn until_worker_asked(&self, limit: std::time::Duration) -> bool {
        self.0.binding.until_asked(limit).await
    }

    /// Moves the socket's directory to `to` (same filesystem). A container
    /// that mounts it keeps seeing it: a bind mount follows the directory,
    /// not its name.
    pub fn relocate(&mut self, to: &Path) -> io::Result<()> {
        std::fs::rename(&self.0.socket_dir, to)?;
        to.clone_into(&mut self.0.socket_dir);
        Ok(())
    }

    /// The host directory mounted at `/run/corral`.
    pub fn socket_dir(&self) -> &Path {
        &self.0.socket_dir
    }

    /// Stops serving; the held request ends with a 401.
    pub async fn close(self) {
        self.0.close().await;
    }
}

/// Creates the job directory (0755: the job user traverses it) after
/// checking the socket path fits in `sun_path`.
async fn prepare_socket_dir(socket_dir: &Path) -> io::Result<()> {
    let socket_path = socket_dir.join(SOCKET_NAME);
    if socket_path.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "socket path {} is too long; use a shorter --data-dir",
                socket_path.display()
            ),
        ));
    }
    tokio::fs::create_dir_all(socket_dir).await?;
    tokio::fs::set_permissions(socket_dir, std::fs::Permissions::from_mode(0o755)).await
}

/// Binds the socket from a std listener (no runtime needed to create it).
fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    listener.set_nonblocking(true)?;
    UnixListener::from_std(listener)
}

async fn write_token(path: &Path, token: &Token, user: JobUser) -> io::Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true).mode(0o400);
    let mut file = options.open(path).await?;
    // tokio writes in the background: flush and sync before anyone reads it.
    tokio::io::AsyncWriteExt::write_all(&mut file, token.expose().as_bytes()).await?;
    tokio::io::AsyncWriteExt::flush(&mut file).await?;
    file.sync_all().await?;
    hand_to_job_user(path, user, 0o400, 0o444)
}

/// Gives `path` to the job's uid (as the host sees it) with `owned_mode`.
/// When this process may not chown (not root), or the engine does not say
/// who the job's user is on the host (rootless), falls back to
/// `shared_mode` so the job can still reach it; the token check still
/// guards the socket.
fn hand_to_job_user(
    path: &Path,
    user: JobUser,
    owned_mode: u32,
    shared_mode: u32,
) -> io::Result<()> {
    let chowned = match user.host {
        Some((uid, gid)) => std::os::unix::fs::chown(path, Some(uid), Some(gid)),
        None => Err(io::ErrorKind::PermissionDenied.into()),
    };
    match chowned {
        Ok(()) => std::fs::set_permissions(path, std::fs::Permissions::from_mode(owned_mode)),
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            warn!(path = %path.display(), "cannot chown to the job user; widening permissions");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(shared_mode))
        }
        Err(error) => Err(error),
    }
}
