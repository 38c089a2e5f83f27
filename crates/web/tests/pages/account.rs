//! My account's password form: guesses at the current password are throttled like sign-ins
//! (429 with Retry-After, the refusal on the form), and the change revokes the API tokens unless
//! the person ticks the box that keeps them.

use crate::helpers::*;
use crate::*;
use reqwest::StatusCode;
use serde_json::json;

async fn token_of(t: &TestApp, username: &str, password: &str) -> String {
    let s = t.login(username, password).await;
    let made = expect(
        s.post("/api/v1/me/tokens", &json!({ "name": "sync" }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    made["token"].as_str().unwrap().to_owned()
}

async fn bearer_status(t: &TestApp, token: &str) -> StatusCode {
    t.anonymous()
        .get(t.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

fn change<'a>(csrf: &'a str, current: &'a str, new: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("current_password", current),
        ("new_password", new),
        ("repeat_password", new),
    ]
}

#[tokio::test]
async fn the_password_form_keeps_tokens_only_when_asked() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let (c, csrf) = sign_in(t, "olena").await;
        let (_, page) = get(&c, t, "/account").await;
        assert!(page.contains("name=\"keep_tokens\""), "{page}");
        assert!(
            !page.contains("name=\"keep_tokens\" value=\"yes\" checked"),
            "off unless ticked"
        );

        let token = token_of(t, "olena", PASSWORD).await;
        let mut form = change(&csrf, PASSWORD, "second long password");
        form.push(("keep_tokens", "yes"));
        let res = post_form(&c, t, "/account/password", &form).await;
        assert_eq!(res.headers()["location"], "/login?ended=1");
        assert_eq!(bearer_status(t, &token).await, StatusCode::OK);

        let c = sign_in_with(t, "olena", "second long password").await;
        let (_, page) = get(&c, t, "/account").await;
        let csrf = csrf_of(&page);
        let form = change(&csrf, "second long password", "third long password");
        let res = post_form(&c, t, "/account/password", &form).await;
        assert_eq!(res.headers()["location"], "/login?ended=1");
        assert_eq!(bearer_status(t, &token).await, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn guesses_on_the_password_form_are_throttled() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let (c, csrf) = sign_in(t, "olena").await;
        for i in 0..t.app.config().login_max_failures {
            let guess = format!("guess number {i}");
            let res = post_form(
                &c,
                t,
                "/account/password",
                &change(&csrf, &guess, "new long password"),
            )
            .await;
            assert_eq!(res.status(), StatusCode::OK);
            assert!(
                res.text()
                    .await
                    .unwrap()
                    .contains("<code>invalid_credentials</code>")
            );
        }
        let res = post_form(
            &c,
            t,
            "/account/password",
            &change(&csrf, PASSWORD, "new long password"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: i64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait > 0);
        let page = res.text().await.unwrap();
        assert!(page.contains("<code>too_many_attempts</code>"), "{page}");
        let res = t
            .try_login(&t.anonymous(), "olena", "new long password", None)
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    })
    .await;
}

/// Signs in through the sign-in page with a given password.
async fn sign_in_with(t: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let c = browser_client();
    let (_, page) = get(&c, t, "/login").await;
    let token = csrf_of(&page);
    let res = post_form(
        &c,
        t,
        "/login",
        &[
            ("csrf", &token),
            ("username", username),
            ("password", password),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in of {username}");
    c
}
