//! `corral cp SRC DST`: a file or a directory into or out of a sandbox,
//! `ID:PATH` naming the sandbox's side. A directory travels as a tar whose
//! links stay links. A directory from a sandbox (whose content its code
//! chose) is unpacked into a new directory only, never over one that
//! exists, each entry inside it and none more permissive than the umask.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{CpArgs, GlobalArgs};
use crate::client::api_client;
use crate::output;

/// `ID:PATH` split, when `text` names a sandbox (an id is `j-` and hex digits).
fn remote(text: &str) -> Option<(&str, &str)> {
    let (id, path) = text.split_once(':')?;
    let is_id = id.starts_with("j-") && id[2..].chars().all(|c| c.is_ascii_hexdigit());
    is_id.then_some((id, path))
}

pub async fn run(global: &GlobalArgs, args: &CpArgs) -> anyhow::Result<ExitCode> {
    let client = api_client(global)?;
    match (remote(&args.source), remote(&args.destination)) {
        (None, Some((id, path))) => {
            let id = client.resolve_id(id).await?;
            let local = Path::new(&args.source);
            let meta = std::fs::symlink_metadata(local)
                .map_err(|error| anyhow::anyhow!("{}: {error}", local.display()))?;
            let (body, tar) = if meta.is_dir() {
                let mut builder = tar::Builder::new(Vec::new());
                builder.follow_symlinks(false);
                builder
                    .append_dir_all(".", local)
                    .map_err(|error| anyhow::anyhow!("cannot pack {}: {error}", local.display()))?;
                (builder.into_inner()?, true)
            } else {
                (std::fs::read(local)?, false)
            };
            client.put_file(&id, path, body, tar).await?;
        }
        (Some((id, path)), None) => {
            let id = client.resolve_id(id).await?;
            let (body, tar) = client.get_file(&id, path).await?;
            let local = PathBuf::from(&args.destination);
            if tar {
                unpack_new(&body, &local)?;
            } else {
                let target = if local.is_dir() {
                    let name = Path::new(path)
                        .file_name()
                        .ok_or_else(|| anyhow::anyhow!("{path} names no file"))?;
                    local.join(name)
                } else {
                    local
                };
                std::fs::write(&target, &body)
                    .map_err(|error| anyhow::anyhow!("{}: {error}", target.display()))?;
            }
        }
        (Some(_), Some(_)) => anyhow::bail!("copy between two sandboxes through a local path"),
        (None, None) => anyhow::bail!("one side must be a sandbox path, ID:PATH"),
    }
    output::note(&format!("copied {} to {}", args.source, args.destination));
    Ok(ExitCode::SUCCESS)
}

/// The deepest name a tar from a sandbox may hold.
const MAX_DEPTH: usize = 256;

/// Refuses what a few bytes of tar from a sandbox would make large here: a
/// sparse file (of any size; every other file's bytes are in the tar), a
/// name deeper than [`MAX_DEPTH`], or more directories, named or implied,
/// than one a 512 bytes of tar (a header's size) and 1,024 more (a deep
/// name costs a few bytes of tar and an inode a level).
fn check_shape(body: &[u8]) -> anyhow::Result<()> {
    let mut budget = body.len() / 512 + 1024;
    // Each directory once, by a hash of its path: the set stays small
    // however long the names.
    let mut directories = std::collections::HashSet::new();
    for entry in tar::Archive::new(body).entries()? {
        let mut entry = entry?;
        // PAX's sparse forms (`GNU.sparse.*`) unpack here as their raw
        // encoding, no larger than the tar; refused all the same.
        let pax_sparse = entry.pax_extensions()?.is_some_and(|mut records| {
            records.any(|record| {
                record.is_ok_and(|record| record.key_bytes().starts_with(b"GNU.sparse."))
            })
        });
        let path = entry.path()?.into_owned();
        let shown = || {
            String::from_utf8_lossy(&entry.path_bytes())
                .chars()
                .take(100)
                .collect::<String>()
        };
        if entry.header().entry_type().is_gnu_sparse() || pax_sparse {
            anyhow::bail!("{}: a sparse file, which corral cp does not copy", shown());
        }
        let depth = path.components().count();
        if depth > MAX_DEPTH {
            anyhow::bail!("{}…: deeper than {MAX_DEPTH} levels", shown());
        }
        let own = entry
            .header()
            .entry_type()
            .is_dir()
            .then_some(path.as_path());
        for directory in path.ancestors().skip(1).chain(own) {
            if directory.as_os_str().is_empty() {
                continue;
            }
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(directory, &mut hasher);
            if directories.insert(std::hash::Hasher::finish(&hasher)) {
                budget = budget.checked_sub(1).ok_or_else(|| {
                    anyhow::anyhow!("{}: more directories than the tar's size allows", shown())
                })?;
            }
        }
    }
    Ok(())
}

/// Unpacks the tar `body` into `destination`, which must not exist yet: it
/// is unpacked beside it first and renamed into place, so nothing already
/// on this machine is overwritten or has its mode changed. What would make
/// it large is refused first ([`check_shape`]).
fn unpack_new(body: &[u8], destination: &Path) -> anyhow::Result<()> {
    if destination.symlink_metadata().is_ok() {
        anyhow::bail!(
            "{} exists: a directory is copied to a new path, never over one",
            destination.display()
        );
    }
    check_shape(body)?;
    let parent = match destination.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let staging = tempfile::Builder::new()
        .prefix(".corral-cp-")
        .tempdir_in(&parent)
        .map_err(|error| anyhow::anyhow!("{}: {error}", parent.display()))?;
    let mut archive = tar::Archive::new(body);
    archive.set_preserve_permissions(false);
    archive.set_mask(0o022);
    // `unpack` keeps every entry inside the staging directory (no `..`,
    // no absolute name, nothing written through a link it made).
    archive.unpack(staging.path())?;
    std::fs::rename(staging.path(), destination)
        .map_err(|error| anyhow::anyhow!("{}: {error}", destination.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::unpack_new;

    /// A tar of one GNU sparse entry claiming `size` bytes: one data block
    /// of one byte at its end.
    fn sparse_tar(size: u64) -> Vec<u8> {
        let mut header = tar::Header::new_gnu();
        header.set_path("zeros").expect("path");
        header.set_entry_type(tar::EntryType::GNUSparse);
        header.set_mode(0o644);
        header.set_size(1);
        let gnu = header.as_gnu_mut().expect("a GNU header");
        gnu.sparse[0].offset = octal(size - 1);
        gnu.sparse[0].numbytes = octal(1);
        gnu.realsize = octal(size);
        header.set_cksum();
        let mut tar = header.as_bytes().to_vec();
        tar.extend_from_slice(&[b'x'; 1]);
        tar.resize(tar.len() + 511, 0);
        tar.extend_from_slice(&[0; 1024]);
        tar
    }

    fn octal(value: u64) -> [u8; 12] {
        let mut field = [0; 12];
        field[..11].copy_from_slice(format!("{value:011o}").as_bytes());
        field
    }

    /// A tar of `entries` (names and contents), each name written as a GNU
    /// long name when it needs one.
    fn tar_of(entries: &[(String, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
            builder
                .append_data(&mut header, name, *data)
                .expect("entry");
        }
        builder.into_inner().expect("tar")
    }

    fn refused(tar: &[u8], why: &str) {
        let dir = tempfile::tempdir().expect("dir");
        let destination = dir.path().join("out");
        let error = unpack_new(tar, &destination).expect_err("refused");
        assert!(error.to_string().contains(why), "{error}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
        assert!(left.is_empty(), "nothing made: {left:?}");
    }

    #[test]
    fn names_too_deep_or_making_too_many_directories_are_refused() {
        let deep = vec!["d"; 1800].join("/") + "/f";
        refused(&tar_of(&[(deep, b"x")]), "deeper than 256 levels");
        // Each makes 250 new directories for about 2.5 KiB of tar.
        let many: Vec<(String, &[u8])> = (0..40)
            .map(|index| (vec![format!("m{index}"); 250].join("/") + "/f", &b"x"[..]))
            .collect();
        refused(
            &tar_of(&many),
            "more directories than the tar's size allows",
        );
    }

    #[test]
    fn a_tree_of_many_directories_is_unpacked() {
        let files: Vec<(String, &[u8])> = (0..300)
            .map(|index| (format!("d{index}/sub/f"), &b"x"[..]))
            .collect();
        let dir = tempfile::tempdir().expect("dir");
        let destination = dir.path().join("out");
        unpack_new(&tar_of(&files), &destination).expect("unpacked");
        assert!(destination.join("d299/sub/f").is_file());
    }

    #[test]
    fn a_sparse_file_from_a_sandbox_is_refused_and_nothing_is_made() {
        refused(&sparse_tar(1 << 30), "zeros: a sparse file");
        // PAX's form: a record naming the sparse format before the member.
        let record = b"22 GNU.sparse.major=1\n";
        let mut builder = tar::Builder::new(Vec::new());
        let mut pax = tar::Header::new_ustar();
        pax.set_entry_type(tar::EntryType::XHeader);
        pax.set_size(record.len() as u64);
        builder
            .append_data(&mut pax, "PaxHeaders/zeros", &record[..])
            .expect("pax");
        let mut file = tar::Header::new_ustar();
        file.set_mode(0o644);
        file.set_size(1);
        builder
            .append_data(&mut file, "zeros", &b"x"[..])
            .expect("file");
        refused(&builder.into_inner().expect("tar"), "zeros: a sparse file");
    }
}
