//! Reading a job's work back when it ends. The copy is hostile by now: its
//! `.git` may hold hooks, an fsmonitor command, filters, alternates or
//! symlinks. Nothing in it is executed or followed: its objects are copied
//! as files into a trusted git directory corral creates, its refs are read
//! as text, and its files are staged through that trusted directory. The
//! user's repository is checked (see `git`) before it fetches the result.

use std::path::{Path, PathBuf};

use corral_proto::{Isolation, IsolationKind};

use super::git::{Git, UserRepository};
use super::{WorkspaceError, workspaces_dir};

/// The file a copy-mode job's result is kept in.
pub(super) const PATCH_FILE: &str = "result.patch";

/// Brings job `job_id`'s work into reach of the user: a branch in the user's
/// repository (git) or a patch (copy); then deletes the job's copy.
pub fn harvest(
    data_dir: &Path,
    job_id: &str,
    project: &Path,
    isolation: &Isolation,
) -> Result<(), WorkspaceError> {
    let root = workspaces_dir(data_dir).join(job_id);
    let work = PathBuf::from(&isolation.workspace);
    let result = match isolation.kind {
        IsolationKind::Git => harvest_branch(&root, &work, job_id, project, isolation),
        IsolationKind::Copy => harvest_patch(&root, &work),
    };
    let _ = rustix::mount::unmount(&work, rustix::mount::UnmountFlags::DETACH);
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(root.join("base"));
    let _ = std::fs::remove_dir_all(root.join("trusted.git"));
    result
}

fn harvest_branch(
    root: &Path,
    work: &Path,
    job_id: &str,
    project: &Path,
    isolation: &Isolation,
) -> Result<(), WorkspaceError> {
    let trusted = root.join("trusted.git");
    let git = || {
        Git::new("harvest", &trusted)
            .split(&trusted, work)
            .env("GIT_INDEX_FILE", &root.join("index"))
    };
    Git::new("harvest", &trusted).run(&[
        "init".as_ref(),
        "--quiet".as_ref(),
        "--bare".as_ref(),
        trusted.as_os_str(),
    ])?;
    let job_git = work.join(".git");
    if is_real_dir(&job_git) && is_real_dir(&job_git.join("objects")) {
        copy_objects(&job_git.join("objects"), &trusted.join("objects"))?;
    }
    let base = isolation.base.clone().unwrap_or_default();
    let head = read_head(&job_git)
        .filter(|sha| git().succeeds(&["cat-file", "-e", &format!("{sha}^{{commit}}")]))
        .unwrap_or_else(|| base.clone());
    if !git().succeeds(&["cat-file", "-e", &format!("{head}^{{commit}}")]) {
        return Err(WorkspaceError::NoResult {
            message: format!(
                "job {job_id} destroyed its git history; there is no branch to bring back"
            ),
        });
    }
    git().run(&["read-tree", &head])?;
    git().run(&["add", "--all"])?;
    let tree = git().run(&["write-tree"])?.trim().to_owned();
    let head_tree = git()
        .run(&["rev-parse", &format!("{head}^{{tree}}")])?
        .trim()
        .to_owned();
    let tip = if tree == head_tree {
        head
    } else {
        let message = format!("corral: work left uncommitted by job {job_id}");
        git()
            .run(&["commit-tree", &tree, "-p", &head, "-m", &message])?
            .trim()
            .to_owned()
    };
    let branch = isolation
        .branch
        .clone()
        .unwrap_or_else(|| format!("corral/{job_id}"));
    git().run(&["update-ref", &format!("refs/heads/{branch}"), &tip])?;
    // Checked now, just before git runs there: the job may have shared
    // the repository with a `bind` job since it was copied.
    UserRepository::open(project)?.git("fetch").run(&[
        "fetch".as_ref(),
        "--quiet".as_ref(),
        "--no-tags".as_ref(),
        "--no-write-fetch-head".as_ref(),
        "--no-recurse-submodules".as_ref(),
        "--no-auto-gc".as_ref(),
        "--no-auto-maintenance".as_ref(),
        trusted.as_os_str(),
        format!("+refs/heads/{branch}:refs/heads/{branch}").as_ref(),
    ])?;
    Ok(())
}

fn harvest_patch(root: &Path, work: &Path) -> Result<(), WorkspaceError> {
    remove_special_files(work)?;
    // Straight into the patch file: a job's huge file never sits in memory.
    let patch = std::fs::File::create(root.join(PATCH_FILE))?;
    let output = std::process::Command::new("git")
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // In no repository, whatever directory the data lies in.
        .env("GIT_DIR", "/dev/null")
        .current_dir(root)
        .args([
            "diff",
            "--no-index",
            "--binary",
            "--no-prefix",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--",
            "base",
            "work",
        ])
        .stdout(patch)
        .output()?;
    // 0: no difference, 1: differences; anything else failed.
    if !matches!(output.status.code(), Some(0 | 1)) {
        let _ = std::fs::remove_file(root.join(PATCH_FILE));
        return Err(WorkspaceError::Git {
            what: "diff".into(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// Copies object files (loose and packed), skipping symlinks and the
/// `info/alternates` a job could point anywhere on the host.
fn copy_objects(source: &Path, target: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(target)?;
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        let metadata = std::fs::symlink_metadata(entry.path())?;
        let name = entry.file_name();
        if name == "info" {
            continue;
        }
        if metadata.is_dir() {
            copy_objects(&entry.path(), &target.join(&name))?;
        } else if metadata.is_file() {
            std::fs::copy(entry.path(), target.join(&name))?;
        }
    }
    Ok(())
}

/// The commit `HEAD` names, read as text: never a symlink, only `refs/`.
fn read_head(job_git: &Path) -> Option<String> {
    let head = read_small_file(&job_git.join("HEAD"))?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref: ") else {
        return is_object_id(head).then(|| head.to_owned());
    };
    if !reference.starts_with("refs/")
        || reference
            .split('/')
            .any(|part| part == ".." || part.is_empty())
    {
        return None;
    }
    if let Some(sha) = read_small_file(&job_git.join(reference)) {
        return is_object_id(sha.trim()).then(|| sha.trim().to_owned());
    }
    let packed = read_small_file(&job_git.join("packed-refs"))?;
    packed.lines().find_map(|line| {
        let (sha, name) = line.split_once(' ')?;
        (name == reference && is_object_id(sha)).then(|| sha.to_owned())
    })
}

fn read_small_file(path: &Path) -> Option<String> {
    let metadata = std::fs::symlink_metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > (1 << 20) {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

fn is_real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.is_dir())
}

/// Deletes FIFOs, sockets and devices a job left: reading one would block
/// or touch the host.
fn remove_special_files(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let metadata = std::fs::symlink_metadata(entry.path())?;
        if metadata.is_dir() {
            remove_special_files(&entry.path())?;
        } else if !metadata.is_file() && !metadata.file_type().is_symlink() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
