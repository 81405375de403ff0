//! The tools as the model sees them: names, descriptions, JSON schemas.

use corral_proto::llm::{FunctionDef, ToolDef};
use serde_json::{Value, json};

/// The tool definitions the model is offered.
pub fn definitions() -> Vec<ToolDef> {
    let tool = |name: &str, description: &str, parameters: Value| ToolDef {
        kind: "function".into(),
        function: FunctionDef {
            name: name.into(),
            description: description.into(),
            parameters,
        },
    };
    let path = json!({"type": "string", "description": "A path under /workspace or /tmp; relative paths start at the working directory."});
    vec![
        tool(
            "shell",
            "Run a command with `sh -c` in the working directory. Returns its exit code, stdout and stderr (long output keeps its head and tail).",
            json!({"type": "object", "properties": {
                "command": {"type": "string", "description": "The shell command."},
                "timeout": {"type": "integer", "description": "Seconds before the command is killed (default 120)."}
            }, "required": ["command"]}),
        ),
        tool(
            "read_file",
            "Read a text file.",
            json!({"type": "object", "properties": {"path": path}, "required": ["path"]}),
        ),
        tool(
            "write_file",
            "Create or overwrite a file with the given content; parent directories are created.",
            json!({"type": "object", "properties": {"path": path, "content": {"type": "string"}}, "required": ["path", "content"]}),
        ),
        tool(
            "edit_file",
            "Replace the one exact occurrence of `old` in a file with `new`.",
            json!({"type": "object", "properties": {"path": path, "old": {"type": "string"}, "new": {"type": "string"}}, "required": ["path", "old", "new"]}),
        ),
        tool(
            "list_dir",
            "List a directory's entries (directories end in /).",
            json!({"type": "object", "properties": {"path": path}}),
        ),
        tool(
            "grep",
            "Search files under a path for a regular expression; returns path:line: text.",
            json!({"type": "object", "properties": {"pattern": {"type": "string"}, "path": path}, "required": ["pattern"]}),
        ),
    ]
}
