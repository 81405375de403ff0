use std::path::Path;

use corral_proto::{ByteSize, CommandSpec, JobMode, JobSpec, Limits, LimitsSpec};

use super::{validate, validate_project};
use crate::jobs::JobError;

const DEFAULTS: Limits = Limits {
    memory_bytes: 512 << 20,
    cpu_shares: 1024,
    pids: 256,
    timeout_secs: 600,
    tmpfs_bytes: 256 << 20,
};

fn field_of(result: Result<impl std::fmt::Debug, JobError>) -> String {
    match result {
        Err(JobError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid-field error, got {other:?}"),
    }
}

fn spec(command: &str) -> JobSpec {
    JobSpec {
        command: Some(CommandSpec::Shell(command.into())),
        ..JobSpec::default()
    }
}

#[test]
fn defaults_fill_what_the_spec_leaves_out() {
    let mut job = spec("echo hi");
    job.limits.memory = Some(ByteSize(64 << 20));
    let valid = validate(job, &DEFAULTS, "img:1", Path::new("/nonexistent-data")).expect("valid");
    assert_eq!(valid.limits.memory_bytes, 64 << 20);
    assert_eq!(valid.limits.pids, 256);
    assert_eq!(valid.image, "img:1");
    assert_eq!(valid.mode, JobMode::Exec);
}

#[test]
fn each_bad_field_is_named() {
    let data = Path::new("/nonexistent-data");
    assert_eq!(
        field_of(validate(JobSpec::default(), &DEFAULTS, "i", data)),
        "command"
    );
    assert_eq!(
        field_of(validate(spec("  "), &DEFAULTS, "i", data)),
        "command"
    );
    let mut agent = spec("x");
    agent.mode = Some(JobMode::Claude);
    assert_eq!(field_of(validate(agent, &DEFAULTS, "i", data)), "mode");
    let mut huge = spec("x");
    huge.limits = LimitsSpec {
        memory: Some(ByteSize(1 << 50)),
        ..LimitsSpec::default()
    };
    assert_eq!(
        field_of(validate(huge, &DEFAULTS, "i", data)),
        "limits.memory"
    );
    let mut fork_bomb = spec("x");
    fork_bomb.limits.pids = Some(-1);
    assert_eq!(
        field_of(validate(fork_bomb, &DEFAULTS, "i", data)),
        "limits.pids"
    );
    let mut spaced = spec("x");
    spaced.image = Some("two words".into());
    assert_eq!(field_of(validate(spaced, &DEFAULTS, "i", data)), "image");
}

#[test]
fn dangerous_projects_are_refused() {
    let data = tempfile::tempdir().expect("data dir");
    let check = |path: &str| field_of(validate_project(Path::new(path), data.path()));
    for path in [
        "relative/dir",
        "/",
        "/etc",
        "/usr/lib",
        "/var",
        "/proc/self",
        "/does/not/exist",
    ] {
        assert_eq!(check(path), "project", "{path}");
    }
    assert_eq!(
        field_of(validate_project(data.path(), data.path())),
        "project",
        "the data directory itself"
    );
    let links = tempfile::tempdir().expect("temp dir");
    let link = links.path().join("innocent");
    std::os::unix::fs::symlink("/etc", &link).expect("symlink");
    assert_eq!(field_of(validate_project(&link, data.path())), "project");
    let file = links.path().join("file");
    std::fs::write(&file, "x").expect("file");
    assert_eq!(field_of(validate_project(&file, data.path())), "project");
}

#[test]
fn an_ordinary_directory_resolves() {
    let data = tempfile::tempdir().expect("data dir");
    let project = tempfile::tempdir().expect("project");
    let resolved = validate_project(project.path(), data.path()).expect("allowed");
    assert_eq!(resolved, project.path().canonicalize().expect("canonical"));
}
