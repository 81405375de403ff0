//! Reading a held directory's tree beneath its descriptor, never through a
//! link: each entry is looked at without following it, opened relative to
//! its parent's descriptor with `O_NOFOLLOW`, and checked to be the entry
//! that was looked at. A link is reported as a link (its target's name),
//! never followed; a tree a job changes while it is read cannot lead the
//! reader out of it. Nothing mounted inside the tree is entered.

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

/// Directories deeper than this are refused: a tree planted to exhaust
/// the reader's stack or descriptors ends the copy with an error instead.
pub const MAX_DEPTH: usize = 128;

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

/// Opens `name` in `dir` as what it is, without following a link. A
/// directory or file on another device than `dir` (something mounted
/// there: it may be any host directory) is left out, as [`Node::Other`].
pub fn open(dir: BorrowedFd<'_>, name: &std::ffi::OsStr) -> io::Result<Node> {
    let seen = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    let kind = FileType::from_raw_mode(seen.st_mode);
    if matches!(kind, FileType::Directory | FileType::RegularFile)
        && (seen.st_dev != rustix::fs::fstat(dir)?.st_dev || is_mount_root(dir, name)?)
    {
        return Ok(Node::Other);
    }
    let changed = || io::Error::other("the project changed while it was read");
    let mode = seen.st_mode & 0o7777;
    let mtime = u64::try_from(seen.st_mtime).unwrap_or(0);
    match kind {
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

/// Whether `name` in `dir` is the root of a mount (a bind mount of the
/// same filesystem keeps its device number, so that alone does not tell).
fn is_mount_root(dir: BorrowedFd<'_>, name: &std::ffi::OsStr) -> io::Result<bool> {
    use rustix::fs::{StatxAttributes, StatxFlags};
    let found = rustix::fs::statx(
        dir,
        name,
        AtFlags::SYMLINK_NOFOLLOW,
        StatxFlags::BASIC_STATS | StatxFlags::MNT_ID,
    )?;
    if found
        .stx_attributes_mask
        .contains(StatxAttributes::MOUNT_ROOT)
    {
        return Ok(found.stx_attributes.contains(StatxAttributes::MOUNT_ROOT));
    }
    // Kernels before 5.8 say nothing of mount roots: compare mount ids.
    let parent = rustix::fs::statx(dir, "", AtFlags::EMPTY_PATH, StatxFlags::MNT_ID)?;
    Ok(found.stx_mnt_id != parent.stx_mnt_id)
}

/// Whether two stats are of the same file, of the same type.
fn same(a: &Stat, b: &Stat) -> bool {
    a.st_dev == b.st_dev
        && a.st_ino == b.st_ino
        && FileType::from_raw_mode(a.st_mode) == FileType::from_raw_mode(b.st_mode)
}

/// Opens `relative` (a path of plain names) beneath `root` as what it is,
/// never through a link on the way: a component that is a link, or not a
/// directory, fails.
pub fn open_beneath(root: BorrowedFd<'_>, relative: &std::path::Path) -> io::Result<Node> {
    use std::path::Component;
    let names: Vec<&std::ffi::OsStr> = relative
        .components()
        .map(|component| match component {
            Component::Normal(name) => Ok(name),
            _ => Err(io::Error::other("not a plain relative path")),
        })
        .collect::<io::Result<_>>()?;
    let Some((last, parents)) = names.split_last() else {
        return Err(io::Error::other("an empty path"));
    };
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut current: Option<OwnedFd> = None;
    for name in parents {
        let parent = current.as_ref().map_or(root, std::os::fd::AsFd::as_fd);
        current = Some(rustix::fs::openat(parent, *name, flags, Mode::empty())?);
    }
    open(
        current.as_ref().map_or(root, std::os::fd::AsFd::as_fd),
        last,
    )
}

/// Copies the tree beneath `source` into `target` (created): directories,
/// regular files with their modes, links as links; nothing else, nothing
/// mounted inside, never through a link.
pub fn copy(source: BorrowedFd<'_>, target: &std::path::Path, depth: usize) -> io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(io::Error::other(format!(
            "the project is nested more than {MAX_DEPTH} directories deep"
        )));
    }
    std::fs::create_dir_all(target)?;
    for name in names(source)? {
        copy_node(open(source, &name)?, &target.join(&name), depth)?;
    }
    Ok(())
}

/// Writes one opened entry at `destination`.
pub fn copy_node(node: Node, destination: &std::path::Path, depth: usize) -> io::Result<()> {
    use std::io::Read as _;
    use std::os::unix::fs::PermissionsExt as _;
    match node {
        Node::Dir { fd, .. } => copy(std::os::fd::AsFd::as_fd(&fd), destination, depth + 1),
        Node::File {
            file, size, mode, ..
        } => {
            let mut out = std::fs::File::create(destination)?;
            io::copy(&mut file.take(size), &mut out)?;
            out.set_permissions(std::fs::Permissions::from_mode(mode & 0o777))
        }
        Node::Link { target } => std::os::unix::fs::symlink(target, destination),
        Node::Other => Ok(()),
    }
}
