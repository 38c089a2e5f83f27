//! An observer's journey in a real Chromium: the evidence menu, the cases they may examine (the
//! child by name and transliteration), one case's accountability record, the download of its
//! bundle; then `homeward evidence verify` (the binary, as a prosecutor would run it) checks the
//! downloaded file with the deployment's public key, and names the part a forger altered.

use crate::browser::Browser;
use crate::helpers::*;
use crate::transfer_world::{located_cases, people};
use homeward_app::AppConfig;
use homeward_app::attachments::AttachmentKey;
use homeward_app::checkpoint::{parse_signing_key, public_key_hex};
use homeward_app::evidence::EvidenceKey;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The `homeward` binary that `cargo test --workspace` builds beside the tests.
fn homeward_binary() -> Option<PathBuf> {
    let bin = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()?
        .join("debug")
        .join("homeward");
    if bin.is_file() {
        return Some(bin);
    }
    homeward_store::testing::skip_without("the homeward binary (cargo build -p homeward)");
    None
}

/// The first finished `.tar` in `dir`, waiting for the browser to finish writing it.
async fn downloaded(dir: &Path) -> PathBuf {
    for _ in 0..150 {
        let done = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "tar"));
        if let Some(p) = done {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no bundle was downloaded to {}", dir.display());
}

fn verify(bin: &Path, bundle: &Path, public: &Path) -> (Option<i32>, String) {
    let out = Command::new(bin)
        .args(["evidence", "verify"])
        .arg(bundle)
        .arg("--public-key")
        .arg(public)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn an_observer_downloads_a_bundle_that_the_command_line_verifies() {
    let Some(bin) = homeward_binary() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = parse_signing_key(&"2a".repeat(32)).unwrap();
    let public = dir.path().join("deployment.pub");
    std::fs::write(&public, public_key_hex(&key.verifying_key()) + "\n").unwrap();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let cfg = AppConfig {
        evidence_key: Some(EvidenceKey::new(key)),
        attachment_key: Some(AttachmentKey::generate()),
        attachment_dir: Some(dir.path().join("attachments")),
        ..AppConfig::default()
    };
    let Some(t) = TestApp::spawn(Backend::Sqlite, cfg, test_options()).await else {
        return;
    };
    let Some(b) = Browser::start().await else {
        t.cleanup().await;
        return;
    };
    let w = people(&t).await;
    let case = located_cases(&w, 1).await.remove(0).1;
    let fact = json!({
        "kind": "removal", "when": "2022-09", "place": "Маріуполь, дитяча лікарня",
        "actors": [{ "kind": "institution", "name": "Occupation health department", "role": "ordered the transfer" }],
        "details": "moved with eleven other children by bus",
        "sources": [{ "description": "statement of a nurse" }],
    });
    let path = format!(
        "/api/v1/cases/{}/accountability",
        case["id"].as_str().unwrap()
    );
    expect(w.cw.post(&path, &fact).await, reqwest::StatusCode::CREATED).await;
    let office = t.cli_party("Prosecutor's office", "observer").await;
    t.cli_user(&office, "prosecutor", &["viewer"]).await;

    b.sign_in(&t, "prosecutor").await;
    b.click("a[href='/evidence']").await;
    b.wait_for("return document.getElementById('evidence-cases') !== null;")
        .await;
    let list = b.page_text().await;
    assert!(
        list.contains("Олександр") && list.contains("Oleksandr"),
        "{list}"
    );
    assert!(
        !list.contains(case["id"].as_str().unwrap()),
        "no UUID shown: {list}"
    );
    let view = expect(
        w.cw.get(&format!("/api/v1/cases/{}", case["id"].as_str().unwrap()))
            .await,
        reqwest::StatusCode::OK,
    )
    .await;
    let number = view["number"].as_str().unwrap().to_owned();
    assert!(list.contains(&number), "the case number is shown: {list}");
    b.click("#evidence-cases a").await;
    b.wait_for("return document.getElementById('download-bundle') !== null;")
        .await;
    let page = b.page_text().await;
    assert!(
        page.contains("moved with eleven other children by bus"),
        "{page}"
    );
    assert!(page.contains("Removal"), "the fact's kind in words: {page}");
    assert!(
        page.contains(&number),
        "the case number heads the page: {page}"
    );
    b.screenshot("evidence-case").await;

    b.cmd(
        reqwest::Method::POST,
        "/chromium/send_command",
        Some(json!({ "cmd": "Page.setDownloadBehavior",
            "params": { "behavior": "allow", "downloadPath": downloads.to_string_lossy() } })),
    )
    .await;
    b.click("#download-bundle").await;
    let bundle = downloaded(&downloads).await;

    let (code, out) = verify(&bin, &bundle, &public);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("evidence bundle intact"), "{out}");
    assert!(out.contains("Oleksandr"), "the child is named: {out}");

    // A forger edits the manifest inside the archive: the command names the signature.
    let mut bytes = std::fs::read(&bundle).unwrap();
    let at = bytes
        .windows(8)
        .position(|w| w == b"eleven o")
        .expect("the fact in the manifest");
    bytes[at..at + 6].copy_from_slice(b"twelve");
    let forged = dir.path().join("forged.tar");
    std::fs::write(&forged, bytes).unwrap();
    let (code, out) = verify(&bin, &forged, &public);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAILED signature_invalid"), "{out}");

    b.quit().await;
    t.cleanup().await;
}
