//! Signing in (with a second factor), signing out, CSRF on every form, the Content-Security-Policy,
//! languages and the dashboard.

use crate::helpers::*;
use crate::*;
use homeward_app::auth::{current_totp_code, next_totp_code};
use homeward_app::console::Console;
use homeward_domain::Language;
use reqwest::StatusCode;

#[tokio::test]
async fn signing_in_and_out_through_the_pages() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "mira", &["caseworker", "reviewer"])
            .await;
        let c = browser_client();

        // Not signed in: every page leads to the sign-in page.
        let res = c.get(t.url("/dashboard")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/login");

        let res = c.get(t.url("/login")).send().await.unwrap();
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        for part in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(part), "{csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let page = res.text().await.unwrap();
        assert!(page.contains("<html lang=\"en\" dir=\"ltr\">"));
        assert!(
            !page.contains("<script>") && !page.contains("style="),
            "nothing inline"
        );
        assert_every_form_has_csrf(&page);
        let token = csrf_of(&page);

        // A sign-in form without the token is refused and opens no session.
        let res = post_form(
            &c,
            t,
            "/login",
            &[("username", "mira"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains("The form had expired"));
        let res = c.get(t.url("/dashboard")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        let res = post_form(
            &c,
            t,
            "/login",
            &[
                ("csrf", &token),
                ("username", "mira"),
                ("password", "wrong password!"),
            ],
        )
        .await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("The username or password is wrong.")
        );

        let (c, csrf) = sign_in(t, "mira").await;
        let (status, dash) = get(&c, t, "/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        assert!(dash.contains("mira"));
        assert_every_form_has_csrf(&dash);
        // The mediator's reviewer sees the queue and the chart, drawn as SVG on the server.
        assert!(dash.contains("id=\"queue-count\">0<"), "{dash}");
        assert!(dash.contains("<svg class=\"chart\""));
        assert_eq!(dash.matches("<rect class=\"bar\"").count(), 14);

        // Signing out needs the token too.
        let res = post_form(&c, t, "/logout", &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = post_form(&c, t, "/logout", &[("csrf", "forged")]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            get(&c, t, "/dashboard").await.0,
            StatusCode::OK,
            "still signed in"
        );
        let res = post_form(&c, t, "/logout", &[("csrf", &csrf)]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/login?out=1");
        let res = c.get(t.url("/dashboard")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "the session is gone");
    })
    .await;
}

#[tokio::test]
async fn an_account_with_a_second_factor_is_asked_for_its_code() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let caller = Console::new(&t.app).caller("olena").await.unwrap();
        let enrolment = t.app.begin_totp_enrolment(&caller).await.unwrap();
        let code = current_totp_code(&enrolment.secret).unwrap();
        t.app.confirm_totp_enrolment(&caller, &code).await.unwrap();

        let c = browser_client();
        let (_, page) = get(&c, t, "/login").await;
        assert!(
            !page.contains("name=\"totp_code\""),
            "no code field until needed"
        );
        let token = csrf_of(&page);
        let res = post_form(
            &c,
            t,
            "/login",
            &[
                ("csrf", &token),
                ("username", "olena"),
                ("password", PASSWORD),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(page.contains("name=\"totp_code\""), "{page}");
        assert!(page.contains("This account has a second factor"));
        let token = csrf_of(&page);
        let res = post_form(
            &c,
            t,
            "/login",
            &[
                ("csrf", &token),
                ("username", "olena"),
                ("password", PASSWORD),
                ("totp_code", "000000"),
            ],
        )
        .await;
        let page = res.text().await.unwrap();
        assert!(page.contains("The code is wrong"), "{page}");
        // The enrolment spent the current code: it is refused as wrong, the next one works.
        let res = post_form(
            &c,
            t,
            "/login",
            &[
                ("csrf", &token),
                ("username", "olena"),
                ("password", PASSWORD),
                ("totp_code", &code),
            ],
        )
        .await;
        assert!(res.text().await.unwrap().contains("The code is wrong"));
        let code = next_totp_code(&enrolment.secret).unwrap();
        let res = post_form(
            &c,
            t,
            "/login",
            &[
                ("csrf", &token),
                ("username", "olena"),
                ("password", PASSWORD),
                ("totp_code", &code),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(get(&c, t, "/dashboard").await.0, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn the_language_is_kept_per_user_and_arabic_is_right_to_left() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        let user = t.cli_user(&mediator, "mira", &["caseworker"]).await;
        let (c, csrf) = sign_in(t, "mira").await;

        let res = post_form(
            &c,
            t,
            "/language",
            &[("csrf", "forged"), ("language", "ar")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = post_form(
            &c,
            t,
            "/language",
            &[
                ("csrf", &csrf),
                ("language", "ar"),
                ("back", "https://elsewhere.example/"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/dashboard", "never off-site");
        let (_, dash) = get(&c, t, "/dashboard").await;
        assert!(dash.contains("<html lang=\"ar\" dir=\"rtl\">"), "{dash}");
        assert!(dash.contains("لوحة المتابعة"));
        assert!(dash.contains("تسجيل الخروج"));
        let stored = Console::new(&t.app).find_user("mira").await.unwrap();
        assert_eq!(stored.id, user.id);
        assert_eq!(stored.language, Some(Language::Ar));

        // Another browser signing in as the same user gets the stored language.
        let (other, _) = sign_in(t, "mira").await;
        let (_, dash) = get(&other, t, "/dashboard").await;
        assert!(dash.contains("<html lang=\"ar\" dir=\"rtl\">"));

        for (code, word) in [("uk", "Вийти"), ("ru", "Выйти"), ("en", "Sign out")] {
            let res = post_form(
                &c,
                t,
                "/language",
                &[("csrf", &csrf), ("language", code), ("back", "/dashboard")],
            )
            .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let (_, dash) = get(&c, t, "/dashboard").await;
            assert!(dash.contains(&format!("<html lang=\"{code}\" dir=\"ltr\">")));
            assert!(dash.contains(word), "{code}");
        }

        // Before signing in, the choice is kept in a cookie, behind the pre-session token.
        let anon = browser_client();
        let (_, page) = get(&anon, t, "/login").await;
        let token = csrf_of(&page);
        let res = post_form(
            &anon,
            t,
            "/language",
            &[("csrf", &token), ("language", "uk"), ("back", "/login")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, page) = get(&anon, t, "/login").await;
        assert!(page.contains("<html lang=\"uk\" dir=\"ltr\">"));
        assert!(page.contains("Вхід до Homeward"));
    })
    .await;
}

/// A demo server lists its accounts on the sign-in page, each signs in with one button, and a
/// reviewer's dashboard then leads to the review queue; a real server shows none of it.
#[tokio::test]
async fn a_demo_server_leads_a_newcomer_from_the_sign_in_page_to_the_review_queue() {
    let demo = vec![homeward_web::DemoLogin {
        username: "mira".to_owned(),
        party: "Task force".to_owned(),
        password: PASSWORD.to_owned(),
        suggested: true,
    }];
    let opts = homeward_web::WebOptions {
        demo_logins: demo,
        ..test_options()
    };
    on_every_backend_with(
        homeward_app::AppConfig::default(),
        opts,
        async |t: &TestApp| {
            let mediator = t.cli_party("Task force", "mediator").await;
            t.cli_user(&mediator, "mira", &["caseworker", "reviewer"])
                .await;
            let c = browser_client();
            let (_, page) = get(&c, t, "/login").await;
            assert!(page.contains("id=\"demo-logins\""), "{page}");
            assert!(page.contains("data-demo-user=\"mira\""));
            assert_every_form_has_csrf(&page);
            // The one-button form carries exactly what the person would type.
            let token = csrf_of(&page);
            let res = post_form(
                &c,
                t,
                "/login",
                &[
                    ("csrf", &token),
                    ("username", "mira"),
                    ("password", PASSWORD),
                ],
            )
            .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let (status, dash) = get(&c, t, "/dashboard").await;
            assert_eq!(status, StatusCode::OK);
            assert!(dash.contains("id=\"demo-tour\""), "{dash}");
            assert!(dash.contains("href=\"/matches\" class=\"button\" id=\"tour-start\""));
        },
    )
    .await;

    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "mira", &["caseworker", "reviewer"])
            .await;
        let c = browser_client();
        let (_, page) = get(&c, t, "/login").await;
        assert!(!page.contains("demo-logins"));
        assert!(!page.contains(PASSWORD));
        let (c, _) = sign_in(t, "mira").await;
        let (_, dash) = get(&c, t, "/dashboard").await;
        assert!(!dash.contains("demo-tour"));
        assert!(
            dash.contains("id=\"followups-h\""),
            "the mediator sees overdue visits"
        );
    })
    .await;
}
