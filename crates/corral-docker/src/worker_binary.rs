//! Finds the static `corral-worker` binary and checks it can run in any image.
//!
//! The worker is bind-mounted into images that may have no libc at all
//! (`FROM scratch`), so a dynamically linked build is refused up front with a
//! message saying how to build the right one, rather than failing inside
//! every container.

use std::path::{Path, PathBuf};

/// The worker's file name.
pub const WORKER_NAME: &str = "corral-worker";
/// The target triple the static worker is built for.
pub const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Why the worker binary cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkerBinaryError {
    /// Nothing at the path.
    #[error(
        "worker binary {path} cannot be read (build it with scripts/build-worker.sh or set --worker-bin)"
    )]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not a 64-bit ELF executable.
    #[error("worker binary {path} is not a 64-bit ELF executable")]
    NotElf {
        /// The file.
        path: PathBuf,
    },
    /// Needs a dynamic loader, so it would not start in a `FROM scratch` image.
    #[error(
        "worker binary {path} is dynamically linked; build it with scripts/build-worker.sh (-C target-feature=+crt-static)"
    )]
    Dynamic {
        /// The file.
        path: PathBuf,
    },
}

/// Where to look when no path is configured: beside the running executable,
/// or in the static target directory of the same cargo profile
/// (`target/release/corral` → `target/x86_64-unknown-linux-gnu/release/corral-worker`).
pub fn default_location() -> PathBuf {
    let Ok(exe) = std::env::current_exe() else {
        return PathBuf::from(WORKER_NAME);
    };
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let beside = dir.join(WORKER_NAME);
    let candidates = [
        dir.parent()
            .zip(dir.file_name())
            .map(|(target, profile)| target.join(STATIC_TARGET).join(profile).join(WORKER_NAME)),
        Some(beside.clone()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|path| verify(path).is_ok())
        .unwrap_or(beside)
}

/// Checks that `path` is a static 64-bit ELF (no `PT_INTERP` segment).
pub fn verify(path: &Path) -> Result<(), WorkerBinaryError> {
    let bytes = std::fs::read(path).map_err(|source| WorkerBinaryError::Missing {
        path: path.to_owned(),
        source,
    })?;
    match has_interpreter(&bytes) {
        None => Err(WorkerBinaryError::NotElf {
            path: path.to_owned(),
        }),
        Some(true) => Err(WorkerBinaryError::Dynamic {
            path: path.to_owned(),
        }),
        Some(false) => Ok(()),
    }
}

/// `Some(true)` when the ELF64 file asks for a dynamic loader, `None` when it
/// is not a little-endian ELF64 file.
fn has_interpreter(bytes: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if bytes.get(..4)? != b"\x7fELF" || *bytes.get(4)? != 2 || *bytes.get(5)? != 1 {
        return None;
    }
    let read_u16 = |at: usize| Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
    let read_u32 = |at: usize| Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let read_u64 = |at: usize| Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
    let table = usize::try_from(read_u64(0x20)?).ok()?;
    let entry_size = usize::from(read_u16(0x36)?);
    let entries = usize::from(read_u16(0x38)?);
    for index in 0..entries {
        if read_u32(table + index * entry_size)? == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_binary_is_refused_with_a_hint() {
        let path = std::env::current_exe().expect("test binary path");
        let error = verify(&path).expect_err("test binaries are dynamic");
        assert!(
            matches!(error, WorkerBinaryError::Dynamic { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("build-worker.sh"));
    }

    #[test]
    fn a_text_file_is_not_elf() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), "#!/bin/sh\n").expect("write");
        assert!(matches!(
            verify(file.path()),
            Err(WorkerBinaryError::NotElf { .. })
        ));
    }
}
