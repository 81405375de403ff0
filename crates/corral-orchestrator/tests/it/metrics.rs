use corral_testkit::TestServer;
use corral_testkit::reqwest::Method;
use serde_json::json;

/// The integer value of `series` on the page.
fn value(page: &str, series: &str) -> u64 {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .expect("the series is on the page")
}

#[tokio::test]
async fn metrics_count_jobs_events_and_start_latency() {
    let server = TestServer::start().await;
    let id = server.create(&json!({"command": ["echo", "hi"]})).await;
    server.follow(&id).await;
    let (status, _) = server.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, 401, "metrics need the token");
    let (status, page) = server.get("/metrics").await;
    assert_eq!(status, 200);
    let page = page.as_str().expect("text").to_owned();
    assert_eq!(value(&page, "corral_jobs{state=\"succeeded\"}"), 1);
    assert_eq!(value(&page, "corral_jobs{state=\"running\"}"), 0);
    assert!(value(&page, "corral_events_stored_total") >= 5, "{page}");
    assert_eq!(value(&page, "corral_job_start_seconds_count"), 1);
    assert_eq!(
        value(&page, "corral_job_start_seconds_bucket{le=\"+Inf\"}"),
        1
    );
    assert_eq!(value(&page, "corral_running_containers"), 0);
    assert_eq!(server.stop().await, 0);
}
