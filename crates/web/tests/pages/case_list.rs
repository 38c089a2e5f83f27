//! The Cases page: every case the mediator's staff may read, by number and by the child's name in
//! any script, with filters and counts; linked from the navigation and the dashboard's chart;
//! refused to those the API's case list refuses; and, in a real browser, a child found by a Latin
//! spelling of a Cyrillic name and by case number.

use crate::browser::Browser;
use crate::case_forms::located_case;
use crate::helpers::*;
use crate::*;
use reqwest::StatusCode;

/// The number of `case`, as the API gives it.
async fn number_of(t: &TestApp, case: &str) -> String {
    let m = t.login("mira", PASSWORD).await;
    let c = expect(
        m.get(&format!("/api/v1/cases/{case}")).await,
        StatusCode::OK,
    )
    .await;
    c["number"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_cases_page_finds_a_child_by_name_in_any_script_or_by_number() {
    on_every_backend(async |t: &TestApp| {
        let case = located_case(t).await;
        let number = number_of(t, &case).await;
        assert!(
            number.starts_with("HW-") && number.ends_with("-00001"),
            "{number}"
        );

        // The API's list finds it by number, and says what a bad number is.
        let m = t.login("mira", PASSWORD).await;
        let by_number = expect(
            m.get(&format!("/api/v1/cases?number={number}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(by_number["items"][0]["case"]["id"], case.as_str());
        assert_eq!(by_number["items"][0]["number"], number.as_str());
        let bad = m.get("/api/v1/cases?number=HW-26-1").await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

        let (c, csrf) = sign_in(t, "mira").await;
        let (status, list) = get(&c, t, "/cases").await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&list);
        assert!(list.contains(&number), "the number is shown");
        assert!(
            list.contains("Олександр") && list.contains("(Oleksandr"),
            "the child as written and transliterated"
        );
        assert!(list.contains("2015-03-07"), "the birth date");
        assert!(list.contains("href=\"/cases\""), "in the navigation");
        assert!(!list.contains(&format!(">{case}<")), "no UUID is shown");

        for q in [
            "Oleksandr Lysenko",
            "Aleksandr",
            "лисенко",
            &number,
            &number.to_lowercase(),
        ] {
            let res = post_form(&c, t, "/cases", &[("csrf", &csrf), ("q", q)]).await;
            assert_eq!(res.status(), StatusCode::OK, "{q}");
            let page = res.text().await.unwrap();
            assert!(page.contains(&format!("/cases/{case}")), "{q}");
            assert!(page.contains("Cases: 1 "), "{q}");
        }
        let none = post_form(&c, t, "/cases", &[("csrf", &csrf), ("q", "Petrenko")]).await;
        let none = none.text().await.unwrap();
        assert!(none.contains("Cases: 0 ") && !none.contains(&format!("/cases/{case}")));
        let (_, open) = get(&c, t, "/cases?state=open").await;
        assert!(open.contains("Cases: 0 "));
        let (_, located) = get(&c, t, "/cases?state=located&sort=updated&dir=asc").await;
        assert!(located.contains("Cases: 1 ") && located.contains(&number));
        // A name in the URL is not searched (names stay out of URLs).
        let (_, by_url) = get(&c, t, "/cases?q=Petrenko").await;
        assert!(by_url.contains("Cases: 1 "));
        // Without the form's token, nothing.
        let forged = post_form(&c, t, "/cases", &[("q", "Oleksandr")]).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);

        // The dashboard's chart opens the page on a state; the case page says its number.
        let (_, dash) = get(&c, t, "/dashboard").await;
        assert!(
            dash.contains("href=\"/cases?state=located\""),
            "chart links"
        );
        let (_, page) = get(&c, t, &format!("/cases/{case}")).await;
        assert!(
            page.contains(&format!("<title>{number}")),
            "the title names the case"
        );
        assert!(page.contains("id=\"case-number\""));

        // Refused as the API's case list is refused.
        let (o, _) = sign_in(t, "olena").await;
        let (status, _) = get(&o, t, "/cases").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, odash) = get(&o, t, "/dashboard").await;
        assert!(
            !odash.contains("href=\"/cases\""),
            "not in the origin's navigation"
        );
    })
    .await;
}

#[tokio::test]
async fn a_child_is_found_on_the_cases_page_by_latin_name_and_by_number_in_a_real_browser() {
    let Some((app, b)) = Browser::with_app(test_options()).await else {
        return;
    };
    let t = &app;
    let case = located_case(t).await;
    let number = number_of(t, &case).await;

    b.sign_in(t, "mira").await;
    b.click("nav a[href='/cases']").await;
    b.wait_for("return location.pathname === '/cases';").await;
    // The Ukrainian tracing request (Олександр Лисенко) by its passport spelling.
    b.type_into("#q-text", "Oleksandr Lysenko").await;
    b.click("#search").await;
    b.wait_for("return document.getElementById('case-table') !== null && document.getElementById('q-text').value !== '';")
        .await;
    let text = b.page_text().await;
    assert!(text.contains(&number), "{text}");
    assert!(
        text.contains("Олександр") && text.contains("Лысенко"),
        "both records' names: {text}"
    );
    assert!(!text.contains(&case), "no UUID on the page: {text}");
    b.screenshot("cases_by_latin_name").await;

    b.eval("document.getElementById('q-text').value = ''; return true;")
        .await;
    b.type_into("#q-text", &number).await;
    b.click("#search").await;
    b.wait_for("return document.getElementById('case-number-read') !== null;")
        .await;
    let count = b
        .eval("return document.getElementById('case-count').textContent;")
        .await;
    assert!(count.as_str().unwrap().contains("Cases: 1 "), "{count}");
    b.screenshot("cases_by_number").await;
    b.click("a.case-number").await;
    b.wait_for("return location.pathname.startsWith('/cases/');")
        .await;
    assert_eq!(
        b.eval("return document.getElementById('case-number').textContent;")
            .await,
        number.as_str()
    );
    b.quit().await;
    app.cleanup().await;
}

#[tokio::test]
async fn the_review_queue_names_both_children_not_the_pair_id() {
    on_every_backend(async |t: &TestApp| {
        crate::review::one_candidate(t).await;
        let m = t.login("mira", PASSWORD).await;
        let queue = expect(m.get("/api/v1/matches").await, StatusCode::OK).await;
        let pair = queue["items"][0]["id"].as_str().unwrap().to_owned();
        let (c, _) = sign_in(t, "mira").await;
        let (status, page) = get(&c, t, "/matches").await;
        assert_eq!(status, StatusCode::OK);
        let table = crate::case_forms::part(&page, "<table", "</table>");
        assert!(
            table.contains("Олександр") && table.contains("(Oleksandr"),
            "{table}"
        );
        assert!(
            table.contains("Лысенко") && table.contains("2015-03-07"),
            "{table}"
        );
        assert!(
            !table.contains(&format!(">{pair}<")),
            "no pair id shown: {table}"
        );
        assert!(
            table.contains(&format!("/matches/{pair}")),
            "still linked by id"
        );
    })
    .await;
}

#[tokio::test]
async fn the_lockout_says_how_long_it_lasts_and_pages_have_an_icon() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let c = browser_client();
        let (_, page) = get(&c, t, "/login").await;
        assert!(page.contains("rel=\"icon\""), "the frame names its icon");
        let token = csrf_of(&page);
        let mut last = String::new();
        for i in 0..=t.app.config().login_max_failures {
            let guess = format!("guess number {i}");
            let res = post_form(
                &c,
                t,
                "/login",
                &[
                    ("csrf", &token),
                    ("username", "olena"),
                    ("password", &guess),
                ],
            )
            .await;
            last = res.text().await.unwrap();
        }
        let at = last
            .find("id=\"retry-in\"")
            .unwrap_or_else(|| panic!("{last}"));
        let said = &last[at..at + last[at..].find("</span>").unwrap()];
        assert!(
            said.contains("You can try again in ") && said.contains(" min."),
            "{said}"
        );
        for path in ["/favicon.ico", "/static/favicon.svg"] {
            let res = c.get(t.url(path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(res.headers()["content-type"], "image/svg+xml");
            assert!(res.text().await.unwrap().starts_with("<svg"));
        }
    })
    .await;
}

#[tokio::test]
async fn a_bad_page_url_answers_the_error_page_and_the_api_stays_json() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "mira", &["caseworker", "reviewer"])
            .await;
        let (c, _) = sign_in(t, "mira").await;
        const HTML: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";
        for path in ["/no-such-page", "/cases/not-a-uuid", "/matches/123"] {
            let res = c
                .get(t.url(path))
                .header("accept", HTML)
                .send()
                .await
                .unwrap();
            let status = res.status();
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
                "{path}: {status}"
            );
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{path}"
            );
            let page = res.text().await.unwrap();
            assert!(
                page.contains("<html") && page.contains("rel=\"icon\""),
                "{path}: {page}"
            );
        }
        let api = c
            .get(t.url("/api/v1/no-such"))
            .header("accept", HTML)
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert!(
            api.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    })
    .await;
}
