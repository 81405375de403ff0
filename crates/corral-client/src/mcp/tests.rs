use serde_json::json;

use super::args::{CreateJob, parse};
use super::spec_of;

#[test]
fn create_job_arguments_become_a_job_spec_with_its_egress() {
    let args: CreateJob = serde_json::from_value(json!({
        "command": "curl -sf https://pypi.org/simple/",
        "grants": ["TOKEN=GH_TOKEN"],
        "egress": {"allow": ["pypi.org"], "max_connections": 4},
    }))
    .expect("arguments");
    let spec = spec_of(args);
    assert_eq!(
        spec["egress"],
        json!({"allow": ["pypi.org"], "max_connections": 4})
    );
    assert_eq!(
        spec["grants"],
        json!([{"secret": "TOKEN", "env": "GH_TOKEN"}])
    );
    let checked: corral_proto::JobSpec = serde_json::from_value(spec).expect("a valid job spec");
    assert_eq!(
        checked.egress.map(|egress| egress.allow),
        Some(vec!["pypi.org".to_owned()])
    );
}

#[test]
fn a_command_may_be_a_list_of_arguments_as_the_api_takes_it() {
    let args: CreateJob =
        serde_json::from_value(json!({"command": ["sh", "-c", "echo hi"]})).expect("arguments");
    let spec = spec_of(args);
    let checked: corral_proto::JobSpec = serde_json::from_value(spec).expect("a valid job spec");
    assert_eq!(
        checked.command,
        Some(corral_proto::CommandSpec::Argv(vec![
            "sh".into(),
            "-c".into(),
            "echo hi".into()
        ]))
    );
}

#[test]
fn an_argument_of_the_wrong_type_is_named_without_a_text_position() {
    let error = parse::<CreateJob>(json!({"command": "true", "wait_seconds": "ten"}))
        .expect_err("a string is not a number of seconds");
    assert!(error.starts_with("wait_seconds: "), "{error}");
    assert!(!error.contains("line 1"), "{error}");
}

#[test]
fn a_command_that_is_neither_a_line_nor_a_list_of_strings_says_what_it_takes() {
    let error = parse::<CreateJob>(json!({"command": ["sh", 7]})).expect_err("7 is no argument");
    assert!(
        error.starts_with("command: expected a shell line"),
        "{error}"
    );
    let error = parse::<CreateJob>(json!({"command": {"run": "ls"}})).expect_err("an object");
    assert!(
        error.starts_with("command: expected a shell line"),
        "{error}"
    );
}

#[test]
fn a_misspelt_argument_is_refused_by_name_rather_than_ignored() {
    let error = parse::<CreateJob>(json!({"cmd": "true"})).expect_err("no such argument");
    assert!(error.contains("`cmd`"), "{error}");
    assert!(
        error.contains("command"),
        "the known names are listed: {error}"
    );
}

/// The text of a tool result's one block.
fn text_of(result: &rmcp::model::CallToolResult) -> String {
    result.content[0]
        .as_text()
        .map(|text| text.text.clone())
        .unwrap_or_default()
}

/// A job's invisible characters reach the client's model in sight: a bidi
/// override and a Unicode tag (an instruction no user sees) as `\u`
/// escapes in a result's JSON, the same value read back; a failure's
/// message with an escape sequence in caret notation.
#[test]
fn hidden_characters_of_a_job_reach_the_client_escaped() {
    let value = json!({"output_tail": "ok \u{202e}gnp.exe\u{e0041}\u{e0042} done"});
    let text = text_of(&super::done(&value));
    assert!(!text.contains(['\u{202e}', '\u{e0041}']), "{text}");
    assert!(text.contains("\\u202e"), "{text}");
    let read: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(read, value, "the same value");
    let text = text_of(&super::failed("job said \u{1b}[2J\u{202e}"));
    assert_eq!(text, "job said ^[[2J<U+202E>");
}
