//! `corral config` in the words of `corral.toml`, and a bad file located
//! by line and key.

use std::process::{Command, Output};

use crate::harness::{CORRAL, stderr, stdout};

fn config(file: &str, args: &[&str]) -> Output {
    let data = tempfile::tempdir().expect("data dir");
    std::fs::write(data.path().join("corral.toml"), file).expect("config file");
    Command::new(CORRAL)
        .arg("--data-dir")
        .arg(data.path())
        .arg("config")
        .args(args)
        .output()
        .expect("run corral")
}

#[test]
fn config_prints_corral_toml_keys_with_values_as_written() {
    let file = "[limits]\nmemory = \"2g\"\ntimeout = \"1h30m\"\n";
    let output = config(file, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = stdout(&output);
    for line in [
        "limits.memory = \"2g\"\n",
        "limits.timeout = \"1h30m\"\n",
        "limits.tmpfs = \"",
        "llm.timeout = \"",
    ] {
        assert!(shown.contains(line), "{line:?} in {shown}");
    }
    for internal in ["memory_bytes", "timeout_secs", "tmpfs_bytes"] {
        assert!(!shown.contains(internal), "{internal} in {shown}");
    }
    // What it prints, pasted into the file, reads back the same.
    let limits: Vec<&str> = shown
        .lines()
        .filter_map(|line| line.strip_prefix("limits."))
        .collect();
    let again = config(&format!("[limits]\n{}\n", limits.join("\n")), &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains("limits.timeout = \"1h30m\"\n"));
}

#[test]
fn a_type_error_in_the_file_names_its_line_and_key() {
    let file = "max_concurrent_jobs = 2\n\n[limits]\npids = 64\nmemory = true\n";
    let output = config(file, &[]);
    assert!(!output.status.success());
    let said = stderr(&output);
    assert!(
        said.contains("corral.toml:5: limits.memory: "),
        "line and key: {said}"
    );
    assert!(said.contains("expected a size like \"2g\""), "{said}");
}

#[test]
fn the_mcp_policy_comes_from_the_file_or_the_flags_and_nothing_by_default() {
    use serde_json::json;
    let shown = |file: &str, args: &[&str]| {
        let output = config(file, &[&["--json"], args].concat());
        assert!(output.status.success(), "{}", stderr(&output));
        let view: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
        view["mcp"].clone()
    };
    let nothing = json!({"allow_grants": [], "allow_injects": [], "allow_egress": [],
        "allow_projects": [], "allow_bind": false});
    assert_eq!(shown("", &[]), nothing);
    let file = r#"[mcp]
allow_grants = ["GH_TOKEN"]
allow_injects = ["GH_TOKEN@api.github.com"]
allow_egress = ["pypi.org"]
allow_projects = ["/srv/src"]
"#;
    let from_file = json!({"allow_grants": ["GH_TOKEN"],
        "allow_injects": ["GH_TOKEN@api.github.com"], "allow_egress": ["pypi.org"],
        "allow_projects": ["/srv/src"], "allow_bind": false});
    assert_eq!(shown(file, &[]), from_file);
    // Flags replace the file's list and add what it left out.
    let flags = [
        "--mcp-allow-grant",
        "NPM_TOKEN",
        "--mcp-allow-project",
        "/srv/other",
        "--mcp-allow-bind",
    ];
    let mut expected = from_file;
    expected["allow_grants"] = json!(["NPM_TOKEN"]);
    expected["allow_projects"] = json!(["/srv/other"]);
    expected["allow_bind"] = json!(true);
    assert_eq!(shown(file, &flags), expected);
    let bad = config("[mcp]\nallow_injects = [\"GH_TOKEN\"]\n", &[]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("mcp.allow_injects"),
        "{}",
        stderr(&bad)
    );
    let bad = config("", &["--mcp-allow-inject", "*@api.github.com"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("SECRET@HOST"), "{}", stderr(&bad));
    let typo = config("[mcp]\nallow_grant = [\"X\"]\n", &[]);
    assert!(!typo.status.success());
    assert!(stderr(&typo).contains("allow_grant"), "{}", stderr(&typo));
}
