//! The job list in a real browser: a selected id survives the list's
//! refresh (so it can be copied), the list filters by state and searches
//! the loaded page, and the page has its own icon.

use std::time::Duration;

use corral_testkit::TestServer;
use serde_json::json;

use crate::webdriver::Session;

/// The ids of the rows the list shows, as a script.
const SHOWN_IDS: &str = "return [...document.querySelectorAll('tbody tr')].filter((row) => !row.hidden) \
                         .map((row) => row.querySelector('code').textContent)";

#[tokio::test]
async fn a_selected_job_id_survives_the_list_refresh() {
    let server = TestServer::start().await;
    let first = server.create(&json!({"command": "true"})).await;
    server.follow(&first).await.assert_succeeded();
    let session = Session::signed_in(&server).await;
    // The table stands before its first rows come in: wait for the row.
    session
        .until(&format!(
            "return [...document.querySelectorAll('tbody code')].some((node) => node.textContent === '{first}')"
        ))
        .await;
    let selected = session
        .script(&format!(
            "const code = [...document.querySelectorAll('tbody code')].find((node) => node.textContent === '{first}'); \
             if (!code) return null; const range = document.createRange(); range.selectNodeContents(code); \
             getSelection().removeAllRanges(); getSelection().addRange(range); return String(getSelection())"
        ))
        .await;
    assert_eq!(selected, json!(first));
    // A new job comes in above it, and the list refreshes twice.
    let second = server.create(&json!({"command": "true"})).await;
    session
        .until(&format!(
            "return document.body.textContent.includes('{second}')"
        ))
        .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        session.script("return String(getSelection())").await,
        json!(first),
        "the selection survived the refresh"
    );
    session.close().await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_list_filters_by_state_and_searches_the_page() {
    let server = TestServer::start().await;
    let alpha = server.create(&json!({"command": "echo alpha"})).await;
    let failed = server.create(&json!({"command": "exit 3"})).await;
    let beta = server.create(&json!({"command": "echo beta"})).await;
    for id in [&alpha, &failed, &beta] {
        server.follow(id).await;
    }
    let session = Session::signed_in(&server).await;
    session.click("select[name=state]").await;
    session
        .click("select[name=state] option[value=failed]")
        .await;
    session
        .until(&format!(
            "const ids = (() => {{ {SHOWN_IDS} }})(); return location.hash === '#/?state=failed' \
             && ids.length === 1 && ids[0] === '{failed}'"
        ))
        .await;

    session.go(&format!("{}/#/", server.url)).await;
    session
        .until(&format!(
            "return document.body.textContent.includes('{beta}')"
        ))
        .await;
    let placeholder = session
        .script("return document.querySelector('input[name=search]').placeholder")
        .await;
    assert!(
        placeholder
            .as_str()
            .is_some_and(|text| text.contains("this page")),
        "the search box says what it searches: {placeholder}"
    );
    session.screenshot("web-ui-list").await;
    session.type_into("input[name=search]", "alpha").await;
    session
        .until(&format!(
            "const ids = (() => {{ {SHOWN_IDS} }})(); return ids.length === 1 && ids[0] === '{alpha}'"
        ))
        .await;
    // And after the next refresh, the search still holds.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let shown = session.script(SHOWN_IDS).await;
    assert_eq!(shown, json!([alpha]));

    let icon = session
        .script_async(
            "const done = arguments[0]; const link = document.querySelector('link[rel=icon]'); \
             if (!link) { done(null); return; } \
             fetch(link.href).then((answer) => done(answer.status + ' ' + answer.headers.get('content-type')));",
        )
        .await;
    assert_eq!(icon, json!("200 image/svg+xml"), "the page has its icon");
    session.close().await;
    assert_eq!(server.stop().await, 0);
}
