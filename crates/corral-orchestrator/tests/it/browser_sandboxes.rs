//! The sandboxes view in a real browser: a sandbox is listed with its
//! state, idle time, limits and execs; pause, resume, stop, start and
//! delete work from its row; its page shows its execs and their output.

use corral_testkit::TestServer;
use serde_json::json;

use crate::sandboxes::{create, sh, wait_ended};
use crate::webdriver::Session;

/// The state cell of sandbox `id`'s row, as a script's condition.
fn shows(id: &str, state: &str) -> String {
    format!(
        "const row = document.querySelector('tr.sandbox[data-id=\"{id}\"]'); \
         return !!row && row.querySelector('td.state').textContent === '{state}'"
    )
}

#[tokio::test]
async fn a_sandbox_is_listed_and_paused_stopped_started_and_deleted_from_the_web_ui() {
    let server = TestServer::start().await;
    let id = create(&server, json!({"limits": {"memory": "128m"}})).await;
    sh(&server, &id, "echo from-an-exec").await;
    let session = Session::signed_in(&server).await;
    session.go(&format!("{}/#/sandboxes", server.url)).await;
    session.until(&shows(&id, "running")).await;
    let row = session
        .script(&format!(
            "return document.querySelector('tr.sandbox[data-id=\"{id}\"]').textContent"
        ))
        .await;
    let row = row.as_str().unwrap_or_default().to_owned();
    assert!(
        row.contains("128m memory") && row.contains("ttl 2h"),
        "{row}"
    );
    // The view asks again every two seconds: a button found before two
    // refreshes is still the row's button, so a click is never lost to a
    // refresh replacing it under the pointer.
    let pause = format!("tr.sandbox[data-id=\"{id}\"] button[data-action=pause]");
    let button = session.find(&pause).await;
    let refreshes = "Number(document.querySelector('table.sandboxes').dataset.refreshes)";
    let seen = session.script(&format!("return {refreshes}")).await;
    let seen = seen.as_u64().expect("a refresh count");
    session
        .until(&format!("return {refreshes} >= {}", seen + 2))
        .await;
    session.click_found(&button, &pause).await;
    session.until(&shows(&id, "paused")).await;
    for (action, state) in [
        ("resume", "running"),
        ("stop", "stopped"),
        ("start", "running"),
    ] {
        session
            .click(&format!(
                "tr.sandbox[data-id=\"{id}\"] button[data-action={action}]"
            ))
            .await;
        session.until(&shows(&id, state)).await;
    }
    // Its page: the exec and its output, among its events.
    session.go(&format!("{}/#/jobs/{id}", server.url)).await;
    session
        .until("return document.body.textContent.includes('from-an-exec') && document.body.textContent.includes('exec 1 ended: exit code 0')")
        .await;
    session.go(&format!("{}/#/sandboxes", server.url)).await;
    session.until(&shows(&id, "running")).await;
    session
        .click(&format!(
            "tr.sandbox[data-id=\"{id}\"] button[data-action=delete]"
        ))
        .await;
    session.until(&shows(&id, "ended")).await;
    wait_ended(&server, &id).await;
    session.close().await;
    assert_eq!(server.stop().await, 0);
}
