//! Making a job's own copy of its project, before the job is stored.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use corral_proto::{Isolation, IsolationKind};

use super::git::{Git, UserRepository};
use super::{WorkspaceError, workspaces_dir};
use crate::project::tree;
use corral_runtime::JobUser;

/// The message of the snapshot commit holding the user's uncommitted changes.
const SNAPSHOT_MESSAGE: &str = "corral: uncommitted changes at job start";

/// Copies `project` for job `job_id`, owned by `user`, into a tmpfs of
/// `limit` bytes. A git repository becomes a clone on `corral/<job-id>`;
/// anything else a plain copy.
pub fn prepare(
    data_dir: &Path,
    job_id: &str,
    project: &Path,
    user: JobUser,
    limit: u64,
) -> Result<Isolation, WorkspaceError> {
    let root = workspaces_dir(data_dir).join(job_id);
    std::fs::create_dir_all(&root)?;
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))?;
    let work = root.join("work");
    let result =
        super::mount_work(&work, limit).and_then(|()| match UserRepository::find(project) {
            Err(error) => Err(error),
            Ok(Some(repository)) => clone(&repository, &work, job_id),
            Ok(None) => copy_plain(project, &root, &work),
        });
    let result = result.map_err(|error| too_large(error, limit));
    match result {
        Ok(isolation) => {
            chown_tree(&work, user)?;
            Ok(isolation)
        }
        Err(error) => {
            let _ = super::remove_copies(&root);
            Err(error)
        }
    }
}

/// A copy that ran out of room says which limit to raise.
fn too_large(error: WorkspaceError, limit: u64) -> WorkspaceError {
    let full = match &error {
        WorkspaceError::Io(io) => io.raw_os_error() == Some(28),
        WorkspaceError::Git { message, .. } => message.contains("No space left on device"),
        _ => false,
    };
    if full {
        WorkspaceError::Unsuitable {
            message: format!(
                "the project does not fit in the job's copy ({limit} bytes, limits.tmpfs): raise --tmpfs"
            ),
        }
    } else {
        error
    }
}

fn clone(
    repository: &UserRepository,
    work: &Path,
    job_id: &str,
) -> Result<Isolation, WorkspaceError> {
    let project = repository.path();
    let unsuitable = |message: String| WorkspaceError::Unsuitable { message };
    let inspect = || repository.git("inspect");
    if inspect()
        .run(&["rev-parse", "--is-bare-repository"])?
        .trim()
        == "true"
    {
        return Err(unsuitable(format!(
            "{} is a bare repository: give a working tree",
            project.display()
        )));
    }
    let top = inspect().run(&["rev-parse", "--show-toplevel"])?;
    if Path::new(top.trim()) != project {
        return Err(unsuitable(format!(
            "{} is inside the repository {}: give its top-level directory",
            project.display(),
            top.trim()
        )));
    }
    if !inspect().succeeds(&["rev-parse", "--verify", "-q", "HEAD^{commit}"]) {
        return Err(unsuitable(format!(
            "{} has no commits yet (unborn HEAD)",
            project.display()
        )));
    }
    let head = inspect().run(&["rev-parse", "HEAD"])?.trim().to_owned();
    repository.clone_to(work)?;
    let branch = format!("corral/{job_id}");
    let in_copy = || Git::in_own_dir("snapshot", work);
    in_copy().run(&["checkout", "--quiet", "-b", &branch, &head])?;
    copy_uncommitted(repository, work)?;
    in_copy().run(&["add", "--all"])?;
    if !in_copy().succeeds(&["diff", "--cached", "--quiet"]) {
        in_copy().run(&["commit", "--quiet", "--no-verify", "-m", SNAPSHOT_MESSAGE])?;
    }
    let base = in_copy().run(&["rev-parse", "HEAD"])?.trim().to_owned();
    Ok(Isolation {
        kind: IsolationKind::Git,
        workspace: work.to_string_lossy().into_owned(),
        base: Some(base),
        branch: Some(branch),
        reviewed: None,
    })
}

/// Brings the user's modified, untracked (not ignored) and deleted files
/// into the clone, so the job sees what the user sees.
fn copy_uncommitted(repository: &UserRepository, work: &Path) -> Result<(), WorkspaceError> {
    let project = repository.path();
    let list = |flags: &[&str]| -> Result<Vec<String>, WorkspaceError> {
        let mut args = vec!["ls-files", "-z", "--exclude-standard"];
        args.extend_from_slice(flags);
        let out = repository.git("status").run(&args)?;
        Ok(out
            .split('\0')
            .filter(|path| !path.is_empty())
            .map(str::to_owned)
            .collect())
    };
    for path in list(&["--deleted"])? {
        let _ = std::fs::remove_file(work.join(&path));
    }
    // Read beneath the held directory, never through a link, whatever a
    // job does to the tree while it is copied.
    let held = crate::project::PinnedDir::open(project)
        .map_err(|error| WorkspaceError::Io(std::io::Error::other(error.to_string())))?;
    for path in list(&["--modified", "--others"])? {
        let target = work.join(&path);
        let Ok(node) = tree::open_beneath(held.fd(), Path::new(&path)) else {
            continue; // listed as modified because it was deleted
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let _ = std::fs::remove_file(&target);
        tree::copy_node(node, &target, 0)?;
    }
    Ok(())
}

/// A plain (non-git) project copied twice beneath the held directory: a
/// pristine base and the job's work.
fn copy_plain(project: &Path, root: &Path, work: &Path) -> Result<Isolation, WorkspaceError> {
    let held = crate::project::PinnedDir::open(project)
        .map_err(|error| WorkspaceError::Io(std::io::Error::other(error.to_string())))?;
    tree::copy(held.fd(), &root.join("base"), 0)?;
    tree::copy(held.fd(), work, 0)?;
    Ok(Isolation {
        kind: IsolationKind::Copy,
        workspace: work.to_string_lossy().into_owned(),
        base: None,
        branch: None,
        reviewed: None,
    })
}

/// Hands the copy to the job's user (its ids on the host). Not when this
/// process may not chown, or the engine does not say who the user is on
/// the host (rootless): the copy stays as made.
fn chown_tree(path: &Path, user: JobUser) -> std::io::Result<()> {
    let Some((uid, gid)) = user.host else {
        return Ok(());
    };
    let metadata = std::fs::symlink_metadata(path)?;
    if metadata.uid() != uid || metadata.gid() != gid {
        match std::os::unix::fs::lchown(path, Some(uid), Some(gid)) {
            Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => return Ok(()),
            other => other?,
        }
    }
    if metadata.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), user)?;
        }
    }
    Ok(())
}
