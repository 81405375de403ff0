//! What differs by engine, run on whichever engine the tests reach
//! (`DOCKER_HOST`, else Docker's socket; `scripts/test-engines.sh` runs
//! the engine matrix on Podman and on Docker with `userns-remap`): a job
//! asking for an OCI runtime runs under it where the engine honours the
//! choice, and is refused where it would silently run under another or
//! could not start; a bound project is the job's only when its owner is a
//! user inside the engine's containers, and what the job writes there is
//! the owner's on the host.

use std::os::unix::fs::MetadataExt;

use bollard::query_parameters::ListContainersOptions;
use corral_docker::Dialect;
use corral_runtime::IdMap;
use corral_testkit::{TestServer, engine_ids};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_job_naming_gvisor_runs_under_runsc_or_is_refused_never_run_weaker() {
    let (engine, dialect) = corral_testkit::engine().await;
    let server = TestServer::start().await;
    let spec = json!({"command": "echo hi", "isolation": "gvisor"});
    let (status, body) = server.post("/v1/jobs", &spec.to_string()).await;
    match dialect {
        Dialect::Docker if engine_ids() != IdMap::Identity => {
            // runsc's gofer would open the job's mounts as the engine's
            // (unprivileged) root: refused before anything is stored.
            refused_for_isolation(&server, &engine, status, &body, "remaps ids").await;
        }
        Dialect::Docker => {
            assert_eq!(status, StatusCode::CREATED, "{engine}: {body}");
            let id = body["id"].as_str().expect("an id");
            let followed = server.follow(id).await;
            followed.assert_succeeded();
            let profile = crate::verify::running_profile(&followed);
            assert_eq!(profile.runtime, "runsc");
        }
        Dialect::Podman => {
            refused_for_isolation(&server, &engine, status, &body, "ignores the OCI runtime").await;
        }
    }
    assert_eq!(server.stop().await, 0);
}

/// A job refused with 400 naming `isolation`, its error saying `words`,
/// and no job stored.
async fn refused_for_isolation(
    server: &TestServer,
    engine: &impl std::fmt::Display,
    status: StatusCode,
    body: &serde_json::Value,
    words: &str,
) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{engine}: {body}");
    assert_eq!(body["field"], "isolation", "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|error| error.contains(words)),
        "{body}"
    );
    let (_, jobs) = server.get("/v1/jobs").await;
    assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(0), "{jobs}");
}

/// The containers of `server`'s instance, whatever their state.
async fn containers_of(server: &TestServer) -> usize {
    let filters = std::collections::HashMap::from([(
        "label".to_owned(),
        vec![format!(
            "{}={}",
            corral_runtime::LABEL_INSTANCE,
            server.instance_id
        )],
    )]);
    corral_testkit::docker()
        .await
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..ListContainersOptions::default()
        }))
        .await
        .expect("list containers")
        .len()
}

fn project_owned_by(uid: u32, gid: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("project");
    std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown project");
    dir
}

#[tokio::test]
async fn a_bound_project_is_its_owners_inside_and_out_or_refused_before_any_container() {
    let map = engine_ids();
    let server = TestServer::start().await;
    // A user's project (container uid 1000, wherever the engine puts it on
    // the host): the job runs as that user and what it writes is theirs.
    let owner = map
        .user(1000, 1000)
        .host
        .expect("the engine maps container uid 1000");
    let project = project_owned_by(owner.0, owner.1);
    let id = server
        .create(&json!({
            "command": "id -u; echo made > /workspace/made.txt",
            "project": project.path().to_string_lossy(),
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert_eq!(followed.stdout(), "1000\n");
    let made = std::fs::metadata(project.path().join("made.txt")).expect("the job's file");
    assert_eq!((made.uid(), made.gid()), owner, "{map}");

    if let IdMap::Shifted { first_uid, .. } = map {
        // Host uid 1000 is nobody inside: refused, naming the field and
        // the fix, with nothing stored and no container made.
        let before = containers_of(&server).await;
        let stranger = project_owned_by(1000, 1000);
        let spec = json!({"command": "true", "project": stranger.path().to_string_lossy()});
        let (status, body) = server.post("/v1/jobs", &spec.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["field"], "project", "{body}");
        let error = body["error"].as_str().unwrap_or_default();
        let corral = first_uid + corral_proto::worker::JOB_UID;
        assert!(error.contains("no user inside"), "{error}");
        assert!(error.contains(&format!("chown -R {corral}:")), "{error}");
        let (_, jobs) = server.get("/v1/jobs").await;
        assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(1), "{jobs}");
        assert_eq!(containers_of(&server).await, before);
    }
    assert_eq!(server.stop().await, 0);
}

/// Run by the engine matrix with `CORRAL_EXPECT_ROOTLESS=1` on rootless
/// Podman; elsewhere the engine must say it is rootful. A rootless engine
/// that cannot hold a job's limits (any on cgroup v1) is refused when corral
/// connects, naming why, even though Podman's Docker-compatible `info`
/// claims the limits and names no `rootless` option.
#[tokio::test]
async fn a_rootless_engine_is_named_and_refused_where_it_cannot_hold_the_limits() {
    corral_testkit::ensure_docker();
    let expect_rootless = std::env::var_os("CORRAL_EXPECT_ROOTLESS").is_some();
    let cgroup_v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    match corral_docker::DockerRuntime::connect().await {
        Ok(runtime) => {
            let engine = runtime.engine().await.expect("the engine's description");
            assert_eq!(engine.rootless, expect_rootless, "{engine}");
            assert!(
                !expect_rootless || cgroup_v2,
                "a rootless engine on cgroup v1 was accepted: {engine}"
            );
            if expect_rootless {
                assert_eq!(engine.id_map, IdMap::Unknown, "{engine}");
            }
        }
        Err(error) => {
            let text = error.to_string();
            assert!(expect_rootless, "a rootful engine refused: {text}");
            assert!(!cgroup_v2, "refused on cgroup v2: {text}");
            assert!(
                text.contains("rootless") && text.contains("cgroup v1") && text.contains("no job"),
                "{text}"
            );
        }
    }
}
