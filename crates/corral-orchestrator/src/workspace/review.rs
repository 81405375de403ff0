//! Reviewing a job's result: diff, apply onto the user's current branch
//! (all or nothing), discard. Only the user's repository and corral's own
//! files are touched; the job's copy is gone by now.

use std::path::Path;

use corral_proto::{FileChange, Isolation, IsolationKind, JobDiff};

use super::git::Git;
use super::harvest::PATCH_FILE;
use super::{WorkspaceError, workspaces_dir};

/// What job `job_id` changed.
pub fn diff(
    data_dir: &Path,
    job_id: &str,
    project: &Path,
    isolation: &Isolation,
) -> Result<JobDiff, WorkspaceError> {
    let (patch, numstat) = match isolation.kind {
        IsolationKind::Git => {
            let range = branch_range(project, isolation)?;
            (
                branch_patch(project, &range)?,
                Git::new("diff", project).dir(project).run(&[
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
            let numstat = Git::new("diff", &root).dir(&root).run(&[
                "apply".as_ref(),
                "--numstat".as_ref(),
                "-p1".as_ref(),
                patch_file.as_os_str(),
            ])?;
            (std::fs::read_to_string(&patch_file)?, numstat)
        }
    };
    Ok(JobDiff {
        job_id: job_id.to_owned(),
        files: parse_numstat(&numstat),
        patch,
        secrets: Vec::new(),
    })
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
    let patch_file = match isolation.kind {
        IsolationKind::Git => {
            let patch = branch_patch(project, &branch_range(project, isolation)?)?;
            let written = workspaces_dir(data_dir).join(job_id).join("apply.patch");
            if let Some(parent) = written.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&written, patch)?;
            written
        }
        IsolationKind::Copy => patch_file(data_dir, job_id)?,
    };
    if std::fs::metadata(&patch_file)?.len() == 0 {
        return Ok(()); // the job changed nothing
    }
    let git = || Git::new("apply", project).dir(project);
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
    if let (IsolationKind::Git, Some(branch)) = (isolation.kind, &isolation.branch) {
        let git = || Git::new("discard", project).dir(project);
        if git().succeeds(&[
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{branch}"),
        ]) {
            git().run(&["branch", "-D", branch])?;
        }
    }
    let root = workspaces_dir(data_dir).join(job_id);
    match std::fs::remove_dir_all(&root) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}

/// The job's commits as a binary-safe patch, with no external diff or
/// text conversion the repository might configure.
fn branch_patch(project: &Path, range: &str) -> Result<String, WorkspaceError> {
    Git::new("diff", project).dir(project).run(&[
        "diff",
        "--binary",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        range,
    ])
}

/// `base..branch`, once the branch is in the user's repository.
fn branch_range(project: &Path, isolation: &Isolation) -> Result<String, WorkspaceError> {
    let (Some(base), Some(branch)) = (&isolation.base, &isolation.branch) else {
        return Err(WorkspaceError::NoResult {
            message: "the job has no branch".into(),
        });
    };
    let exists = Git::new("diff", project).dir(project).succeeds(&[
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
