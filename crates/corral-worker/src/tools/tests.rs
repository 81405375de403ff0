use super::shell::Captured;
use super::*;

fn in_tmp() -> (tempfile::TempDir, Client) {
    let dir = tempfile::Builder::new()
        .prefix("corral-tools-")
        .tempdir_in("/tmp")
        .expect("temp dir under /tmp");
    let client = Client::new("/nonexistent/worker.sock".into(), String::new());
    (dir, client)
}

#[tokio::test]
async fn files_are_written_edited_read_listed_and_searched() {
    let (dir, client) = in_tmp();
    let tools = Tools::new(&client, dir.path().to_owned(), &[]);
    let wrote = tools
        .call(
            "write_file",
            r#"{"path": "src/a.txt", "content": "one\ntwo\n"}"#,
        )
        .await;
    assert!(wrote.ok, "{}", wrote.text);
    let edited = tools
        .call(
            "edit_file",
            r#"{"path": "src/a.txt", "old": "two", "new": "deux"}"#,
        )
        .await;
    assert!(edited.ok, "{}", edited.text);
    let read = tools.call("read_file", r#"{"path": "src/a.txt"}"#).await;
    assert_eq!(read.text, "one\ndeux\n");
    let listed = tools.call("list_dir", "{}").await;
    assert_eq!(listed.text, "src/");
    let found = tools
        .call("grep", r#"{"pattern": "^de", "path": "src"}"#)
        .await;
    assert!(found.text.ends_with("src/a.txt:2: deux"), "{}", found.text);
}

#[tokio::test]
async fn an_ambiguous_or_missing_edit_is_an_error_the_model_can_read() {
    let (dir, client) = in_tmp();
    std::fs::write(dir.path().join("b.txt"), "x x").expect("write");
    let tools = Tools::new(&client, dir.path().to_owned(), &[]);
    let twice = tools
        .call("edit_file", r#"{"path": "b.txt", "old": "x", "new": "y"}"#)
        .await;
    assert!(!twice.ok);
    assert!(twice.text.contains("occurs 2 times"), "{}", twice.text);
    let missing = tools
        .call("edit_file", r#"{"path": "b.txt", "old": "z", "new": "y"}"#)
        .await;
    assert!(missing.text.contains("not found"), "{}", missing.text);
}

#[tokio::test]
async fn paths_outside_the_roots_are_refused_even_through_a_symlink() {
    let (dir, client) = in_tmp();
    let tools = Tools::new(&client, dir.path().to_owned(), &[]);
    let escape = tools
        .call("read_file", r#"{"path": "../../etc/passwd"}"#)
        .await;
    assert!(!escape.ok);
    assert!(escape.text.contains("outside"), "{}", escape.text);
    std::os::unix::fs::symlink("/etc", dir.path().join("etc")).expect("symlink");
    let linked = tools.call("read_file", r#"{"path": "etc/passwd"}"#).await;
    assert!(!linked.ok);
    assert!(linked.text.contains("leads outside"), "{}", linked.text);
    let write = tools
        .call("write_file", r#"{"path": "etc/evil", "content": "x"}"#)
        .await;
    assert!(!write.ok, "{}", write.text);
}

#[tokio::test]
async fn bad_arguments_and_unknown_tools_are_tool_errors() {
    let (dir, client) = in_tmp();
    let tools = Tools::new(&client, dir.path().to_owned(), &[]);
    let malformed = tools.call("read_file", "{not json").await;
    assert!(!malformed.ok);
    assert!(
        malformed.text.contains("invalid arguments"),
        "{}",
        malformed.text
    );
    let wrong_field = tools.call("write_file", r#"{"path": "a"}"#).await;
    assert!(wrong_field.text.contains("content"), "{}", wrong_field.text);
    let unknown = tools.call("rm_rf", "{}").await;
    assert!(
        unknown.text.contains("unknown tool `rm_rf`"),
        "{}",
        unknown.text
    );
}

#[test]
fn long_output_keeps_its_head_and_tail() {
    let mut captured = Captured::default();
    for line in 0..10_000 {
        captured.push(&format!("line {line}\n"));
    }
    let text = captured.finish();
    assert!(text.starts_with("line 0\n"));
    assert!(text.ends_with("line 9999\n"));
    assert!(text.contains("bytes omitted"));
    assert!(text.len() <= MAX_RESULT_CHARS);
    let long = "é".repeat(MAX_RESULT_CHARS);
    assert!(shorten(&long).len() <= MAX_RESULT_CHARS + 64);
}
