//! API tokens: bearer authentication without CSRF, listing, revocation.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn bearer_tokens_work_until_revoked() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;

        let bad = expect_error(
            s.post("/api/v1/me/tokens", &json!({ "name": " " })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(bad["error"]["fields"][0]["field"], "name");
        let created = expect(
            s.post(
                "/api/v1/me/tokens",
                &json!({ "name": "nightly export", "expires_in_days": 30 }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let token = created["token"].as_str().unwrap().to_owned();
        let id = created["id"].as_str().unwrap().to_owned();
        assert!(token.starts_with("hw_"));
        assert_eq!(created["name"], "nightly export");
        assert!(created["expires_at"].is_string());

        // A script: no cookie jar, no CSRF token.
        let script = reqwest::Client::new();
        let me = script
            .get(t.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            expect(me, StatusCode::OK).await["user"]["username"],
            "olena"
        );
        let filed = script
            .post(t.url("/api/v1/records"))
            .bearer_auth(&token)
            .json(&tracing_request("Марія"))
            .send()
            .await
            .unwrap();
        expect(filed, StatusCode::CREATED).await;

        let listed = expect(s.get("/api/v1/me/tokens").await, StatusCode::OK).await;
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], id.as_str());
        assert!(
            listed[0].get("token").is_none(),
            "a token is shown only once"
        );
        assert!(listed[0]["last_used_at"].is_string());

        expect(
            s.delete(&format!("/api/v1/tokens/{id}"), &json!({})).await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let me = script
            .get(t.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let res = expect_error(me, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert!(res["error"].get("fields").is_none());
        let listed = expect(s.get("/api/v1/me/tokens").await, StatusCode::OK).await;
        assert!(listed[0]["revoked_at"].is_string());

        for bad in ["hw_not-a-real-token", "not even the format", ""] {
            let res = script
                .get(t.url("/api/v1/me"))
                .header("authorization", format!("Bearer {bad}"))
                .send()
                .await
                .unwrap();
            expect_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        }
        let basic = script
            .get(t.url("/api/v1/me"))
            .basic_auth("olena", Some(PASSWORD))
            .send()
            .await
            .unwrap();
        expect_error(basic, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        // Someone else's token answers as missing.
        t.cli_user(&origin, "petro", &["caseworker"]).await;
        let petro = t.login("petro", PASSWORD).await;
        let other = expect(
            petro
                .post("/api/v1/me/tokens", &json!({ "name": "mine" }))
                .await,
            StatusCode::CREATED,
        )
        .await;
        let path = format!("/api/v1/tokens/{}", other["id"].as_str().unwrap());
        expect_error(
            s.delete(&path, &json!({})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    })
    .await;
}
