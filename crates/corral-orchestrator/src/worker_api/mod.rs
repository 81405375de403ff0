//! The per-job worker API, served on the job's own Unix socket.
//!
//! Each job gets a directory `<data-dir>/run/<job-id>/` holding `worker.sock`
//! and, until the worker's first authenticated call, `token`. The directory
//! is mounted read-only at `/run/corral` in the job's container and nowhere
//! else, so a container can reach its own job's socket and no other. The
//! token lives in this process's memory; the file is deleted once used, and
//! every request is checked against the token in constant time.

mod routes;

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use corral_proto::Job;
use corral_proto::worker::Completion;
use tokio::net::UnixListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, warn};

use crate::events::EventLog;
use crate::runtime::JobUser;
use crate::token::Token;

/// The socket's file name inside the job directory.
pub const SOCKET_NAME: &str = "worker.sock";
/// The token file's name inside the job directory.
pub const TOKEN_NAME: &str = "token";
/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// What the worker API knows about its one job.
pub(crate) struct WorkerSession {
    job: Job,
    token: Token,
    token_file: PathBuf,
    /// Set once the token file is gone, so it is deleted exactly once.
    token_consumed: AtomicBool,
    /// Set when the job ends: every later call is a 401.
    revoked: AtomicBool,
    /// The worker's completion report, first one wins. A std mutex: never
    /// held across an `.await`.
    completion: Mutex<Option<Completion>>,
    events: EventLog,
    output_bytes: AtomicU64,
    max_output_bytes: u64,
    output_capped: AtomicBool,
}

/// A job's listening socket; close it when the job ends.
pub struct WorkerEndpoint {
    session: Arc<WorkerSession>,
    socket_dir: PathBuf,
    shutdown: CancellationToken,
    server: JoinHandle<()>,
}

impl WorkerEndpoint {
    /// Creates the job directory, token file and socket, and starts serving.
    pub async fn open(
        socket_dir: &Path,
        job: &Job,
        user: JobUser,
        events: EventLog,
        max_output_bytes: u64,
        tasks: &TaskTracker,
    ) -> io::Result<Self> {
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
        tokio::fs::set_permissions(socket_dir, std::fs::Permissions::from_mode(0o755)).await?;
        let token = Token::generate().map_err(io::Error::other)?;
        let token_file = socket_dir.join(TOKEN_NAME);
        write_token(&token_file, &token, user).await?;
        let listener = UnixListener::bind(&socket_path)?;
        hand_to_job_user(&socket_path, user, 0o600, 0o666)?;
        let session = Arc::new(WorkerSession {
            job: job.clone(),
            token,
            token_file,
            token_consumed: AtomicBool::new(false),
            revoked: AtomicBool::new(false),
            completion: Mutex::new(None),
            events,
            output_bytes: AtomicU64::new(0),
            max_output_bytes,
            output_capped: AtomicBool::new(false),
        });
        let shutdown = CancellationToken::new();
        let app = routes::router(Arc::clone(&session));
        let stop = shutdown.clone();
        let job_id = job.id.clone();
        let server = tasks.spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(error) = served {
                error!(job_id = %job_id, error = %error, "worker API failed");
            }
        });
        Ok(Self {
            session,
            socket_dir: socket_dir.to_owned(),
            shutdown,
            server,
        })
    }

    /// The host directory to mount at `/run/corral`.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// What the worker reported at `/v1/complete`, if it did.
    pub fn completion(&self) -> Option<Completion> {
        self.session
            .completion
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Revokes the token and stops serving.
    pub async fn close(self) {
        self.session
            .revoked
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.shutdown.cancel();
        if let Err(error) = self.server.await {
            error!(error = %error, "worker API task failed");
        }
    }
}

async fn write_token(path: &Path, token: &Token, user: JobUser) -> io::Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true).mode(0o400);
    let mut file = options.open(path).await?;
    tokio::io::AsyncWriteExt::write_all(&mut file, token.expose().as_bytes()).await?;
    hand_to_job_user(path, user, 0o400, 0o444)
}

/// Gives `path` to the job's uid with `owned_mode`. When this process may
/// not chown (not root), falls back to `shared_mode` so the job can still
/// reach it; the token check still guards the socket.
fn hand_to_job_user(
    path: &Path,
    user: JobUser,
    owned_mode: u32,
    shared_mode: u32,
) -> io::Result<()> {
    match std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)) {
        Ok(()) => std::fs::set_permissions(path, std::fs::Permissions::from_mode(owned_mode)),
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            warn!(path = %path.display(), "cannot chown to the job user; widening permissions");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(shared_mode))
        }
        Err(error) => Err(error),
    }
}
