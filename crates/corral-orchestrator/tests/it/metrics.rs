use corral_testkit::TestServer;
use corral_testkit::reqwest::Method;
use serde_json::json;

/// The integer value of `series` on the page.
fn value(page: &str, series: &str) -> u64 {
    corral_testkit::metric_value(page, series).expect("the series is on the page")
}

/// Every line is a comment (`# HELP`/`# TYPE`) or `name{labels} value`.
fn assert_prometheus_text(page: &str) {
    let sample = regex::Regex::new(r#"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_]+="[^"]*"(,[a-zA-Z_]+="[^"]*")*\})? [-+]?([0-9.e+-]+|Inf|NaN)$"#)
        .expect("pattern");
    for line in page.lines().filter(|line| !line.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "{line}"
            );
        } else {
            assert!(sample.is_match(line), "not a Prometheus sample: {line}");
            let value = line.rsplit(' ').next().expect("value");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}

#[tokio::test]
async fn metrics_count_jobs_events_and_start_latency() {
    let server = TestServer::start().await;
    let (_, before) = server.get("/metrics").await;
    let before = before.as_str().expect("text").to_owned();
    assert_prometheus_text(&before);
    assert_eq!(value(&before, "corral_jobs{state=\"succeeded\"}"), 0);
    let id = server.create(&json!({"command": ["echo", "hi"]})).await;
    server.follow(&id).await;
    let (status, _) = server.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, 401, "metrics need the token");
    let (status, page) = server.get("/metrics").await;
    assert_eq!(status, 200);
    let page = page.as_str().expect("text").to_owned();
    assert_prometheus_text(&page);
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
