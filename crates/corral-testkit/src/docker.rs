//! Docker for tests: start the engine when none answers, build the images
//! (skipped when their content hash tag exists), remove containers by label,
//! hand a project to the job user as the engine maps it.

use std::path::Path;
use std::sync::OnceLock;

use bollard::Docker;
use corral_docker::host::EngineInfo;
use corral_docker::image::{self, DEFAULT_BUSYBOX, ImageRecipe, busybox_root, default_recipe};
use corral_docker::{Dialect, DockerRuntime};
use corral_runtime::{IdMap, Runtime};

/// Runs `scripts/ensure-docker.sh` once per test process.
pub fn ensure_docker() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let status = std::process::Command::new("bash")
            .arg(crate::repo_root().join("scripts/ensure-docker.sh"))
            .status()
            .expect("run scripts/ensure-docker.sh");
        assert!(
            status.success(),
            "no Docker engine: scripts/ensure-docker.sh failed"
        );
    });
}

/// A negotiated Docker client.
pub async fn docker() -> Docker {
    ensure_docker();
    DockerRuntime::connect()
        .await
        .expect("connect to Docker")
        .client()
        .clone()
}

/// The engine tests run against (`DOCKER_HOST`, else Docker's socket), as
/// it describes itself: the engine matrix runs the same tests on Podman.
pub async fn engine() -> (EngineInfo, Dialect) {
    ensure_docker();
    let runtime = DockerRuntime::connect()
        .await
        .expect("connect to the engine");
    let engine = runtime.engine().await.expect("the engine's description");
    (engine, runtime.dialect())
}

/// How the engine tests run against maps container ids to the host's
/// (identity on a plain engine, shifted under `userns-remap`), asked once
/// per test process: a project handed to the job user is chowned to that
/// user's host ids.
pub fn engine_ids() -> IdMap {
    static IDS: OnceLock<IdMap> = OnceLock::new();
    *IDS.get_or_init(|| {
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to ask the engine");
            runtime.block_on(async {
                ensure_docker();
                DockerRuntime::connect()
                    .await
                    .expect("connect to the engine")
                    .id_map()
            })
        })
        .join()
        .expect("ask the engine how it maps ids")
    })
}

/// A project directory the job user can write: a temp dir owned by the
/// host ids of the container's uid 10001 (jobs run as the project's owner,
/// or 10001 when root owns it; under `userns-remap` 10001 is a shifted
/// host uid).
pub fn job_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("project dir");
    let (uid, gid) = engine_ids()
        .corral()
        .host
        .expect("the engine maps corral's job user to a host user");
    std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown project");
    dir
}

async fn build(recipe: ImageRecipe) -> String {
    let docker = docker().await;
    let mut quiet = |_: &str| {};
    recipe
        .build(&docker, &mut quiet)
        .await
        .expect("build image")
        .tag
}

/// The Claude Code image (`corral image build --mode claude`), built once
/// per test process when its tag is missing (about a minute and a half:
/// debootstrap, npm, two Docker builds); tests running at once wait for it.
pub async fn claude_image() -> String {
    static BUILT: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    BUILT
        .get_or_init(|| async {
            let docker = docker().await;
            let mut quiet = |_: &str| {};
            image::build_claude(&docker, &mut quiet)
                .await
                .expect("build the claude image (needs debootstrap and npm)")
                .tag
        })
        .await
        .clone()
}

/// The default image (`corral image build`'s), by its content tag.
pub async fn default_image() -> String {
    build(default_recipe(Path::new(DEFAULT_BUSYBOX)).expect("busybox-static is installed")).await
}

/// The default image with `VOLUME`s: where Docker would give a job a
/// writable directory on the host's disk.
pub async fn volume_image() -> String {
    let mut recipe =
        default_recipe(Path::new(DEFAULT_BUSYBOX)).expect("busybox-static is installed");
    recipe.repository = "corral-test/volumes".into();
    recipe
        .dockerfile_tail
        .push("VOLUME /data/ //var/cache/./app".into());
    build(recipe).await
}

/// A second image with nothing of corral's: busybox alone, no users, no
/// home, no `/workspace`, no `/tmp`.
pub async fn plain_image() -> String {
    let root = busybox_root(Path::new(DEFAULT_BUSYBOX)).expect("busybox-static is installed");
    build(ImageRecipe {
        repository: "corral-test/plain".into(),
        root,
        dockerfile_tail: vec!["LABEL purpose=corral-test-plain".into()],
    })
    .await
}

/// busybox plus the host's `/usr/bin/git` and the shared libraries `ldd`
/// names: an image where `git status`, `diff` and `commit` work.
pub async fn git_image() -> String {
    host_tool_image("corral-test/git", Path::new("/usr/bin/git")).await
}

/// busybox plus the host's `/usr/bin/curl` and its libraries: a standard
/// HTTP client for egress tests, without building a Debian root.
pub async fn curl_image() -> String {
    host_tool_image("corral-test/curl", Path::new("/usr/bin/curl")).await
}

/// busybox plus the host's `tool` and the shared libraries `ldd` names.
async fn host_tool_image(repository: &str, tool: &Path) -> String {
    let mut root = busybox_root(Path::new(DEFAULT_BUSYBOX)).expect("busybox-static is installed");
    let ldd = std::process::Command::new("ldd")
        .arg(tool)
        .output()
        .expect("ldd");
    let libraries: Vec<String> = String::from_utf8_lossy(&ldd.stdout)
        .lines()
        .filter_map(|line| {
            line.split_whitespace()
                .find(|word| word.starts_with('/'))
                .map(str::to_owned)
        })
        .collect();
    for path in std::iter::once(tool.to_string_lossy().into_owned()).chain(libraries) {
        let relative = path.trim_start_matches('/').to_owned();
        let mut parent = Path::new(&relative).parent();
        while let Some(dir) = parent.filter(|dir| !dir.as_os_str().is_empty()) {
            root.entry(dir.to_string_lossy().into_owned())
                .or_insert_with(|| image::dir(0o755, 0));
            parent = dir.parent();
        }
        let bytes = std::fs::read(&path).expect("read a host file for a test image");
        root.insert(relative, image::file(0o755, 0, bytes));
    }
    let label = repository.replace('/', "-");
    build(ImageRecipe {
        repository: repository.into(),
        root,
        dockerfile_tail: vec![format!("LABEL purpose={label}")],
    })
    .await
}

/// Runs `argv` in the running container of job `id` (found by its
/// `corral.job` label) as the container's own user, to its end; panics
/// unless exactly one container carries the label and `argv` exits 0. A
/// test uses it to hold a job at a point and let it go on.
pub async fn exec_in_job(id: &str, argv: &[&str]) {
    ensure_docker();
    let runtime = DockerRuntime::connect().await.expect("connect to Docker");
    let containers = runtime
        .list_by_label(corral_runtime::LABEL_JOB, id)
        .await
        .expect("list containers");
    let [container] = containers.as_slice() else {
        panic!("job {id} has {} containers, not one", containers.len());
    };
    exec_in_container(&container.container_id, argv).await;
}

/// Runs `argv` in container `container_id` as the container's own user, to
/// its end; panics unless it exits 0.
pub async fn exec_in_container(container_id: &str, argv: &[&str]) {
    use bollard::exec::{CreateExecOptions, StartExecResults};
    use futures_util::StreamExt;
    let docker = docker().await;
    let exec = docker
        .create_exec(
            container_id,
            CreateExecOptions::<String> {
                cmd: Some(argv.iter().map(|arg| (*arg).to_owned()).collect()),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..CreateExecOptions::default()
            },
        )
        .await
        .expect("create the exec");
    if let StartExecResults::Attached { mut output, .. } = docker
        .start_exec(&exec.id, None)
        .await
        .expect("start the exec")
    {
        while output.next().await.is_some() {}
    }
    let code = docker
        .inspect_exec(&exec.id)
        .await
        .expect("inspect the exec")
        .exit_code;
    assert_eq!(code, Some(0), "{argv:?} in container {container_id}");
}

/// Removes every container carrying `label=value`; returns how many there were.
pub async fn remove_labelled(label: &str, value: &str) -> usize {
    ensure_docker();
    let runtime = DockerRuntime::connect().await.expect("connect to Docker");
    let containers = runtime
        .list_by_label(label, value)
        .await
        .expect("list containers");
    for container in &containers {
        let _ = runtime.remove(&container.container_id).await;
    }
    containers.len()
}

/// Removes every container of orchestrator instance `instance_id` from
/// synchronous code (a `Drop`), on a thread with its own runtime.
pub fn remove_instance_now(instance_id: &str) {
    let instance_id = instance_id.to_owned();
    let cleanup = std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(remove_labelled(
                corral_runtime::LABEL_INSTANCE,
                &instance_id,
            ));
        }
    });
    let _ = cleanup.join();
}

/// Waits (checking every 100 ms, 10 s at most) for `condition`; true once it holds.
pub async fn eventually<F: std::future::Future<Output = bool>>(
    mut condition: impl FnMut() -> F,
) -> bool {
    for _ in 0..100 {
        if condition().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}
