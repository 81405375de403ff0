//! The user's repository, checked before corral's git may run in it.
//!
//! A job bound to the project (`bind` mode) runs as its owner and can
//! rewrite anything under `.git`; corral runs git there as root. So the
//! only way to a git call in the user's repository is
//! [`UserRepository::open`], which first checks, without running git in
//! the repository, that:
//!
//! - `.git` is a directory: a `.git` file (`gitdir: …`) or link would make
//!   git use another repository's config, objects and refs;
//! - it borrows from nothing: no `commondir` (a linked worktree's pointer
//!   to another repository), no `objects/info/alternates`;
//! - nothing under it but `hooks/` (never run: `core.hooksPath=/dev/null`)
//!   is a symbolic link or a special file: git writes refs, reflogs,
//!   objects and `FETCH_HEAD` there as root and would follow a link
//!   anywhere on the host;
//! - its config files hold only inert settings (see `settings`).

use std::path::{Path, PathBuf};

use super::{Git, settings};
use crate::workspace::WorkspaceError;

/// Most settings a refusal names; the rest are counted.
const NAMED_AT_MOST: usize = 5;

/// The user's repository at its top level, checked when opened.
pub struct UserRepository {
    top: PathBuf,
}

impl UserRepository {
    /// The repository at `project`, checked; `None` when `project` has no
    /// `.git` (a plain directory). A bare repository is refused.
    pub fn find(project: &Path) -> Result<Option<Self>, WorkspaceError> {
        let dot_git = project.join(".git");
        let metadata = match std::fs::symlink_metadata(&dot_git) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if looks_bare(project) {
                    return Err(WorkspaceError::Unsuitable {
                        message: format!(
                            "{} is a bare repository: give a working tree",
                            project.display()
                        ),
                    });
                }
                return Ok(None);
            }
            other => other?,
        };
        let refuse = |problem: String| untrusted(project, problem);
        if metadata.file_type().is_symlink() {
            return Err(refuse(
                ".git is a symbolic link, which would make git use another repository: make it the repository's own directory".to_owned(),
            ));
        }
        if !metadata.is_dir() {
            return Err(refuse(
                ".git is a file (`gitdir: …`, as in a linked worktree or a submodule), which would make git use another repository: give the main working tree of a repository whose .git is a directory".to_owned(),
            ));
        }
        check_git_dir(&dot_git).map_err(refuse)?;
        Ok(Some(Self {
            top: project.to_owned(),
        }))
    }

    /// The repository at `project`, checked; an error when there is none.
    pub fn open(project: &Path) -> Result<Self, WorkspaceError> {
        Self::find(project)?.ok_or_else(|| WorkspaceError::NoResult {
            message: format!("{} is not a git repository any more", project.display()),
        })
    }

    /// Its top-level directory.
    pub fn path(&self) -> &Path {
        &self.top
    }

    /// Hardened git, run in the repository.
    pub fn git<'a>(&self, what: &'a str) -> Git<'a> {
        Git::new(what, &self.top)
            .also_trusting(&self.top.join(".git"))
            .in_dir(&self.top)
    }

    /// Clones the repository into `work` (objects copied, not
    /// hard-linked), on no branch yet.
    pub fn clone_to(&self, work: &Path) -> Result<(), WorkspaceError> {
        let git_dir = self.top.join(".git");
        // The serving `upload-pack` gets none of this call's `-c` settings
        // (git clears them for a local repository), so it is told itself.
        let upload_pack = format!(
            "git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c safe.directory={} upload-pack",
            shell_quoted(&git_dir.to_string_lossy())
        );
        Git::new("clone", &self.top)
            .also_trusting(&git_dir)
            .run(&[
                "clone".as_ref(),
                "--quiet".as_ref(),
                "--no-hardlinks".as_ref(),
                "--no-checkout".as_ref(),
                "--upload-pack".as_ref(),
                upload_pack.as_ref(),
                "--".as_ref(),
                self.top.as_os_str(),
                work.as_os_str(),
            ])
            .map(drop)
    }
}

/// `text` as one word for `sh`.
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A bare repository's layout (`HEAD`, `objects/`, `refs/`), looked at
/// without git.
fn looks_bare(dir: &Path) -> bool {
    let is = |name: &str, dir_wanted: bool| {
        std::fs::symlink_metadata(dir.join(name))
            .is_ok_and(|metadata| metadata.is_dir() == dir_wanted)
    };
    is("HEAD", false) && is("objects", true) && is("refs", true)
}

/// Checks the `.git` directory; the problem, with its fix, otherwise.
fn check_git_dir(git_dir: &Path) -> Result<(), String> {
    let present = |name: &str| std::fs::symlink_metadata(git_dir.join(name)).is_ok();
    if present("commondir") {
        return Err(".git/commondir makes git use another repository's config and objects: remove it, or give that repository".to_owned());
    }
    for borrowed in ["objects/info/alternates", "objects/info/http-alternates"] {
        if present(borrowed) {
            return Err(format!(
                ".git/{borrowed} makes git read objects outside the repository: run `git repack -a -d` and remove the file"
            ));
        }
    }
    if let Some(found) = find_link_or_special(git_dir, git_dir)
        .map_err(|error| format!(".git cannot be read: {error}"))?
    {
        return Err(format!(
            ".git/{found} is a symbolic link or a special file, which git would follow or block on as root: replace it with a plain file or directory"
        ));
    }
    for name in ["config", "config.worktree"] {
        let file = git_dir.join(name);
        if !present(name) {
            continue;
        }
        let settings = settings::read(&file).map_err(|problem| format!(".git/{name} {problem}"))?;
        let refused: Vec<String> = settings
            .iter()
            .filter(|setting| !settings::is_inert(&setting.key, setting.value.as_deref()))
            .map(|setting| visible(&setting.key))
            .collect();
        if let Some(first) = refused.first() {
            return Err(refusal(name, first, &refused));
        }
    }
    Ok(())
}

fn refusal(file: &str, first: &str, refused: &[String]) -> String {
    let mut named: Vec<String> = refused
        .iter()
        .take(NAMED_AT_MOST)
        .map(|key| format!("`{key}`"))
        .collect();
    if refused.len() > NAMED_AT_MOST {
        named.push(format!("{} more", refused.len() - NAMED_AT_MOST));
    }
    // A key is the job's text: offered as a command only when it cannot be
    // one for the shell.
    let plain = first
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || "._-".contains(character));
    let remove = if plain {
        format!("`git config --file .git/{file} --unset-all {first}`, or edit the file")
    } else {
        "edit the file".to_owned()
    };
    format!(
        ".git/{file} sets {}, outside the inert settings corral allows (settings through which git could run a command, reach the network or read files outside the repository); a job bound to the project may have written them: remove each ({remove}) and try again",
        named.join(", ")
    )
}

/// The first symbolic link or special file under `dir` (but `hooks/` at
/// the top), relative to `top`.
fn find_link_or_special(top: &Path, dir: &Path) -> std::io::Result<Option<String>> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if dir == top && entry.file_name() == "hooks" {
            continue;
        }
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            if let Some(found) = find_link_or_special(top, &path)? {
                return Ok(Some(found));
            }
        } else if !file_type.is_file() {
            let relative = path.strip_prefix(top).unwrap_or(&path);
            return Ok(Some(visible(&relative.to_string_lossy())));
        }
    }
    Ok(None)
}

/// `text` with control characters and bidi controls escaped: it came
/// from a job's files.
fn visible(text: &str) -> String {
    text.chars()
        .flat_map(|character| {
            let hidden = character.is_control()
                || matches!(character, '\u{200e}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            let escaped: Vec<char> = if hidden {
                character.escape_debug().collect()
            } else {
                vec![character]
            };
            escaped
        })
        .collect()
}

fn untrusted(project: &Path, problem: String) -> WorkspaceError {
    WorkspaceError::Untrusted {
        project: project.to_owned(),
        problem,
    }
}

#[cfg(test)]
mod tests;
