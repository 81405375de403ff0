//! Reading a held directory's tree beneath its descriptor, never through a
//! link: each entry is looked at without following it, opened relative to
//! its parent's descriptor with `O_NOFOLLOW`, and checked to be the entry
//! that was looked at. A link is reported as a link (its target's name),
//! never followed; a tree a job changes while it is read cannot lead the
//! reader out of it.

use std::ffi::OsString;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::PathBuf;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, Stat};

/// One entry of a directory.
pub enum Node {
    /// A directory, open for listing.
    Dir {
        /// The open directory.
        fd: OwnedFd,
        /// Its permission bits.
        mode: u32,
        /// Its modification time (Unix seconds).
        mtime: u64,
    },
    /// A regular file, open for reading.
    File {
        /// The open file.
        file: std::fs::File,
        /// Its size when opened.
        size: u64,
        /// Its permission bits.
        mode: u32,
        /// Its modification time (Unix seconds).
        mtime: u64,
    },
    /// A symbolic link and what it names.
    Link {
        /// The link's target, as written.
        target: PathBuf,
    },
    /// Anything else (a socket, a fifo, a device): left out.
    Other,
}

/// A readable descriptor of the directory `fd` (which may be `O_PATH`).
pub fn reopen_dir(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        fd,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// The names in directory `dir` (readable), `.` and `..` left out, sorted.
pub fn names(dir: BorrowedFd<'_>) -> io::Result<Vec<OsString>> {
    let mut entries = Dir::new(reopen_dir(dir)?)?;
    let mut names = Vec::new();
    while let Some(entry) = entries.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(std::os::unix::ffi::OsStringExt::from_vec(name.to_vec()));
        }
    }
    names.sort();
    Ok(names)
}

/// Opens `name` in `dir` as what it is, without following a link.
pub fn open(dir: BorrowedFd<'_>, name: &std::ffi::OsStr) -> io::Result<Node> {
    let seen = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    let changed = || io::Error::other("the project changed while it was read");
    let mode = seen.st_mode & 0o7777;
    let mtime = u64::try_from(seen.st_mtime).unwrap_or(0);
    match FileType::from_raw_mode(seen.st_mode) {
        FileType::Directory => {
            let fd = rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            if !same(&rustix::fs::fstat(&fd)?, &seen) {
                return Err(changed());
            }
            Ok(Node::Dir { fd, mode, mtime })
        }
        FileType::RegularFile => {
            // Non-blocking: a fifo swapped in after the look cannot hang
            // the open; it then fails the check below.
            let fd = rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let opened = rustix::fs::fstat(&fd)?;
            if !same(&opened, &seen) {
                return Err(changed());
            }
            Ok(Node::File {
                file: std::fs::File::from(fd),
                size: u64::try_from(opened.st_size).unwrap_or(0),
                mode,
                mtime,
            })
        }
        FileType::Symlink => {
            let target = rustix::fs::readlinkat(dir, name, Vec::new())?;
            let target: OsString = std::os::unix::ffi::OsStringExt::from_vec(target.into_bytes());
            Ok(Node::Link {
                target: PathBuf::from(target),
            })
        }
        _ => Ok(Node::Other),
    }
}

/// Whether two stats are of the same file, of the same type.
fn same(a: &Stat, b: &Stat) -> bool {
    a.st_dev == b.st_dev
        && a.st_ino == b.st_ino
        && FileType::from_raw_mode(a.st_mode) == FileType::from_raw_mode(b.st_mode)
}
