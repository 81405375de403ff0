//! What a newcomer meets first (#17): errors in the flags they typed, one
//! time format, short ids, and a jobs table that says what each job is.

use serde_json::Value;

use crate::harness::{ServeProcess, stderr, stdout};

/// `corral ARGS` fails and says `expected` on stderr.
async fn refused(server: &ServeProcess, args: &[&str], expected: &str) {
    let output = server.corral(args).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{args:?}: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(expected),
        "{args:?} should say {expected:?}: {}",
        stderr(&output)
    );
}

#[tokio::test]
async fn the_servers_refusals_read_as_the_flags_the_user_typed() {
    let server = ServeProcess::start().await;
    for (args, expected) in [
        (
            &["run", "--memory", "8m", "--", "true"][..],
            "error: --memory 8m: at least 16m\n",
        ),
        (
            &["run", "--timeout", "8d", "--", "true"],
            "error: --timeout 8d: at most 7d\n",
        ),
        (
            &["run", "--pids", "1", "--", "true"],
            "error: --pids 1: at least 8\n",
        ),
        (
            &["run", "--grant", "NOPE", "--", "true"],
            "error: --grant NOPE: no secret named NOPE (corral secret list)\n",
        ),
        (
            &["jobs", "--state", "bogus"],
            "--state bogus: unknown state `bogus`: one of queued, starting, running, \
             stopped, succeeded, failed, cancelled, timed_out",
        ),
    ] {
        refused(&server, args, expected).await;
    }
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn jobs_and_show_speak_one_time_format_and_take_short_ids() {
    let server = ServeProcess::start().await;
    let mut ids = Vec::new();
    for command in ["true", "echo second"] {
        let output = server
            .corral(&["run", "--timeout", "10m", "--", "sh", "-c", command])
            .await;
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let listed = server.corral(&["jobs", "--json", "--limit", "1"]).await;
    let page: Value = serde_json::from_str(&stdout(&listed)).expect("jobs JSON");
    let newest = page["jobs"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(page["next"], newest, "--json keeps the next page's cursor");
    let created = page["jobs"][0]["created_at"].as_str().expect("created_at");
    assert_eq!(created.len(), "2026-12-01T17:47:10.123Z".len(), "{created}");
    assert!(
        created.ends_with('Z') && created.as_bytes()[19] == b'.',
        "{created}"
    );
    let listed = server.corral(&["jobs", "--json"]).await;
    let page: Value = serde_json::from_str(&stdout(&listed)).expect("jobs JSON");
    assert_eq!(page["next"], Value::Null, "the last page");
    for job in page["jobs"].as_array().expect("jobs") {
        ids.push(job["id"].as_str().expect("id").to_owned());
    }

    let table = stdout(&server.corral(&["jobs"]).await);
    let header = table.lines().next().unwrap_or_default();
    for column in ["MODE", "DURATION", "CREATED"] {
        assert!(header.contains(column), "{table}");
    }
    let row = table.lines().nth(1).unwrap_or_default();
    assert!(
        row.starts_with(&format!("{} succeeded  exec ", ids[0])),
        "{table}"
    );
    assert!(row.contains(" UTC "), "{table}");
    assert!(row.ends_with("sh -c 'echo second'"), "{table}");

    // The shortest prefix that names one job names it, with or without `j-`.
    let unique = (3..=18)
        .map(|len| &ids[0][..len])
        .find(|prefix| !ids[1].starts_with(prefix))
        .expect("ids differ");
    for short in [
        unique.to_owned(),
        unique.trim_start_matches("j-").to_owned(),
    ] {
        if short.is_empty() {
            continue;
        }
        let shown = server.corral(&["show", &short]).await;
        assert!(shown.status.success(), "{short}: {}", stderr(&shown));
        let text = stdout(&shown);
        assert!(text.contains(&format!("id  {}", ids[0])), "{text}");
        for field in [
            "isolation  runc",
            "grants  -",
            "timeout  10m",
            " UTC\n",
            "duration  ",
        ] {
            assert!(text.contains(field), "{field}: {text}");
        }
        let container = text
            .lines()
            .find_map(|line| line.trim().strip_prefix("container  "))
            .expect("container line");
        assert_eq!(container.len(), 12, "{text}");
        let logs = server.corral(&["logs", "--json", &short]).await;
        assert!(logs.status.success(), "{}", stderr(&logs));
    }
    let json: Value =
        serde_json::from_str(&stdout(&server.corral(&["show", "--json", unique]).await))
            .expect("show JSON");
    assert_eq!(
        json["container_id"].as_str().map(str::len),
        Some(64),
        "--json keeps it whole"
    );

    let ambiguous = server.corral(&["show", "j-"]).await;
    assert!(!ambiguous.status.success());
    let said = stderr(&ambiguous);
    assert!(said.contains(&ids[0]) && said.contains(&ids[1]), "{said}");
    refused(
        &server,
        &["cancel", "j-ffffffffffff"],
        "no job id starts with `j-ffffffffffff`",
    )
    .await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_server_log_is_plain_text_in_a_file_with_values_as_they_are() {
    let server = ServeProcess::start().await;
    let output = server.corral(&["run", "--", "true"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let log = server.log();
    assert!(!log.contains('\x1b'), "no colours in a file: {log:?}");
    let start = log
        .lines()
        .find(|line| line.contains("corral is serving"))
        .expect("start line");
    let addr = start
        .split_whitespace()
        .find_map(|field| field.strip_prefix("addr="))
        .expect("addr");
    assert!(start.contains(&format!("ui=http://{addr}/")), "{start}");
    assert!(
        start.contains(&format!("data_dir={}", server.data_dir.path().display())),
        "{start}"
    );
    let completed = log
        .lines()
        .find(|line| line.contains("worker completed"))
        .expect("completion line");
    assert!(completed.contains("exit_code=0"), "{completed}");
    assert!(
        !completed.contains("Some("),
        "an Option prints its value: {completed}"
    );
    assert_eq!(server.stop().await, 0);
}
