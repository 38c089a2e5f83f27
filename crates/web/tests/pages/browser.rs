//! A real headless Chromium, driven through WebDriver (chromedriver), against the real server:
//! sign in with the keyboard, search, open a record, switch to Arabic. Screenshots go to
//! `target/tmp/screenshots/`. Without Chromium and chromedriver installed the test says so and
//! passes without running; `.ci/run` installs both, so CI always runs it.

use crate::helpers::*;
use base64::Engine;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
pub(crate) const ENTER: &str = "\u{E007}";

pub(crate) fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

pub(crate) struct Browser {
    http: Client,
    base: String,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A fresh SQLite app with these options and a browser to drive it, or `None` (the test then
    /// passes, saying why) when PostgreSQL-only runs or a machine without Chromium leave either
    /// out.
    pub(crate) async fn with_app(opts: homeward_web::WebOptions) -> Option<(TestApp, Browser)> {
        let app = TestApp::spawn(Backend::Sqlite, Default::default(), opts).await?;
        match Browser::start().await {
            Some(b) => Some((app, b)),
            None => {
                app.cleanup().await;
                None
            }
        }
    }

    /// Signs `user` in through the sign-in page, with the keyboard (Enter submits), and waits
    /// for the dashboard.
    pub(crate) async fn sign_in(&self, t: &TestApp, user: &str) {
        self.goto(&t.url("/login")).await;
        self.type_into("#username", user).await;
        self.type_into("#password", &format!("{PASSWORD}{ENTER}"))
            .await;
        self.wait_for("return location.pathname === '/dashboard';")
            .await;
    }

    pub(crate) async fn start() -> Option<Self> {
        let (Some(chromium), Some(chromedriver)) = (
            find_binary(&["chromium", "chromium-browser", "google-chrome"]),
            find_binary(&["chromedriver"]),
        ) else {
            homeward_store::testing::skip_without("chromium and chromedriver");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1024,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium.to_string_lossy(), "args": args }
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {res}"))
            .to_owned();
        Some(Self {
            http,
            base,
            session,
            driver,
            _profile: profile,
        })
    }

    pub(crate) async fn cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(
            res["value"].get("error").is_none(),
            "WebDriver {path}: {res}"
        );
        res["value"].clone()
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {v}"))
            .to_owned()
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub(crate) async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub(crate) async fn eval(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    pub(crate) async fn page_text(&self) -> String {
        self.eval("return document.body.innerText;")
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub(crate) async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test]
async fn a_person_signs_in_searches_and_reads_arabic_right_to_left_in_a_real_browser() {
    let Some((app, b)) = Browser::with_app(test_options()).await else {
        return;
    };
    let t = &app;
    crate::review::three_sides(t).await;
    for (user, given, family, script) in [
        ("olena", "Олександр", "Олійник", "uk-Cyrl"),
        ("olena", "Марія", "Коваленко", "uk-Cyrl"),
        ("kirill", "Александр", "Олейник", "ru-Cyrl"),
    ] {
        let s = t.login(user, PASSWORD).await;
        let body = crate::child(given, family, script, user == "olena");
        expect(s.post("/api/v1/records", &body).await, StatusCode::CREATED).await;
    }

    // Keyboard only: type, and Enter submits.
    b.sign_in(t, "mira").await;
    assert!(b.page_text().await.contains("Match review"));
    b.screenshot("dashboard-en").await;

    b.goto(&t.url("/records")).await;
    b.type_into("#q-name", &format!("Oleksandr{ENTER}")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let text = b.page_text().await;
    assert!(
        text.contains("Олійник") && text.contains("Олейник"),
        "{text}"
    );
    assert!(!text.contains("Марія"), "{text}");
    assert_eq!(
        b.eval("return location.search;").await,
        "",
        "the name is not in the URL"
    );
    b.screenshot("records-search").await;

    b.click("table.records a").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(b.page_text().await.contains("History"));

    // The switcher submits itself on change (script), the button works without it.
    b.eval(
        "const s = document.getElementById('language-select'); s.value = 'ar'; \
         s.dispatchEvent(new Event('change')); return true;",
    )
    .await;
    for _ in 0..50 {
        if b.eval("return document.documentElement.lang;").await == "ar" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(b.eval("return document.documentElement.dir;").await, "rtl");
    let direction = b
        .eval("return getComputedStyle(document.body).direction;")
        .await;
    assert_eq!(direction, "rtl");
    // Right to left, the navigation starts at the right edge.
    let nav_right = b
        .eval("const r = document.querySelector('header nav').getBoundingClientRect(); return r.right > window.innerWidth / 2;")
        .await;
    assert_eq!(nav_right, true);
    assert!(b.page_text().await.contains("السجل التاريخي"));
    b.screenshot("record-ar").await;
    // A stylesheet or script blocked by the policy would show here as errors.
    let sheets = b.eval("return document.styleSheets.length;").await;
    assert_eq!(sheets, 1, "the stylesheet loads under the CSP");

    b.quit().await;
    app.cleanup().await;
}

impl Browser {
    /// Presses one key on whatever has the focus, as a person would.
    pub(crate) async fn press(&self, key: &str) {
        let actions = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
            { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }
        ]}]});
        self.cmd(reqwest::Method::POST, "/actions", Some(actions))
            .await;
    }

    /// Waits until a script returns true (a page load after a form or a link).
    pub(crate) async fn wait_for(&self, script: &str) {
        for _ in 0..50 {
            if self.eval(script).await == true {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never true: {script}");
    }
}

#[tokio::test]
async fn a_reviewer_confirms_a_match_with_the_keyboard_and_verifies_identity_in_a_real_browser() {
    let Some((app, b)) = Browser::with_app(test_options()).await else {
        return;
    };
    let t = &app;
    crate::review::one_candidate(t).await;

    b.sign_in(t, "mira").await;
    b.click("#open-queue").await;
    b.wait_for("return location.pathname === '/matches';").await;
    // j focuses the first pair, Enter opens it.
    b.press("j").await;
    b.press(ENTER).await;
    b.wait_for("return location.pathname.startsWith('/matches/');")
        .await;
    let text = b.page_text().await;
    assert!(
        text.contains("Лысенко") && text.contains("Aleksandr"),
        "{text}"
    );
    let bars = b
        .eval("return document.querySelectorAll('#waterfall rect.bar').length;")
        .await;
    assert!(bars.as_u64().unwrap() >= 4, "prior, fields, total: {bars}");
    b.screenshot("review").await;

    // c focuses the confirm button, the second c submits it.
    b.press("c").await;
    assert_eq!(b.eval("return document.activeElement.id;").await, "confirm");
    b.press("c").await;
    b.wait_for("return document.getElementById('case-link') !== null;")
        .await;
    assert_eq!(
        b.eval("return document.getElementById('match-status').textContent;")
            .await,
        "Confirmed"
    );
    b.click("#case-link").await;
    b.wait_for("return location.pathname.startsWith('/cases/');")
        .await;

    for method in ["document_check", "photo_recognition_by_relative"] {
        b.eval(&format!(
            "document.getElementById('v-method').value = '{method}'; return true;"
        ))
        .await;
        b.type_into("#v-by", "ICRC delegate").await;
        let before = b
            .eval("return document.querySelectorAll('dl.verification').length;")
            .await;
        b.click("#v-submit").await;
        let n = before.as_u64().unwrap() + 1;
        b.wait_for(&format!(
            "return document.querySelectorAll('dl.verification').length === {n};"
        ))
        .await;
    }
    b.eval("document.getElementById('t-to').value = 'identity_verified'; return true;")
        .await;
    b.click("#t-submit").await;
    b.wait_for(
        "return document.getElementById('case-state').dataset.state === 'identity_verified';",
    )
    .await;
    let text = b.page_text().await;
    assert!(text.contains("Identity verified"), "{text}");
    assert!(text.contains("Photo recognised by a relative"));
    b.screenshot("case").await;

    b.eval(
        "const s = document.getElementById('language-select'); s.value = 'ar'; \
         s.dispatchEvent(new Event('change')); return true;",
    )
    .await;
    b.wait_for("return document.documentElement.lang === 'ar';")
        .await;
    assert_eq!(b.eval("return document.documentElement.dir;").await, "rtl");
    assert_eq!(
        b.eval("return getComputedStyle(document.getElementById('checklist')).direction;")
            .await,
        "rtl"
    );
    assert!(
        b.page_text().await.contains("تم التحقق من الهوية"),
        "the state in Arabic"
    );
    // The timeline's "change → state" points the way the page reads.
    let timeline = "return document.getElementById('timeline').textContent;";
    let arrows = b.eval(timeline).await;
    let arrows = arrows.as_str().unwrap_or_default();
    assert!(arrows.contains('←') && !arrows.contains('→'), "{arrows}");
    b.screenshot("case-ar").await;

    b.quit().await;
    app.cleanup().await;
}
