//! The warm pool (`pool.size`): containers started ahead of demand, each
//! serving one job, refilled in the background and removed at shutdown.

use bollard::query_parameters::{InspectContainerOptions, KillContainerOptions};
use corral_docker::Dialect;
use corral_orchestrator::internals::{JobRecords, SqliteStore};
use corral_proto::{EventKind, JobState};
use corral_runtime::{LABEL_INSTANCE, LABEL_JOB, LABEL_POOL};
use corral_testkit::{TestServer, docker, eventually};
use serde_json::{Value, json};

mod first_report;
mod profile;
use profile::profile;

async fn pooled_server(size: usize) -> TestServer {
    let server = TestServer::start_with(|config| config.pool.size = size).await;
    assert!(
        until_idle(&server, size).await,
        "the pool fills to {size} within 10 s"
    );
    server
}

/// Waits until the pool holds `count` ready containers.
async fn until_idle(server: &TestServer, count: usize) -> bool {
    eventually(|| async {
        server.metric("corral_pool_idle_containers").await == Some(count as u64)
    })
    .await
}

async fn metric(server: &TestServer, series: &str) -> u64 {
    server.metric(series).await.expect("series on the page")
}

/// The container's inspect body.
async fn inspect(container_id: &str) -> bollard::models::ContainerInspectResponse {
    docker()
        .await
        .inspect_container(container_id, None::<InspectContainerOptions>)
        .await
        .expect("inspect")
}

/// Waits until `container` bears job `id`'s name (renamed after the job runs).
async fn until_renamed(container: &str, id: &str) -> bool {
    eventually(|| async {
        inspect(container).await.name.as_deref() == Some(format!("/corral-{id}").as_str())
    })
    .await
}

/// Ids of the pool's containers now, by label.
async fn pool_containers(server: &TestServer) -> Vec<String> {
    let filters = std::collections::HashMap::from([(
        "label".to_owned(),
        vec![
            format!("{LABEL_POOL}=1"),
            format!("{LABEL_INSTANCE}={}", server.instance_id),
        ],
    )]);
    docker()
        .await
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_iter()
        .filter_map(|container| container.id)
        .collect()
}

/// The events of a finished job as (kind, state) pairs, a run of output
/// events as one (how output is split into events depends on timing), and
/// its stdout.
async fn trace(server: &TestServer, id: &str) -> (Vec<(EventKind, Value)>, String) {
    let followed = server.follow(id).await;
    followed.assert_succeeded();
    let mut kinds: Vec<_> = followed
        .events
        .iter()
        .map(|event| (event.kind, event.data["state"].clone()))
        .collect();
    kinds.dedup();
    (kinds, followed.stdout().replace(id, "<job id>"))
}

/// The container profile the job's `running` event carries.
async fn running_profile(server: &TestServer, id: &str) -> Value {
    let (status, body) = server.get(&format!("/v1/jobs/{id}/events")).await;
    assert_eq!(status, 200, "{body}");
    let events = body["events"].as_array().cloned().unwrap_or_default();
    let profile = events
        .iter()
        .find(|event| event["kind"] == "status" && event["data"]["state"] == "running")
        .map(|event| event["data"]["profile"].clone())
        .unwrap_or_default();
    assert!(
        profile.is_object(),
        "no running event with a profile: {body}"
    );
    profile
}

#[tokio::test]
async fn a_pooled_job_behaves_exactly_like_a_cold_one() {
    let pooled = pooled_server(1).await;
    let cold = TestServer::start().await;
    let script = "echo \"job $CORRAL_JOB_ID as $(id -u):$(id -g) in $(pwd) home $HOME\"; \
                  ls -A /run/corral; cat /sys/fs/cgroup/pids.max 2>/dev/null || true";
    let warm_id = pooled.create(&json!({ "command": script })).await;
    let cold_id = cold.create(&json!({ "command": script })).await;
    let (warm_events, warm_out) = trace(&pooled, &warm_id).await;
    let (cold_events, cold_out) = trace(&cold, &cold_id).await;
    assert_eq!(metric(&pooled, "corral_pool_taken_total").await, 1);
    assert_eq!(
        warm_events, cold_events,
        "the same events in the same order"
    );
    assert_eq!(warm_out, cold_out);
    assert!(
        warm_out.contains("job <job id> as 10001:10001"),
        "{warm_out}"
    );
    assert!(
        warm_out.contains("worker.sock") && !warm_out.contains("token"),
        "the token file is gone once used: {warm_out}"
    );

    // The same profile in `docker inspect`, on a long job of each kind.
    let warm_long = pooled.create(&json!({ "command": ["sleep", "300"] })).await;
    let cold_long = cold.create(&json!({ "command": ["sleep", "300"] })).await;
    pooled.wait_for_state(&warm_long, JobState::Running).await;
    cold.wait_for_state(&cold_long, JobState::Running).await;
    let warm_container = pooled.job(&warm_long).await.container_id.expect("id");
    let cold_container = cold.job(&cold_long).await.container_id.expect("id");
    let (warm, cold_inspected) = (
        inspect(&warm_container).await,
        inspect(&cold_container).await,
    );
    let warm_labels = warm
        .config
        .as_ref()
        .and_then(|config| config.labels.clone());
    let warm_labels = warm_labels.expect("labels");
    assert_eq!(warm_labels[LABEL_POOL], "1", "it came from the pool");
    assert!(warm_labels[LABEL_JOB].starts_with("p-"), "{warm_labels:?}");
    let mut cold_profile = profile(&cold_inspected);
    // The two servers differ in their instance id only.
    cold_profile["labels"][LABEL_INSTANCE] = json!(pooled.instance_id);
    assert_eq!(profile(&warm), cold_profile);
    // The job's evidence (read when the pool container was made) is what
    // Docker reports for it now.
    let evidence = running_profile(&pooled, &warm_long).await;
    let host = warm.host_config.as_ref().expect("host config");
    assert_eq!(evidence["memory"], json!(host.memory), "{evidence}");
    assert_eq!(evidence["pids_limit"], json!(host.pids_limit), "{evidence}");
    assert_eq!(
        evidence["readonly_rootfs"],
        json!(host.readonly_rootfs),
        "{evidence}"
    );
    // The rename comes after the job runs: wait for it.
    assert!(
        until_renamed(&warm_container, &warm_long).await,
        "renamed for its job"
    );
    for (server, id) in [(&pooled, &warm_long), (&cold, &cold_long)] {
        let (status, _) = server.post(&format!("/v1/jobs/{id}/cancel"), "").await;
        assert_eq!(status, 200);
        assert_eq!(server.follow(id).await.job.state, JobState::Cancelled);
    }
    assert_eq!(pooled.stop().await, 0);
    assert_eq!(cold.stop().await, 0);
}

#[tokio::test]
async fn the_pool_refills_and_a_pool_container_serves_one_job() {
    let server = pooled_server(1).await;
    let first_pool = pool_containers(&server).await;
    assert_eq!(first_pool.len(), 1);
    // A long job takes the pool's container; the pool refills behind it.
    let long = server.create(&json!({ "command": ["sleep", "300"] })).await;
    server.wait_for_state(&long, JobState::Running).await;
    let long_container = server.job(&long).await.container_id.expect("id");
    assert_eq!(vec![long_container.clone()], first_pool);
    assert!(until_idle(&server, 1).await, "the pool refilled");
    let refill = pool_containers(&server).await;
    assert_eq!(refill.len(), 2, "the busy one and its replacement");

    // Each job gets its own container and its own token.
    let mut containers = vec![long_container];
    let mut tokens = Vec::new();
    let store = SqliteStore::open(&server.data_dir.path().join("corral.db")).expect("store");
    for round in 0..3 {
        assert!(
            until_idle(&server, 1).await,
            "refilled before round {round}"
        );
        let id = server.create(&json!({ "command": ["echo", "hi"] })).await;
        let followed = server.follow(&id).await;
        followed.assert_succeeded();
        assert_eq!(followed.stdout(), "hi\n");
        containers.push(followed.job.container_id.clone().expect("id"));
        tokens.push(store.token_hash(&id).await.expect("store").expect("hash"));
    }
    assert_eq!(metric(&server, "corral_pool_taken_total").await, 4);
    let distinct: std::collections::HashSet<_> = containers.iter().collect();
    assert_eq!(distinct.len(), containers.len(), "{containers:?}");
    let distinct: std::collections::HashSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), tokens.len(), "a token per job");

    // Two jobs at once on a pool of one: one takes it, the other starts
    // cold; neither shares a container.
    assert!(until_idle(&server, 1).await);
    let both = [
        server.create(&json!({ "command": ["echo", "a"] })).await,
        server.create(&json!({ "command": ["echo", "b"] })).await,
    ];
    let mut pair = Vec::new();
    for id in &both {
        let followed = server.follow(id).await;
        followed.assert_succeeded();
        pair.push(followed.job.container_id.clone().expect("id"));
    }
    assert_ne!(pair[0], pair[1]);
    let taken = metric(&server, "corral_pool_taken_total").await;
    let missed = metric(&server, "corral_pool_missed_total").await;
    assert_eq!(taken + missed, 6, "taken {taken}, missed {missed}");
    assert!((5..=6).contains(&taken), "taken {taken}");

    let (status, _) = server.post(&format!("/v1/jobs/{long}/cancel"), "").await;
    assert_eq!(status, 200);
    server.follow(&long).await;
    for container in &containers {
        assert!(
            docker()
                .await
                .inspect_container(container, None::<InspectContainerOptions>)
                .await
                .is_err(),
            "a used pool container is removed with its job"
        );
    }
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_pool_container_takes_a_jobs_own_limits_but_not_a_bound_project_or_tmpfs() {
    let server = pooled_server(1).await;
    // Memory, CPU shares and pids are set on the running pool container;
    // on Podman, whose compat API cannot update them, the job starts cold
    // and leaves the pool's container to a job with the pool's limits.
    let taken = u64::from(corral_testkit::engine().await.1 != Dialect::Podman);
    let waiting = pool_containers(&server).await;
    let own = server
        .create(&json!({
            "command": ["sleep", "300"],
            "limits": {"memory": "300m", "cpu_shares": 300, "pids": 77},
        }))
        .await;
    server.wait_for_state(&own, JobState::Running).await;
    let container = server.job(&own).await.container_id.expect("id");
    let inspected = inspect(&container).await;
    let labels = inspected
        .config
        .as_ref()
        .and_then(|config| config.labels.clone());
    let from_pool = labels.expect("labels").get(LABEL_POOL).cloned();
    assert_eq!(
        from_pool.is_some(),
        taken == 1,
        "from the pool: {from_pool:?}"
    );
    if taken == 0 {
        // Not taken and thrown away: the very container still waits.
        assert_eq!(pool_containers(&server).await, waiting);
    }
    let host = inspected.host_config.expect("host config");
    assert_eq!(host.memory, Some(300 << 20));
    assert_eq!(host.memory_swap, Some(300 << 20));
    assert_eq!(host.cpu_shares, Some(300));
    assert_eq!(host.pids_limit, Some(77));
    // The job's evidence is read after its limits were set, not the pool
    // container's as it was made.
    let evidence = running_profile(&server, &own).await;
    assert_eq!(evidence["memory"], json!(300 << 20), "{evidence}");
    assert_eq!(evidence["pids_limit"], json!(77), "{evidence}");
    let (status, _) = server.post(&format!("/v1/jobs/{own}/cancel"), "").await;
    assert_eq!(status, 200);
    server.follow(&own).await;
    assert_eq!(metric(&server, "corral_pool_taken_total").await, taken);

    // A bound project and a tmpfs size of its own start cold.
    assert!(until_idle(&server, 1).await);
    let project = corral_testkit::job_project();
    let with_project = server
        .create(&json!({ "command": ["ls", "/workspace"], "project": project.path() }))
        .await;
    let own_tmpfs = server
        .create(&json!({ "command": ["echo", "small"], "limits": {"tmpfs": "8m"} }))
        .await;
    for id in [&with_project, &own_tmpfs] {
        server.follow(id).await.assert_succeeded();
    }
    assert_eq!(metric(&server, "corral_pool_taken_total").await, taken);
    assert_eq!(metric(&server, "corral_pool_idle_containers").await, 1);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn an_idle_pool_container_that_dies_is_replaced_and_the_reaper_spares_the_pool() {
    let server = TestServer::start_with(|config| {
        config.pool.size = 1;
        config.reap_interval_secs = 1;
    })
    .await;
    assert!(until_idle(&server, 1).await);
    let first = pool_containers(&server).await;
    assert_eq!(first.len(), 1);
    // Two more reaper passes end: the second began after the pool's
    // container was there, and looked at it. The idle container stays.
    let passes = metric(&server, "corral_reaper_passes_total").await;
    let swept = eventually(|| async {
        server.metric("corral_reaper_passes_total").await >= Some(passes + 2)
    })
    .await;
    assert!(
        swept,
        "the reaper ran twice within 10 s (from pass {passes})"
    );
    assert_eq!(pool_containers(&server).await, first, "the reaper left it");
    docker()
        .await
        .kill_container(&first[0], None::<KillContainerOptions>)
        .await
        .expect("kill");
    let replaced = eventually(|| async {
        let now = pool_containers(&server).await;
        now.len() == 1 && now != first
    })
    .await;
    assert!(replaced, "a new pool container replaced the dead one");
    assert!(until_idle(&server, 1).await);
    let id = server
        .create(&json!({ "command": ["echo", "after"] }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert_eq!(metric(&server, "corral_pool_taken_total").await, 1);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn shutting_the_server_down_removes_the_pool() {
    let server = pooled_server(2).await;
    assert_eq!(pool_containers(&server).await.len(), 2);
    let run_dir = server.data_dir.path().join("run");
    let pool_dirs = std::fs::read_dir(&run_dir).expect("run dir").count();
    assert_eq!(pool_dirs, 2, "a socket directory per pool container");
    let instance = server.instance_id.clone();
    // `stop` counts what is left with this instance's label (and removes it).
    assert_eq!(server.stop().await, 0, "the server removed its pool");
    assert_eq!(
        corral_testkit::remove_labelled(LABEL_INSTANCE, &instance).await,
        0
    );
}
