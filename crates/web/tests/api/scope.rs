//! The issue's end-to-end scenario: parties and users made over HTTP (each party's first
//! administrator on the command line), a tracing request filed by
//! the origin side, read by the mediator, invisible to the custody side, and every step audited.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn create_user(admin: &Session, party: &Value, username: &str, roles: &[&str]) -> Value {
    let body = json!({ "party_id": party["id"], "username": username, "roles": roles, "password": PASSWORD });
    expect(
        admin.post("/api/v1/users", &body).await,
        StatusCode::CREATED,
    )
    .await
}

fn actions(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn each_party_sees_only_what_it_may_and_every_step_is_audited() {
    on_every_backend(async |t: &TestApp| {
        let (mediator, admin) = t.mediator_admin().await;

        // The mediator's administrator sets up both sides.
        let origin = expect(
            admin
                .post(
                    "/api/v1/parties",
                    &json!({ "name": "Ombudsman", "kind": "origin" }),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        let custody = expect(
            admin
                .post(
                    "/api/v1/parties",
                    &json!({ "name": "Custody authority", "kind": "custody" }),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        let mediator = serde_json::to_value(&mediator).unwrap();
        // Each side's first administrator is made on the server's command line, and makes the
        // people who work there; the mediator's administrator may not.
        let spy = json!({ "party_id": custody["id"], "username": "kirill", "roles": ["caseworker"], "password": PASSWORD });
        expect_error(admin.post("/api/v1/users", &spy).await, StatusCode::FORBIDDEN, "forbidden").await;
        let first_admin = async |party: &str, username: &str| {
            let p = t.app.find_party(party).await.unwrap();
            t.cli_user(&p, username, &["admin"]).await;
            t.login(username, PASSWORD).await
        };
        let o_admin = first_admin("Ombudsman", "o.admin").await;
        let c_admin = first_admin("Custody authority", "c.admin").await;
        let origin_worker = create_user(&o_admin, &origin, "olena", &["caseworker"]).await;
        create_user(&c_admin, &custody, "kirill", &["caseworker"]).await;
        create_user(&admin, &mediator, "mira", &["viewer"]).await;
        create_user(&admin, &mediator, "audrey", &["auditor"]).await;
        let parties = expect(admin.get("/api/v1/parties").await, StatusCode::OK).await;
        assert_eq!(parties.as_array().unwrap().len(), 3);

        // The origin side files a tracing request.
        let olena = t.login("olena", PASSWORD).await;
        let res = olena
            .post("/api/v1/records", &tracing_request("Дмитро"))
            .await;
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let record = expect(res, StatusCode::CREATED).await;
        let id = record["id"].as_str().unwrap().to_owned();
        assert_eq!(location, format!("/api/v1/records/{id}"));
        assert_eq!(record["kind"], "tracing_request");
        assert_eq!(record["party_id"], origin["id"]);
        assert_eq!(record["created_by"], origin_worker["id"]);
        assert_eq!(record["names"][0]["as_written"], "Дмитро Олійник");

        // The mediator reads it and finds it in its list.
        let mira = t.login("mira", PASSWORD).await;
        let read = expect(mira.get(&location).await, StatusCode::OK).await;
        assert_eq!(read, record);
        let list = expect(mira.get("/api/v1/records").await, StatusCode::OK).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        assert_eq!(list["items"][0]["id"], id.as_str());

        // The custody side cannot tell it exists: the same answer as for an id nobody used.
        let kirill = t.login("kirill", PASSWORD).await;
        let theirs = kirill.get(&location).await;
        let (theirs_status, theirs_body) = (theirs.status(), theirs.bytes().await.unwrap());
        let random = kirill
            .get(&format!("/api/v1/records/{}", uuid::Uuid::now_v7()))
            .await;
        let (random_status, random_body) = (random.status(), random.bytes().await.unwrap());
        assert_eq!(theirs_status, StatusCode::NOT_FOUND);
        assert_eq!(random_status, StatusCode::NOT_FOUND);
        assert_eq!(
            theirs_body, random_body,
            "another party's record must answer like a missing one"
        );
        let history = kirill.get(&format!("{location}/history")).await;
        expect_error(history, StatusCode::NOT_FOUND, "not_found").await;
        let list = expect(kirill.get("/api/v1/records").await, StatusCode::OK).await;
        assert_eq!(list["items"], json!([]));
        let list = expect(
            kirill
                .get("/api/v1/records?include_deleted=true&kind=tracing_request")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["items"], json!([]));
        let custody_record =
            json!({ "names": [{ "given": "Дмитро" }], "current_location": "Somewhere" });
        let change = json!({ "expected_version": 1, "record": custody_record });
        expect_error(
            kirill.put(&location, &change).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;

        // Every step is in the audit log, with who did it and from where.
        let audrey = t.login("audrey", PASSWORD).await;
        let all = expect(audrey.get("/api/v1/audit?limit=1000").await, StatusCode::OK).await;
        let seen = actions(&all);
        for wanted in [
            "party.create",
            "user.create",
            "auth.login",
            "record.create",
            "record.read",
            "record.list",
        ] {
            assert!(seen.contains(&wanted), "no {wanted} in {seen:?}");
        }
        let by_http = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["action"] == "party.create" && e["actor_user"] == admin.body["user"]["id"]
            })
            .count();
        assert_eq!(by_http, 2, "both parties created over HTTP by the admin");

        let about = expect(
            audrey
                .get(&format!("/api/v1/audit?target_kind=record&target_id={id}"))
                .await,
            StatusCode::OK,
        )
        .await;
        let entries = about["items"].as_array().unwrap();
        let create = entries
            .iter()
            .find(|e| e["action"] == "record.create")
            .expect("record.create entry");
        assert_eq!(create["actor_user"], origin_worker["id"]);
        assert_eq!(create["actor_party"], origin["id"]);
        assert_eq!(create["source"], "127.0.0.1");
        let reads: Vec<&Value> = entries
            .iter()
            .filter(|e| e["action"] == "record.read")
            .collect();
        assert_eq!(
            reads.len(),
            1,
            "only the mediator's read happened: {reads:?}"
        );
        assert_eq!(reads[0]["actor_user"], mira.body["user"]["id"]);
        assert_eq!(reads[0]["actor_party"], mediator["id"]);

        // The custody side's lists are audited too (with no record in them).
        let kirill_lists = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["action"] == "record.list" && e["actor_user"] == kirill.body["user"]["id"]
            })
            .count();
        assert_eq!(kirill_lists, 2);

        // Reading the log was itself audited, and the chain verifies.
        let verify = expect(audrey.get("/api/v1/audit/verify").await, StatusCode::OK).await;
        assert!(verify["entries"].as_i64().unwrap() > 10, "{verify}");
        assert_eq!(verify["head_hash"].as_str().unwrap().len(), 64);
        let again = expect(
            audrey.get("/api/v1/audit?action=audit.read").await,
            StatusCode::OK,
        )
        .await;
        assert!(!again["items"].as_array().unwrap().is_empty());

        // Only auditors (and admins) read the log.
        expect_error(
            olena.get("/api/v1/audit").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            mira.get("/api/v1/audit/verify").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn verification_over_http_names_the_first_tampered_entry() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "audrey", &["auditor"]).await;
        let audrey = t.login("audrey", PASSWORD).await;
        expect(audrey.get("/api/v1/audit/verify").await, StatusCode::OK).await;

        t.raw_sql(r#"UPDATE audit_log SET details = '{"kind":"custody"}' WHERE seq = 1"#)
            .await;
        let body = expect_error(
            audrey.get("/api/v1/audit/verify").await,
            StatusCode::CONFLICT,
            "audit_chain_broken",
        )
        .await;
        assert_eq!(body["error"]["entry"], 1);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("entry 1"),
            "{body}"
        );
    })
    .await;
}
