//! Images built offline through the Docker build API, from a tar context
//! made in memory: no registry, no pull, no Dockerfile on disk.
//!
//! An image is tagged with a hash of its context and not rebuilt while that
//! tag exists. The default image is `FROM scratch` plus Debian's static
//! busybox with its applet links and a non-root user; corral itself is not in
//! it (the worker is bind-mounted at run time).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bollard::Docker;
use bollard::body_full;
use bollard::query_parameters::{BuildImageOptions, TagImageOptions};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use corral_runtime::RuntimeError;

use crate::engine::classify;

/// Repository of the default image.
pub const DEFAULT_REPOSITORY: &str = "corral/default";
/// Where Debian's busybox-static puts its binary.
pub const DEFAULT_BUSYBOX: &str = "/bin/busybox";
/// Hex digits of the content hash used as the tag.
const TAG_HEX: usize = 16;

mod debian;

pub use debian::{
    CLAUDE_CODE_VERSION, CLAUDE_PATH, CLAUDE_REPOSITORY, DEBIAN_REPOSITORY, build_claude,
    build_debian, host_mirror,
};

/// Why an image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The busybox binary is missing or unusable.
    #[error("cannot use busybox at {path}: {message} (install busybox-static)")]
    Busybox {
        /// Where it was looked for.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The build context could not be assembled.
    #[error("cannot assemble the build context")]
    Context(#[from] std::io::Error),
    /// The engine refused or failed the build.
    #[error("image build failed: {0}")]
    Build(String),
    /// The engine failed otherwise.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// One entry of an image's root filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootEntry {
    /// A regular file.
    File {
        /// Mode bits.
        mode: u32,
        /// Owner uid (gid is the same).
        owner: u32,
        /// Contents.
        data: Vec<u8>,
    },
    /// A directory.
    Dir {
        /// Mode bits.
        mode: u32,
        /// Owner uid (gid is the same).
        owner: u32,
    },
    /// A symbolic link to `target`.
    Symlink {
        /// Where it points.
        target: String,
    },
}

/// An image to build: a root filesystem and the Dockerfile lines after
/// `FROM scratch` / `ADD rootfs.tar /`.
#[derive(Debug, Clone, Default)]
pub struct ImageRecipe {
    /// Repository name; the tag is the content hash.
    pub repository: String,
    /// Paths (no leading `/`) and what is there; parents come first by sorting.
    pub root: BTreeMap<String, RootEntry>,
    /// `USER`, `ENV`, `WORKDIR`, `LABEL` lines.
    pub dockerfile_tail: Vec<String>,
}

/// What `build` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBuild {
    /// `repository:hash`.
    pub tag: String,
    /// False when the tag already existed and the build was skipped.
    pub built: bool,
}

impl ImageRecipe {
    /// The build context (a tar holding `Dockerfile` and `rootfs.tar`) and its hash tag.
    pub fn context(&self) -> Result<(Vec<u8>, String), ImageError> {
        let rootfs = tar_of(&self.root)?;
        let mut dockerfile = String::from("FROM scratch\nADD rootfs.tar /\n");
        for line in &self.dockerfile_tail {
            dockerfile.push_str(line);
            dockerfile.push('\n');
        }
        let context = tar_of(&BTreeMap::from([
            (
                "Dockerfile".to_owned(),
                file(0o644, 0, dockerfile.into_bytes()),
            ),
            ("rootfs.tar".to_owned(), file(0o644, 0, rootfs)),
        ]))?;
        let hash = hex::encode(Sha256::digest(&context));
        Ok((context, format!("{}:{}", self.repository, &hash[..TAG_HEX])))
    }

    /// Builds the image unless its hash tag exists; tags it `latest` either
    /// way. `progress` receives each line the build prints.
    pub async fn build(
        &self,
        docker: &Docker,
        progress: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ImageBuild, ImageError> {
        let (context, tag) = self.context()?;
        let exists = image_exists(docker, &tag).await?;
        if !exists {
            build_bytes(docker, &tag, context, progress).await?;
        }
        tag_latest(docker, &tag, &self.repository).await?;
        Ok(ImageBuild {
            tag,
            built: !exists,
        })
    }
}

/// Whether `tag` is present.
async fn image_exists(docker: &Docker, tag: &str) -> Result<bool, ImageError> {
    match docker.inspect_image(tag).await.map_err(classify) {
        Ok(_) => Ok(true),
        Err(RuntimeError::NotFound { .. }) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Tags `tag` as `repository:latest` too.
async fn tag_latest(docker: &Docker, tag: &str, repository: &str) -> Result<(), ImageError> {
    let options = TagImageOptions {
        repo: Some(repository.to_owned()),
        tag: Some("latest".to_owned()),
    };
    docker
        .tag_image(tag, Some(options))
        .await
        .map_err(classify)?;
    Ok(())
}

/// Builds `tag` from a Dockerfile and files read from disk (`name`, path, mode).
async fn build_context(
    docker: &Docker,
    tag: &str,
    dockerfile: &str,
    files: &[(&str, &Path, u32)],
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<(), ImageError> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o644);
    header.set_size(dockerfile.len() as u64);
    header.set_mtime(0);
    builder.append_data(&mut header, "Dockerfile", dockerfile.as_bytes())?;
    for (name, path, mode) in files {
        let mut file = std::fs::File::open(path)?;
        let mut header = tar::Header::new_gnu();
        header.set_mode(*mode);
        header.set_size(file.metadata()?.len());
        header.set_mtime(0);
        builder.append_data(&mut header, name, &mut file)?;
    }
    build_bytes(docker, tag, builder.into_inner()?, progress).await
}

/// Runs a build of `context` (a tar with a `Dockerfile`), with no network.
async fn build_bytes(
    docker: &Docker,
    tag: &str,
    context: Vec<u8>,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<(), ImageError> {
    let options = BuildImageOptions {
        dockerfile: "Dockerfile".to_owned(),
        t: Some(tag.to_owned()),
        rm: true,
        forcerm: true,
        networkmode: Some("none".to_owned()),
        ..BuildImageOptions::default()
    };
    let mut stream = docker.build_image(options, None, Some(body_full(context.into())));
    while let Some(step) = stream.next().await {
        let step = step.map_err(|error| ImageError::Build(error.to_string()))?;
        if let Some(error) = step.error {
            return Err(ImageError::Build(error));
        }
        if let Some(line) = step
            .stream
            .as_deref()
            .map(str::trim_end)
            .filter(|line| !line.is_empty())
        {
            progress(line);
        }
    }
    Ok(())
}

/// A regular file entry.
pub fn file(mode: u32, owner: u32, data: Vec<u8>) -> RootEntry {
    RootEntry::File { mode, owner, data }
}

/// A directory entry.
pub fn dir(mode: u32, owner: u32) -> RootEntry {
    RootEntry::Dir { mode, owner }
}

/// Static busybox at `bin/busybox` with a link for every applet it lists.
pub fn busybox_root(busybox: &Path) -> Result<BTreeMap<String, RootEntry>, ImageError> {
    let fail = |message: String| ImageError::Busybox {
        path: busybox.display().to_string(),
        message,
    };
    let binary = std::fs::read(busybox).map_err(|error| fail(error.to_string()))?;
    crate::worker_binary::verify(busybox).map_err(|error| fail(error.to_string()))?;
    let listing = std::process::Command::new(busybox)
        .arg("--list-full")
        .output()
        .map_err(|error| fail(error.to_string()))?;
    if !listing.status.success() {
        return Err(fail("`busybox --list-full` failed".into()));
    }
    let mut root = BTreeMap::new();
    let mut dirs = BTreeSet::new();
    for applet in String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(str::trim)
    {
        if applet.is_empty() || applet == "bin/busybox" {
            continue;
        }
        if let Some((parent, _)) = applet.rsplit_once('/') {
            dirs.insert(parent.to_owned());
        }
        root.insert(
            applet.to_owned(),
            RootEntry::Symlink {
                target: "/bin/busybox".to_owned(),
            },
        );
    }
    dirs.insert("bin".to_owned());
    for parent in dirs {
        root.insert(parent, dir(0o755, 0));
    }
    root.insert("bin/busybox".to_owned(), file(0o755, 0, binary));
    Ok(root)
}

/// The default image: busybox, a non-root `corral` user (uid 10001) with
/// its home, `/tmp` and `/workspace`.
pub fn default_recipe(busybox: &Path) -> Result<ImageRecipe, ImageError> {
    use corral_proto::worker::{JOB_GID, JOB_HOME, JOB_UID};
    let mut root = busybox_root(busybox)?;
    let passwd = format!(
        "root:x:0:0:root:/root:/bin/sh\ncorral:x:{JOB_UID}:{JOB_GID}:corral:{JOB_HOME}:/bin/sh\n"
    );
    let group = format!("root:x:0:\ncorral:x:{JOB_GID}:\n");
    root.insert("etc".into(), dir(0o755, 0));
    root.insert("etc/passwd".into(), file(0o644, 0, passwd.into_bytes()));
    root.insert("etc/group".into(), file(0o644, 0, group.into_bytes()));
    root.insert("tmp".into(), dir(0o1777, 0));
    root.insert("root".into(), dir(0o700, 0));
    root.insert("home".into(), dir(0o755, 0));
    root.insert(JOB_HOME.trim_start_matches('/').into(), dir(0o700, JOB_UID));
    root.insert("workspace".into(), dir(0o755, JOB_UID));
    Ok(ImageRecipe {
        repository: DEFAULT_REPOSITORY.to_owned(),
        root,
        dockerfile_tail: vec![
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            format!("ENV HOME={JOB_HOME}"),
            format!("USER {JOB_UID}:{JOB_GID}"),
            format!("WORKDIR {JOB_HOME}"),
            "LABEL corral.image=default".into(),
            "CMD [\"/bin/sh\"]".into(),
        ],
    })
}

/// A deterministic tar of `entries`: fixed times, sorted paths.
fn tar_of(entries: &BTreeMap<String, RootEntry>) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, entry) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        match entry {
            RootEntry::File { mode, owner, data } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_uid(u64::from(*owner));
                header.set_gid(u64::from(*owner));
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, path, data.as_slice())?;
            }
            RootEntry::Dir { mode, owner } => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(*mode);
                header.set_uid(u64::from(*owner));
                header.set_gid(u64::from(*owner));
                header.set_size(0);
                builder.append_data(&mut header, format!("{path}/"), std::io::empty())?;
            }
            RootEntry::Symlink { target } => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, path, target)?;
            }
        }
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_hash_is_stable_and_follows_the_content() {
        let mut recipe = ImageRecipe {
            repository: "corral/test".into(),
            root: BTreeMap::from([("etc".into(), dir(0o755, 0))]),
            dockerfile_tail: vec!["USER 1:1".into()],
        };
        let (_, first) = recipe.context().expect("context");
        let (_, again) = recipe.context().expect("context");
        assert_eq!(first, again);
        assert!(first.starts_with("corral/test:"));
        recipe
            .root
            .insert("etc/motd".into(), file(0o644, 0, b"hi".to_vec()));
        let (_, changed) = recipe.context().expect("context");
        assert_ne!(first, changed);
    }
}
