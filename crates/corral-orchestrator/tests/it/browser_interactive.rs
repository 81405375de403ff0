//! An interactive job in a real browser: between turns its page says it
//! waits for a prompt, and its End button finishes it as succeeded.

use corral_orchestrator::ProviderKind;
use corral_testkit::Upstream;
use serde_json::json;

use crate::webdriver::Session;
use crate::worker_mode::server_for;

#[tokio::test]
async fn a_waiting_job_says_so_and_the_end_button_finishes_it() {
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [{"text": "first answer"}]}),
    )
    .await;
    let server = server_for(&upstream).await;
    let id = server
        .create(&json!({
            "mode": "worker", "prompt": "opening question", "interactive": true,
            "limits": {"idle_timeout": "5m"},
        }))
        .await;
    let session = Session::signed_in(&server).await;
    session.go(&format!("{}/#/jobs/{id}", server.url)).await;
    session
        .until("return document.querySelector('h2 .state').textContent === 'waiting'")
        .await;
    session
        .until("return (document.querySelector('p.waiting') || {}).textContent.startsWith('waiting for a prompt since ')")
        .await;
    session.click("h2 button.end").await;
    session
        .until("return document.querySelector('h2 .state').textContent === 'succeeded'")
        .await;
    let job = server.job(&id).await;
    assert_eq!(job.state, corral_proto::JobState::Succeeded);
    assert_eq!(job.exit_code, Some(0));
    assert_eq!(server.stop().await, 0);
}
