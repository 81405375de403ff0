//! The Debian images, built offline: a `debootstrap --variant=minbase` root
//! (bash, git, ca-certificates, ripgrep, procps) from the mirror the host's
//! apt sources name, imported through the Docker build API as
//! `corral/debian:<hash>`; and `corral/claude:<hash>`, the same plus the
//! `claude` binary of a pinned `@anthropic-ai/claude-code` npm release.
//! Both are tagged by a hash of what goes in and skipped when present.

use std::path::Path;
use std::process::Command;

use bollard::Docker;
use corral_proto::worker::{JOB_GID, JOB_HOME, JOB_UID};
use sha2::{Digest, Sha256};

use super::recipe::{ImageBuild, ImageError, TAG_HEX, build_context, image_exists, tag_latest};

/// Repository of the Debian image.
pub const DEBIAN_REPOSITORY: &str = "corral/debian";
/// Repository of the Claude Code image.
pub const CLAUDE_REPOSITORY: &str = "corral/claude";
/// The pinned Claude Code release.
pub const CLAUDE_CODE_VERSION: &str = "2.1.332";
/// Where `claude` is inside the image.
pub const CLAUDE_PATH: &str = "/usr/local/bin/claude";
/// The Debian release.
const SUITE: &str = "bookworm";
/// Packages on top of minbase.
const PACKAGES: &[&str] = &[
    "bash",
    "git",
    "ca-certificates",
    "curl",
    "ripgrep",
    "procps",
];
/// When the host names no Debian mirror.
const FALLBACK_MIRROR: &str = "http://deb.debian.org/debian";
/// The npm package holding the Linux x64 binary.
const CLAUDE_PLATFORM_PACKAGE: &str = "@anthropic-ai/claude-code-linux-x64";

/// Builds (or finds) the Debian image.
pub async fn build_debian(
    docker: &Docker,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<ImageBuild, ImageError> {
    let tag = format!("{DEBIAN_REPOSITORY}:{}", hash(&debian_recipe()));
    if image_exists(docker, &tag).await? {
        tag_latest(docker, &tag, DEBIAN_REPOSITORY).await?;
        return Ok(ImageBuild { tag, built: false });
    }
    let work = scratch_dir()?;
    let rootfs = work.path().join("rootfs");
    let mirror = host_mirror();
    progress(&format!(
        "debootstrap {SUITE} from {mirror} (about a minute)"
    ));
    run(
        Command::new("debootstrap")
            .arg("--variant=minbase")
            .arg(format!("--include={}", PACKAGES.join(",")))
            .arg(SUITE)
            .arg(&rootfs)
            .arg(&mirror),
        "debootstrap (install it with `apt-get install debootstrap`)",
    )?;
    add_job_user(&rootfs)?;
    let rootfs_tar = work.path().join("rootfs.tar");
    run(
        Command::new("tar")
            .arg("-C")
            .arg(&rootfs)
            .args(["--numeric-owner", "--exclude=./dev/*", "-cf"])
            .arg(&rootfs_tar)
            .arg("."),
        "tar",
    )?;
    let dockerfile = format!(
        "FROM scratch\nADD rootfs.tar /\n\
         ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
         ENV HOME={JOB_HOME}\nUSER {JOB_UID}:{JOB_GID}\nWORKDIR {JOB_HOME}\n\
         LABEL corral.image=debian\nCMD [\"/bin/bash\"]\n"
    );
    progress("importing the Debian root into Docker");
    build_context(
        docker,
        &tag,
        &dockerfile,
        &[("rootfs.tar", &rootfs_tar, 0o644)],
        progress,
    )
    .await?;
    tag_latest(docker, &tag, DEBIAN_REPOSITORY).await?;
    Ok(ImageBuild { tag, built: true })
}

/// Builds (or finds) the Claude Code image on top of the Debian one.
pub async fn build_claude(
    docker: &Docker,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<ImageBuild, ImageError> {
    let recipe = format!("{}|claude-code@{CLAUDE_CODE_VERSION}", debian_recipe());
    let tag = format!("{CLAUDE_REPOSITORY}:{}", hash(&recipe));
    if image_exists(docker, &tag).await? {
        tag_latest(docker, &tag, CLAUDE_REPOSITORY).await?;
        return Ok(ImageBuild { tag, built: false });
    }
    let base = build_debian(docker, progress).await?;
    let work = scratch_dir()?;
    progress(&format!(
        "npm install @anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}"
    ));
    run(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--prefix",
            ])
            .arg(work.path())
            .arg(format!("@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}")),
        "npm (install it with `apt-get install npm`)",
    )?;
    let binary = work
        .path()
        .join("node_modules")
        .join(CLAUDE_PLATFORM_PACKAGE)
        .join("claude");
    if !binary.is_file() {
        return Err(ImageError::Build(format!(
            "npm installed no {CLAUDE_PLATFORM_PACKAGE}/claude (is this x86-64 Linux?)"
        )));
    }
    let dockerfile = format!(
        "FROM {}\nCOPY claude {CLAUDE_PATH}\n\
         ENV DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1\n\
         LABEL corral.image=claude corral.claude-code={CLAUDE_CODE_VERSION}\n",
        base.tag
    );
    progress("adding claude to the Debian image");
    build_context(
        docker,
        &tag,
        &dockerfile,
        &[("claude", &binary, 0o755)],
        progress,
    )
    .await?;
    tag_latest(docker, &tag, CLAUDE_REPOSITORY).await?;
    Ok(ImageBuild { tag, built: true })
}

fn debian_recipe() -> String {
    format!(
        "debian|{SUITE}|minbase|{}|uid {JOB_UID}|home {JOB_HOME}",
        PACKAGES.join(",")
    )
}

fn hash(recipe: &str) -> String {
    hex::encode(Sha256::digest(recipe.as_bytes()))[..TAG_HEX].to_owned()
}

/// A work directory on disk (not a tmpfs: a root is hundreds of MB).
fn scratch_dir() -> Result<tempfile::TempDir, ImageError> {
    Ok(tempfile::Builder::new()
        .prefix("corral-image-")
        .tempdir_in("/var/tmp")?)
}

fn run(command: &mut Command, what: &str) -> Result<(), ImageError> {
    let output = command
        .output()
        .map_err(|error| ImageError::Build(format!("cannot run {what}: {error}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        return Err(ImageError::Build(format!(
            "{what} failed ({}): {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    Ok(())
}

/// The job user (so `id`, git and ssh know a name), its home and `/workspace`.
fn add_job_user(rootfs: &Path) -> Result<(), ImageError> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let append = |file: &str, line: &str| -> std::io::Result<()> {
        let mut handle = std::fs::OpenOptions::new()
            .append(true)
            .open(rootfs.join(file))?;
        writeln!(handle, "{line}")
    };
    append(
        "etc/passwd",
        &format!("corral:x:{JOB_UID}:{JOB_GID}:corral:{JOB_HOME}:/bin/bash"),
    )?;
    append("etc/group", &format!("corral:x:{JOB_GID}:"))?;
    for (dir, mode) in [
        (JOB_HOME.trim_start_matches('/'), 0o700),
        ("workspace", 0o755),
    ] {
        let path = rootfs.join(dir);
        std::fs::create_dir_all(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        std::os::unix::fs::chown(&path, Some(JOB_UID), Some(JOB_GID))?;
    }
    Ok(())
}

/// The Debian mirror the host's apt sources name, else deb.debian.org.
pub fn host_mirror() -> String {
    let deb822 =
        std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default();
    let from_deb822 = deb822
        .lines()
        .filter_map(|line| line.strip_prefix("URIs:"))
        .flat_map(str::split_whitespace)
        .find(|uri| !uri.contains("security"));
    let legacy = std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    let from_legacy = legacy
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("deb "))
        .filter_map(|line| {
            line.split_whitespace()
                .find(|part| part.starts_with("http"))
        })
        .find(|uri| !uri.contains("security"));
    from_deb822
        .or(from_legacy)
        .unwrap_or(FALLBACK_MIRROR)
        .to_owned()
}
