//! Sessions, CSRF, throttling and the TOTP second factor, over HTTP.

use crate::helpers::*;
use homeward_app::AppConfig;
use homeward_app::auth::{current_totp_code, next_totp_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_me_describes_the_caller() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker", "viewer"])
            .await;
        let client = t.anonymous();
        let res = t.try_login(&client, "olena", PASSWORD, None).await;
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        let body = expect(res, StatusCode::OK).await;
        assert!(cookie.starts_with("homeward_session=hws_"), "{cookie}");
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(attr), "{attr} missing from {cookie}");
        }
        assert!(
            !cookie.contains("Secure"),
            "tests run with secure_cookies off: {cookie}"
        );
        assert_eq!(body["user"]["username"], "olena");
        assert_eq!(body["party"]["kind"], "origin");
        assert!(body["csrf_token"].as_str().unwrap().len() >= 32);
        assert!(body["expires_at"].is_string());

        let me = expect(
            client.get(t.url("/api/v1/me")).send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(me["user"]["username"], "olena");
        assert_eq!(me["scope"], "own_party");
        let perms: Vec<&str> = me["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert!(
            perms.contains(&"record_create") && perms.contains(&"record_read"),
            "{perms:?}"
        );
        assert!(
            !perms.contains(&"party_manage") && !perms.contains(&"audit_read"),
            "{perms:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_secure_flag_is_on_by_default() {
    let opts = homeward_web::WebOptions::default();
    assert!(opts.secure_cookies);
    on_every_backend_with(AppConfig::default(), opts, async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let res = t.try_login(&t.anonymous(), "olena", PASSWORD, None).await;
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.contains("Secure"), "{cookie}");
    })
    .await;
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_header_for_changes() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let url = s.url("/api/v1/records");

        let res = s
            .client
            .post(&url)
            .json(&tracing_request("Анна"))
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::FORBIDDEN, "csrf_failed").await;
        let res = s
            .client
            .post(&url)
            .header("x-csrf-token", "not-the-token")
            .json(&tracing_request("Анна"))
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::FORBIDDEN, "csrf_failed").await;
        let res = s
            .client
            .post(s.url("/api/v1/auth/logout"))
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::FORBIDDEN, "csrf_failed").await;

        // Reads need no token; nothing was filed by the refused requests.
        let list = expect(s.get("/api/v1/records").await, StatusCode::OK).await;
        assert_eq!(list["items"], json!([]));

        expect(
            s.post("/api/v1/records", &tracing_request("Анна")).await,
            StatusCode::CREATED,
        )
        .await;

        // Signing out ends the session on the server, not just in this browser.
        expect(
            s.post("/api/v1/auth/logout", &json!({})).await,
            StatusCode::NO_CONTENT,
        )
        .await;
        expect_error(
            s.get("/api/v1/me").await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn a_stolen_cookie_value_from_before_logout_is_useless() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["viewer"]).await;
        let client = reqwest::Client::new();
        let res = t.try_login(&client, "olena", PASSWORD, None).await;
        let cookie = res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let csrf = expect(res, StatusCode::OK).await["csrf_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let me = client
            .get(t.url("/api/v1/me"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        expect(me, StatusCode::OK).await;
        let out = client
            .post(t.url("/api/v1/auth/logout"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert!(
            out.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
        expect(out, StatusCode::NO_CONTENT).await;
        let me = client
            .get(t.url("/api/v1/me"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        expect_error(me, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let forged = client
            .get(t.url("/api/v1/me"))
            .header("cookie", "homeward_session=hws_forged")
            .send()
            .await
            .unwrap();
        expect_error(forged, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    })
    .await;
}

#[tokio::test]
async fn five_failures_lock_the_account_even_for_the_right_password() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let client = t.anonymous();
        for _ in 0..5 {
            let res = t
                .try_login(&client, "olena", "not the password at all", None)
                .await;
            expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        }
        let res = t.try_login(&client, "olena", PASSWORD, None).await;
        let retry_after: i64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry_after > 0);
        expect_error(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;

        // Another account from the same address is not locked by these five.
        t.cli_user(&origin, "petro", &["caseworker"]).await;
        t.login("petro", PASSWORD).await;

        // An unknown user answers like a wrong password.
        let res = t.try_login(&client, "nobody", PASSWORD, None).await;
        expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    })
    .await;
}

async fn enrol_totp(s: &Session) -> String {
    let enrolment = expect(s.post("/api/v1/me/totp", &json!({})).await, StatusCode::OK).await;
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(
        enrolment["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let wrong = s
        .post("/api/v1/me/totp/confirm", &json!({ "code": "000000x" }))
        .await;
    expect_error(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let code = current_totp_code(&secret).unwrap();
    expect(
        s.post("/api/v1/me/totp/confirm", &json!({ "code": code }))
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    secret
}

#[tokio::test]
async fn totp_once_enrolled_is_required_to_sign_in() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let secret = enrol_totp(&s).await;
        let me = expect(s.get("/api/v1/me").await, StatusCode::OK).await;
        assert_eq!(me["user"]["totp_enabled"], true);

        let client = t.anonymous();
        let res = t.try_login(&client, "olena", PASSWORD, None).await;
        expect_error(res, StatusCode::UNAUTHORIZED, "second_factor_required").await;
        let res = t.try_login(&client, "olena", PASSWORD, Some("12345")).await;
        expect_error(res, StatusCode::UNAUTHORIZED, "invalid_second_factor").await;
        // The confirmation spent the current code; the next one signs in.
        let code = next_totp_code(&secret).unwrap();
        t.login_with("olena", PASSWORD, Some(&code)).await;
    })
    .await;
}

#[tokio::test]
async fn admins_must_enrol_totp_when_the_deployment_requires_it() {
    let config = AppConfig {
        require_admin_totp: true,
        ..AppConfig::default()
    };
    on_every_backend_with(config, test_options(), async |t: &TestApp| {
        let (_, admin) = t.mediator_admin().await;
        let party = json!({ "name": "Ombudsman", "kind": "origin" });
        expect_error(
            admin.post("/api/v1/parties", &party).await,
            StatusCode::FORBIDDEN,
            "totp_enrolment_required",
        )
        .await;
        expect_error(
            admin.get("/api/v1/users").await,
            StatusCode::FORBIDDEN,
            "totp_enrolment_required",
        )
        .await;
        // Signing in and enrolling stay possible, or nobody could ever comply.
        expect(admin.get("/api/v1/me").await, StatusCode::OK).await;
        let secret = enrol_totp(&admin).await;
        expect(
            admin.post("/api/v1/parties", &party).await,
            StatusCode::CREATED,
        )
        .await;

        let code = next_totp_code(&secret).unwrap();
        let again = t.login_with("admin", PASSWORD, Some(&code)).await;
        let users: Value = expect(again.get("/api/v1/users").await, StatusCode::OK).await;
        assert_eq!(users.as_array().unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn changing_ones_password_ends_the_sessions() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["viewer"]).await;
        let s = t.login("olena", PASSWORD).await;
        let wrong = json!({ "current_password": "wrong password here", "new_password": "another good passphrase" });
        expect_error(s.post("/api/v1/me/password", &wrong).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let weak = json!({ "current_password": PASSWORD, "new_password": "short" });
        let body = expect_error(s.post("/api/v1/me/password", &weak).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["error"]["fields"][0]["code"], "password_too_short");
        let good = json!({ "current_password": PASSWORD, "new_password": "another good passphrase" });
        expect(s.post("/api/v1/me/password", &good).await, StatusCode::NO_CONTENT).await;
        expect_error(s.get("/api/v1/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        t.login("olena", "another good passphrase").await;
    })
    .await;
}

#[tokio::test]
async fn admins_manage_users_over_http() {
    on_every_backend(async |t: &TestApp| {
        let (mediator, m_admin) = t.mediator_admin().await;
        let origin = t.cli_party("Ombudsman", "origin").await;
        // Each party's first administrator is made on the command line; it makes the rest.
        t.cli_user(&origin, "oadmin", &["admin"]).await;
        let admin = t.login("oadmin", PASSWORD).await;
        let new = json!({ "party_id": origin.id, "username": "olena", "roles": ["viewer"], "password": PASSWORD });
        let user = expect(admin.post("/api/v1/users", &new).await, StatusCode::CREATED).await;
        expect_error(admin.post("/api/v1/users", &new).await, StatusCode::CONFLICT, "conflict").await;
        let bad = json!({ "party_id": origin.id, "username": "x", "roles": ["wizard"], "password": "short" });
        let body = expect_error(admin.post("/api/v1/users", &bad).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let fields: Vec<&str> = body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&"username") && fields.contains(&"roles") && fields.contains(&"password"), "{fields:?}");

        let listed = expect(admin.get(&format!("/api/v1/users?party_id={}", origin.id)).await, StatusCode::OK).await;
        assert_eq!(listed.as_array().unwrap().len(), 2, "oadmin and olena: {listed}");
        expect_error(admin.get(&format!("/api/v1/users?party_id={}", mediator.id)).await, StatusCode::FORBIDDEN, "forbidden").await;
        let listed = expect(m_admin.get(&format!("/api/v1/users?party_id={}", mediator.id)).await, StatusCode::OK).await;
        assert_eq!(listed[0]["username"], "admin");

        let id = user["id"].as_str().unwrap();
        let promoted = expect(
            admin.patch(&format!("/api/v1/users/{id}"), &json!({ "roles": ["caseworker", "viewer"] })).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(promoted["roles"], json!(["caseworker", "viewer"]));
        let reset = json!({ "new_password": "a brand new passphrase" });
        expect(admin.post(&format!("/api/v1/users/{id}/password"), &reset).await, StatusCode::NO_CONTENT).await;
        let olena = t.login("olena", "a brand new passphrase").await;

        // A caseworker is not an administrator.
        expect_error(olena.get("/api/v1/users").await, StatusCode::FORBIDDEN, "forbidden").await;
        let party = json!({ "name": "Another", "kind": "custody" });
        expect_error(olena.post("/api/v1/parties", &party).await, StatusCode::FORBIDDEN, "forbidden").await;

        let disabled = expect(admin.patch(&format!("/api/v1/users/{id}"), &json!({ "disabled": true })).await, StatusCode::OK).await;
        assert_eq!(disabled["disabled"], true);
        expect_error(olena.get("/api/v1/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let bad_kind = json!({ "name": "Somebody", "kind": "spectator" });
        let body = expect_error(m_admin.post("/api/v1/parties", &bad_kind).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["error"]["fields"][0]["field"], "kind");
    })
    .await;
}
