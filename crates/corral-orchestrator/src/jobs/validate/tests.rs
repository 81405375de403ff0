use std::path::Path;

use corral_proto::{ByteSize, CommandSpec, JobMode, JobSpec, Limits, LimitsSpec};

use super::{Defaults, ValidJob, validate, validate_project};
use crate::jobs::JobError;
use crate::llm::{LlmSettings, Provider, ProviderKey, ProviderKind};

const DEFAULTS: Limits = crate::testing::LIMITS;

/// Validates against [`DEFAULTS`], image `i`, and `llm` as the providers.
fn check(spec: JobSpec, llm: &LlmSettings) -> Result<ValidJob, JobError> {
    check_on(spec, llm, corral_runtime::IdMap::Identity)
}

/// [`check`] on an engine that maps ids as `id_map` does.
fn check_on(
    spec: JobSpec,
    llm: &LlmSettings,
    id_map: corral_runtime::IdMap,
) -> Result<ValidJob, JobError> {
    validate(
        spec,
        &Defaults {
            limits: &DEFAULTS,
            image: "i",
            claude_image: "c",
            isolation: corral_proto::IsolationLevel::Runc,
            data_dir: Path::new("/nonexistent-data"),
            llm,
            egress: None,
            id_map,
        },
    )
}

fn one_provider(model: Option<&str>) -> LlmSettings {
    let mut settings = LlmSettings::default();
    settings.providers.insert(
        "up".into(),
        Provider {
            name: "up".into(),
            kind: ProviderKind::Openai,
            base_url: "http://127.0.0.1:9/v1".into(),
            key: ProviderKey::None,
            model: model.map(str::to_owned),
            input_price: None,
            output_price: None,
            max_tokens: 1024,
            oauth: false,
        },
    );
    settings
}

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
    let valid = check(job, &LlmSettings::default()).expect("valid");
    assert_eq!(valid.limits.memory_bytes, 64 << 20);
    assert_eq!(valid.limits.pids, 256);
    assert_eq!(valid.image, "i");
    assert_eq!(valid.mode, JobMode::Exec);
}

#[test]
fn each_bad_field_is_named() {
    let none = LlmSettings::default();
    assert_eq!(field_of(check(JobSpec::default(), &none)), "command");
    assert_eq!(field_of(check(spec("  "), &none)), "command");
    let mut agent = spec("x");
    agent.mode = Some(JobMode::Claude);
    assert_eq!(field_of(check(agent, &none)), "command");
    let mut huge = spec("x");
    huge.limits = LimitsSpec {
        memory: Some(ByteSize(1 << 50)),
        ..LimitsSpec::default()
    };
    assert_eq!(field_of(check(huge, &none)), "limits.memory");
    let mut fork_bomb = spec("x");
    fork_bomb.limits.pids = Some(-1);
    assert_eq!(field_of(check(fork_bomb, &none)), "limits.pids");
    let mut spaced = spec("x");
    spaced.image = Some("two words".into());
    assert_eq!(field_of(check(spaced, &none)), "image");
}

#[test]
fn a_worker_job_needs_a_prompt_a_provider_and_a_model() {
    let worker = |prompt: Option<&str>| JobSpec {
        mode: Some(JobMode::Worker),
        prompt: prompt.map(str::to_owned),
        ..JobSpec::default()
    };
    let with_model = one_provider(Some("m1"));
    assert_eq!(field_of(check(worker(None), &with_model)), "prompt");
    assert_eq!(field_of(check(worker(Some(" ")), &with_model)), "prompt");
    assert_eq!(
        field_of(check(worker(Some("go")), &LlmSettings::default())),
        "llm.provider"
    );
    assert_eq!(
        field_of(check(worker(Some("go")), &one_provider(None))),
        "llm.model"
    );
    let mut commanded = worker(Some("go"));
    commanded.command = Some(CommandSpec::Shell("ls".into()));
    assert_eq!(field_of(check(commanded, &with_model)), "command");
    let mut over = worker(Some("go"));
    over.limits.max_iterations = Some(0);
    assert_eq!(field_of(check(over, &with_model)), "limits.max_iterations");

    let valid = check(worker(Some("go")), &with_model).expect("valid");
    let llm = valid.llm.expect("resolved model");
    assert_eq!(
        (llm.provider.as_str(), llm.model.as_str(), llm.stream),
        ("up", "m1", true)
    );
    assert_eq!(valid.limits.max_llm_calls, 10);

    let mut exec_with_model = spec("ls");
    exec_with_model.llm = Some(corral_proto::LlmSpec::default());
    assert_eq!(field_of(check(exec_with_model, &with_model)), "llm");
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

/// Docker's `userns-remap` with its default range.
const REMAPPED: corral_runtime::IdMap = corral_runtime::IdMap::Shifted {
    first_uid: 100_000,
    first_gid: 100_000,
    length: 65_536,
};

fn owned_project(uid: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("project");
    std::os::unix::fs::chown(dir.path(), Some(uid), Some(uid)).expect("chown");
    dir
}

fn bound(project: &tempfile::TempDir) -> JobSpec {
    JobSpec {
        project: Some(corral_proto::ProjectSpec::Path(
            project.path().to_string_lossy().into_owned(),
        )),
        ..spec("true")
    }
}

#[test]
fn a_project_owned_by_no_user_inside_a_remapping_engine_is_refused_with_the_fix() {
    let settings = LlmSettings::default();
    // Host uid 1000 is nobody inside containers whose ids start at 100000.
    let project = owned_project(1000);
    let error = check_on(bound(&project), &settings, REMAPPED).expect_err("unmapped owner");
    let text = error.to_string();
    assert!(text.starts_with("project: "), "{text}");
    assert!(text.contains("owned by uid 1000:1000"), "{text}");
    assert!(text.contains("chown -R 110001:110001"), "{text}");
    // The same directory on an engine without remapping is the owner's.
    check(bound(&project), &settings).expect("identity: uid 1000 runs the job");
    // Host uid 110001 is corral's job user inside: it runs there.
    let project = owned_project(110_001);
    let valid = check_on(bound(&project), &settings, REMAPPED).expect("mapped owner");
    assert!(valid.project.is_some());
}

#[test]
fn gvisor_is_refused_on_an_engine_that_remaps_ids() {
    let settings = LlmSettings::default();
    let gvisor = JobSpec {
        isolation: Some(corral_proto::IsolationLevel::Gvisor),
        ..spec("true")
    };
    assert_eq!(
        field_of(check_on(gvisor.clone(), &settings, REMAPPED)),
        "isolation"
    );
    assert_eq!(
        field_of(check_on(
            gvisor.clone(),
            &settings,
            corral_runtime::IdMap::Unknown
        )),
        "isolation"
    );
    check(gvisor, &settings).expect("gVisor without remapping");
}
