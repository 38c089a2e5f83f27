//! The transfer list in a real headless Chromium: a round approved by both sides, then edited,
//! read by the mediator with the diff of the edit, then its printable manifest in Arabic. Saves
//! `transfer-list.png` (the README's `docs/screenshots/transfer-list.png` is a copy) and
//! `manifest-ar.png` (`docs/screenshots/manifest-ar.png`). Without Chromium the test says so and passes.

use crate::browser::Browser;
use crate::helpers::*;
use crate::transfers::{id_of, proposed_list, redirected, submit, text_of, world};
use crate::{get, sign_in};
use std::time::Duration;

#[tokio::test]
async fn the_mediator_reads_a_list_and_the_diff_of_an_edit_in_a_real_browser() {
    let Some((app, b)) = Browser::with_app(test_options()).await else {
        return;
    };
    let t = &app;
    let w = world(t).await;
    let (cw, cw_csrf) = sign_in(t, "petra").await;
    let list = proposed_list(t, &w, &cw, &cw_csrf).await;
    let (_, page) = get(&cw, t, &list).await;
    let hash = text_of(&page, "list-hash").to_owned();
    for user in ["olena", "ivan"] {
        let (c, csrf) = sign_in(t, user).await;
        redirected(submit(&c, t, &csrf, &format!("{list}/approve"), &[("hash", &hash)]).await)
            .await;
    }
    // The edit after both approvals: one child turned, then withdrawn.
    let second = id_of(&w.cases[1].1).to_owned();
    redirected(
        submit(
            &cw,
            t,
            &cw_csrf,
            &format!("{list}/entries"),
            &[
                ("case_id", &second),
                ("direction", "to_origin"),
                ("expected_version", "6"),
            ],
        )
        .await,
    )
    .await;

    b.sign_in(t, "petra").await;
    // From the navigation, by keyboard-reachable links.
    b.click("header nav a[href='/transfer-lists']").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.click("#rounds a").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = b.page_text().await;
    assert!(text.contains("Round 7 (March)"), "{text}");
    assert!(
        text.contains("Direction changed"),
        "the last change is shown: {text}"
    );
    assert!(text.contains("Voided"), "{text}");
    // The diff reads without colour: a word and a mark on each line.
    let marks = b
        .eval("return Array.from(document.querySelectorAll('#diff-table tbody th')).map(e => e.textContent.trim());")
        .await;
    assert_eq!(marks, serde_json::json!(["⇄ Direction changed"]));
    let sheets = b.eval("return document.styleSheets.length;").await;
    assert_eq!(sheets, 1, "the stylesheet loads under the CSP");
    b.eval("document.getElementById('approvals').scrollIntoView(); return true;")
        .await;
    let path = b.screenshot("transfer-list").await;
    println!("screenshot: {}", path.display());
    // The children as the browser renders them: case numbers and names, no id as text.
    let rows = b
        .eval("document.getElementById('entries').scrollIntoView(); return document.getElementById('entries').innerText;")
        .await;
    let rows = rows.as_str().unwrap_or_default();
    assert!(
        rows.contains("HW-") && rows.contains("Лисенко") && rows.contains("Lysenko"),
        "{rows}"
    );
    assert!(
        crate::transfers::uuids_in(rows).is_empty(),
        "an id shown: {rows}"
    );
    let path = b.screenshot("transfer-list-entries").await;
    println!("screenshot: {}", path.display());
    // The manifest both sides sign, from the list page's link, printed in Arabic: right to
    // left, its own print sheet loaded under the CSP, the children by name and number.
    b.click("#manifest-document").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let here = b.eval("return location.pathname;").await;
    assert_eq!(here, serde_json::json!(format!("{list}/manifest")));
    b.goto(&t.url(&format!("{list}/manifest?lang=ar"))).await;
    let dir = b.eval("return document.documentElement.dir;").await;
    assert_eq!(dir, serde_json::json!("rtl"));
    let sheets = b.eval("return document.styleSheets.length;").await;
    assert_eq!(sheets, 1, "the print sheet loads under the CSP");
    let text = b.page_text().await;
    for word in [
        "بيان قائمة النقل",
        "HW-",
        "Лисенко",
        "Lysenko",
        "عن جهة المنشأ",
    ] {
        assert!(text.contains(word), "{word} missing from {text}");
    }
    let pdf = b
        .eval("return document.getElementById('document-pdf').getAttribute('href');")
        .await;
    assert_eq!(
        pdf,
        serde_json::json!(format!("{list}/manifest?format=pdf&lang=ar"))
    );
    let path = b.screenshot("manifest-ar").await;
    println!("screenshot: {}", path.display());
    b.quit().await;
    app.cleanup().await;
}
