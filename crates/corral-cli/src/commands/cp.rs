//! `corral cp SRC DST`: a file or a directory into or out of a sandbox,
//! `ID:PATH` naming the sandbox's side. A directory travels as a tar whose
//! links stay links; one unpacked here is kept inside the destination.

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
                std::fs::create_dir_all(&local)?;
                let mut archive = tar::Archive::new(&body[..]);
                for entry in archive.entries()? {
                    // `unpack_in` keeps every entry inside `local`.
                    entry?.unpack_in(&local)?;
                }
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
