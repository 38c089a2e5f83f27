//! The web interface's pages, end to end: the real server on 127.0.0.1:0, a real database (SQLite
//! always, PostgreSQL when HOMEWARD_TEST_POSTGRES_URL is set), an HTTP client that posts forms like
//! a browser; and, in `browser`, a real headless Chromium.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../api/helpers.rs"]
#[allow(dead_code, missing_debug_implementations)]
mod helpers;
#[path = "../api/transfer_world.rs"]
#[allow(dead_code)]
mod transfer_world;

mod account;
mod admin;
mod audit;
mod browser;
mod browser_demo;
mod browser_import;
mod browser_stats;
mod case_forms;
mod case_list;
mod errors;
mod evidence_browser;
mod exports;
mod exports_browser;
mod frame;
mod import;
mod page_audit;
mod phone;
mod records;
mod review;
mod tasks;
mod transfers;
mod transfers_browser;

use helpers::TestApp;
use reqwest::{Client, StatusCode, redirect};

/// An app configuration with a key and a directory for files (attachments, exports).
pub fn attachments_config(dir: &std::path::Path) -> homeward_app::AppConfig {
    homeward_app::AppConfig {
        attachment_key: Some(homeward_app::attachments::AttachmentKey::generate()),
        attachment_dir: Some(dir.to_owned()),
        ..homeward_app::AppConfig::default()
    }
}

/// A browser-like client that does not follow redirects, so tests see where they point.
pub fn browser_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first hidden `csrf` field on a page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// Every form on the page carries a CSRF token.
pub fn assert_every_form_has_csrf(html: &str) {
    let mut forms = 0;
    for (i, _) in html.match_indices("<form") {
        let end = i + html[i..].find("</form>").expect("closed form");
        assert!(
            html[i..end].contains("name=\"csrf\" value=\""),
            "a form without a CSRF token: {}",
            &html[i..end]
        );
        forms += 1;
    }
    assert!(forms > 0, "no forms on the page");
}

pub async fn get(c: &Client, t: &TestApp, path: &str) -> (StatusCode, String) {
    let res = c.get(t.url(path)).send().await.unwrap();
    let status = res.status();
    (status, res.text().await.unwrap())
}

pub async fn post_form(
    c: &Client,
    t: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(t.url(path)).form(form).send().await.unwrap()
}

/// Signs in through the sign-in page; returns the client and the session's CSRF token.
pub async fn sign_in(t: &TestApp, username: &str) -> (Client, String) {
    let c = browser_client();
    let (_, page) = get(&c, t, "/login").await;
    let token = csrf_of(&page);
    let res = post_form(
        &c,
        t,
        "/login",
        &[
            ("csrf", &token),
            ("username", username),
            ("password", helpers::PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in of {username}");
    assert_eq!(res.headers()["location"], "/dashboard");
    let (status, dash) = get(&c, t, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&dash);
    (c, csrf)
}

/// A child record as the API takes it; a tracing request also names the enquirer.
pub fn child(given: &str, family: &str, script: &str, tracing: bool) -> serde_json::Value {
    let mut v = serde_json::json!({
        "names": [{ "given": given, "family": family, "script": script }],
        "sex": "male",
        "birth_date": "2014-05",
    });
    if tracing {
        v["enquirer_name"] = "Оксана".into();
        v["enquirer_relationship"] = "mother".into();
    } else {
        v["current_location"] = "Children's home No. 3".into();
    }
    v
}
