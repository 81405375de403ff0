//! Load: 50 jobs of 1,000 output lines, 10 live subscribers each. Every
//! subscriber gets every event in order; the peak memory is printed.

use corral_proto::{EventKind, JobState};
use corral_testkit::TestServer;
use futures_util::future::join_all;
use serde_json::json;

const JOBS: usize = 50;
const SUBSCRIBERS: usize = 10;
const LINES: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_jobs_with_ten_subscribers_each_lose_nothing() {
    let server = TestServer::start_with(|config| config.max_concurrent_jobs = 8).await;
    let before = corral_testkit::peak_rss_kib();
    let started = std::time::Instant::now();
    let spec = json!({"command": format!("seq {LINES}"), "limits": {"memory": "64m"}});
    let mut ids = Vec::with_capacity(JOBS);
    for _ in 0..JOBS {
        ids.push(server.create(&spec).await);
    }
    let followers = ids
        .iter()
        .flat_map(|id| (0..SUBSCRIBERS).map(move |_| id))
        .map(|id| {
            let server = &server;
            async move { (id.clone(), server.follow_until(id, |_| false).await) }
        });
    let followed = join_all(followers).await;
    let expected = (1..=LINES)
        .map(|line| line.to_string())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    for (id, events) in &followed {
        let seqs: Vec<u64> = events.iter().map(|event| event.seq).collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as u64).collect::<Vec<_>>(),
            "job {id}: every event, in order"
        );
        let stdout: String = events
            .iter()
            .filter(|event| event.kind == EventKind::Output)
            .filter_map(|event| event.data["text"].as_str())
            .collect();
        assert_eq!(stdout, expected, "job {id}: all output");
    }
    for id in &ids {
        assert_eq!(server.job(id).await.state, JobState::Succeeded);
    }
    println!(
        "load: {JOBS} jobs x {SUBSCRIBERS} subscribers in {:.1} s; test process peak RSS {} MiB (was {} MiB before)",
        started.elapsed().as_secs_f64(),
        corral_testkit::peak_rss_kib() / 1024,
        before / 1024
    );
    assert_eq!(server.stop().await, 0);
}
