//! Error pages of page routes are drawn inside the normal frame (navigation, who is signed in,
//! the language switcher), say what kind of failure it was, and for a refusal say why and who
//! may; before anyone signs in they are drawn bare, in the browser's language.

use super::{get, sign_in};
use crate::helpers::*;
use reqwest::StatusCode;

const HTML: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn error_pages_keep_the_frame_and_a_refusal_says_why_and_who_can() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "mira", &["caseworker", "reviewer"])
            .await;
        let (c, _) = sign_in(t, "mira").await;

        // An unknown path and a malformed id: the frame is there, titled for what happened.
        for path in ["/no-such-page", "/cases/not-a-uuid"] {
            let res = c
                .get(t.url(path))
                .header("accept", HTML)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_client_error(), "{path}");
            let page = res.text().await.unwrap();
            assert!(
                page.contains("aria-label=\"Main navigation\""),
                "{path}: {page}"
            );
            assert!(page.contains("href=\"/cases\""), "{path}: {page}");
            assert!(page.contains("action=\"/language\""), "{path}: {page}");
            assert!(page.contains("id=\"sign-out\""), "{path}: {page}");
            assert!(!page.contains("Something went wrong"), "{path}: {page}");
        }
        let res = c
            .get(t.url("/no-such-page"))
            .header("accept", HTML)
            .send()
            .await
            .unwrap();
        let page = res.text().await.unwrap();
        assert!(page.contains("<title>Not found"), "{page}");

        // A page for administrators: refused, with the right it needs and who has it.
        let (status, page) = get(&c, t, "/admin/roles").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(page.contains("<title>Not allowed"), "{page}");
        assert!(
            page.contains("it needs the right to: <strong>Manage users</strong>"),
            "{page}"
        );
        assert!(page.contains("Who can: Administrator"), "{page}");
        assert!(
            page.contains("href=\"/matches\""),
            "still in the frame: {page}"
        );

        // Nobody signed in: the same page, bare, in the language the browser asks for.
        let anon = super::browser_client();
        let res = anon
            .get(t.url("/no-such-page"))
            .header("accept", HTML)
            .header("accept-language", "ar")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let page = res.text().await.unwrap();
        assert!(page.contains("dir=\"rtl\""), "{page}");
        assert!(page.contains("غير موجود"), "{page}");
        assert!(!page.contains("Main navigation") && !page.contains("action=\"/language\""));
    })
    .await;
}
