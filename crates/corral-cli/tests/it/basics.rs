//! Commands that need no server.

use std::process::Command;

use crate::harness::{CORRAL, stderr, stdout};

#[test]
fn completions_cover_every_command_and_bad_shells_are_refused() {
    for shell in ["bash", "zsh", "fish"] {
        let output = Command::new(CORRAL)
            .args(["completions", shell])
            .output()
            .expect("run corral");
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        for command in ["serve", "run", "prompt", "mcp", "secret", "completions"] {
            assert!(
                script.contains(command),
                "{shell} completions lack {command}"
            );
        }
    }
    let output = Command::new(CORRAL)
        .args(["completions", "tcsh"])
        .output()
        .expect("run corral");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("tcsh"), "{}", stderr(&output));
}
