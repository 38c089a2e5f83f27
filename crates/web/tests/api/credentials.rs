//! Password guessing and stale credentials over HTTP: the password change and the TOTP
//! confirmation answer 429 `too_many_attempts` with Retry-After once the account's sign-in
//! allowance is spent; a password change revokes the API tokens unless `keep_tokens` is true, an
//! administrator's reset always; a one-time code signs in once.

use crate::helpers::*;
use homeward_app::auth::{current_totp_code, next_totp_code};
use reqwest::StatusCode;
use serde_json::json;

async fn bearer_status(t: &TestApp, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(t.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_password_change_is_throttled() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let guess =
            |pw: &str| json!({ "current_password": pw, "new_password": "another good passphrase" });
        for i in 0..t.app.config().login_max_failures {
            let res = s
                .post("/api/v1/me/password", &guess(&format!("guess number {i}")))
                .await;
            expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        }
        let res = s.post("/api/v1/me/password", &guess(PASSWORD)).await;
        let wait: i64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait > 0);
        expect_error(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
        // The password is unchanged and the sign-in is throttled too.
        let res = t.try_login(&t.anonymous(), "olena", PASSWORD, None).await;
        expect_error(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    })
    .await;
}

#[tokio::test]
async fn the_totp_confirmation_is_throttled() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let enrolment = expect(s.post("/api/v1/me/totp", &json!({})).await, StatusCode::OK).await;
        let secret = enrolment["secret"].as_str().unwrap();
        for _ in 0..t.app.config().login_max_failures {
            let res = s
                .post("/api/v1/me/totp/confirm", &json!({ "code": "12345x" }))
                .await;
            expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        }
        let code = current_totp_code(secret).unwrap();
        let res = s
            .post("/api/v1/me/totp/confirm", &json!({ "code": code }))
            .await;
        assert!(res.headers().contains_key("retry-after"));
        expect_error(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    })
    .await;
}

#[tokio::test]
async fn a_password_change_or_reset_revokes_tokens_unless_kept() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        let olena = t.cli_user(&origin, "olena", &["caseworker"]).await;
        t.cli_user(&origin, "oadmin", &["admin"]).await;
        let new_token = async |s: &Session| {
            let made = expect(s.post("/api/v1/me/tokens", &json!({ "name": "sync" })).await, StatusCode::CREATED).await;
            made["token"].as_str().unwrap().to_owned()
        };

        let s = t.login("olena", PASSWORD).await;
        let token = new_token(&s).await;
        let change = json!({ "current_password": PASSWORD, "new_password": "second good passphrase" });
        expect(s.post("/api/v1/me/password", &change).await, StatusCode::NO_CONTENT).await;
        assert_eq!(bearer_status(t, &token).await, StatusCode::UNAUTHORIZED);

        let s = t.login("olena", "second good passphrase").await;
        let token = new_token(&s).await;
        let keep = json!({ "current_password": "second good passphrase", "new_password": "third good passphrase", "keep_tokens": true });
        expect(s.post("/api/v1/me/password", &keep).await, StatusCode::NO_CONTENT).await;
        assert_eq!(bearer_status(t, &token).await, StatusCode::OK);

        let admin = t.login("oadmin", PASSWORD).await;
        let reset = json!({ "new_password": "fourth good passphrase" });
        expect(admin.post(&format!("/api/v1/users/{}/password", olena.id), &reset).await, StatusCode::NO_CONTENT).await;
        assert_eq!(bearer_status(t, &token).await, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn a_one_time_code_signs_in_once() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let enrolment = expect(s.post("/api/v1/me/totp", &json!({})).await, StatusCode::OK).await;
        let secret = enrolment["secret"].as_str().unwrap();
        let code = current_totp_code(secret).unwrap();
        expect(
            s.post("/api/v1/me/totp/confirm", &json!({ "code": code }))
                .await,
            StatusCode::NO_CONTENT,
        )
        .await;

        let res = t
            .try_login(&t.anonymous(), "olena", PASSWORD, Some(&code))
            .await;
        expect_error(res, StatusCode::UNAUTHORIZED, "invalid_second_factor").await;
        let next = next_totp_code(secret).unwrap();
        t.login_with("olena", PASSWORD, Some(&next)).await;
        let res = t
            .try_login(&t.anonymous(), "olena", PASSWORD, Some(&next))
            .await;
        expect_error(res, StatusCode::UNAUTHORIZED, "invalid_second_factor").await;
    })
    .await;
}
