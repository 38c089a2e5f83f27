//! The case workflow end to end over HTTP, as the "done when" reads: the origin files a
//! tracing request, the custody side imports a list with the child under a Russian spelling, a
//! candidate appears, a reviewer confirms it, two verification steps and the guardian's consent
//! are recorded, the case reaches consent_obtained; a withdrawn consent moves it back and blocks
//! listing; a disclosure shows the origin party exactly the disclosed fields. Then tasks: a
//! humanitarian party sees its own referred task and its brief, and nothing else.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
    Лысенко,Александр,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4 (Ростовская область)\n\
    Лысенко,Артём,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4 (Ростовская область)\n";

struct World {
    origin_id: String,
    custody_id: String,
    ngo_id: String,
    /// origin caseworker, custody caseworker, mediator reviewer, mediator caseworker.
    o: Session,
    c: Session,
    reviewer: Session,
    cw: Session,
    ngo: Session,
    other_ngo: Session,
}

async fn world(t: &TestApp) -> World {
    let origin = t.cli_party("Ombudsman", "origin").await;
    let custody = t.cli_party("Custody authority", "custody").await;
    let mediator = t.cli_party("Task force", "mediator").await;
    let ngo = t.cli_party("Field NGO", "humanitarian").await;
    let other_ngo = t.cli_party("Other NGO", "humanitarian").await;
    t.cli_user(&origin, "olena", &["caseworker"]).await;
    t.cli_user(&custody, "ivan", &["caseworker"]).await;
    t.cli_user(&mediator, "maria", &["reviewer"]).await;
    t.cli_user(&mediator, "petra", &["caseworker"]).await;
    t.cli_user(&ngo, "nadia", &["logistics"]).await;
    t.cli_user(&other_ngo, "omar", &["logistics"]).await;
    World {
        origin_id: origin.id.to_string(),
        custody_id: custody.id.to_string(),
        ngo_id: ngo.id.to_string(),
        o: t.login("olena", PASSWORD).await,
        c: t.login("ivan", PASSWORD).await,
        reviewer: t.login("maria", PASSWORD).await,
        cw: t.login("petra", PASSWORD).await,
        ngo: t.login("nadia", PASSWORD).await,
        other_ngo: t.login("omar", PASSWORD).await,
    }
}

/// Files the request, imports the custody list, confirms the one candidate of the sought child;
/// returns the tracing request and the case.
async fn located_case(w: &World) -> (Value, Value) {
    let request = json!({
        "names": [{ "given": "Олександр", "patronymic": "Андрійович", "family": "Лисенко" }],
        "sex": "male",
        "birth_date": "2015-03-07",
        "birth_place": "Маріуполь",
        "enquirer_name": "Оксана Лисенко",
        "enquirer_relationship": "mother",
    });
    let filed = expect(
        w.o.post("/api/v1/records", &request).await,
        StatusCode::CREATED,
    )
    .await;
    let res = w.c.import_custody(CUSTODY_CSV).await;
    expect(res, StatusCode::CREATED).await;

    let queue = expect(w.reviewer.get("/api/v1/matches").await, StatusCode::OK).await;
    let items = queue["items"].as_array().unwrap();
    // Alexander's twin brother Artyom shares everything but the given name: not a candidate.
    assert_eq!(items.len(), 1, "{queue}");
    assert_eq!(items[0]["tracing_record_id"], filed["id"]);
    let id = items[0]["id"].as_str().unwrap();
    let pair = expect(
        w.reviewer.get(&format!("/api/v1/matches/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(pair["custody_record"]["names"][0]["given"], "Александр");
    let decided = expect(
        w.reviewer
            .post(
                &format!("/api/v1/matches/{id}/confirm"),
                &json!({ "reason": "name forms, date and place agree" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let case = decided["case"]["case"].clone();
    assert_eq!(case["state"], "located");
    (filed, case)
}

fn path(case: &Value, rest: &str) -> String {
    format!("/api/v1/cases/{}{rest}", case["id"].as_str().unwrap())
}

async fn post_ok(s: &Session, p: &str, body: Value) -> Value {
    expect(s.post(p, &body).await, StatusCode::OK).await
}

fn codes(err: &Value) -> Vec<String> {
    err["error"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["met"] == false)
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect()
}

fn verification(method: &str, version: i64) -> Value {
    json!({
        "method": method,
        "performed_by": "ICRC delegate",
        "outcome": "positive",
        "notes": "seen in person",
        "expected_version": version,
    })
}

#[tokio::test]
async fn from_a_tracing_request_to_consent_and_back() {
    on_every_backend(async |t: &TestApp| {
        let w = world(t).await;
        let (filed, case) = located_case(&w).await;

        // One verification is not enough: the refusal names what is missing.
        let out = post_ok(&w.cw, &path(&case, "/verifications"), verification("document_check", 1)).await;
        assert_eq!(out["version"], 2);
        let refused = expect_error(
            w.cw.post(
                &path(&case, "/transitions"),
                &json!({ "to": "identity_verified", "expected_version": 2 }),
            )
            .await,
            StatusCode::CONFLICT,
            "transition_refused",
        )
        .await;
        assert_eq!(codes(&refused), ["identity_not_verified"], "{refused}");
        // A change decided on an old version loses.
        let stale = expect_error(
            w.cw.post(&path(&case, "/verifications"), &verification("interview", 1))
                .await,
            StatusCode::CONFLICT,
            "version_conflict",
        )
        .await;
        assert_eq!(stale["error"]["current_version"], 2);
        // Bad input names the field.
        let bad = expect_error(
            w.cw.post(
                &path(&case, "/verifications"),
                &json!({ "method": "interview", "performed_by": " ", "outcome": "positive", "expected_version": 2 }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(bad["error"]["fields"][0]["field"], "performed_by");
        // Evidence names attachments of this case or its records, nothing else.
        let mut with_evidence = verification("interview", 2);
        with_evidence["evidence"] = json!(["scan.pdf", uuid::Uuid::now_v7().to_string()]);
        let bad = expect_error(
            w.cw.post(&path(&case, "/verifications"), &with_evidence).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let fields: Vec<(&str, &str)> = bad["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
            .collect();
        assert_eq!(
            fields,
            [("evidence[0]", "invalid_id"), ("evidence[1]", "unknown_attachment")]
        );
        // Only the mediator's caseworkers record verification.
        expect_error(
            w.o.post(&path(&case, "/verifications"), &verification("interview", 2)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;

        post_ok(&w.cw, &path(&case, "/verifications"), verification("photo_recognition_by_relative", 2)).await;
        let verified = post_ok(
            &w.cw,
            &path(&case, "/transitions"),
            json!({ "to": "identity_verified", "expected_version": 3 }),
        )
        .await;
        assert_eq!(verified["case"]["state"], "identity_verified");

        // The guardian consents to return and to sharing two facts; the child (11) is heard.
        let consent = post_ok(
            &w.cw,
            &path(&case, "/consents"),
            json!({
                "giver": { "kind": "legal_guardian", "name": "Оксана Лисенко", "relationship": "mother" },
                "scope": { "kind": "return" },
                "decision": "given",
                "method": "written",
                "expected_version": 4,
            }),
        )
        .await;
        let return_consent = consent["case"]["consents"][0]["id"].as_str().unwrap().to_owned();
        post_ok(
            &w.cw,
            &path(&case, "/consents"),
            json!({
                "giver": { "kind": "legal_guardian", "name": "Оксана Лисенко", "relationship": "mother" },
                "scope": { "kind": "data_sharing", "fields": ["status_found", "region"] },
                "decision": "given",
                "method": "oral_witnessed",
                "witness": "ICRC delegate",
                "expected_version": 5,
            }),
        )
        .await;
        let refused = expect_error(
            w.cw.post(
                &path(&case, "/transitions"),
                &json!({ "to": "consent_obtained", "expected_version": 6 }),
            )
            .await,
            StatusCode::CONFLICT,
            "transition_refused",
        )
        .await;
        assert_eq!(codes(&refused), ["child_views_missing"], "{refused}");
        post_ok(
            &w.cw,
            &path(&case, "/child-views"),
            json!({
                "heard_by": "psychologist", "present": ["carer"], "language": "ru",
                "wish": "wants_return", "summary": "wants to go home to his mother",
                "expected_version": 6,
            }),
        )
        .await;
        let detail = expect(w.cw.get(&path(&case, "")).await, StatusCode::OK).await;
        let next = detail["next"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["state"] == "consent_obtained")
            .unwrap();
        assert_eq!(next["ready"], true, "{detail}");
        let obtained = post_ok(
            &w.cw,
            &path(&case, "/transitions"),
            json!({ "to": "consent_obtained", "expected_version": 7 }),
        )
        .await;
        assert_eq!(obtained["case"]["state"], "consent_obtained");

        // Disclosure: the origin party sees exactly what was disclosed; a field no consent covers
        // is refused; the custody party is told nothing.
        let not_covered = expect_error(
            w.cw.post(
                &path(&case, "/disclosures"),
                &json!({
                    "to_party": w.origin_id,
                    "fields": [{ "field": "current_location", "value": "Children's home No. 4" }],
                    "expected_version": 8,
                }),
            )
            .await,
            StatusCode::CONFLICT,
            "disclosure_not_covered",
        )
        .await;
        assert_eq!(codes(&not_covered), ["disclosure_not_covered"]);
        expect(
            w.cw.post(
                &path(&case, "/disclosures"),
                &json!({
                    "to_party": w.origin_id,
                    "fields": [
                        { "field": "status_found", "value": "found, alive and well" },
                        { "field": "region", "value": "Rostov oblast" },
                    ],
                    "expected_version": 8,
                }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let told = expect(w.o.get("/api/v1/disclosures").await, StatusCode::OK).await;
        assert_eq!(
            told,
            json!([{
                "id": told[0]["id"],
                "record_id": filed["id"],
                "fields": [
                    { "field": "status_found", "value": "found, alive and well" },
                    { "field": "region", "value": "Rostov oblast" },
                ],
                "disclosed_at": told[0]["disclosed_at"],
            }]),
        );
        let custody_told = expect(w.c.get("/api/v1/disclosures").await, StatusCode::OK).await;
        assert_eq!(custody_told, json!([]));
        for outsider in [&w.o, &w.c] {
            expect_error(outsider.get(&path(&case, "")).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let all = expect(w.cw.get(&path(&case, "/disclosures")).await, StatusCode::OK).await;
        assert_eq!(all.as_array().unwrap().len(), 1);

        // The guardian withdraws the consent to return: the case moves back and cannot be listed.
        let back = post_ok(
            &w.cw,
            &path(&case, &format!("/consents/{return_consent}/withdraw")),
            json!({ "reason": "the mother asks for time to decide", "expected_version": 8 }),
        )
        .await;
        assert_eq!(back["moved_back_from"], "consent_obtained");
        assert_eq!(back["case"]["state"], "identity_verified");
        assert!(back["case"]["consents"][0]["withdrawal"]["reason"].is_string(), "kept, with its end");
        let refused = expect_error(
            w.cw.post(
                &path(&case, "/transitions"),
                &json!({ "to": "listed", "expected_version": 9 }),
            )
            .await,
            StatusCode::CONFLICT,
            "transition_refused",
        )
        .await;
        let missing = codes(&refused);
        assert!(missing.contains(&"illegal_transition".to_owned()), "{refused}");
        assert!(missing.contains(&"consent_withdrawn".to_owned()), "{refused}");
        assert!(missing.contains(&"not_on_agreed_list".to_owned()), "{refused}");
        let refused = expect_error(
            w.cw.post(
                &path(&case, "/transitions"),
                &json!({ "to": "consent_obtained", "expected_version": 9 }),
            )
            .await,
            StatusCode::CONFLICT,
            "transition_refused",
        )
        .await;
        assert_eq!(codes(&refused), ["consent_withdrawn", "bid_required"], "{refused}");
        // Withdrawing twice is a conflict, not a second withdrawal.
        expect_error(
            w.cw.post(
                &path(&case, &format!("/consents/{return_consent}/withdraw")),
                &json!({ "reason": "again", "expected_version": 9 }),
            )
            .await,
            StatusCode::CONFLICT,
            "conflict",
        )
        .await;

        // A hold needs a reason; with one it holds, and it resumes.
        let refused = expect_error(
            w.cw.post(&path(&case, "/transitions"), &json!({ "to": "on_hold", "expected_version": 9 }))
                .await,
            StatusCode::CONFLICT,
            "transition_refused",
        )
        .await;
        assert_eq!(codes(&refused), ["reason_required"]);
        post_ok(
            &w.cw,
            &path(&case, "/transitions"),
            json!({ "to": "on_hold", "reason": "family asked for time", "expected_version": 9 }),
        )
        .await;
        let resumed = post_ok(
            &w.cw,
            &path(&case, "/transitions"),
            json!({ "to": "identity_verified", "expected_version": 10 }),
        )
        .await;
        assert_eq!(resumed["case"]["state"], "identity_verified");

        // The timeline has every version with what changed it.
        let history = expect(w.cw.get(&path(&case, "/history")).await, StatusCode::OK).await;
        let changes: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["change"].as_str().unwrap())
            .collect();
        assert_eq!(
            changes,
            [
                "create", "verification_record", "verification_record", "transition",
                "consent_record", "consent_record", "child_views_record", "transition",
                "consent_withdraw", "transition", "transition",
            ]
        );
        let listed = expect(
            w.reviewer.get("/api/v1/cases?state=identity_verified").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["items"][0]["case"]["id"], case["id"]);

        // Every step is in the audit log, and the chain verifies.
        let mediator = t.cli_party("Audit office", "observer").await;
        t.cli_user(&mediator, "aud", &["auditor"]).await;
        let aud = t.login("aud", PASSWORD).await;
        let log = expect(aud.get("/api/v1/audit?limit=1000").await, StatusCode::OK).await;
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in [
            "case.verification_record", "case.transition", "case.consent_record",
            "case.child_views_record", "disclosure.create", "disclosure.list",
            "case.consent_withdraw", "case.revalidate", "case.history",
        ] {
            assert!(actions.contains(&a), "{a} missing");
        }
        let verified = expect(aud.get("/api/v1/audit/verify").await, StatusCode::OK).await;
        assert!(verified["entries"].as_i64().unwrap() > 50, "{verified}");
    })
    .await;
}

#[tokio::test]
async fn a_humanitarian_party_sees_only_its_referred_tasks() {
    on_every_backend(async |t: &TestApp| {
        let w = world(t).await;
        let (_, case) = located_case(&w).await;
        let due = (chrono::Utc::now() + chrono::Duration::days(7)).date_naive().to_string();
        let task = expect(
            w.cw.post(
                &path(&case, "/tasks"),
                &json!({
                    "party": w.ngo_id, "kind": "verification_visit",
                    "instructions": "Visit the children's home; show the mother's photographs",
                    "due": due,
                }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let brief = task["brief"].as_array().unwrap();
        let fields: Vec<&str> = brief.iter().map(|b| b["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["child_name", "sex", "birth_date", "current_location"]);
        assert!(brief[0]["value"].as_str().unwrap().contains("Александр"));
        let id = task["id"].as_str().unwrap();

        // Not to a non-humanitarian party, not due in the past.
        let bad = expect_error(
            w.cw.post(
                &path(&case, "/tasks"),
                &json!({ "party": w.custody_id, "kind": "escort", "instructions": "x", "due": "2020-01-01" }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(bad["error"]["fields"][0]["field"], "party");

        // The NGO sees its task and its brief, and nothing of the case or the records.
        let mine = expect(w.ngo.get("/api/v1/tasks").await, StatusCode::OK).await;
        assert_eq!(mine.as_array().unwrap().len(), 1);
        assert_eq!(mine[0]["brief"], task["brief"]);
        expect(w.ngo.get(&format!("/api/v1/tasks/{id}")).await, StatusCode::OK).await;
        expect_error(w.ngo.get(&path(&case, "")).await, StatusCode::FORBIDDEN, "forbidden").await;
        expect_error(w.ngo.get("/api/v1/cases").await, StatusCode::FORBIDDEN, "forbidden").await;
        expect_error(w.ngo.get("/api/v1/matches").await, StatusCode::FORBIDDEN, "forbidden").await;
        let records = w.ngo.get("/api/v1/records").await;
        assert!(
            records.status() == StatusCode::FORBIDDEN,
            "records: {}",
            records.status()
        );
        expect_error(w.ngo.get("/api/v1/disclosures").await, StatusCode::FORBIDDEN, "forbidden").await;
        // Another NGO sees nothing, and the task answers like one that does not exist.
        let theirs = expect(w.other_ngo.get("/api/v1/tasks").await, StatusCode::OK).await;
        assert_eq!(theirs, json!([]));
        expect_error(
            w.other_ngo.get(&format!("/api/v1/tasks/{id}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            w.other_ngo
                .post(&format!("/api/v1/tasks/{id}/report"), &json!({ "done": true, "outcome": "x", "expected_version": 1 }))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;

        let reported = post_ok(
            &w.ngo,
            &format!("/api/v1/tasks/{id}/report"),
            json!({ "done": true, "outcome": "child seen; recognised the mother on the photographs", "expected_version": 1 }),
        )
        .await;
        assert_eq!(reported["status"], "completed");
        expect_error(
            w.ngo
                .post(&format!("/api/v1/tasks/{id}/report"), &json!({ "done": true, "outcome": "x", "expected_version": 2 }))
                .await,
            StatusCode::CONFLICT,
            "task_closed",
        )
        .await;
        expect_error(
            w.cw.post(&format!("/api/v1/tasks/{id}/cancel"), &json!({ "reason": "x", "expected_version": 2 }))
                .await,
            StatusCode::CONFLICT,
            "task_closed",
        )
        .await;
        let of_case = expect(
            w.cw.get(&format!("/api/v1/tasks?case_id={}", case["id"].as_str().unwrap())).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(of_case[0]["status"], "completed");
        let overdue = expect(w.cw.get("/api/v1/tasks?overdue=true").await, StatusCode::OK).await;
        assert_eq!(overdue, json!([]));
    })
    .await;
}

#[tokio::test]
async fn observers_read_the_accountability_record_and_nothing_else() {
    on_every_backend(async |t: &TestApp| {
        let w = world(t).await;
        let (_, case) = located_case(&w).await;
        let office = t.cli_party("Prosecutor's office", "observer").await;
        t.cli_user(&office, "prosecutor", &["viewer"]).await;
        let p = t.login("prosecutor", PASSWORD).await;

        // A fact without a source cannot go before a court.
        let bad = expect_error(
            w.cw.post(
                &path(&case, "/accountability"),
                &json!({ "kind": "removal", "details": "taken from the hospital", "sources": [] }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(bad["error"]["fields"][0]["field"], "sources");
        let bad_date = expect_error(
            w.cw.post(
                &path(&case, "/accountability"),
                &json!({ "kind": "removal", "when": "autumn", "details": "x", "sources": [{ "description": "y" }] }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(bad_date["error"]["fields"][0]["field"], "when");

        let first = expect(
            w.cw.post(
                &path(&case, "/accountability"),
                &json!({
                    "kind": "removal", "when": "2022-09", "place": "Mariupol, children's hospital",
                    "actors": [{ "kind": "institution", "name": "Occupation health department", "role": "ordered the transfer" }],
                    "details": "moved with eleven other children by bus",
                    "sources": [{ "description": "statement of a nurse" }],
                }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let fact = first["facts"][0]["id"].as_str().unwrap().to_owned();
        expect(
            w.cw.post(
                &path(&case, "/accountability"),
                &json!({
                    "kind": "name_change", "when": "2023",
                    "details": "registered under a new surname after guardianship",
                    "sources": [{ "description": "guardianship order" }],
                    "corrects": null,
                }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let correction = expect(
            w.cw.post(
                &path(&case, "/accountability"),
                &json!({
                    "kind": "removal", "when": "2022-10",
                    "details": "the bus left in October, not September",
                    "sources": [{ "description": "the bus company's log" }],
                    "corrects": fact,
                }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(correction["facts"].as_array().unwrap().len(), 3);
        assert_eq!(correction["facts"][0]["when"], "2022-09", "the corrected fact is kept");

        let read = expect(p.get(&path(&case, "/accountability")).await, StatusCode::OK).await;
        assert_eq!(read["facts"], correction["facts"]);
        let listed = expect(p.get("/api/v1/accountability").await, StatusCode::OK).await;
        assert_eq!(listed["items"][0]["case_id"], case["id"]);
        assert!(listed["next"].is_null(), "one page: {listed}");
        // The prosecutor sees the evidence, not the case, records, matches or tasks.
        for other in ["", "/history", "/disclosures"] {
            expect_error(p.get(&path(&case, other)).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
        expect_error(p.get("/api/v1/matches").await, StatusCode::FORBIDDEN, "forbidden").await;
        expect_error(
            p.post(&path(&case, "/accountability"), &json!({ "kind": "other", "details": "x", "sources": [{ "description": "y" }] }))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        // Neither side reads it, nor the NGO.
        for s in [&w.o, &w.c, &w.ngo] {
            expect_error(s.get(&path(&case, "/accountability")).await, StatusCode::FORBIDDEN, "forbidden").await;
        }

        // Every read is in the audit log, by the prosecutor's party.
        let auditor_party = t.cli_party("Audit office", "observer").await;
        t.cli_user(&auditor_party, "aud", &["auditor"]).await;
        let aud = t.login("aud", PASSWORD).await;
        let log = expect(
            aud.get("/api/v1/audit?action=accountability.read&limit=100").await,
            StatusCode::OK,
        )
        .await;
        let reads = log["items"].as_array().unwrap();
        assert_eq!(reads.len(), 1, "{log}");
        assert_eq!(reads[0]["actor_party"], office.id.to_string());
        assert_eq!(reads[0]["target_id"], case["id"]);
    })
    .await;
}
