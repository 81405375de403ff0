//! One live server per data directory: a second one is refused, naming the
//! first, and takes nothing of it (its jobs, its `server.json`).

use std::sync::Arc;

use corral_docker::DockerRuntime;
use corral_orchestrator::DataDirError;
use corral_orchestrator::{Config, ConfigOverrides, ServeError};
use corral_proto::JobState;
use corral_testkit::TestServer;
use serde_json::json;

#[tokio::test]
async fn a_second_server_on_a_data_directory_is_refused_and_the_first_keeps_its_job() {
    let first = TestServer::start().await;
    let id = first
        .create(&json!({"command": "while [ ! -e /tmp/never ]; do sleep 0.2; done"}))
        .await;
    first.wait_for_state(&id, JobState::Running).await;
    let config = Config::load(ConfigOverrides {
        data_dir: Some(first.data_dir.path().to_owned()),
        listen: Some("127.0.0.1:0".parse().expect("loopback address")),
        worker_bin: Some(corral_testkit::worker_bin()),
        ..ConfigOverrides::default()
    })
    .expect("config");
    let runtime = DockerRuntime::connect().await.expect("connect to Docker");
    let Err(error) = corral_orchestrator::start(config, Arc::new(runtime)).await else {
        panic!("a second server started on a data directory in use");
    };
    assert!(
        matches!(error, ServeError::DataDir(DataDirError::Busy { .. })),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("pid {}", std::process::id())) && message.contains(&first.url),
        "names the running server: {message}"
    );
    assert!(
        first.data_dir.path().join("server.json").exists(),
        "its file stays"
    );
    assert_eq!(
        first.job(&id).await.state,
        JobState::Running,
        "its job runs on"
    );
    let (status, _) = first.post(&format!("/v1/jobs/{id}/cancel"), "").await;
    assert!(status.is_success());
    assert_eq!(first.follow(&id).await.job.state, JobState::Cancelled);
    assert_eq!(first.stop().await, 0);
}
