//! The web UI's files: served without a token, from the binary, under a
//! strict content security policy, and pointing at the API routes they use.

use corral_testkit::TestServer;
use corral_testkit::reqwest;

#[tokio::test]
async fn the_ui_is_served_offline_with_a_strict_policy_and_uses_the_api() {
    let server = TestServer::start().await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let page = http
        .get(format!("{}/", server.url))
        .send()
        .await
        .expect("GET /");
    assert_eq!(page.status(), 200, "no token needed for the page");
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .expect("policy")
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"<script src="/ui/app.js">"#), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN"
    );

    // Every script the page loads: served as JavaScript, and together
    // using the API routes the UI needs, never `innerHTML`.
    let mut scripts = String::new();
    for source in html
        .split(r#"<script src=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
    {
        let script = http
            .get(format!("{}{source}", server.url))
            .send()
            .await
            .expect("GET a script");
        assert_eq!(script.status(), 200, "{source}");
        assert!(
            script.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/javascript"),
            "{source}"
        );
        scripts.push_str(&script.text().await.expect("js"));
    }
    for route in [
        "/v1/jobs",
        "/events/stream",
        "/prompts",
        "/cancel",
        "/diff",
        "/apply",
        "/discard",
        "last-event-id",
    ] {
        assert!(scripts.contains(route), "no script uses {route}");
    }
    assert!(
        !scripts.contains("innerHTML") && !scripts.contains("insertAdjacentHTML"),
        "job text never goes in as HTML"
    );
    let missing = http
        .get(format!("{}/ui/nothing.js", server.url))
        .send()
        .await
        .expect("GET a missing file");
    assert_eq!(missing.status(), 404);
    let style = http
        .get(format!("{}/ui/app.css", server.url))
        .send()
        .await
        .expect("css");
    assert_eq!(style.status(), 200);

    let (status, document) = server
        .call(reqwest::Method::GET, "/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, 200, "the OpenAPI document needs no token");
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/v1/jobs/{id}/prompts"]["post"].is_object());
    let (status, _) = server
        .call(reqwest::Method::GET, "/v1/jobs", None, None)
        .await;
    assert_eq!(status, 401, "the data behind the UI still needs the token");
    assert_eq!(server.stop().await, 0);
}
