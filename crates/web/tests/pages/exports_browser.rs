//! A caseworker's export in a real Chromium: the exports page from the navigation, an export
//! asked for with the form (protected by default), the job run, the AES-256 zip downloaded under
//! a typed password and opened with 7-Zip (`7z x -p…`) as its recipient would; the child's name
//! is in the CSV inside, and the wrong password opens nothing.

use crate::browser::{Browser, find_binary};
use crate::helpers::*;
use crate::{attachments_config, child};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PASSWORD_FOR_ZIP: &str = "Tr4in-to-Kyiv 2026!";

/// The first finished `.zip` in `dir`, waiting for the browser to finish writing it.
async fn downloaded_zip(dir: &Path) -> PathBuf {
    for _ in 0..150 {
        let done = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "zip"));
        if let Some(p) = done {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no zip was downloaded to {}", dir.display());
}

fn seven_zip(zip: &Path, password: &str, out: &Path) -> std::process::Output {
    Command::new("7z")
        .arg("x")
        .arg(format!("-p{password}"))
        .arg(format!("-o{}", out.display()))
        .arg("-y")
        .arg(zip)
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_caseworker_downloads_an_encrypted_export_that_7zip_opens() {
    if find_binary(&["7z"]).is_none() {
        homeward_store::testing::skip_without("7z (p7zip-full)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let mut cfg = attachments_config(&dir.path().join("attachments"));
    // The job runs on the queue, not inline: the page shows it waiting until it is run.
    cfg.inline_jobs = false;
    let Some(t) = TestApp::spawn(Backend::Sqlite, cfg, test_options()).await else {
        return;
    };
    let Some(b) = Browser::start().await else {
        t.cleanup().await;
        return;
    };
    let origin = t.cli_party("Ombudsman", "origin").await;
    t.cli_user(&origin, "olena", &["caseworker"]).await;
    let o = t.login("olena", PASSWORD).await;
    expect(
        o.post(
            "/api/v1/records",
            &child("Олександр", "Олійник", "uk-Cyrl", true),
        )
        .await,
        reqwest::StatusCode::CREATED,
    )
    .await;

    b.sign_in(&t, "olena").await;
    b.click("a[href='/exports']").await;
    b.wait_for("return document.getElementById('export-records') !== null;")
        .await;
    b.screenshot("exports-form").await;
    b.click("#export-records input[name='columns'][value='name']")
        .await;
    b.click("#export-records input[name='columns'][value='name_latin']")
        .await;
    b.click("#export-records input[name='columns'][value='birth_date']")
        .await;
    b.click("#request-records-export").await;
    b.wait_for("return document.getElementById('my-exports') !== null;")
        .await;
    let waiting = b.page_text().await;
    assert!(waiting.contains("Waiting"), "{waiting}");

    // The worker's turn: run the queued job, as `homeward jobs run` or the server's worker would.
    let mut ran = Vec::new();
    while let Some(job) = t.app.run_job("test", None).await.unwrap() {
        ran.push(job.kind);
    }
    assert!(
        ran.iter().any(|k| k == homeward_store::EXPORT_RUN),
        "{ran:?}"
    );
    b.goto(&t.url("/exports")).await;
    b.wait_for("return document.querySelector('.download-export') !== null;")
        .await;
    let page = b.page_text().await;
    assert!(page.contains("Ready"), "{page}");

    b.cmd(
        reqwest::Method::POST,
        "/chromium/send_command",
        Some(json!({ "cmd": "Page.setDownloadBehavior",
            "params": { "behavior": "allow", "downloadPath": downloads.to_string_lossy() } })),
    )
    .await;
    b.type_into("#pw-1", PASSWORD_FOR_ZIP).await;
    b.screenshot("exports").await;
    b.click(".download-export").await;
    let zip = downloaded_zip(&downloads).await;

    // The wrong password opens nothing.
    let wrong = dir.path().join("wrong");
    let out = seven_zip(&zip, "not the password at all", &wrong);
    assert!(!out.status.success(), "a wrong password must fail");

    let opened = dir.path().join("opened");
    let out = seven_zip(&zip, PASSWORD_FOR_ZIP, &opened);
    assert!(
        out.status.success(),
        "7z: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = Command::new("7z")
        .args(["l", "-slt", &format!("-p{PASSWORD_FOR_ZIP}")])
        .arg(&zip)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("AES-256"), "{listing}");
    let csv = std::fs::read_dir(&opened)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "csv"))
        .expect("a CSV in the zip");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("Олександр"), "{text}");
    assert!(text.contains("Oleksandr"), "{text}");
    assert!(
        text.lines().next().unwrap().contains("birth_date"),
        "{text}"
    );

    b.quit().await;
    t.cleanup().await;
}
