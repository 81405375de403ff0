//! The user's repository's own config, read without running anything it
//! names and held to a list of inert settings.
//!
//! The file is read once by corral (no link followed, no FIFO opened, at
//! most [`CONFIG_CAP`] bytes) and handed to `git config --file -
//! --no-includes --null --list` on stdin: git's own parser decides what
//! the keys are, so nothing here can read the file differently from the
//! git that would obey it, and `--no-includes` makes `include.path` and
//! `includeIf.*.path` plain keys (refused) rather than files read.

use std::io::{Read as _, Write as _};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Command, Stdio};

/// Largest config file corral reads: far past any real one.
const CONFIG_CAP: u64 = 1 << 20;

/// Settings with no subsection that corral's git may meet in the user's
/// repository. Each is a format or line-ending setting git applies in its
/// own process, or one read only by commands corral never runs there;
/// none names a command, a file, a host or another repository.
const INERT: &[&str] = &[
    // What `git init` and `git clone` write, on some system or other.
    "core.repositoryformatversion",
    "core.filemode",
    "core.bare",
    "core.logallrefupdates",
    "core.ignorecase",
    "core.precomposeunicode",
    "core.symlinks",
    // Line endings, converted in git's own process.
    "core.autocrlf",
    "core.eol",
    // Identity and habits (corral sets its own identity on every call).
    "user.name",
    "user.email",
    "init.defaultbranch",
    "pull.rebase",
    "pull.ff",
    // git-lfs's version stamp: git never reads it, and the LFS filter
    // itself needs `filter.lfs.*`, which is refused.
    "lfs.repositoryformatversion",
];

/// Settings of a named section (`remote.<name>.url`): where a remote or
/// submodule lives and how branches track them. corral fetches only from
/// its own directory by path (git ignores a remote named like an absolute
/// path) and never recurses into submodules, so none of these is used.
/// `branch.*.vscode-merge-base` is Visual Studio Code's own note, which it
/// writes on every branch it creates and git never reads.
const INERT_NAMED: &[(&str, &[&str])] = &[
    ("remote", &["url", "pushurl", "fetch"]),
    (
        "branch",
        &[
            "remote",
            "merge",
            "rebase",
            "description",
            "vscode-merge-base",
        ],
    ),
    ("submodule", &["url", "active"]),
];

/// Repository extensions that only change the storage format, with the
/// values that do so. Any other extension (`worktreeConfig` reads another
/// config file, `partialClone` fetches missing objects from a remote) is
/// refused.
const INERT_EXTENSIONS: &[(&str, &[&str])] = &[
    ("extensions.objectformat", &["sha1", "sha256"]),
    ("extensions.refstorage", &["files", "reftable"]),
];

/// One `key = value` of a config file, as git reads it: section and name
/// lowercased, subsection as written; `None` for a bare key (`[core] bare`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Setting {
    pub key: String,
    pub value: Option<String>,
}

/// Whether corral's git may meet `key = value` in the user's repository.
pub(super) fn is_inert(key: &str, value: Option<&str>) -> bool {
    let key = key.to_ascii_lowercase();
    if INERT.contains(&key.as_str()) {
        return true;
    }
    if let Some((_, values)) = INERT_EXTENSIONS.iter().find(|(name, _)| *name == key) {
        return value.is_some_and(|value| values.contains(&value.to_ascii_lowercase().as_str()));
    }
    let (Some((section, rest)), Some((_, name))) = (key.split_once('.'), key.rsplit_once('.'))
    else {
        return false;
    };
    if rest.len() == name.len() {
        return false; // no subsection: only `INERT` may have none
    }
    INERT_NAMED
        .iter()
        .any(|(named, names)| *named == section && names.contains(&name))
}

/// The settings of the config file `file`, or why they cannot be read.
pub(super) fn read(file: &Path) -> Result<Vec<Setting>, String> {
    let content = read_plain_file(file)?;
    let mut child = Command::new("git")
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // No repository: `/dev/null` is never one, so nothing is discovered.
        .env("GIT_DIR", "/dev/null")
        .env("LC_ALL", "C")
        .current_dir("/")
        .args(["config", "--file", "-", "--no-includes", "--null", "--list"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run git: {error}"))?;
    let stdin = child.stdin.take();
    // Fed from another thread: git answers while it reads, and a big file
    // would fill both pipes.
    let output = std::thread::scope(|scope| {
        scope.spawn(move || {
            if let Some(mut stdin) = stdin {
                let _ = stdin.write_all(&content);
            }
        });
        child.wait_with_output()
    })
    .map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "git cannot read it: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(parse_listing(&output.stdout))
}

/// Parses `git config --null --list`: `key\nvalue\0`, or `key\0` for a
/// key with no value.
pub(super) fn parse_listing(listing: &[u8]) -> Vec<Setting> {
    listing
        .split(|&byte| byte == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let entry = String::from_utf8_lossy(entry);
            match entry.split_once('\n') {
                Some((key, value)) => Setting {
                    key: key.to_owned(),
                    value: Some(value.to_owned()),
                },
                None => Setting {
                    key: entry.into_owned(),
                    value: None,
                },
            }
        })
        .collect()
}

/// A regular file's bytes, opened without following a link or blocking on
/// a FIFO.
fn read_plain_file(file: &Path) -> Result<Vec<u8>, String> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd: OwnedFd = rustix::fs::open(file, flags, Mode::empty())
        .map_err(|errno| format!("cannot be opened as a plain file: {errno}"))?;
    let stat = rustix::fs::fstat(&fd).map_err(|errno| format!("cannot be read: {errno}"))?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return Err("is not a plain file".to_owned());
    }
    let mut content = Vec::new();
    std::fs::File::from(fd)
        .take(CONFIG_CAP + 1)
        .read_to_end(&mut content)
        .map_err(|error| format!("cannot be read: {error}"))?;
    if content.len() as u64 > CONFIG_CAP {
        return Err(format!("is over {} KiB", CONFIG_CAP >> 10));
    }
    Ok(content)
}

#[cfg(test)]
mod tests;
