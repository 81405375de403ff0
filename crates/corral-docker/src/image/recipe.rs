//! An image recipe (a root file system as entries, a Dockerfile, a tag
//! from their hash) and its build through the Docker API, skipped while
//! its tag exists.

use std::collections::BTreeMap;
use std::path::Path;

use bollard::Docker;
use bollard::body_full;
use bollard::query_parameters::{BuildImageOptions, TagImageOptions};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use corral_runtime::RuntimeError;

use crate::engine::classify;

/// Hex digits of the content hash used as the tag.
pub(super) const TAG_HEX: usize = 16;

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
pub(super) async fn image_exists(docker: &Docker, tag: &str) -> Result<bool, ImageError> {
    match docker.inspect_image(tag).await.map_err(classify) {
        Ok(_) => Ok(true),
        Err(RuntimeError::NotFound { .. }) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Tags `tag` as `repository:latest` too.
pub(super) async fn tag_latest(
    docker: &Docker,
    tag: &str,
    repository: &str,
) -> Result<(), ImageError> {
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
pub(super) async fn build_context(
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
