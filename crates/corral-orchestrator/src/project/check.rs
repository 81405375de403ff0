//! What a project may never be: `/`, a system directory (or one holding or
//! inside one), the data directory (its tokens, master key and database),
//! or a directory holding the Docker socket. Checked by path and by
//! identity (device and inode of every directory on the way), so a
//! bind-mount alias of a forbidden directory is caught too.
//!
//! At creation the user's path is resolved (a link they wrote is followed
//! once, and the result is what is checked and stored); at start the stored
//! path must contain no link at all and lead to the same directory.

use std::path::{Path, PathBuf};

use super::{DirIdentity, PinnedDir, ProjectError};

/// Host paths a job may never bind, nor anything that contains them or lies
/// under them.
const PROTECTED: &[&str] = &[
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var/run",
    "/var/lib/docker",
    "/var/lib/containerd",
];
/// The Docker socket: binding a directory that holds it is binding the host.
const DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// Where a project may be, for one server.
#[derive(Debug, Clone)]
pub struct Placement {
    data_dir: PathBuf,
}

/// Resolves `path` as a user gave it and checks it; the directory is held.
pub fn resolve_at_creation(path: &Path, data_dir: &Path) -> Result<PinnedDir, ProjectError> {
    Placement::new(data_dir).resolve(path)
}

impl Placement {
    /// The rules of a server whose data directory is `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_owned(),
        }
    }

    /// At creation: `path` must be absolute; links in it are resolved once,
    /// and the resolved directory is checked and held.
    pub fn resolve(&self, path: &Path) -> Result<PinnedDir, ProjectError> {
        if !path.is_absolute() {
            return Err(ProjectError::NotAbsolute {
                path: path.to_owned(),
            });
        }
        let resolved = path
            .canonicalize()
            .map_err(|error| ProjectError::Unreadable {
                path: path.to_owned(),
                message: error.to_string(),
            })?;
        let pinned = PinnedDir::open(&resolved)?;
        self.check(&pinned)?;
        Ok(pinned)
    }

    /// At start: the stored (resolved) `path` must hold no link anywhere,
    /// lead to the directory identified at creation, and still be allowed.
    pub fn recheck(
        &self,
        path: &Path,
        expected: Option<DirIdentity>,
    ) -> Result<PinnedDir, ProjectError> {
        let pinned = PinnedDir::open(path)?;
        if let Some(expected) = expected {
            pinned.expect_identity(expected)?;
        }
        self.check(&pinned)?;
        Ok(pinned)
    }

    fn check(&self, project: &PinnedDir) -> Result<(), ProjectError> {
        let path = project.path();
        let protected = |message: String| ProjectError::Protected { message };
        if path == Path::new("/") {
            return Err(protected("the root directory cannot be bound".to_owned()));
        }
        let by_path = |other: &Path| path.starts_with(other) || other.starts_with(path);
        for system in PROTECTED {
            let system = Path::new(system);
            let real = system.canonicalize().ok();
            let held = real.as_deref().and_then(|real| PinnedDir::open(real).ok());
            if by_path(system)
                || real.as_deref().is_some_and(by_path)
                || held.is_some_and(|held| held.overlaps(project))
            {
                return Err(protected(format!(
                    "{} is or overlaps the system directory {}",
                    path.display(),
                    system.display()
                )));
            }
        }
        let data_dir = self
            .data_dir
            .canonicalize()
            .unwrap_or_else(|_| self.data_dir.clone());
        let data_held = PinnedDir::open(&data_dir).ok();
        if by_path(&data_dir) || data_held.is_some_and(|held| held.overlaps(project)) {
            return Err(protected(
                "the corral data directory cannot be bound, nor a directory inside or holding it"
                    .to_owned(),
            ));
        }
        let socket = Path::new(DOCKER_SOCKET);
        let socket = socket.canonicalize().unwrap_or_else(|_| socket.to_owned());
        let socket_dir = socket
            .parent()
            .and_then(|parent| PinnedDir::open(parent).ok());
        if socket.starts_with(path)
            || socket_dir.is_some_and(|dir| dir.is_within(project.identity()))
        {
            return Err(protected(
                "a directory holding the Docker socket cannot be bound".to_owned(),
            ));
        }
        Ok(())
    }
}
