//! Directories as tars, both ways, inside the container. Packing walks the
//! tree itself: links stay links, and what a tar cannot hold (a socket, a
//! FIFO, a device) is left out instead of failing the whole directory (a
//! gpg-agent socket in `$HOME` must not make a sandbox impossible to stop).
//! Unpacking sets each directory's mode after its contents are written, so
//! a read-only directory (Go's module cache) comes back whole.

use std::io::Write;
use std::path::Path;

/// The start of the name of a file an upload is written into first.
pub const UPLOAD_PREFIX: &str = ".corral-upload-";

/// `dir` as a tar, written to `sink`.
pub fn pack<W: Write>(dir: &Path, sink: W) -> std::io::Result<W> {
    let mut builder = tar::Builder::new(sink);
    builder.follow_symlinks(false);
    add_tree(&mut builder, dir, Path::new("."))?;
    builder.into_inner()
}

fn add_tree<W: Write>(
    builder: &mut tar::Builder<W>,
    dir: &Path,
    name: &Path,
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
            add_tree(builder, &path, &inner)?;
        } else if kind.is_file() || kind.is_symlink() {
            builder.append_path_with_name(&path, &inner)?;
        }
    }
    Ok(())
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
    use std::os::unix::fs::PermissionsExt;

    use super::*;

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
