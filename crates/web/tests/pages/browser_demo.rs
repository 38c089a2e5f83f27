//! The demo's promise, in a real browser: someone who has only the page in front of them gets
//! from the sign-in page to a confirmed match by following what the pages offer (the demo
//! account's button, the dashboard's tour, the queue, the confirm button), typing nothing.

use crate::browser::Browser;
use crate::helpers::*;

#[tokio::test]
async fn a_newcomer_reaches_a_confirmed_match_from_the_demo_sign_in_page() {
    let opts = homeward_web::WebOptions {
        demo_logins: vec![homeward_web::DemoLogin {
            username: "mira".to_owned(),
            party: "Task force".to_owned(),
            password: PASSWORD.to_owned(),
            suggested: true,
        }],
        ..test_options()
    };
    let Some((app, b)) = Browser::with_app(opts).await else {
        return;
    };
    let t = &app;
    crate::review::one_candidate(t).await;

    // A tablet held upright: every page on the way must fit its width (nothing to scroll
    // sideways to find a button).
    b.cmd(
        reqwest::Method::POST,
        "/window/rect",
        Some(serde_json::json!({ "width": 768, "height": 1024 })),
    )
    .await;
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth;";
    b.goto(&t.url("/")).await;
    b.wait_for("return location.pathname === '/login';").await;
    assert_eq!(b.eval(fits).await, true, "the sign-in page fits a tablet");
    b.click("button[data-demo-user='mira']").await;
    b.wait_for("return location.pathname === '/dashboard';")
        .await;
    assert_eq!(b.eval(fits).await, true, "the dashboard fits a tablet");
    b.screenshot("demo-dashboard").await;
    b.click("#tour-start").await;
    b.wait_for("return location.pathname === '/matches';").await;
    b.click("table a[href^='/matches/']").await;
    b.wait_for("return location.pathname.startsWith('/matches/');")
        .await;
    assert_eq!(b.eval(fits).await, true, "the review page fits a tablet");
    b.click("#confirm").await;
    b.wait_for("return document.getElementById('case-link') !== null;")
        .await;
    assert_eq!(
        b.eval("return document.getElementById('match-status').textContent;")
            .await,
        "Confirmed"
    );

    b.quit().await;
    app.cleanup().await;
}
