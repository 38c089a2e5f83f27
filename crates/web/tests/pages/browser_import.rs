//! The import in a real headless Chromium: a custody caseworker uploads a small list through the
//! file input, keeps the proposed mapping, sees the one bad row, imports the valid rows, and the
//! mediator's queue then holds the pair for review (the scenario continues in
//! `browser.rs`). Screenshot `import-preview` goes beside the others.

use crate::browser::Browser;
use crate::helpers::*;
use reqwest::StatusCode;

impl Browser {
    /// Chooses a local file in an `<input type=file>`: WebDriver takes its path as typed text.
    pub(crate) async fn choose_file(&self, css: &str, path: &std::path::Path) {
        self.type_into(css, &path.to_string_lossy()).await;
    }
}

#[tokio::test]
async fn a_custody_caseworker_imports_a_list_through_the_page_in_a_real_browser() {
    let Some((app, b)) = Browser::with_app(test_options()).await else {
        return;
    };
    let t = &app;
    crate::review::three_sides(t).await;
    crate::review::origin_seeks_oleksandr(t).await;

    // The custody side's list, with one child whose birth date is in the future.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("held.csv");
    let list = format!(
        "{}Коваль,Анна,Петровна,2030,ж,Харьков,Приёмная семья\n",
        crate::review::CUSTODY_CSV
    );
    std::fs::write(&file, list).unwrap();

    b.sign_in(t, "kirill").await;
    b.click("header nav a[href='/import']").await;
    b.wait_for("return location.pathname === '/import';").await;
    b.choose_file("#import-file", &file).await;
    b.click("#upload").await;
    b.wait_for("return document.getElementById('mapping-form') !== null;")
        .await;
    assert_eq!(
        b.eval("return document.getElementById('map-0').value;")
            .await,
        "family_name",
        "the header Фамилия is recognised"
    );
    b.screenshot("import-columns").await;
    b.click("#check").await;
    b.wait_for("return document.getElementById('import-counts') !== null;")
        .await;
    assert_eq!(
        b.eval("return document.getElementById('count-valid').textContent;")
            .await,
        "1"
    );
    assert_eq!(
        b.eval("return document.querySelector('#bad-rows tbody tr').dataset.code;")
            .await,
        "date_in_future"
    );
    assert!(b.page_text().await.contains("The date is in the future."));
    b.screenshot("import-preview").await;

    b.click("#confirm").await;
    b.wait_for("return document.getElementById('count-imported') !== null;")
        .await;
    assert_eq!(
        b.eval("return document.getElementById('count-imported').textContent;")
            .await,
        "1"
    );
    b.click("#see-records").await;
    b.wait_for("return location.pathname === '/records';").await;
    assert!(b.page_text().await.contains("Лысенко"));

    // The import proposed the pair to the mediator's reviewers.
    let m = t.login("mira", PASSWORD).await;
    let queue = expect(m.get("/api/v1/matches").await, StatusCode::OK).await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{queue}");

    b.quit().await;
    app.cleanup().await;
}
