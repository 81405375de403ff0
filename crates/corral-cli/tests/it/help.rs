//! `corral --help` and each command's help, as a newcomer reads them.

use std::process::Command;

use crate::harness::{CORRAL, stderr, stdout};

fn help(args: &[&str]) -> String {
    let output = Command::new(CORRAL)
        .args(args)
        .output()
        .expect("run corral");
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    stdout(&output)
}

#[test]
fn the_top_level_help_describes_corral_and_lists_every_command() {
    let text = help(&["--help"]);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("corral runs AI-agent jobs"), "{text}");
    assert!(
        !first.contains("serve, run"),
        "no stale list of commands: {text}"
    );
    for command in [
        "serve",
        "run",
        "jobs",
        "show",
        "logs",
        "cancel",
        "prompt",
        "diff",
        "apply",
        "discard",
        "image",
        "secret",
        "doctor",
        "mcp",
        "config",
        "completions",
    ] {
        assert!(
            text.contains(&format!("\n  {command} ")),
            "{command}: {text}"
        );
    }
    assert!(text.contains("[default: $XDG_DATA_HOME/corral"), "{text}");
    assert!(!text.contains("$`"), "no markup shows: {text}");
    assert!(!text.contains("<http"), "no markup shows: {text}");
}

#[test]
fn server_log_flags_belong_to_serve_alone() {
    for command in ["jobs", "run", "show", "logs", "mcp", "config"] {
        let text = help(&[command, "--help"]);
        for flag in ["--log-format", "--trace-spans"] {
            assert!(!text.contains(flag), "{command} lists {flag}: {text}");
        }
    }
    let text = help(&["serve", "--help"]);
    assert!(text.contains("--log-format"), "{text}");
    assert!(text.contains("--trace-spans"), "{text}");
    assert!(
        text.contains("CORRAL_TRACE_SPANS"),
        "the variable still works: {text}"
    );
    let refused = Command::new(CORRAL)
        .args(["jobs", "--log-format", "json"])
        .output()
        .expect("run corral");
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}
