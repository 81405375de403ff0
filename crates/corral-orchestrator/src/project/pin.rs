//! A project directory held open: walked from `/` one component at a time
//! without following any symbolic link, so what is held is the directory
//! the path named when it was checked, whatever happens to the path later.
//!
//! A container cannot be handed a file descriptor, so a held directory is
//! given to Docker through a private bind mount of the descriptor at a path
//! only the orchestrator can write ([`PinnedDir::stage`]): the mount follows
//! the descriptor, not the path, and nothing a job does to the project's
//! path changes which directory the container gets.

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::ProjectError;

/// A directory's identity on the host: it is the same directory exactly
/// when both numbers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirIdentity {
    /// The device (filesystem) it lives on.
    pub dev: u64,
    /// Its inode on that device.
    pub ino: u64,
}

impl From<corral_proto::ProjectCheck> for DirIdentity {
    /// The identity a job's project had when it was checked at creation.
    fn from(check: corral_proto::ProjectCheck) -> Self {
        Self {
            dev: check.dev,
            ino: check.ino,
        }
    }
}

/// A directory held open by descriptor (`O_PATH`): it can be stated,
/// walked beneath and bind-mounted, never swapped.
#[derive(Debug)]
pub struct PinnedDir {
    fd: OwnedFd,
    path: PathBuf,
    identity: DirIdentity,
    /// The identity of every directory on the path, `/` first, this one
    /// last: a directory lies inside another exactly when the other's
    /// identity is in its chain (bind-mount aliases included).
    chain: Vec<DirIdentity>,
    owner: (u32, u32),
    /// Its permission bits.
    mode: u32,
}

impl PinnedDir {
    /// Opens the absolute, symlink-free `path`: every component must be a
    /// directory that is not a symbolic link (`.` and `..` are refused).
    pub fn open(path: &Path) -> Result<Self, ProjectError> {
        if !path.is_absolute() {
            return Err(ProjectError::NotAbsolute {
                path: path.to_owned(),
            });
        }
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut current = rustix::fs::openat(CWD, "/", flags, Mode::empty())
            .map_err(|errno| ProjectError::io(path, errno))?;
        let mut chain = Vec::new();
        let mut walked = PathBuf::from("/");
        for component in path.components() {
            let name = match component {
                Component::RootDir => continue,
                Component::Normal(name) => name,
                Component::CurDir | Component::ParentDir | Component::Prefix(_) => {
                    return Err(ProjectError::NotCanonical {
                        path: path.to_owned(),
                    });
                }
            };
            chain.push(identity_of(&current, path)?);
            walked.push(name);
            current = open_component(&current, name, flags, &walked)?;
        }
        let stat = rustix::fs::fstat(&current).map_err(|errno| ProjectError::io(path, errno))?;
        let identity = DirIdentity {
            dev: stat.st_dev,
            ino: stat.st_ino,
        };
        chain.push(identity);
        Ok(Self {
            fd: current,
            path: path.to_owned(),
            identity,
            chain,
            owner: (stat.st_uid, stat.st_gid),
            mode: stat.st_mode & 0o7777,
        })
    }

    /// The path it was opened by.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its device and inode.
    pub fn identity(&self) -> DirIdentity {
        self.identity
    }

    /// Whether it is `other` or lies beneath it.
    pub fn is_within(&self, other: DirIdentity) -> bool {
        self.chain.contains(&other)
    }

    /// Whether either lies within the other (or they are the same).
    pub fn overlaps(&self, other: &Self) -> bool {
        self.is_within(other.identity) || other.is_within(self.identity)
    }

    /// Its owner's uid and gid.
    pub fn owner(&self) -> (u32, u32) {
        self.owner
    }

    /// The user a job on this project runs as on an engine mapping ids
    /// by `map`: its owner, unless root owns it (then corral's own job
    /// user); refused when the engine has no container user that is its
    /// owner (see [`corral_runtime::IdMap::owner`]).
    pub fn job_user(
        &self,
        map: corral_runtime::IdMap,
    ) -> Result<corral_runtime::JobUser, corral_runtime::Unmapped> {
        map.owner(self.owner.0, self.owner.1)
    }

    /// Whether `uid`/`gid` may create files in it, by its permission bits
    /// (the class that applies: owner, else group, else others). A
    /// directory with an access ACL counts as writable: the ACL may grant
    /// what the bits do not, and only the kernel decides that.
    pub fn writable_by(&self, uid: u32, gid: u32) -> bool {
        let (owner, group) = self.owner;
        let shift = if uid == owner {
            6
        } else if gid == group {
            3
        } else {
            0
        };
        (self.mode >> shift) & 0o3 == 0o3
            || rustix::fs::fgetxattr(&self.fd, "system.posix_acl_access", &mut [0_u8; 0][..])
                .is_ok()
    }

    /// Its permission bits, as `ls -ld` counts them.
    pub fn mode(&self) -> u32 {
        self.mode
    }

    /// The descriptor, for walking beneath it.
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Fails unless it is the directory identified at creation.
    pub fn expect_identity(&self, expected: DirIdentity) -> Result<(), ProjectError> {
        if self.identity == expected {
            Ok(())
        } else {
            Err(ProjectError::Replaced {
                path: self.path.clone(),
            })
        }
    }

    /// Bind-mounts the held directory at `target` (created here, an empty
    /// directory in a tree only the orchestrator writes), privately, so
    /// the mount's path leads to this directory and no other. The mount is
    /// undone when the returned guard drops.
    pub fn stage(&self, target: &Path) -> Result<StagedMount, ProjectError> {
        std::fs::create_dir_all(target).map_err(|error| ProjectError::Stage {
            message: error.to_string(),
        })?;
        let source = format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&self.fd)
        );
        let mut staged = StagedMount {
            target: target.to_owned(),
            mounted: false,
        };
        rustix::mount::mount_bind(source.as_str(), target).map_err(|errno| {
            ProjectError::Stage {
                message: format!(
                    "cannot bind-mount the project (corral runs as root to pin it): {errno}"
                ),
            }
        })?;
        staged.mounted = true;
        rustix::mount::mount_change(target, rustix::mount::MountPropagationFlags::PRIVATE)
            .map_err(|errno| ProjectError::Stage {
                message: format!("cannot make the project's mount private: {errno}"),
            })?;
        let mounted = rustix::fs::stat(target).map_err(|errno| ProjectError::io(target, errno))?;
        if (mounted.st_dev, mounted.st_ino) != (self.identity.dev, self.identity.ino) {
            return Err(ProjectError::Replaced {
                path: self.path.clone(),
            });
        }
        Ok(staged)
    }
}

fn identity_of(fd: &OwnedFd, path: &Path) -> Result<DirIdentity, ProjectError> {
    let stat = rustix::fs::fstat(fd).map_err(|errno| ProjectError::io(path, errno))?;
    Ok(DirIdentity {
        dev: stat.st_dev,
        ino: stat.st_ino,
    })
}

/// Opens one path component beneath `parent`, never through a link; a
/// link (or anything not a directory) is refused by name.
fn open_component(
    parent: &OwnedFd,
    name: &OsStr,
    flags: OFlags,
    walked: &Path,
) -> Result<OwnedFd, ProjectError> {
    match rustix::fs::openat(parent, name, flags, Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(Errno::NOTDIR | Errno::LOOP) => {
            let kind = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
                .map(|stat| FileType::from_raw_mode(stat.st_mode));
            if matches!(kind, Ok(FileType::Symlink)) {
                Err(ProjectError::Symlink {
                    path: walked.to_owned(),
                })
            } else {
                Err(ProjectError::NotDirectory {
                    path: walked.to_owned(),
                })
            }
        }
        Err(errno) => Err(ProjectError::io(walked, errno)),
    }
}

/// A private bind mount of a pinned directory, unmounted (lazily, so a
/// container that holds it keeps its own copy) and removed on drop.
#[derive(Debug)]
pub struct StagedMount {
    target: PathBuf,
    mounted: bool,
}

impl StagedMount {
    /// The path Docker is given.
    pub fn path(&self) -> &Path {
        &self.target
    }
}

impl Drop for StagedMount {
    fn drop(&mut self) {
        if self.mounted
            && let Err(errno) =
                rustix::mount::unmount(&self.target, rustix::mount::UnmountFlags::DETACH)
        {
            tracing::warn!(path = %self.target.display(), error = %errno, "cannot unmount a staged project");
            return;
        }
        // Only an empty directory goes: never the project's content.
        let _ = std::fs::remove_dir(&self.target);
    }
}
