//! The match review and case pages over HTTP: the queue, a pair side by side with the engine's
//! waterfall, a decision by form (CSRF checked), the case it opens with its checklist, and only
//! for those the API lets see them.

use crate::helpers::*;
use crate::*;
use reqwest::StatusCode;

pub const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
    Лысенко,Александр,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4 (Ростовская область)\n";

/// The three sides: `olena` the origin's caseworker, `kirill` the custody side's, `mira` the
/// mediator's reviewer and caseworker.
pub async fn three_sides(t: &TestApp) {
    let origin = t.cli_party("Ombudsman", "origin").await;
    let custody = t.cli_party("Custody authority", "custody").await;
    let mediator = t.cli_party("Task force", "mediator").await;
    t.cli_user(&origin, "olena", &["caseworker"]).await;
    t.cli_user(&custody, "kirill", &["caseworker"]).await;
    t.cli_user(&mediator, "mira", &["caseworker", "reviewer"])
        .await;
}

/// The origin's tracing request for Олександр Лисенко, the child [`CUSTODY_CSV`] holds.
pub async fn origin_seeks_oleksandr(t: &TestApp) {
    let o = t.login("olena", PASSWORD).await;
    let request = serde_json::json!({
        "names": [{ "given": "Олександр", "patronymic": "Андрійович", "family": "Лисенко" }],
        "sex": "male",
        "birth_date": "2015-03-07",
        "birth_place": "Маріуполь",
        "enquirer_name": "Оксана Лисенко",
        "enquirer_relationship": "mother",
    });
    expect(
        o.post("/api/v1/records", &request).await,
        StatusCode::CREATED,
    )
    .await;
}

/// A tracing request by the origin and a custody list with the same child in Russian: one
/// candidate in the queue, between the [`three_sides`].
pub async fn one_candidate(t: &TestApp) {
    three_sides(t).await;
    origin_seeks_oleksandr(t).await;
    let k = t.login("kirill", PASSWORD).await;
    let res = k.import_custody(CUSTODY_CSV).await;
    expect(res, StatusCode::CREATED).await;
}

/// The id in the first `href="/<prefix>/..."` of a page.
pub fn first_link(html: &str, prefix: &str) -> String {
    let pat = format!("href=\"/{prefix}/");
    let at = html
        .find(&pat)
        .unwrap_or_else(|| panic!("no /{prefix}/ link"))
        + pat.len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn a_reviewer_confirms_a_pair_from_the_queue_and_the_case_opens() {
    on_every_backend(async |t: &TestApp| {
        one_candidate(t).await;
        let (c, csrf) = sign_in(t, "mira").await;
        let (status, queue) = get(&c, t, "/matches").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            queue.contains("aria-current=\"page\""),
            "the queue is in the navigation"
        );
        let id = first_link(&queue, "matches");
        let (status, pair) = get(&c, t, &format!("/matches/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&pair);
        // Both records, as written and transliterated by their own standards.
        assert!(
            pair.contains("Олександр Андрійович Лисенко") || pair.contains("Лисенко Олександр"),
            "{pair}"
        );
        assert!(pair.contains("Лысенко"), "the custody record's spelling");
        assert!(pair.contains("Oleksandr"), "KMU 2010 beside the Ukrainian");
        assert!(pair.contains("Aleksandr"), "ICAO 9303 beside the Russian");
        // The waterfall: one bar per field plus the prior and the total, drawn as SVG.
        assert!(pair.contains("<svg class=\"chart waterfall\""));
        assert!(pair.contains("Given name") && pair.contains("Date of birth"));
        assert!(pair.contains("class=\"bar for\""), "a field in favour");
        assert!(!pair.contains("style="), "no inline styles under the CSP");

        // A decision without the session's token is refused and changes nothing.
        let res = post_form(
            &c,
            t,
            &format!("/matches/{id}/confirm"),
            &[("csrf", "forged")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let (_, still) = get(&c, t, &format!("/matches/{id}")).await;
        assert!(still.contains("id=\"confirm-form\""), "still pending");
        // Rejecting needs a reason.
        let res = post_form(
            &c,
            t,
            &format!("/matches/{id}/reject"),
            &[("csrf", &csrf), ("reason", " ")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

        let res = post_form(
            &c,
            t,
            &format!("/matches/{id}/confirm"),
            &[("csrf", &csrf), ("reason", "names, date and place agree")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], format!("/matches/{id}"));
        let (_, done) = get(&c, t, &format!("/matches/{id}")).await;
        assert!(done.contains("Confirmed"), "{done}");
        assert!(!done.contains("id=\"confirm-form\""), "decided: no forms");
        assert!(done.contains("names, date and place agree"));
        let case = first_link(&done, "cases");
        let here = format!("/cases/{case}");
        let (status, page) = get(&c, t, &here).await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&page);
        assert!(page.contains("data-state=\"located\""));
        // The checklist names what identity_verified still needs, unmet.
        let item = &page[page
            .find("data-next=\"identity_verified\"")
            .expect("a next state")..];
        assert!(item[..item.find("</li>\n").unwrap_or(item.len())].contains("class=\"unmet\""));
        // A move the guards refuse is refused and changes nothing.
        let res = post_form(
            &c,
            t,
            &format!("{here}/transitions"),
            &[
                ("csrf", &csrf),
                ("to", "identity_verified"),
                ("expected_version", "1"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        for (v, method) in [
            ("1", "document_check"),
            ("2", "photo_recognition_by_relative"),
        ] {
            let res = post_form(
                &c,
                t,
                &format!("{here}/verifications"),
                &[
                    ("csrf", &csrf),
                    ("expected_version", v),
                    ("method", method),
                    ("performed_by", "ICRC delegate"),
                    ("outcome", "positive"),
                    ("notes", ""),
                ],
            )
            .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{method}");
        }
        // A form decided on an old version loses.
        let res = post_form(
            &c,
            t,
            &format!("{here}/verifications"),
            &[
                ("csrf", &csrf),
                ("expected_version", "1"),
                ("method", "interview"),
                ("performed_by", "x"),
                ("outcome", "positive"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let res = post_form(
            &c,
            t,
            &format!("{here}/transitions"),
            &[
                ("csrf", &csrf),
                ("to", "identity_verified"),
                ("reason", ""),
                ("expected_version", "3"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, page) = get(&c, t, &here).await;
        assert!(page.contains("data-state=\"identity_verified\""), "{page}");
        assert!(page.contains("Document check") && page.contains("Photo recognised by a relative"));
        assert!(page.contains("State changed"), "the timeline");
        let (_, queue) = get(&c, t, "/matches").await;
        assert!(!queue.contains(&id), "a decided pair leaves the queue");

        // The custody side's caseworker sees neither the queue nor the pair.
        let (k, _) = sign_in(t, "kirill").await;
        let (_, dash) = get(&k, t, "/dashboard").await;
        assert!(!dash.contains("href=\"/matches\""));
        assert_eq!(get(&k, t, "/matches").await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            get(&k, t, &format!("/matches/{id}")).await.0,
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

/// Issue 13 §2: a pair proposed by the renamed-child pattern (the sought boy under a new surname
/// and patronymic) says so on the review page, and why; an ordinary pair does not.
#[tokio::test]
async fn a_possibly_renamed_pair_is_explained_on_the_review_page() {
    on_every_backend(async |t: &TestApp| {
        three_sides(t).await;
        origin_seeks_oleksandr(t).await;
        let k = t.login("kirill", PASSWORD).await;
        let adopted = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
            Кравец,Александр,Сергеевич,07.03.2015,м,Мариуполь,Приёмная семья\n";
        expect(k.import_custody(adopted).await, StatusCode::CREATED).await;
        let (c, _) = sign_in(t, "mira").await;
        let (_, queue) = get(&c, t, "/matches").await;
        let id = first_link(&queue, "matches");
        let (status, pair) = get(&c, t, &format!("/matches/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(pair.contains("id=\"possibly-renamed\""), "{pair}");
        assert!(
            pair.contains("Possibly renamed")
                && pair.contains(
                    "given name, birth date, sex and place agree; surname and patronymic do not"
                ),
            "{pair}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_ordinary_pair_is_not_called_renamed() {
    on_every_backend(async |t: &TestApp| {
        one_candidate(t).await;
        let (c, _) = sign_in(t, "mira").await;
        let (_, queue) = get(&c, t, "/matches").await;
        let id = first_link(&queue, "matches");
        let (_, pair) = get(&c, t, &format!("/matches/{id}")).await;
        assert!(pair.contains("Лисенко"), "{pair}");
        assert!(!pair.contains("possibly-renamed"), "{pair}");
    })
    .await;
}
