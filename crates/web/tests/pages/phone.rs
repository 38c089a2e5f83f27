//! At phone width (390 px, a common phone held upright), in a real Chromium: the main pages of a
//! reviewer's journey fit the screen (menus and tables scroll inside their own box, never the
//! page), in English and in Arabic, right to left, where the waterfall's labels stay whole
//! inside the chart. Screenshots go to `target/tmp/screenshots/phone-*.png`.

use crate::browser::Browser;
use crate::helpers::*;

/// Nothing on the page reaches past the screen's width (the page cannot be scrolled sideways).
const FITS: &str = "return document.documentElement.scrollWidth <= window.innerWidth;";

/// The lines of what a person reads that hold an id (ids belong in links and attributes).
const UUID_LINES: &str =
    "const id = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
  return document.body.innerText.split('\\n').filter(l => id.test(l)).join(' | ');";

/// Every waterfall label drawn inside the chart, and wider than a few letters.
const LABELS_WHOLE: &str = "const svg = document.getElementById('waterfall');
  const box = svg.viewBox.baseVal;
  const labels = [...svg.querySelectorAll('text.label')];
  return labels.length > 0 && labels.every(l => {
    const b = l.getBBox();
    return b.x >= box.x - 0.5 && b.x + b.width <= box.x + box.width + 0.5
      && l.getComputedTextLength() >= 6 * Math.min(l.textContent.length, 4);
  });";

async fn walk(b: &Browser, t: &TestApp, lang: &str) {
    for (name, path) in [
        ("dashboard", "/dashboard"),
        ("queue", "/matches"),
        ("cases", "/cases"),
        ("records", "/records"),
        ("not-found", "/no-such-page"),
    ] {
        b.goto(&t.url(path)).await;
        b.wait_for("return document.readyState === 'complete';")
            .await;
        b.screenshot(&format!("phone-{name}-{lang}")).await;
        assert_eq!(b.eval(FITS).await, true, "{path} fits 390 px in {lang}");
        assert_eq!(b.eval(UUID_LINES).await, "", "{path} shows no id in {lang}");
    }
    b.goto(&t.url("/matches")).await;
    b.click("table a[href^='/matches/']").await;
    b.wait_for("return location.pathname.startsWith('/matches/');")
        .await;
    b.screenshot(&format!("phone-review-{lang}")).await;
    assert_eq!(b.eval(FITS).await, true, "the review page fits in {lang}");
    assert_eq!(b.eval(UUID_LINES).await, "", "the review page shows no id");
    b.eval("document.getElementById('waterfall').scrollIntoView(); return true;")
        .await;
    b.screenshot(&format!("phone-waterfall-{lang}")).await;
    assert_eq!(
        b.eval(LABELS_WHOLE).await,
        true,
        "the waterfall's labels are whole in {lang}"
    );
}

#[tokio::test]
async fn the_main_pages_fit_a_phone_in_english_and_in_arabic() {
    let Some((app, b)) = Browser::with_app(test_options()).await else {
        return;
    };
    let t = &app;
    crate::review::one_candidate(t).await;
    b.cmd(
        reqwest::Method::POST,
        "/window/rect",
        Some(serde_json::json!({ "width": 390, "height": 844 })),
    )
    .await;
    assert_eq!(b.eval("return window.innerWidth;").await, 390);
    b.sign_in(t, "mira").await;
    walk(&b, t, "en").await;
    b.eval(
        "const f = document.querySelector('form.lang');
         f.querySelector('select').value = 'ar'; f.submit(); return true;",
    )
    .await;
    b.wait_for("return document.documentElement.dir === 'rtl';")
        .await;
    walk(&b, t, "ar").await;
    // The pair confirmed, its case opens: the case page fits and names people too.
    b.click("#confirm").await;
    b.wait_for("return document.getElementById('case-link') !== null;")
        .await;
    b.click("#case-link").await;
    b.wait_for("return location.pathname.startsWith('/cases/');")
        .await;
    b.screenshot("phone-case-ar").await;
    // The summary and the next step first; of the kinds of work only what the next step needs
    // (a located child's identity is verified next) is open, the rest folded.
    assert_eq!(
        b.eval(
            "return [...document.querySelectorAll('details.part')]
               .filter(d => d.open).map(d => d.dataset.part).join(',');"
        )
        .await,
        "verify"
    );
    assert_eq!(
        b.eval("return document.querySelectorAll('details.part').length >= 6;")
            .await,
        true
    );
    assert_eq!(b.eval(FITS).await, true, "the case page fits");
    assert_eq!(b.eval(UUID_LINES).await, "", "the case page shows no id");
    b.quit().await;
    app.cleanup().await;
}

/// The paths of the navigation of the page shown.
const NAV: &str = "return [...document.querySelectorAll('header nav a')]
  .map(a => a.getAttribute('href'));";

#[tokio::test]
async fn every_page_in_each_roles_menu_fits_a_phone_and_shows_people_not_ids() {
    let Some((app, b)) = Browser::with_app(test_options()).await else {
        return;
    };
    let t = &app;
    crate::review::one_candidate(t).await;
    let mediator = t.cli_party("Task force 2", "mediator").await;
    t.cli_user(&mediator, "anna", &["admin", "auditor"]).await;
    let observer = t.cli_party("Prosecutor", "observer").await;
    t.cli_user(&observer, "omar", &["viewer", "auditor"]).await;
    b.cmd(
        reqwest::Method::POST,
        "/window/rect",
        Some(serde_json::json!({ "width": 390, "height": 844 })),
    )
    .await;
    for user in ["mira", "olena", "kirill", "anna", "omar"] {
        b.sign_in(t, user).await;
        let nav = b.eval(NAV).await;
        let paths: Vec<String> = nav
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        assert!(paths.len() >= 2, "{user}: {paths:?}");
        // The menu is folded behind its button until opened.
        let shown = "return document.querySelector('header nav').offsetParent !== null;";
        assert_eq!(b.eval(shown).await, false, "{user}: the menu starts folded");
        b.click("#menu-toggle").await;
        assert_eq!(
            b.eval(shown).await,
            true,
            "{user}: the button opens the menu"
        );
        let expanded =
            "return document.getElementById('menu-toggle').getAttribute('aria-expanded');";
        assert_eq!(b.eval(expanded).await, "true");
        assert_eq!(
            b.eval(FITS).await,
            true,
            "{user}: the open menu fits 390 px"
        );
        for path in &paths {
            b.goto(&t.url(path)).await;
            b.wait_for("return document.readyState === 'complete';")
                .await;
            let name = format!("phone-{user}{}", path.replace('/', "-"));
            b.screenshot(&name).await;
            assert_eq!(b.eval(FITS).await, true, "{user}: {path} fits 390 px");
            // The audit log names cases, users and parties; a record or an import it still
            // shows by id (an auditor may not read the child's name).
            if path == "/audit" {
                let lines = b.eval(UUID_LINES).await;
                let lines = lines.as_str().unwrap_or_default();
                assert!(
                    lines
                        .split(" | ")
                        .filter(|l| !l.is_empty())
                        .all(|l| l.contains("\trecord ") || l.contains("\timport ")),
                    "{user}: {lines}"
                );
            } else {
                assert_eq!(b.eval(UUID_LINES).await, "", "{user}: {path} shows no id");
            }
        }
    }
    b.quit().await;
    app.cleanup().await;
}
