//! The web UI end to end in headless Chromium, driven over WebDriver
//! (chromedriver on loopback): sign in, create a job, watch its output
//! arrive live without reloading, cancel another job, save a screenshot
//! (`target/web-ui.png`).

#![expect(clippy::panic, reason = "browser test helpers fail loudly")]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use corral_proto::JobState;
use corral_testkit::TestServer;
use corral_testkit::reqwest::Client;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    http: Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start() -> Self {
        let status = Command::new("bash")
            .arg(corral_testkit::repo_root().join("scripts/ensure-chromium.sh"))
            .status()
            .expect("run ensure-chromium.sh");
        assert!(status.success(), "no chromium");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: Client::builder().no_proxy().build().expect("client"),
        };
        for _ in 0..100 {
            if driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await
                .is_ok()
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start");
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let answer: Value = request
            .send()
            .await
            .expect("webdriver call")
            .json()
            .await
            .expect("webdriver JSON");
        answer["value"].clone()
    }
}

struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    async fn open(driver: &Driver) -> Session<'_> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--no-proxy-server"]},
        }}});
        let value = driver.call("POST", "/session", capabilities).await;
        let id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {value}"));
        Session {
            driver,
            id: id.to_owned(),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        self.driver
            .call(method, &format!("/session/{}{path}", self.id), body)
            .await
    }

    async fn go(&self, url: &str) {
        self.call("POST", "/url", json!({"url": url})).await;
    }

    async fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            let found = self
                .call(
                    "POST",
                    "/element",
                    json!({"using": "css selector", "value": css}),
                )
                .await;
            if let Some(id) = found[ELEMENT].as_str() {
                return id.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no element {css}");
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call("POST", &format!("/element/{element}/click"), json!({}))
            .await;
    }

    async fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Polls `script` until it returns true (20 s at most).
    async fn until(&self, script: &str) {
        for _ in 0..200 {
            if self.script(script).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never true: {script}");
    }
}

#[tokio::test]
async fn sign_in_create_watch_live_and_cancel_in_a_real_browser() {
    let server = TestServer::start().await;
    let driver = Driver::start().await;
    let session = Session::open(&driver).await;

    session.go(&format!("{}/", server.url)).await;
    session.type_into("#token", &server.token).await;
    session.click("#signin-form button").await;
    session
        .until("return !!document.querySelector('table')")
        .await;

    session.go(&format!("{}/#/new", server.url)).await;
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
    let reloads = session
        .script("return performance.getEntriesByType('navigation').length")
        .await;
    assert_eq!(reloads, json!(1), "the page was never reloaded");

    let long = server.create(&json!({"command": "sleep 300"})).await;
    server.wait_for_state(&long, JobState::Running).await;
    session.go(&format!("{}/#/jobs/{long}", server.url)).await;
    session.click("button.danger").await;
    session
        .until("return !!document.querySelector('h2 .state.cancelled')")
        .await;
    assert_eq!(server.job(&long).await.state, JobState::Cancelled);

    let shot = session.call("GET", "/screenshot", json!({})).await;
    let png = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        shot.as_str().expect("screenshot"),
    )
    .expect("PNG");
    let artifact = corral_testkit::repo_root().join("target/web-ui.png");
    std::fs::write(&artifact, &png).expect("save the screenshot");
    assert!(png.starts_with(b"\x89PNG"));

    session.call("DELETE", "", json!({})).await;
    assert_eq!(server.stop().await, 0);
}
