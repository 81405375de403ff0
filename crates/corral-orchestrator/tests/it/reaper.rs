use std::collections::HashMap;

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use corral_proto::JobState;
use corral_runtime::{LABEL_INSTANCE, LABEL_JOB};
use corral_testkit::{TestServer, docker, remove_labelled};
use serde_json::json;

#[tokio::test]
async fn a_container_no_live_job_owns_is_reaped() {
    let server = TestServer::start_with(|config| config.reap_interval_secs = 1).await;
    let stray_job = "j-stray000000000000";
    let body = ContainerCreateBody {
        image: Some(corral_testkit::default_image().await),
        cmd: Some(vec!["sleep".into(), "300".into()]),
        labels: Some(HashMap::from([
            (LABEL_JOB.to_owned(), stray_job.to_owned()),
            (LABEL_INSTANCE.to_owned(), server.instance_id.clone()),
        ])),
        ..ContainerCreateBody::default()
    };
    let docker = docker().await;
    let created = docker
        .create_container(None::<CreateContainerOptions>, body)
        .await
        .expect("stray container");
    // A live job's container must survive the same sweeps.
    let live = server.create(&json!({"command": ["sleep", "300"]})).await;
    server.wait_for_state(&live, JobState::Running).await;
    let gone = corral_testkit::eventually(|| async {
        docker
            .inspect_container(
                &created.id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .is_err()
    })
    .await;
    let _ = docker
        .remove_container(
            &created.id,
            Some(RemoveContainerOptions {
                force: true,
                ..RemoveContainerOptions::default()
            }),
        )
        .await;
    assert!(gone, "the stray container was reaped within 10 s");
    assert_eq!(
        server.job(&live).await.state,
        JobState::Running,
        "the live job's container was left alone"
    );
    let (status, _) = server.post(&format!("/v1/jobs/{live}/cancel"), "").await;
    assert_eq!(status, 200);
    server.follow(&live).await;
    assert_eq!(remove_labelled(LABEL_JOB, stray_job).await, 0);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_job_whose_container_vanishes_fails_with_container_lost() {
    let server = TestServer::start().await;
    let id = server.create(&json!({"command": ["sleep", "300"]})).await;
    server.wait_for_state(&id, JobState::Running).await;
    assert_eq!(
        remove_labelled(LABEL_JOB, &id).await,
        1,
        "removed behind corral's back"
    );
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::Failed);
    assert_eq!(followed.job.reason.as_deref(), Some("container lost"));
    assert_eq!(server.stop().await, 0);
}
