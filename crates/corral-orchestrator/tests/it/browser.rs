//! The web UI end to end in headless Chromium, driven over WebDriver
//! (chromedriver on loopback): sign in, create a job, watch its output
//! arrive live without reloading, cancel another job, save a screenshot
//! (`target/web-ui.png`).

use corral_proto::JobState;
use corral_testkit::TestServer;
use serde_json::json;

use crate::webdriver::Session;

#[tokio::test]
async fn sign_in_create_watch_live_and_cancel_in_a_real_browser() {
    let server = TestServer::start().await;
    let session = Session::signed_in(&server).await;

    session.go(&format!("{}/#/new", server.url)).await;
    // A mark on this document: a reload, or any navigation that loads the
    // page again, gives a fresh `window` without it.
    session
        .script("window.corralLoadedOnce = 'before the job'; return true")
        .await;
    session
        .type_into(
            "textarea[name=text]",
            "for i in 1 2 3 4; do echo tick-$i; sleep 1; done",
        )
        .await;
    session.click("form.card button:not([type])").await;
    session
        .until("return location.hash.startsWith('#/jobs/j-')")
        .await;
    // The first line shows while the job still runs: live, no reload.
    session
        .until("return (document.querySelector('pre.term')||{}).textContent?.includes('tick-1') && !document.body.textContent.includes('tick-4')")
        .await;
    session
        .until("return document.querySelector('pre.term').textContent.includes('tick-4') && !!document.querySelector('h2 .state.succeeded')")
        .await;
    let mark = session
        .script("return window.corralLoadedOnce ?? null")
        .await;
    assert_eq!(
        mark,
        json!("before the job"),
        "the page was never reloaded: the mark set before the job is still there"
    );

    let long = server.create(&json!({"command": "sleep 300"})).await;
    server.wait_for_state(&long, JobState::Running).await;
    session.go(&format!("{}/#/jobs/{long}", server.url)).await;
    session.click("button.danger").await;
    session
        .until("return !!document.querySelector('h2 .state.cancelled')")
        .await;
    assert_eq!(server.job(&long).await.state, JobState::Cancelled);

    session.screenshot("web-ui").await;

    session.close().await;
    assert_eq!(server.stop().await, 0);
}
