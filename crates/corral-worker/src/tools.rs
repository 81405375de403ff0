//! The agent's tools, run inside the container: `shell`, `read_file`,
//! `write_file`, `edit_file`, `list_dir`, `grep`. Paths are confined to
//! `/workspace` and `/tmp` (after resolving `..` and symlinks). A tool
//! never fails the loop: bad arguments, unknown tools and I/O errors become
//! an error result the model reads and can act on.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use corral_proto::worker::Credential;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::Client;

/// Where the agent may read and write.
pub const ROOTS: [&str; 2] = [corral_proto::worker::WORKSPACE, "/tmp"];
/// Most text a tool result gives the model; longer output keeps its head
/// and tail.
pub const MAX_RESULT_CHARS: usize = 16 << 10;
/// A shell command's time limit unless the call sets one.
const DEFAULT_SHELL_SECS: u64 = 120;
/// The longest time limit a call may set.
const MAX_SHELL_SECS: u64 = 1800;
/// Most bytes `read_file` returns.
const MAX_READ_BYTES: usize = 256 << 10;
/// Most entries `list_dir` returns.
const MAX_ENTRIES: usize = 1000;
/// Most lines `grep` returns.
const MAX_MATCHES: usize = 200;
/// Most files `grep` looks at.
const MAX_GREP_FILES: usize = 20_000;
/// Largest file `grep` reads.
const MAX_GREP_FILE_BYTES: u64 = 4 << 20;

/// What a tool call gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    /// False when the call failed; the text says why.
    pub ok: bool,
    /// What the model reads.
    pub text: String,
}

impl ToolResult {
    fn ok(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }

    fn error(text: impl Into<String>) -> Self {
        Self {
            ok: false,
            text: format!("error: {}", text.into()),
        }
    }
}

/// The tools of one job.
pub struct Tools<'a> {
    client: &'a Client,
    workdir: PathBuf,
    credentials: &'a [Credential],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShellArgs {
    command: String,
    #[serde(default)]
    timeout: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathArgs {
    #[serde(default)]
    path: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteArgs {
    path: String,
    content: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditArgs {
    path: String,
    old: String,
    new: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrepArgs {
    pattern: String,
    #[serde(default)]
    path: Option<String>,
}

fn parse<T: DeserializeOwned>(name: &str, arguments: &str) -> Result<T, ToolResult> {
    let arguments = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    serde_json::from_str(arguments)
        .map_err(|error| ToolResult::error(format!("invalid arguments for `{name}`: {error}")))
}

impl<'a> Tools<'a> {
    /// Tools working in `workdir`; `credentials` reach shell commands only.
    pub fn new(client: &'a Client, workdir: PathBuf, credentials: &'a [Credential]) -> Self {
        Self {
            client,
            workdir,
            credentials,
        }
    }

    /// Runs tool `name` with its JSON `arguments`.
    pub async fn call(&self, name: &str, arguments: &str) -> ToolResult {
        let result = match name {
            "shell" => match parse::<ShellArgs>(name, arguments) {
                Ok(args) => self.shell(&args).await,
                Err(error) => error,
            },
            "read_file" => self.blocking(name, arguments, |tools, args: PathArgs| {
                tools.read_file(args.path.as_deref().unwrap_or_default())
            }),
            "write_file" => self.blocking(name, arguments, |tools, args: WriteArgs| {
                tools.write_file(&args)
            }),
            "edit_file" => self.blocking(name, arguments, |tools, args: EditArgs| {
                tools.edit_file(&args)
            }),
            "list_dir" => self.blocking(name, arguments, |tools, args: PathArgs| {
                tools.list_dir(args.path.as_deref().unwrap_or("."))
            }),
            "grep" => self.blocking(name, arguments, |tools, args: GrepArgs| tools.grep(&args)),
            other => ToolResult::error(format!(
                "unknown tool `{other}`; the tools are shell, read_file, write_file, edit_file, list_dir, grep"
            )),
        };
        ToolResult {
            text: shorten(&result.text),
            ..result
        }
    }

    /// File tools are quick and bounded: they run inline.
    fn blocking<T: DeserializeOwned>(
        &self,
        name: &str,
        arguments: &str,
        run: impl FnOnce(&Self, T) -> Result<String, String>,
    ) -> ToolResult {
        match parse::<T>(name, arguments) {
            Ok(args) => match run(self, args) {
                Ok(text) => ToolResult::ok(text),
                Err(error) => ToolResult::error(error),
            },
            Err(error) => error,
        }
    }

    /// A path the model named, confined to [`ROOTS`].
    fn resolve(&self, path: &str) -> Result<PathBuf, String> {
        if path.is_empty() {
            return Err("`path` is required".into());
        }
        let joined = self.workdir.join(path);
        let normal = normalize(&joined);
        let inside = |candidate: &Path| ROOTS.iter().any(|root| candidate.starts_with(root));
        if !inside(&normal) {
            return Err(format!("{path} is outside /workspace and /tmp"));
        }
        // Symlinks: the nearest existing ancestor, resolved, must stay inside.
        let mut existing = normal.as_path();
        while !existing.exists() {
            existing = existing.parent().unwrap_or(Path::new("/"));
        }
        let real = existing
            .canonicalize()
            .map_err(|error| format!("{path}: {error}"))?;
        if !inside(&real) {
            return Err(format!("{path} leads outside /workspace and /tmp"));
        }
        Ok(normal)
    }

    fn read_file(&self, path: &str) -> Result<String, String> {
        let resolved = self.resolve(path)?;
        let bytes = std::fs::read(&resolved).map_err(|error| format!("{path}: {error}"))?;
        let shown = &bytes[..bytes.len().min(MAX_READ_BYTES)];
        if shown.contains(&0) {
            return Err(format!("{path} is a binary file"));
        }
        let mut text = String::from_utf8_lossy(shown).into_owned();
        if bytes.len() > MAX_READ_BYTES {
            let _ = write!(
                text,
                "\n[… {} more bytes not shown]",
                bytes.len() - MAX_READ_BYTES
            );
        }
        Ok(text)
    }

    fn write_file(&self, args: &WriteArgs) -> Result<String, String> {
        let resolved = self.resolve(&args.path)?;
        if let Some(parent) = resolved.parent() {
            std::fs::create_dir_all(parent).map_err(|error| format!("{}: {error}", args.path))?;
        }
        std::fs::write(&resolved, &args.content)
            .map_err(|error| format!("{}: {error}", args.path))?;
        Ok(format!(
            "wrote {} bytes to {}",
            args.content.len(),
            resolved.display()
        ))
    }

    fn edit_file(&self, args: &EditArgs) -> Result<String, String> {
        if args.old.is_empty() {
            return Err("`old` must not be empty".into());
        }
        let resolved = self.resolve(&args.path)?;
        let text = std::fs::read_to_string(&resolved)
            .map_err(|error| format!("{}: {error}", args.path))?;
        match text.matches(&args.old).count() {
            0 => Err(format!("`old` was not found in {}", args.path)),
            1 => {
                std::fs::write(&resolved, text.replacen(&args.old, &args.new, 1))
                    .map_err(|error| format!("{}: {error}", args.path))?;
                Ok(format!("edited {}", resolved.display()))
            }
            count => Err(format!(
                "`old` occurs {count} times in {}; give more context so it occurs once",
                args.path
            )),
        }
    }

    fn list_dir(&self, path: &str) -> Result<String, String> {
        let resolved = self.resolve(path)?;
        let mut entries: Vec<String> = std::fs::read_dir(&resolved)
            .map_err(|error| format!("{path}: {error}"))?
            .filter_map(Result::ok)
            .map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                    format!("{name}/")
                } else {
                    name
                }
            })
            .collect();
        entries.sort();
        let total = entries.len();
        entries.truncate(MAX_ENTRIES);
        let mut text = entries.join("\n");
        if total > MAX_ENTRIES {
            let _ = write!(text, "\n[… {} more entries]", total - MAX_ENTRIES);
        }
        if total == 0 {
            text = "(empty)".into();
        }
        Ok(text)
    }

    fn grep(&self, args: &GrepArgs) -> Result<String, String> {
        let pattern = regex::Regex::new(&args.pattern)
            .map_err(|error| format!("invalid pattern: {error}"))?;
        let root = self.resolve(args.path.as_deref().unwrap_or("."))?;
        let mut matches = Vec::new();
        let mut files = 0;
        let mut pending = vec![root];
        while let Some(path) = pending.pop() {
            if matches.len() >= MAX_MATCHES || files >= MAX_GREP_FILES {
                break;
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                if path.file_name().is_some_and(|name| name == ".git") {
                    continue;
                }
                if let Ok(entries) = std::fs::read_dir(&path) {
                    let mut children: Vec<PathBuf> =
                        entries.filter_map(Result::ok).map(|e| e.path()).collect();
                    children.sort();
                    pending.extend(children.into_iter().rev());
                }
                continue;
            }
            if !meta.is_file() || meta.len() > MAX_GREP_FILE_BYTES {
                continue;
            }
            files += 1;
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if bytes.contains(&0) {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            for (number, line) in text.lines().enumerate() {
                if pattern.is_match(line) {
                    matches.push(format!("{}:{}: {line}", path.display(), number + 1));
                    if matches.len() >= MAX_MATCHES {
                        break;
                    }
                }
            }
        }
        if matches.is_empty() {
            return Ok("no matches".into());
        }
        let mut text = matches.join("\n");
        if matches.len() >= MAX_MATCHES {
            let _ = write!(text, "\n[stopped at {MAX_MATCHES} matches]");
        }
        Ok(text)
    }
}

/// The largest char boundary at or below `at`.
pub(crate) fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Cuts a result to [`MAX_RESULT_CHARS`] bytes, keeping head and tail.
fn shorten(text: &str) -> String {
    if text.len() <= MAX_RESULT_CHARS {
        return text.to_owned();
    }
    let half = MAX_RESULT_CHARS / 2;
    let head = floor_boundary(text, half);
    let tail = floor_boundary(text, text.len() - half);
    format!(
        "{}\n[… {} bytes omitted …]\n{}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

/// Resolves `.` and `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::Normal(part) => normal.push(part),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    normal
}

mod definitions;
mod shell;

pub use definitions::definitions;
#[cfg(test)]
mod tests;
