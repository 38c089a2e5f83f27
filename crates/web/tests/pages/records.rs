//! The records pages: a search that finds a child whatever the script, names shown as written with
//! their transliteration, the record with its history, and nothing the API would not show.

use crate::helpers::*;
use crate::*;
use reqwest::StatusCode;

#[tokio::test]
async fn a_search_finds_a_child_in_any_script_and_shows_the_record() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        let custody = t.cli_party("Custody authority", "custody").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        t.cli_user(&custody, "kirill", &["caseworker"]).await;
        let o = t.login("olena", PASSWORD).await;
        let k = t.login("kirill", PASSWORD).await;
        let uk = expect(
            o.post(
                "/api/v1/records",
                &child("Олександр", "Олійник", "uk-Cyrl", true),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        expect(
            o.post(
                "/api/v1/records",
                &child("Марія", "Коваленко", "uk-Cyrl", true),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let ru = expect(
            k.post(
                "/api/v1/records",
                &child("Александр", "Олейник", "ru-Cyrl", false),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;

        let (c, csrf) = sign_in(t, "olena").await;
        let (status, list) = get(&c, t, "/records").await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&list);
        assert!(
            list.contains("Олександр"),
            "{}",
            &list[list.find("<table").unwrap_or(0)..]
        );
        assert!(
            list.contains("(Oleksandr Oliinyk)"),
            "KMU 2010 beside the original"
        );
        assert!(
            !list.contains("Олейник"),
            "another party's record is not listed"
        );

        // The name goes in the body, never the URL; a name put in the URL is not searched.
        let res = post_form(&c, t, "/records", &[("csrf", &csrf), ("name", "Oleksandr")]).await;
        assert_eq!(res.status(), StatusCode::OK);
        let found = res.text().await.unwrap();
        assert!(
            found.contains("Олександр") && !found.contains("Марія"),
            "{found}"
        );
        let (_, ignored) = get(&c, t, "/records?name=Oleksandr").await;
        assert!(
            ignored.contains("Марія"),
            "a name in the query string is not a search"
        );
        let res = post_form(&c, t, "/records", &[("name", "Oleksandr")]).await;
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "a search needs the CSRF token"
        );

        // The mediator sees both sides: one search in Latin finds both spellings.
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "mira", &["caseworker"]).await;
        let (m, mcsrf) = sign_in(t, "mira").await;
        let res = post_form(
            &m,
            t,
            "/records",
            &[("csrf", &mcsrf), ("name", "Oleksandr")],
        )
        .await;
        let found = res.text().await.unwrap();
        assert!(
            found.contains("Олійник") && found.contains("Олейник"),
            "{found}"
        );
        assert!(
            found.contains("(Aleksandr Oleinik)"),
            "ICAO beside the Russian"
        );
        assert!(!found.contains("Марія"));

        // The record page, with its history; another party's record is not there for olena.
        let uk_id = uk["id"].as_str().unwrap();
        let (status, page) = get(&c, t, &format!("/records/{uk_id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Олександр Олійник") || page.contains("Олійник Олександр"));
        assert!(page.contains("Filed"), "the history's first version");
        let ru_id = ru["id"].as_str().unwrap();
        let (status, page) = get(&c, t, &format!("/records/{ru_id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!page.contains("Олейник"));
        assert!(page.contains("not_found"));
    })
    .await;
}
