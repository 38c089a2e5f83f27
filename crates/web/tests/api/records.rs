//! Record changes over HTTP: optimistic concurrency, soft delete, history, list filters.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

/// `\u{202e}fdp.exe` shows as `exe.pdf`: a name, a place or a user's display name holding a
/// direction control is refused, naming the field; nothing is stored.
#[tokio::test]
async fn direction_controls_in_names_and_places_are_refused_with_the_field() {
    on_every_backend(async |t: &TestApp| {
        let (mediator, admin) = t.mediator_admin().await;
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        for field in ["names[0].given", "birth_place"] {
            let mut r = tracing_request("Дмитро");
            match field {
                "birth_place" => r["birth_place"] = json!("\u{202e}fdp.exe"),
                _ => r["names"][0]["given"] = json!("\u{202e}fdp.exe"),
            }
            let body = expect_error(
                s.post("/api/v1/records", &r).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await;
            assert_eq!(body["error"]["fields"][0]["field"], field, "{body}");
            assert_eq!(body["error"]["fields"][0]["code"], "bidi_control", "{body}");
        }
        let list = expect(s.get("/api/v1/records").await, StatusCode::OK).await;
        assert_eq!(list["items"], json!([]));
        let user = json!({
            "party_id": mediator.id, "username": "mallory", "roles": ["viewer"],
            "password": PASSWORD, "display_name": "Mallory \u{2066}nimda",
        });
        let body = expect_error(
            admin.post("/api/v1/users", &user).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(
            body["error"]["fields"][0]["field"], "display_name",
            "{body}"
        );
        assert_eq!(body["error"]["fields"][0]["code"], "bidi_control", "{body}");
    })
    .await;
}

#[tokio::test]
async fn a_stale_update_is_a_conflict() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let record = expect(
            s.post("/api/v1/records", &tracing_request("Дмитро")).await,
            StatusCode::CREATED,
        )
        .await;
        let path = format!("/api/v1/records/{}", record["id"].as_str().unwrap());

        let mut changed = tracing_request("Дмитро");
        changed["notes"] = json!("Seen in a school register in 2023");
        let v2 = expect(
            s.put(&path, &json!({ "expected_version": 1, "record": changed }))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v2["version"], 2);
        assert_eq!(v2["notes"], "Seen in a school register in 2023");

        let stale = s
            .put(
                &path,
                &json!({ "expected_version": 1, "record": tracing_request("Дмитро") }),
            )
            .await;
        let body = expect_error(stale, StatusCode::CONFLICT, "version_conflict").await;
        assert_eq!(body["error"]["current_version"], 2);

        let mut invalid = tracing_request("Дмитро");
        invalid["birth_date"] = json!("2999");
        let res = s
            .put(&path, &json!({ "expected_version": 2, "record": invalid }))
            .await;
        let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["error"]["fields"][0]["field"], "birth_date");
        let current = expect(s.get(&path).await, StatusCode::OK).await;
        assert_eq!(current["version"], 2);
    })
    .await;
}

#[tokio::test]
async fn soft_delete_keeps_the_record_and_its_history() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let kept = expect(
            s.post("/api/v1/records", &tracing_request("Анна")).await,
            StatusCode::CREATED,
        )
        .await;
        let record = expect(
            s.post("/api/v1/records", &tracing_request("Дмитро")).await,
            StatusCode::CREATED,
        )
        .await;
        let id = record["id"].as_str().unwrap();
        let path = format!("/api/v1/records/{id}");
        let mut changed = tracing_request("Дмитро");
        changed["sex"] = json!("unknown");
        expect(
            s.put(&path, &json!({ "expected_version": 1, "record": changed }))
                .await,
            StatusCode::OK,
        )
        .await;

        let res = s.delete(&path, &json!({ "reason": "  " })).await;
        expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let deleted = expect(
            s.delete(&path, &json!({ "reason": "Duplicate of TR-Анна" }))
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(deleted["deleted_at"].is_string());
        assert_eq!(deleted["deletion_reason"], "Duplicate of TR-Анна");
        expect_error(
            s.delete(&path, &json!({ "reason": "again" })).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;

        let list = expect(s.get("/api/v1/records").await, StatusCode::OK).await;
        let ids: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [kept["id"].as_str().unwrap()]);
        let list = expect(
            s.get("/api/v1/records?include_deleted=true").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["items"].as_array().unwrap().len(), 2);

        let still = expect(s.get(&path).await, StatusCode::OK).await;
        assert!(still["deleted_at"].is_string());
        let history = expect(s.get(&format!("{path}/history")).await, StatusCode::OK).await;
        let changes: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["change"].as_str().unwrap())
            .collect();
        assert_eq!(changes.first(), Some(&"create"));
        assert_eq!(changes.last(), Some(&"delete"));
        assert!(changes.contains(&"update"), "{changes:?}");
        assert_eq!(history[0]["content"]["sex"], "male");
    })
    .await;
}

#[tokio::test]
async fn lists_filter_and_page() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        for name in ["Анна", "Богдан", "Віра"] {
            expect(
                s.post("/api/v1/records", &tracing_request(name)).await,
                StatusCode::CREATED,
            )
            .await;
        }
        let first = expect(s.get("/api/v1/records?limit=2").await, StatusCode::OK).await;
        assert_eq!(first["items"].as_array().unwrap().len(), 2);
        let next = first["next"].as_str().unwrap();
        let second = expect(
            s.get(&format!("/api/v1/records?limit=2&after={next}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(second["items"].as_array().unwrap().len(), 1);
        assert!(second.get("next").is_none_or(|n| n.is_null()));

        let found = expect(
            s.get("/api/v1/records?name=%D0%B1%D0%BE%D0%B3%D0%B4%D0%B0%D0%BD")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
        assert_eq!(found["items"][0]["names"][0]["given"], "Богдан");
        let none = expect(
            s.get("/api/v1/records?sex=female&born_from_year=2015&born_to_year=2016")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(none["items"], json!([]));
        let custody = expect(
            s.get("/api/v1/records?kind=custody_record").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(custody["items"], json!([]));
    })
    .await;
}
