//! `corral verify` on this host: the probe job passes under runc and gVisor,
//! a container with a setting removed fails the row that names it, the
//! check at start gates jobs, and every job's first `running` status event
//! carries its container's profile as Docker reports it.

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptions, LogsOptions, RemoveContainerOptions, WaitContainerOptions,
};
use corral_docker::spec::container_spec;
use corral_orchestrator::internals::{Expected, judge};
use corral_proto::verify::{ContainerProfile, Observations, VerifyReport};
use corral_proto::{EventKind, JobState};
use corral_runtime::{JobUser, SandboxRequest};
use corral_testkit::TestServer;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::json;

async fn verify(server: &TestServer, isolation: &str) -> VerifyReport {
    let (status, body) = server
        .post(&format!("/v1/verify?isolation={isolation}"), "")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("report JSON")
}

fn failing(report: &VerifyReport) -> Vec<String> {
    report
        .failing()
        .map(|row| {
            format!(
                "{}: expected {}; observed {}",
                row.promise, row.expected, row.observed
            )
        })
        .collect()
}

#[tokio::test]
async fn verify_passes_under_runc() {
    let server = TestServer::start().await;
    let report = verify(&server, "runc").await;
    assert!(report.passed, "{:#?}", failing(&report));
    assert!(report.rows.len() >= 14, "{:?}", report.rows);
    // It names the engine it proved, as the engine describes itself
    // (rootless or not, how ids are mapped).
    let (engine, _) = corral_testkit::engine().await;
    assert_eq!(report.engine.as_deref(), Some(engine.to_string().as_str()));
    // The probe was a real job, and the last report is kept.
    let job_id = report.job_id.clone().expect("probe job id");
    assert_eq!(server.job(&job_id).await.state, JobState::Succeeded);
    let (status, last) = server.get("/v1/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(last["job_id"], job_id.as_str());
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn verify_passes_under_gvisor() {
    let server = TestServer::start().await;
    let report = verify(&server, "gvisor").await;
    assert!(report.passed, "{:#?}", failing(&report));
    let seccomp = report
        .rows
        .iter()
        .find(|row| row.promise.contains("gVisor"))
        .expect("the seccomp row says it is judged by gVisor");
    assert!(seccomp.observed.contains("runsc"), "{seccomp:?}");
    assert_eq!(server.stop().await, 0);
}

/// Runs the probe as the entrypoint of a container made from
/// `container_spec` after `weaken`, and judges it as `corral verify` does.
async fn probe_container(weaken: impl FnOnce(&mut ContainerCreateBody)) -> Vec<String> {
    let data_dir = tempfile::tempdir().expect("data dir");
    let socket_dir = data_dir.path().join("sockets");
    std::fs::create_dir(&socket_dir).expect("socket dir");
    let job = corral_proto::Job::queued(
        format!("j-verify{}", std::process::id()),
        corral_proto::JobMode::Exec,
        corral_testkit::default_image().await,
        corral_proto::Limits {
            memory_bytes: 256 << 20,
            cpu_shares: 1024,
            pids: 128,
            timeout_secs: 60,
            tmpfs_bytes: 64 << 20,
            max_llm_calls: 0,
            max_tokens: 0,
            max_iterations: 0,
            idle_timeout_secs: 60,
        },
    );
    let worker_bin = corral_testkit::worker_bin();
    let request = SandboxRequest {
        job: job.clone(),
        socket_dir,
        worker_bin: worker_bin.clone(),
        instance_id: "verify-test".into(),
        oci_runtime: None,
        user: JobUser::CORRAL,
        pooled: false,
        project_source: None,
        image_volumes: Vec::new(),
    };
    let mut body = container_spec(&request, corral_testkit::engine().await.1, None);
    body.cmd = Some(vec![
        "probe".into(),
        "--connect".into(),
        "127.0.0.1:9".into(),
    ]);
    weaken(&mut body);
    let (stdout, profile) = run_to_end(body).await;
    let observations: Observations = serde_json::from_str(stdout.trim()).expect("probe JSON");
    let rows = judge(
        &Expected {
            limits: &job.limits,
            gvisor: false,
            worker_bin: &worker_bin,
            data_dirs: [data_dir.path(), data_dir.path()],
            no_egress: true,
            host_connections: 0,
        },
        Some(&observations),
        Some(&profile),
    );
    rows.into_iter()
        .filter(|row| !row.ok)
        .map(|row| row.promise)
        // No worker runs beside a probe that is the entrypoint itself.
        .filter(|promise| !promise.contains("worker's memory"))
        .collect()
}

/// Creates, runs and removes a container made from `body`; its stdout and
/// its profile as Docker reports it.
async fn run_to_end(body: ContainerCreateBody) -> (String, ContainerProfile) {
    let docker = corral_testkit::docker().await;
    let name = format!("corral-verify-test-{}", std::process::id());
    let created = docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name.clone()),
                ..CreateContainerOptions::default()
            }),
            body,
        )
        .await
        .expect("create the probe container");
    docker
        .start_container(
            &created.id,
            None::<bollard::query_parameters::StartContainerOptions>,
        )
        .await
        .expect("start");
    let _ = docker
        .wait_container(&created.id, None::<WaitContainerOptions>)
        .next()
        .await;
    let mut logs = docker.logs(
        &created.id,
        Some(LogsOptions {
            stdout: true,
            ..LogsOptions::default()
        }),
    );
    let mut stdout = String::new();
    while let Some(chunk) = logs.next().await {
        stdout.push_str(&chunk.expect("log chunk").to_string());
    }
    let inspected = docker
        .inspect_container(
            &created.id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .expect("inspect");
    let profile: ContainerProfile = corral_docker::profile::profile_of(&inspected);
    docker
        .remove_container(
            &created.id,
            Some(RemoveContainerOptions {
                force: true,
                ..RemoveContainerOptions::default()
            }),
        )
        .await
        .expect("remove");
    (stdout, profile)
}

#[tokio::test]
async fn verify_fails_naming_the_row_when_a_setting_is_removed() {
    // The same harness on the intact profile: nothing fails.
    assert_eq!(probe_container(|_| {}).await, Vec::<String>::new());
    let failed = probe_container(|body| {
        let host = body.host_config.as_mut().expect("host config");
        host.readonly_rootfs = Some(false);
    })
    .await;
    assert_eq!(failed, ["the root filesystem is read-only"]);
    let failed = probe_container(|body| {
        let host = body.host_config.as_mut().expect("host config");
        host.cap_drop = None;
        host.security_opt = None;
    })
    .await;
    assert_eq!(
        failed,
        [
            "no capabilities (effective, permitted, bounding)",
            "no new privileges (setuid binaries gain nothing)"
        ]
    );
    let failed = probe_container(|body| {
        let host = body.host_config.as_mut().expect("host config");
        host.pids_limit = None;
        host.memory_swap = Some(-1);
    })
    .await;
    assert_eq!(
        failed,
        [
            "a pids limit is in force",
            "a memory limit is in force, with no swap beyond it"
        ]
    );
}

#[tokio::test]
async fn jobs_wait_for_the_check_at_start_and_are_refused_while_it_fails() {
    let server = TestServer::start_with(|config| config.verify_at_start = true).await;
    // Created while the check may still run: it waits, then runs.
    let id = server.create(&json!({"command": "echo gated"})).await;
    server.follow(&id).await.assert_succeeded();
    let (status, last) = server.get("/v1/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(last["passed"], true, "{last}");
    assert_eq!(server.stop().await, 0);

    // A check that cannot pass (its image does not exist) closes the gate.
    let server = TestServer::start_with(|config| {
        config.verify_at_start = true;
        config.default_image = "corral-test/absent:none".into();
    })
    .await;
    let image = corral_testkit::default_image().await;
    let (status, body) = server
        .post(
            "/v1/jobs",
            &json!({"command": "echo no", "image": image}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let message = body["error"].as_str().expect("error text");
    assert!(
        message.contains("the probe job ran to its end"),
        "{message}"
    );
    assert!(message.contains("--no-verify"), "{message}");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_jobs_first_running_event_carries_its_containers_profile() {
    let server = TestServer::start().await;
    let id = server.create(&json!({"command": "echo hi"})).await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let profile = running_profile(&followed);
    let limits = &followed.job.limits;
    assert!(profile.readonly_rootfs);
    assert_eq!(profile.network_mode, "none");
    assert_eq!(profile.user, "10001:10001");
    let (engine, dialect) = corral_testkit::engine().await;
    crate::sandbox::assert_all_capabilities_dropped(Some(&profile.cap_drop), dialect);
    assert!(profile.cap_add.is_empty());
    crate::sandbox::assert_security_opt(Some(&profile.security_opt), dialect);
    assert_eq!(profile.pids_limit, Some(limits.pids));
    let memory = i64::try_from(limits.memory_bytes).expect("memory");
    assert_eq!(
        (profile.memory, profile.memory_swap),
        (Some(memory), Some(memory))
    );
    let size = format!("size={}", limits.tmpfs_bytes);
    assert!(profile.tmpfs["/tmp"].contains(&size), "{:?}", profile.tmpfs);
    assert_eq!(
        profile.runtime,
        crate::sandbox::reported_default_runtime(&engine, dialect)
    );
    let mut targets: Vec<&str> = profile
        .mounts
        .iter()
        .map(|mount| mount.destination.as_str())
        .collect();
    targets.sort_unstable();
    assert_eq!(targets, ["/run/corral", "/run/corral-worker"]);
    assert_eq!(server.stop().await, 0);
}

/// The container profile a job's first `running` status event carries.
pub(crate) fn running_profile(followed: &corral_testkit::Followed) -> ContainerProfile {
    let running = followed
        .events
        .iter()
        .find(|event| event.kind == EventKind::Status && event.data["state"] == "running")
        .expect("a running status event");
    serde_json::from_value(running.data["profile"].clone()).expect("a profile")
}
