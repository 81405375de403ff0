//! A small WebDriver client for the browser tests: chromedriver on
//! loopback driving headless Chromium, one session per test.

#![expect(clippy::panic, reason = "browser test helpers fail loudly")]

use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use corral_testkit::TestServer;
use corral_testkit::reqwest::Client;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process, killed on drop.
pub(crate) struct Driver {
    child: Child,
    base: String,
    http: Client,
}

impl Drop for Driver {
    /// Kills chromedriver's whole process group, so the browser it started
    /// goes too even when a test failed before closing its session.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub(crate) async fn start() -> Self {
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
            .process_group(0)
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

/// One browser session; it owns its chromedriver.
pub(crate) struct Session {
    driver: Driver,
    id: String,
}

impl Session {
    pub(crate) async fn open() -> Session {
        let driver = Driver::start().await;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--no-proxy-server"]},
        }}});
        let value = driver.call("POST", "/session", capabilities).await;
        let id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {value}"))
            .to_owned();
        Session { driver, id }
    }

    /// A session signed in to `server`'s web UI, showing the job list.
    pub(crate) async fn signed_in(server: &TestServer) -> Session {
        let session = Self::open().await;
        session.go(&format!("{}/", server.url)).await;
        session.type_into("#token", &server.token).await;
        session.click("#signin-form button").await;
        session
            .until("return !!document.querySelector('table')")
            .await;
        session
    }

    /// Ends the browser session.
    pub(crate) async fn close(self) {
        self.call("DELETE", "", json!({})).await;
    }

    pub(crate) async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        self.driver
            .call(method, &format!("/session/{}{path}", self.id), body)
            .await
    }

    pub(crate) async fn go(&self, url: &str) {
        self.call("POST", "/url", json!({"url": url})).await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
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

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            json!({"text": text}),
        )
        .await;
    }

    /// Clicks the element `css` finds; a click the browser refused (the
    /// element replaced meanwhile, hidden, covered) fails the test here,
    /// not as a later wait that never ends.
    pub(crate) async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.click_found(&element, css).await;
    }

    /// Clicks `element`, found before by `css`, as [`Session::click`] does.
    pub(crate) async fn click_found(&self, element: &str, css: &str) {
        let answer = self
            .call("POST", &format!("/element/{element}/click"), json!({}))
            .await;
        assert!(answer.get("error").is_none(), "click on {css}: {answer}");
    }

    pub(crate) async fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Runs `script` as an async function: it ends by calling
    /// `arguments[0]` with its answer.
    pub(crate) async fn script_async(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/async",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Saves what the browser shows as `target/<name>.png`, for people to look at.
    pub(crate) async fn screenshot(&self, name: &str) {
        let shot = self.call("GET", "/screenshot", json!({})).await;
        let png = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            shot.as_str().expect("screenshot"),
        )
        .expect("PNG");
        assert!(png.starts_with(b"\x89PNG"));
        let artifact = corral_testkit::repo_root().join(format!("target/{name}.png"));
        std::fs::write(&artifact, &png).expect("save the screenshot");
    }

    /// Polls `script` until it returns true (30 s at most).
    pub(crate) async fn until(&self, script: &str) {
        for _ in 0..300 {
            if self.script(script).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let page = self
            .script("return document.body.innerText.slice(-3000)")
            .await;
        panic!("never true: {script}\npage: {page}");
    }
}
