//! A job's page in a real browser: the state it shows follows the job, its
//! output box follows new lines until the reader scrolls up, its events
//! carry times, its output (shown as text, never markup) can be copied and
//! downloaded, nothing stray (`null`) shows, and a tool's output shows once.

use std::time::Duration;

use corral_orchestrator::ProviderKind;
use corral_testkit::{TestServer, Upstream, exec_in_job};
use serde_json::json;

use crate::webdriver::Session;
use crate::worker_mode::server_for;

/// Two hundred lines, then (once the test has seen what it looks for while
/// the job runs, and lets it go on with [`go_on`]) two hundred more over a
/// second or two: a loaded machine cannot make the job end before the page
/// has shown it running.
const MANY_LINES: &str = "for i in $(seq 1 200); do echo line $i; done; \
     until [ -e /tmp/go-on ]; do sleep 0.05; done; \
     for i in $(seq 201 400); do echo line $i; sleep 0.005; done";

/// Lets job `id`, held in [`MANY_LINES`], go on.
async fn go_on(id: &str) {
    exec_in_job(id, &["touch", "/tmp/go-on"]).await;
}

/// The last output box on the page, as a script expression.
const LAST_BOX: &str = "[...document.querySelectorAll('pre.term')].pop()";

#[tokio::test]
async fn the_job_page_shows_the_state_the_job_is_in_while_it_streams() {
    let server = TestServer::start().await;
    let session = Session::signed_in(&server).await;
    // Created from the form, so the page first sees the job queued.
    session.go(&format!("{}/#/new", server.url)).await;
    session.type_into("textarea[name=text]", MANY_LINES).await;
    session.click("form.card button:not([type])").await;
    session
        .until("return location.hash.startsWith('#/jobs/j-')")
        .await;
    let id = session
        .script("return location.hash.slice('#/jobs/'.length)")
        .await;
    let id = id.as_str().expect("the job's id in the address");
    session
        .until(&format!(
            "const box = {LAST_BOX}; return !!box && box.textContent.includes('line 60') \
             && !box.textContent.includes('line 400') \
             && document.querySelector('h2 .state').textContent === 'running'"
        ))
        .await;
    go_on(id).await;
    // The state comes with the event; the finished time with the job the
    // page asks for at once on it.
    session
        .until(
            "return document.querySelector('h2 .state').textContent === 'succeeded' \
             && document.querySelector(\"[data-fact='finished'] .value\").textContent !== '-'",
        )
        .await;
    // Times in corral's one format: UTC in the header, a clock by each event.
    let facts = session
        .script(
            "const fact = (name) => document.querySelector(`[data-fact='${name}'] .value`).textContent; \
             return [fact('created'), fact('finished'), fact('duration')]",
        )
        .await;
    assert!(is_utc_time(&facts[0]), "created: {facts}");
    assert!(is_utc_time(&facts[1]), "finished: {facts}");
    let took = facts[2].as_str().unwrap_or_default();
    // As the CLI writes it: `40ms` under a second, `1.4s` under ten, else
    // `12s`, `1m05s`.
    let digits = took.trim_end_matches('s').replace('m', "");
    assert!(
        took.ends_with('s') && !took.contains(' ') && digits.parse::<f64>().is_ok(),
        "duration like 40ms, 1.4s, 12s or 1m05s: {took}"
    );
    let stamps = session
        .script(
            "return [...document.querySelectorAll('.stream .ts')].map((node) => node.textContent)",
        )
        .await;
    let stamps = stamps.as_array().expect("stamps");
    assert!(stamps.len() >= 3, "each event has its time: {stamps:?}");
    for stamp in stamps {
        let stamp = stamp.as_str().unwrap_or_default();
        assert!(
            stamp.len() == 8 && stamp.as_bytes()[2] == b':' && stamp.as_bytes()[5] == b':',
            "HH:MM:SS: {stamp}"
        );
    }
    session.close().await;
    assert_eq!(server.stop().await, 0);
}

/// `2025-01-31 14:05:09 UTC`.
fn is_utc_time(value: &serde_json::Value) -> bool {
    let text = value.as_str().unwrap_or_default();
    let bytes = text.as_bytes();
    text.len() == 23
        && text.ends_with(" UTC")
        && bytes[4] == b'-'
        && bytes[10] == b' '
        && bytes[13] == b':'
        && bytes[16] == b':'
}

#[tokio::test]
async fn the_output_box_follows_new_lines_until_the_reader_scrolls_up() {
    let server = TestServer::start().await;
    let session = Session::signed_in(&server).await;
    let id = server.create(&json!({ "command": MANY_LINES })).await;
    session.go(&format!("{}/#/jobs/{id}", server.url)).await;
    session
        .until(&format!(
            "const box = {LAST_BOX}; return !!box && box.textContent.includes('line 150') \
             && !box.textContent.includes('line 400') && box.scrollHeight > box.clientHeight + 200 \
             && box.scrollTop + box.clientHeight >= box.scrollHeight - 4"
        ))
        .await;
    // The reader scrolls up to read: new lines must not pull them down.
    session
        .script(&format!("{LAST_BOX}.scrollTop = 0; return true"))
        .await;
    go_on(&id).await;
    session
        .until(&format!(
            "return {LAST_BOX}.textContent.includes('line 400')"
        ))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let top = session
        .script(&format!("return {LAST_BOX}.scrollTop"))
        .await;
    assert_eq!(top, json!(0), "the view stayed where the reader put it");
    session.close().await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn output_is_copied_and_downloaded_and_no_stray_null_shows() {
    let server = TestServer::start().await;
    let session = Session::signed_in(&server).await;
    let id = server
        .create(&json!({ "command": "echo first; echo second >&2; echo '<img src=x onerror=window.pwned=1>third'" }))
        .await;
    server.follow(&id).await.assert_succeeded();
    session.go(&format!("{}/#/jobs/{id}", server.url)).await;
    session
        .until("return (document.querySelector('h2 .state') || {}).textContent === 'succeeded' && document.body.innerText.includes('third')")
        .await;
    let stray = session
        .script("return document.querySelector('main').innerText.split('\\n').filter((line) => line.trim() === 'null').length")
        .await;
    assert_eq!(stray, json!(0), "no `null` line on the page");
    let markup = session
        .script("return [!!document.querySelector('main img'), window.pwned === undefined, document.querySelector('pre.term').textContent.includes('<img src=x')]")
        .await;
    assert_eq!(
        markup,
        json!([false, true, true]),
        "output is text, never markup"
    );

    // The clipboard and the file are caught on their way out.
    session
        .script(
            "window.copied = null; navigator.clipboard.writeText = (text) => { window.copied = text; return Promise.resolve(); }; \
             window.saved = null; const create = URL.createObjectURL; \
             URL.createObjectURL = (blob) => { blob.text().then((text) => { window.saved = text; }); return create.call(URL, blob); }; \
             HTMLAnchorElement.prototype.click = function () { window.savedAs = this.download; }; return true",
        )
        .await;
    session.click("button.copy").await;
    session.until("return window.copied !== null").await;
    let copied = session.script("return window.copied").await;
    let output = copied.as_str().unwrap_or_default();
    for line in ["first", "second", "third"] {
        assert!(output.contains(line), "copied: {output:?}");
    }
    session.click("button.download").await;
    session.until("return window.saved !== null").await;
    assert_eq!(session.script("return window.saved").await, copied);
    assert_eq!(
        session.script("return window.savedAs").await,
        json!(format!("{id}.log"))
    );
    session.close().await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn an_expanded_tool_shows_its_output_once() {
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [
            {"tool_calls": [{"name": "shell", "arguments": {"command": "echo marker-$((40 + 2))"}}]},
            {"text": "all done"}
        ]}),
    )
    .await;
    let server = server_for(&upstream).await;
    let session = Session::signed_in(&server).await;
    let id = server
        .create(&json!({"mode": "worker", "prompt": "say the marker"}))
        .await;
    server.follow(&id).await.assert_succeeded();
    session.go(&format!("{}/#/jobs/{id}", server.url)).await;
    session
        .until("return document.body.innerText.includes('all done') && !!document.querySelector('details.tool')")
        .await;
    session
        .script("document.querySelectorAll('details').forEach((details) => { details.open = true; }); return true")
        .await;
    session.screenshot("web-ui-tool").await;
    let shown = session
        .script("return document.body.innerText.split('marker-42').length - 1")
        .await;
    assert_eq!(shown, json!(1), "the tool's output shows once");
    session.close().await;
    assert_eq!(server.stop().await, 0);
}
