use super::*;

#[test]
fn paths_under_the_roots_are_made_plain() {
    assert_eq!(allowed_path("/workspace").as_deref(), Ok("/workspace"));
    assert_eq!(
        allowed_path("/workspace//src/./a/../b.txt").as_deref(),
        Ok("/workspace/src/b.txt")
    );
    assert_eq!(allowed_path("/tmp/x").as_deref(), Ok("/tmp/x"));
    assert_eq!(
        allowed_path("/home/corral/.bashrc").as_deref(),
        Ok("/home/corral/.bashrc")
    );
}

#[test]
fn paths_outside_the_roots_or_climbing_out_are_refused() {
    for path in [
        "",
        "workspace/a",
        "/etc/passwd",
        "/workspace/../etc/passwd",
        "/tmp/../../..",
        "/workspacex/a",
        "/home/corralx",
        "/",
        "/tmp/\0x",
    ] {
        assert!(allowed_path(path).is_err(), "{path:?} was allowed");
    }
}

#[test]
fn a_sandbox_spec_becomes_a_sandbox_job_with_its_ttl_and_idle_timeout() {
    let spec = SandboxSpec {
        ttl: Some(DurationSpec(60)),
        idle_timeout: Some(DurationSpec(5)),
        ..SandboxSpec::default()
    };
    let job = spec.into_job_spec().expect("a valid spec");
    assert_eq!(job.mode, Some(JobMode::Sandbox));
    assert_eq!(job.limits.timeout, Some(DurationSpec(60)));
    assert_eq!(job.limits.idle_timeout, Some(DurationSpec(5)));
    let defaults = SandboxSpec::default().into_job_spec().expect("defaults");
    assert_eq!(
        defaults.limits.timeout,
        Some(DurationSpec(DEFAULT_TTL_SECS))
    );
    assert_eq!(
        defaults.limits.idle_timeout,
        Some(DurationSpec(DEFAULT_SANDBOX_IDLE_SECS))
    );
}

#[test]
fn a_ttl_given_twice_is_refused_naming_it() {
    let spec = SandboxSpec {
        ttl: Some(DurationSpec(60)),
        limits: LimitsSpec {
            timeout: Some(DurationSpec(30)),
            ..LimitsSpec::default()
        },
        ..SandboxSpec::default()
    };
    assert_eq!(spec.into_job_spec().expect_err("twice").field, "ttl");
}
