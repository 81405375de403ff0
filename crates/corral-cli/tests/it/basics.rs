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

#[test]
fn config_shows_the_merged_settings_with_keys_hidden() {
    let data = tempfile::tempdir().expect("data dir");
    std::fs::write(
        data.path().join("corral.toml"),
        "max_concurrent_jobs = 2\n[limits]\nmemory = \"128m\"\n",
    )
    .expect("config file");
    let key = "sk-ant-config-test-0123456789";
    let output = Command::new(CORRAL)
        .arg("--data-dir")
        .arg(data.path())
        .args([
            "config",
            "--json",
            "--llm",
            "anthropic",
            "--max-concurrent-jobs",
            "3",
        ])
        .env("CORRAL_ANTHROPIC_API_KEY", key)
        .output()
        .expect("run corral");
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = stdout(&output);
    assert!(!shown.contains(key), "the key is printed: {shown}");
    let config: serde_json::Value = serde_json::from_str(&shown).expect("JSON");
    assert_eq!(config["max_concurrent_jobs"], 3, "the flag beats the file");
    assert_eq!(
        config["limits"]["memory"], "128m",
        "the file beats the default"
    );
    assert_eq!(config["llm"]["default"], "anthropic");
    assert!(
        config["llm"]["providers"]["anthropic"]["key"]
            .as_str()
            .expect("key")
            .contains("hidden")
    );

    std::fs::write(
        data.path().join("corral.toml"),
        "max_parallel_job_count = 2\n",
    )
    .expect("typo");
    let output = Command::new(CORRAL)
        .arg("--data-dir")
        .arg(data.path())
        .arg("config")
        .output()
        .expect("run corral");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("max_parallel_job_count"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn doctor_reports_each_check_and_fails_without_a_server() {
    corral_testkit::ensure_docker();
    let data = tempfile::tempdir().expect("data dir");
    let output = Command::new(CORRAL)
        .arg("--data-dir")
        .arg(data.path())
        .args(["--server", "http://127.0.0.1:9", "doctor", "--json"])
        .env("CORRAL_WORKER_BIN", corral_testkit::worker_bin())
        .output()
        .expect("run corral");
    assert!(!output.status.success(), "no server, not healthy");
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(report["healthy"], false);
    let check = |name: &str| {
        report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|check| check["check"] == name)
            .unwrap_or_else(|| panic!("no {name} check"))
            .clone()
    };
    assert_eq!(check("engine")["ok"], true);
    let engine = check("engine")["detail"]
        .as_str()
        .expect("detail")
        .to_owned();
    assert!(
        engine.starts_with("Docker ") && engine.contains(", rootful, "),
        "{engine}"
    );
    assert!(
        engine.ends_with("/var/run/docker.sock (from the default)"),
        "{engine}"
    );
    assert_eq!(check("worker")["ok"], true);
    assert_eq!(check("server")["ok"], false);
    assert!(
        check("server")["detail"]
            .as_str()
            .expect("detail")
            .contains("corral serve")
    );
}

#[test]
fn doctor_names_an_engine_socket_it_cannot_use_and_where_it_was_set() {
    let data = tempfile::tempdir().expect("data dir");
    let missing = data.path().join("no-engine.sock");
    let doctor = |extra: &[&str], docker_host: Option<&str>| {
        let mut command = Command::new(CORRAL);
        command
            .arg("--data-dir")
            .arg(data.path())
            .args(["--server", "http://127.0.0.1:9", "doctor", "--json"])
            .args(extra)
            .env_remove("DOCKER_HOST");
        if let Some(value) = docker_host {
            command.env("DOCKER_HOST", value);
        }
        let output = command.output().expect("run corral");
        let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
        let engine = report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|check| check["check"] == "engine")
            .expect("an engine check")
            .clone();
        assert_eq!(engine["ok"], false, "{engine}");
        engine["detail"].as_str().expect("detail").to_owned()
    };
    // Refused before anything is dialled: an engine off this host.
    let detail = doctor(&["--docker-host", "tcp://127.0.0.1:9"], None);
    assert!(detail.contains("`--docker-host`"), "{detail}");
    assert!(
        detail.contains("not a Unix socket on this host"),
        "{detail}"
    );
    let detail = doctor(&[], Some("ssh://user@host"));
    assert!(detail.contains("`DOCKER_HOST`"), "{detail}");
    // A socket nothing listens on is named, with where it was set.
    let flag = format!("unix://{}", missing.display());
    let detail = doctor(&["--docker-host", &flag], Some("/var/run/docker.sock"));
    assert!(
        detail.contains(&format!("{} (from --docker-host)", missing.display())),
        "{detail}"
    );
    std::fs::write(
        data.path().join("corral.toml"),
        format!("[runtime]\nsocket = \"{}\"\n", missing.display()),
    )
    .expect("config");
    let detail = doctor(&[], None);
    assert!(
        detail.contains(&format!("{} (from [runtime] socket)", missing.display())),
        "{detail}"
    );
}

#[tokio::test]
async fn a_jobs_own_error_event_is_shown_as_the_jobs_not_as_a_stream_failure() {
    let server = crate::harness::ServeProcess::start().await;
    let output = server.corral(&["run", "--", "/no/such/program"]).await;
    let said = stderr(&output);
    assert!(said.contains("error: cannot start the command"), "{said}");
    assert!(said.contains("`/no/such/program` does not exist"), "{said}");
    assert_eq!(
        said.matches("does not exist").count(),
        1,
        "said once, not again as the end's reason: {said}"
    );
    assert!(
        said.contains("--image IMAGE"),
        "a hint names the flag: {said}"
    );
    assert!(!said.contains("failed while streaming"), "{said}");
    assert_eq!(output.status.code(), Some(127), "{said}");
    let output = server.corral(&["run", "--", "cargo", "build"]).await;
    let said = stderr(&output);
    assert!(said.contains("`cargo` is not in the image"), "{said}");
    assert_eq!(output.status.code(), Some(127), "{said}");
    assert_eq!(server.stop().await, 0);
}

#[test]
fn the_pool_size_flag_and_variable_reach_the_config_and_a_bad_one_is_named() {
    let data = tempfile::tempdir().expect("data dir");
    let config = |args: &[&str], env: Option<&str>| {
        let mut command = Command::new(CORRAL);
        command
            .arg("--data-dir")
            .arg(data.path())
            .args(["config", "--json"])
            .args(args)
            .env_remove("CORRAL_POOL_SIZE");
        if let Some(size) = env {
            command.env("CORRAL_POOL_SIZE", size);
        }
        command.output().expect("run corral")
    };
    let output = config(&[], None);
    assert!(output.status.success(), "{}", stderr(&output));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(shown["pool"]["size"], 0, "no pool unless asked");
    let output = config(&[], Some("2"));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(shown["pool"]["size"], 2);
    let output = config(&["--pool-size", "3"], Some("2"));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(shown["pool"]["size"], 3, "the flag beats the variable");
    assert_eq!(shown["pool"]["images"][0], shown["image"]);
    let output = config(&["--pool-size", "500"], None);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("pool.size"), "{}", stderr(&output));
}
