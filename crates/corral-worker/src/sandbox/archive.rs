//! Directories as tars, both ways, inside the container. Packing walks the
//! tree itself: links stay links, and what a tar cannot hold (a socket, a
//! FIFO, a device) is left out instead of failing the whole directory (a
//! gpg-agent socket in `$HOME` must not make a sandbox impossible to stop).
//! Unpacking sets each directory's mode after its contents are written, so
//! a read-only directory (Go's module cache) comes back whole. A file with
//! several names (hard links: `cp -al`, `git clone --local`) is packed once
//! and its other names as links to the first: packed whole each time, a
//! tree could make a tar (and a snapshot) several times its tmpfs, too
//! large to unpack into it again.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The start of the name of a file an upload is written into first.
pub const UPLOAD_PREFIX: &str = ".corral-upload-";

/// `dir` as a tar, written to `sink`.
pub fn pack<W: Write>(dir: &Path, sink: W) -> std::io::Result<W> {
    let mut builder = tar::Builder::new(sink);
    builder.follow_symlinks(false);
    add_tree(&mut builder, dir, Path::new("."), &mut HashMap::new())?;
    builder.into_inner()
}

/// The name each file with several names was first packed under, by its
/// device and inode.
type Packed = HashMap<(u64, u64), PathBuf>;

fn add_tree<W: Write>(
    builder: &mut tar::Builder<W>,
    dir: &Path,
    name: &Path,
    packed: &mut Packed,
) -> std::io::Result<()> {
    builder.append_dir(name, dir)?;
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let inner = name.join(entry.file_name());
        let kind = entry.file_type()?;
        // An upload still being written (or one cut off by a crash) is no
        // file of the sandbox's yet: never packed into a snapshot or a tar.
        if entry
            .file_name()
            .as_encoded_bytes()
            .starts_with(UPLOAD_PREFIX.as_bytes())
        {
            continue;
        }
        if kind.is_dir() {
            add_tree(builder, &path, &inner, packed)?;
        } else if kind.is_file() {
            add_file(builder, &path, &inner, packed)?;
        } else if kind.is_symlink() {
            builder.append_path_with_name(&path, &inner)?;
        }
    }
    Ok(())
}

/// Packs the file at `path` as `inner`, or as a link to the name it was
/// packed under already.
fn add_file<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &Path,
    inner: &Path,
    packed: &mut Packed,
) -> std::io::Result<()> {
    let metadata = std::fs::symlink_metadata(path)?;
    if metadata.nlink() > 1 {
        let key = (metadata.dev(), metadata.ino());
        if let Some(first) = packed.get(&key) {
            let mut header = tar::Header::new_gnu();
            header.set_metadata(&metadata);
            header.set_entry_type(tar::EntryType::Link);
            header.set_size(0);
            return builder.append_link(&mut header, inner, first);
        }
        packed.insert(key, inner.to_owned());
    }
    builder.append_path_with_name(path, inner)
}

/// Unpacks `bytes` into the directory `target`; every entry stays inside
/// it (`..`, absolute names and names through a link the tar made first
/// are refused by the tar crate's `unpack_in`).
pub fn unpack(bytes: &[u8], target: &Path) -> std::io::Result<()> {
    let mut archive = tar::Archive::new(bytes);
    archive.set_preserve_permissions(true);
    archive.set_overwrite(true);
    archive.unpack(target)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    #[test]
    fn a_file_with_several_names_is_packed_once_and_comes_back_one_file() {
        let from = tempfile::tempdir().expect("a directory");
        std::fs::create_dir(from.path().join("b")).expect("a directory");
        let data = vec![7u8; 256 << 10];
        std::fs::write(from.path().join("a"), &data).expect("a file");
        for other in ["b/again", "c"] {
            std::fs::hard_link(from.path().join("a"), from.path().join(other)).expect("a link");
        }
        let tar = pack(from.path(), Vec::new()).expect("packed");
        assert!(
            tar.len() < 2 * data.len(),
            "packed once: {} bytes",
            tar.len()
        );
        let to = tempfile::tempdir().expect("a directory");
        unpack(&tar, to.path()).expect("unpacked");
        let inode = |name: &str| {
            let metadata = std::fs::metadata(to.path().join(name)).expect("the file");
            (metadata.ino(), metadata.nlink())
        };
        assert_eq!(inode("a").1, 3, "three names, one file");
        assert_eq!(inode("b/again"), inode("a"));
        assert_eq!(inode("c"), inode("a"));
        assert_eq!(std::fs::read(to.path().join("c")).expect("the data"), data);
    }

    #[test]
    fn a_read_only_tree_and_a_link_round_trip_and_a_socket_and_an_upload_are_left_out() {
        let from = tempfile::tempdir().expect("a directory");
        let locked = from.path().join("cache");
        std::fs::create_dir(&locked).expect("a directory");
        std::fs::write(locked.join("module.go"), "package m\n").expect("a file");
        std::os::unix::fs::symlink("cache/module.go", from.path().join("link")).expect("a link");
        let _socket = std::os::unix::net::UnixListener::bind(from.path().join("agent.sock"))
            .expect("a socket");
        std::fs::write(from.path().join(".corral-upload-7-0"), "half").expect("an upload");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555))
            .expect("read-only");
        let tar = pack(from.path(), Vec::new()).expect("packed");
        let to = tempfile::tempdir().expect("a directory");
        unpack(&tar, to.path()).expect("unpacked");
        assert_eq!(
            std::fs::read_to_string(to.path().join("cache/module.go")).expect("the file"),
            "package m\n"
        );
        assert_eq!(
            std::fs::read_link(to.path().join("link")).expect("a link"),
            Path::new("cache/module.go")
        );
        assert!(!to.path().join("agent.sock").exists());
        assert!(
            !to.path().join(".corral-upload-7-0").exists(),
            "an upload being written is no file of the sandbox's yet"
        );
        let mode = std::fs::metadata(to.path().join("cache"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o555);
        for dir in [&locked, &to.path().join("cache")] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
                .expect("writable again");
        }
    }
}
