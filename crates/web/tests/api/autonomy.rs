//! Party autonomy over HTTP: an administrator, the mediator's included, manages the users of
//! their own party only, so nobody can make or take over an account of another party and approve
//! a transfer list as that party; an approval names the approving party's own user.

use crate::helpers::*;
use crate::transfer_world::{located_cases, ok, people, to_consent_obtained};
use homeward_app::console::Console;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn the_mediators_administrator_cannot_act_for_another_party() {
    on_every_backend(async |t: &TestApp| {
        let w = people(t).await;
        let mediator = t.app.find_party("Task force").await.unwrap();
        t.cli_user(&mediator, "madmin", &["admin"]).await;
        let admin = t.login("madmin", PASSWORD).await;
        let ivan = w.c.body["user"]["id"].as_str().unwrap().to_owned();
        let token = expect(w.c.post("/api/v1/me/tokens", &json!({ "name": "sync" })).await, StatusCode::CREATED).await;

        // No new account in the custody party, nor a list of its users.
        let spy = json!({ "party_id": w.custody_id, "username": "spy", "roles": ["logistics"], "password": PASSWORD });
        expect_error(admin.post("/api/v1/users", &spy).await, StatusCode::FORBIDDEN, "forbidden").await;
        expect_error(admin.get(&format!("/api/v1/users?party_id={}", w.custody_id)).await, StatusCode::FORBIDDEN, "forbidden").await;
        let listed = ok(admin.get("/api/v1/users").await).await;
        let names: Vec<&str> = listed.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert!(!names.contains(&"ivan") && !names.contains(&"olena") && names.contains(&"madmin"), "{names:?}");

        // No taking over custody's caseworker: each way answers as if he did not exist.
        let u = |rest: &str| format!("/api/v1/users/{ivan}{rest}");
        expect_error(admin.get(&u("")).await, StatusCode::NOT_FOUND, "not_found").await;
        let reset = json!({ "new_password": "taken over passphrase" });
        expect_error(admin.post(&u("/password"), &reset).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(admin.patch(&u(""), &json!({ "roles": ["logistics"] })).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(admin.patch(&u(""), &json!({ "disabled": true })).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(admin.delete(&u("/totp"), &json!({})).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(admin.get(&u("/tokens")).await, StatusCode::NOT_FOUND, "not_found").await;
        let tid = token["id"].as_str().unwrap();
        expect_error(admin.delete(&format!("/api/v1/tokens/{tid}"), &json!({})).await, StatusCode::NOT_FOUND, "not_found").await;
        t.login("ivan", PASSWORD).await;
        assert!(!Console::new(&t.app).find_user("ivan").await.unwrap().roles.iter().any(|r| r.as_str() == "logistics"));

        // Within its own party the mediator's administrator still does all of it.
        let own = json!({ "party_id": mediator.id, "username": "mira", "roles": ["viewer"], "password": PASSWORD });
        let mira = expect(admin.post("/api/v1/users", &own).await, StatusCode::CREATED).await;
        let mira_reset = format!("/api/v1/users/{}/password", mira["id"].as_str().unwrap());
        expect(admin.post(&mira_reset, &reset).await, StatusCode::NO_CONTENT).await;
    })
    .await;
}

#[tokio::test]
async fn an_approval_names_the_approving_partys_own_user() {
    on_every_backend(async |t: &TestApp| {
        let w = people(t).await;
        let cases = located_cases(&w, 1).await;
        let (_, case) = &cases[0];
        to_consent_obtained(&w, case).await;
        let body = json!({ "round": "Round 1", "origin_party": w.origin_id, "custody_party": w.custody_id });
        let list = expect(w.cw.post("/api/v1/transfer-lists", &body).await, StatusCode::CREATED).await;
        let lp = |rest: &str| format!("/api/v1/transfer-lists/{}{rest}", list["id"].as_str().unwrap());
        ok(w.cw.post(&lp("/entries"), &json!({ "case_id": case["id"], "direction": "to_origin", "expected_version": 1 })).await).await;
        let proposed = ok(w.cw.post(&lp("/propose"), &json!({ "expected_version": 2 })).await).await;
        let hash = proposed["hash"].as_str().unwrap();
        ok(w.c.post(&lp("/approve"), &json!({ "hash": hash })).await).await;
        ok(w.o.post(&lp("/approve"), &json!({ "hash": hash })).await).await;

        let seen = ok(w.cw.get(&lp("")).await).await;
        let approvals = seen["approvals"].as_array().unwrap();
        assert_eq!(approvals.len(), 2, "{seen}");
        for (side, session, party) in [("custody", &w.c, &w.custody_id), ("origin", &w.o, &w.origin_id)] {
            let a: &Value = approvals.iter().find(|a| a["side"] == side).unwrap();
            assert_eq!(a["by"], session.body["user"]["id"], "{side}: {a}");
            let by = Console::new(&t.app).find_user(a["by"].as_str().unwrap()).await.unwrap();
            assert_eq!(&by.party_id.to_string(), party, "{side}'s approver belongs to {side}");
        }
    })
    .await;
}
