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

    let script = http
        .get(format!("{}/ui/app.js", server.url))
        .send()
        .await
        .expect("GET app.js");
    assert!(
        script.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/javascript")
    );
    let script = script.text().await.expect("js");
    for route in [
        "/v1/jobs",
        "/events/stream",
        "/prompts",
        "/cancel",
        "last-event-id",
    ] {
        assert!(script.contains(route), "app.js does not use {route}");
    }
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
