//! Reviewing a job's result: diff, apply onto the user's current branch
//! (all or nothing), discard. Only the user's repository (checked before
//! each operation, see `git`) and corral's own files are touched; the
//! job's copy is gone by now.

use std::fmt::Write as _;
use std::path::Path;

use corral_proto::{FileChange, Isolation, IsolationKind, JobDiff};

use super::git::{Git, UserRepository};
use super::harvest::PATCH_FILE;
use super::{WorkspaceError, workspaces_dir};

/// Most of a change a review shows at once; the rest is cut with a note
/// (the whole change stays on the job's branch or in its patch), so a job
/// that writes a gigabyte cannot make the orchestrator hold it.
pub const REVIEW_CAP: usize = 16 << 20;
/// Files past this size show as binary in a review (`Bin 0 -> N bytes`).
const BIG_FILE: &str = "core.bigFileThreshold=1m";

/// What job `job_id` changed, at most [`REVIEW_CAP`] bytes of it; binary
/// and big files summarised.
pub fn diff(
    data_dir: &Path,
    job_id: &str,
    project: &Path,
    isolation: &Isolation,
) -> Result<JobDiff, WorkspaceError> {
    let ((patch, truncated), numstat) = match isolation.kind {
        IsolationKind::Git => {
            let repository = UserRepository::open(project)?;
            let range = branch_range(&repository, isolation)?;
            (
                repository.git("diff").run_capped(
                    &[
                        "-c",
                        BIG_FILE,
                        "diff",
                        "--no-color",
                        "--no-ext-diff",
                        "--no-textconv",
                        &range,
                    ],
                    REVIEW_CAP,
                )?,
                repository.git("diff").run(&[
                    "-c",
                    BIG_FILE,
                    "diff",
                    "--numstat",
                    "--no-ext-diff",
                    &range,
                ])?,
            )
        }
        IsolationKind::Copy => {
            let patch_file = patch_file(data_dir, job_id)?;
            let root = workspaces_dir(data_dir).join(job_id);
            let numstat = Git::in_own_dir("diff", &root).run(&[
                "apply".as_ref(),
                "--numstat".as_ref(),
                "-p1".as_ref(),
                patch_file.as_os_str(),
            ])?;
            (read_capped(&patch_file, REVIEW_CAP)?, numstat)
        }
    };
    let mut patch = patch;
    if truncated {
        let _ = write!(
            patch,
            "\n[corral: the diff is cut at {} MiB here; the whole change is on the job's branch or in its patch]\n",
            REVIEW_CAP >> 20
        );
    }
    Ok(JobDiff {
        job_id: job_id.to_owned(),
        files: parse_numstat(&numstat),
        patch,
        secrets: Vec::new(),
    })
}

/// Hands the whole change, binary files as their bytes, to `sink` a chunk
/// at a time: what a secret scan reads (never held whole).
pub fn scan_change(
    data_dir: &Path,
    job_id: &str,
    project: &Path,
    isolation: &Isolation,
    mut sink: impl FnMut(&[u8]),
) -> Result<(), WorkspaceError> {
    match isolation.kind {
        IsolationKind::Git => {
            let repository = UserRepository::open(project)?;
            let range = branch_range(&repository, isolation)?;
            repository.git("diff").stream(
                &[
                    "diff",
                    "--text",
                    "--no-color",
                    "--no-ext-diff",
                    "--no-textconv",
                    &range,
                ],
                |chunk| {
                    sink(chunk);
                    std::ops::ControlFlow::Continue(())
                },
            )
        }
        IsolationKind::Copy => {
            use std::io::Read as _;
            let mut file = std::fs::File::open(patch_file(data_dir, job_id)?)?;
            let mut buffer = vec![0u8; 64 << 10];
            loop {
                let read = file.read(&mut buffer)?;
                if read == 0 {
                    return Ok(());
                }
                sink(&buffer[..read]);
            }
        }
    }
}

/// At most `cap` bytes of `path`, and whether there was more.
fn read_capped(path: &Path, cap: usize) -> Result<(String, bool), WorkspaceError> {
    use std::io::Read as _;
    let mut kept = Vec::new();
    std::fs::File::open(path)?
        .take(cap as u64 + 1)
        .read_to_end(&mut kept)?;
    let truncated = kept.len() > cap;
    kept.truncate(cap);
    Ok((String::from_utf8_lossy(&kept).into_owned(), truncated))
}

/// Applies job `job_id`'s change to the user's working tree, all or
/// nothing: the job's own commits (`base..branch`, not the snapshot of the
/// user's uncommitted work it started from) or its patch. The result is left
/// uncommitted for the user to review. On a conflict nothing is changed and
/// the conflicting files are reported.
pub fn apply(
    data_dir: &Path,
    job_id: &str,
    project: &Path,
    isolation: &Isolation,
) -> Result<(), WorkspaceError> {
    let repository = match isolation.kind {
        IsolationKind::Git => Some(UserRepository::open(project)?),
        IsolationKind::Copy => None,
    };
    let patch_file = match &repository {
        Some(repository) => {
            let patch = branch_patch(repository, &branch_range(repository, isolation)?)?;
            let written = workspaces_dir(data_dir).join(job_id).join("apply.patch");
            if let Some(parent) = written.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&written, patch)?;
            written
        }
        None => patch_file(data_dir, job_id)?,
    };
    if std::fs::metadata(&patch_file)?.len() == 0 {
        return Ok(()); // the job changed nothing
    }
    // A copy-mode project is plain files: whatever `.git` a job left in it
    // is never read.
    let git = || match &repository {
        Some(repository) => repository.git("apply"),
        None => Git::outside_repository("apply", project),
    };
    let check = git().run(&[
        "apply".as_ref(),
        "--check".as_ref(),
        "-p1".as_ref(),
        patch_file.as_os_str(),
    ]);
    if let Err(WorkspaceError::Git { message, .. }) = check {
        let mut files: Vec<String> = message
            .lines()
            .filter_map(|line| {
                let rest = line
                    .strip_prefix("error: patch failed: ")
                    .or_else(|| line.strip_prefix("error: "))?;
                Some(rest.split(':').next().unwrap_or(rest).trim().to_owned())
            })
            .collect();
        files.dedup();
        return Err(WorkspaceError::Conflict { files });
    }
    git().run(&["apply".as_ref(), "-p1".as_ref(), patch_file.as_os_str()])?;
    Ok(())
}

/// Removes job `job_id`'s branch and files.
pub fn discard(
    data_dir: &Path,
    job_id: &str,
    project: &Path,
    isolation: &Isolation,
) -> Result<(), WorkspaceError> {
    let branch_deleted = match (isolation.kind, &isolation.branch) {
        (IsolationKind::Git, Some(branch)) => delete_branch(project, branch),
        _ => Ok(()),
    };
    // corral's own files go whatever the repository holds.
    let root = workspaces_dir(data_dir).join(job_id);
    match super::remove_copies(&root) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => branch_deleted,
    }
}

fn delete_branch(project: &Path, branch: &str) -> Result<(), WorkspaceError> {
    let repository = UserRepository::open(project)?;
    let git = || repository.git("discard");
    if git().succeeds(&[
        "rev-parse",
        "--verify",
        "-q",
        &format!("refs/heads/{branch}"),
    ]) {
        git().run(&["branch", "-D", branch])?;
    }
    Ok(())
}

/// The job's commits as a binary-safe patch, with no external diff or
/// text conversion the repository might configure.
fn branch_patch(repository: &UserRepository, range: &str) -> Result<String, WorkspaceError> {
    repository.git("diff").run(&[
        "diff",
        "--binary",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        range,
    ])
}

/// `base..branch`, once the branch is in the user's repository.
fn branch_range(
    repository: &UserRepository,
    isolation: &Isolation,
) -> Result<String, WorkspaceError> {
    let (Some(base), Some(branch)) = (&isolation.base, &isolation.branch) else {
        return Err(WorkspaceError::NoResult {
            message: "the job has no branch".into(),
        });
    };
    let exists = repository.git("diff").succeeds(&[
        "rev-parse",
        "--verify",
        "-q",
        &format!("refs/heads/{branch}"),
    ]);
    if !exists {
        return Err(WorkspaceError::NoResult {
            message: format!(
                "branch {branch} is not in the repository (discarded, or the job has not ended)"
            ),
        });
    }
    Ok(format!("{base}..{branch}"))
}

fn patch_file(data_dir: &Path, job_id: &str) -> Result<std::path::PathBuf, WorkspaceError> {
    let path = workspaces_dir(data_dir).join(job_id).join(PATCH_FILE);
    if path.is_file() {
        Ok(path)
    } else {
        Err(WorkspaceError::NoResult {
            message: format!("job {job_id} has no patch (discarded, or the job has not ended)"),
        })
    }
}

fn parse_numstat(numstat: &str) -> Vec<FileChange> {
    numstat
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            let added = parts.next()?.parse().ok();
            let removed = parts.next()?.parse().ok();
            Some(FileChange {
                path: parts.next()?.to_owned(),
                added,
                removed,
            })
        })
        .collect()
}
