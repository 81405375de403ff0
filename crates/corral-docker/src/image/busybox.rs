//! The default image: `FROM scratch`, Debian's static busybox with its
//! applet links, and a non-root job user.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::recipe::{ImageError, ImageRecipe, RootEntry, dir, file};

/// Repository of the default image.
pub const DEFAULT_REPOSITORY: &str = "corral/default";

/// Where Debian's busybox-static puts its binary.
pub const DEFAULT_BUSYBOX: &str = "/bin/busybox";

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
