//! Images built offline through the Docker build API, from a tar context
//! made in memory: no registry, no pull, no Dockerfile on disk.
//!
//! An image is tagged with a hash of its context and not rebuilt while that
//! tag exists. The default image is `FROM scratch` plus Debian's static
//! busybox with its applet links and a non-root user; corral itself is not in
//! it (the worker is bind-mounted at run time).
//!
//! # Layout
//! - `recipe`: a recipe (root file system entries, Dockerfile, tag) and its build
//! - `busybox`: the default image's recipe
//! - `debian`: the Debian and Claude images, from a debootstrap root

mod busybox;
mod debian;
mod recipe;

pub use busybox::{DEFAULT_BUSYBOX, DEFAULT_REPOSITORY, busybox_root, default_recipe};
pub use debian::{
    CLAUDE_CODE_VERSION, CLAUDE_PATH, CLAUDE_REPOSITORY, DEBIAN_REPOSITORY, build_claude,
    build_debian, host_mirror,
};
pub use recipe::{ImageBuild, ImageError, ImageRecipe, RootEntry, dir, file};
