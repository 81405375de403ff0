//! What differs by engine, run on whichever engine the tests reach
//! (`DOCKER_HOST`, else Docker's socket; `scripts/test-engines.sh` runs
//! the engine matrix on Podman): a job asking for an OCI runtime runs under
//! it where the engine honours the choice, and is refused where it would
//! silently run under another.

use corral_docker::Dialect;
use corral_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_job_naming_gvisor_runs_under_runsc_or_is_refused_never_run_weaker() {
    let (engine, dialect) = corral_testkit::engine().await;
    let server = TestServer::start().await;
    let spec = json!({"command": "echo hi", "isolation": "gvisor"});
    let (status, body) = server.post("/v1/jobs", &spec.to_string()).await;
    match dialect {
        Dialect::Docker => {
            assert_eq!(status, StatusCode::CREATED, "{engine}: {body}");
            let id = body["id"].as_str().expect("an id");
            let followed = server.follow(id).await;
            followed.assert_succeeded();
            let profile = crate::verify::running_profile(&followed);
            assert_eq!(profile.runtime, "runsc");
        }
        Dialect::Podman => {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{engine}: {body}");
            assert_eq!(body["field"], "isolation", "{body}");
            assert!(
                body["error"]
                    .as_str()
                    .is_some_and(|error| error.contains("ignores the OCI runtime")),
                "{body}"
            );
            let (_, jobs) = server.get("/v1/jobs").await;
            assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(0), "{jobs}");
        }
    }
    assert_eq!(server.stop().await, 0);
}
