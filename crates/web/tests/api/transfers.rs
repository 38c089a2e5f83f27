//! Transfer lists and plans end to end over HTTP: two children at consent_obtained go on one list
//! in opposite directions; the list is proposed, approved by both parties by its hash, edited
//! (the approvals void and the case guard refuses `listed` again), re-approved and fixed, which
//! lists both cases. A three-leg plan is refused while a document is not ready, then approved;
//! the children move to in_transit, and a late leg is recorded with its history. Each party sees
//! the list only in its own record ids. Then one child's custody chain is recorded without a gap
//! (a gap is refused), he is reunified, his follow-up visits are scheduled, the overdue one is
//! listed for the party that does it, and the case closes after the last visit.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::transfer_world::{case_path, located_cases, ok, people, to_consent_obtained};

fn unmet(err: &Value) -> Vec<String> {
    err["error"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["met"] == false)
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_transfer_round_from_draft_to_children_in_transit() {
    on_every_backend(async |t: &TestApp| {
        let w = people(t).await;
        let cases = located_cases(&w, 2).await;
        let mut versions = Vec::new();
        for (_, case) in &cases {
            versions.push(to_consent_obtained(&w, case).await);
        }
        let (a_req, a) = &cases[0];
        let (b_req, b) = &cases[1];
        let a_custody = a["custody_record"].as_str().unwrap();
        let b_custody = b["custody_record"].as_str().unwrap();

        // The mediator drafts the round; parties may not.
        let body = json!({ "round": "Round 7", "origin_party": w.origin_id, "custody_party": w.custody_id });
        expect_error(w.o.post("/api/v1/transfer-lists", &body).await, StatusCode::FORBIDDEN, "forbidden").await;
        let bad = expect_error(
            w.cw.post("/api/v1/transfer-lists", &json!({ "round": " ", "origin_party": w.custody_id, "custody_party": w.custody_id })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(bad["error"]["fields"][0]["field"], "origin_party");
        let list = expect(w.cw.post("/api/v1/transfer-lists", &body).await, StatusCode::CREATED).await;
        assert_eq!((list["state"].as_str(), list["version"].as_i64()), (Some("draft"), Some(1)));
        let lp = |rest: &str| format!("/api/v1/transfer-lists/{}{rest}", list["id"].as_str().unwrap());

        let add = async |case: &Value, direction: &str, v: i64| {
            w.cw.post(&lp("/entries"), &json!({ "case_id": case["id"], "direction": direction, "expected_version": v }))
                .await
        };
        ok(add(a, "to_origin", 1).await).await;
        let added = ok(add(b, "to_custody", 2).await).await;
        assert_eq!(added["entries"].as_array().unwrap().len(), 2);
        expect_error(add(b, "to_custody", 3).await, StatusCode::CONFLICT, "already_on_list").await;
        expect_error(add(b, "to_origin", 2).await, StatusCode::CONFLICT, "version_conflict").await;
        let proposed = ok(w.cw.post(&lp("/propose"), &json!({ "expected_version": 3 })).await).await;
        assert_eq!(proposed["state"], "proposed");
        let h1 = proposed["hash"].as_str().unwrap().to_owned();

        // The origin party sees its own tracing requests and the directions, nothing else.
        let seen = ok(w.o.get(&lp("")).await).await;
        let mut own = vec![
            json!({ "record_id": a_req["id"], "direction": "to_origin" }),
            json!({ "record_id": b_req["id"], "direction": "to_custody" }),
        ];
        own.sort_by_key(|e| e["record_id"].as_str().unwrap().to_owned());
        assert_eq!(
            seen,
            json!({
                "id": list["id"], "round": "Round 7", "state": "proposed", "hash": h1,
                "version": 4, "entries": own, "approved": null,
            })
        );
        let text = seen.to_string();
        for hidden in [a_custody, b_custody, a["id"].as_str().unwrap(), b["id"].as_str().unwrap()] {
            assert!(!text.contains(hidden), "{hidden} shown to the origin party");
        }
        let theirs = ok(w.c.get("/api/v1/transfer-lists").await).await;
        let theirs_ids: Vec<&str> = theirs[0]["entries"].as_array().unwrap().iter().map(|e| e["record_id"].as_str().unwrap()).collect();
        assert!(theirs_ids.contains(&a_custody) && theirs_ids.contains(&b_custody), "{theirs}");
        assert!(!theirs.to_string().contains(a_req["id"].as_str().unwrap()));
        expect_error(w.o.get(&lp("/versions")).await, StatusCode::FORBIDDEN, "forbidden").await;
        // The mediator approves nothing on a party's behalf.
        expect_error(w.cw.post(&lp("/approve"), &json!({ "hash": h1 })).await, StatusCode::FORBIDDEN, "forbidden").await;

        // Both approve the hash they saw; a wrong hash is stale and says the current one.
        let stale = expect_error(w.c.post(&lp("/approve"), &json!({ "hash": "0".repeat(64) })).await, StatusCode::CONFLICT, "stale_list_hash").await;
        assert_eq!(stale["error"]["current_hash"], h1);
        let mine = ok(w.o.post(&lp("/approve"), &json!({ "hash": h1 })).await).await;
        assert_eq!((mine["approved"]["side"].as_str(), mine["approved"]["hash"].as_str()), (Some("origin"), Some(h1.as_str())), "{mine}");
        // Each side sees its own approval only: custody has not approved, and is not shown the origin's.
        let theirs = ok(w.c.get(&lp("")).await).await;
        assert_eq!(theirs["approved"], json!(null), "{theirs}");
        expect_error(w.o.post(&lp("/approve"), &json!({ "hash": h1 })).await, StatusCode::CONFLICT, "already_approved").await;
        let approved = ok(w.c.post(&lp("/approve"), &json!({ "hash": h1 })).await).await;
        assert_eq!((approved["state"].as_str(), approved["version"].as_i64()), (Some("approved"), Some(6)));
        let case_a = ok(w.cw.get(&case_path(a, "")).await).await;
        assert!(case_a["case"]["listing"]["origin_approved_at"].is_string(), "{case_a}");
        assert!(case_a["case"]["listing"]["custody_approved_at"].is_string(), "{case_a}");
        let a_version = case_a["version"].as_i64().unwrap();

        // An edit voids both approvals; the case guard refuses `listed` again. Turning the
        // direction back gives the first content again, but the approvals do not come back.
        ok(add(b, "to_origin", 6).await).await;
        let edited = ok(add(b, "to_custody", 7).await).await;
        assert_eq!(edited["hash"], h1);
        assert_eq!(edited["state"], "proposed");
        assert_eq!(edited["approvals"], json!([]));
        assert_eq!(edited["voided_approvals"].as_array().unwrap().len(), 2);
        let case_a = ok(w.cw.get(&case_path(a, "")).await).await;
        assert!(case_a["case"]["listing"].get("origin_approved_at").is_none(), "{case_a}");
        assert_eq!(case_a["version"], a_version + 1);
        let refused = expect_error(
            w.cw.post(&case_path(a, "/transitions"), &json!({ "to": "listed", "expected_version": a_version + 1 })).await,
            StatusCode::CONFLICT,
            "transition_refused",
        )
        .await;
        assert_eq!(unmet(&refused), ["not_on_agreed_list"]);
        expect_error(w.cw.post(&lp("/fix"), &json!({ "expected_version": 8 })).await, StatusCode::CONFLICT, "transfer_list_state").await;

        // The diff shows the edit; each side sees it in its own record ids.
        let diff = ok(w.cw.get(&lp("/diff?from=6&to=7")).await).await;
        assert_eq!(diff["direction_changed"][0]["case_id"], b["id"]);
        assert_eq!(diff["direction_changed"][0]["from"], "to_custody");
        assert_eq!(diff["added"], json!([]));
        let theirs = ok(w.o.get(&lp("/diff?from=6&to=7")).await).await;
        assert_eq!(
            theirs["direction_changed"],
            json!([{ "record_id": b_req["id"], "from": "to_custody", "to": "to_origin" }])
        );
        assert!(!theirs.to_string().contains(b_custody));
        let bad = expect_error(w.cw.get(&lp("/diff?from=6&to=99")).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(bad["error"]["fields"][0]["field"], "to");

        // Re-approved and fixed: both cases are listed.
        ok(w.o.post(&lp("/approve"), &json!({ "hash": h1 })).await).await;
        ok(w.c.post(&lp("/approve"), &json!({ "hash": h1 })).await).await;
        let fixed = ok(w.cw.post(&lp("/fix"), &json!({ "expected_version": 10 })).await).await;
        assert_eq!(fixed["state"], "fixed");
        for case in [a, b] {
            let c = ok(w.cw.get(&case_path(case, "")).await).await;
            assert_eq!(c["case"]["state"], "listed", "{c}");
        }
        let history = ok(w.cw.get(&lp("/versions")).await).await;
        let changes: Vec<&str> = history.as_array().unwrap().iter().map(|v| v["change"].as_str().unwrap()).collect();
        assert_eq!(
            changes,
            ["create", "entry_add", "entry_add", "propose", "approve", "approve", "entry_add", "entry_add", "approve", "approve", "fix"]
        );

        // A plan for both children: three legs that chain; a fourth that does not is refused.
        let plan = expect(
            w.logistics.post("/api/v1/transfer-plans", &json!({ "list_id": list["id"], "cases": [a["id"], b["id"]] })).await,
            StatusCode::CREATED,
        )
        .await;
        let pp = |rest: &str| format!("/api/v1/transfer-plans/{}{rest}", plan["id"].as_str().unwrap());
        let plans = ok(w.cw.get(&lp("/plans")).await).await;
        assert_eq!(plans.as_array().unwrap().len(), 1);
        assert_eq!(plans[0]["id"], plan["id"]);
        expect_error(w.o.get(&lp("/plans")).await, StatusCode::FORBIDDEN, "forbidden").await;
        let legs = [
            ("Rostov-on-Don", "Moscow", "rail", "2030-04-01T08:00:00Z", "2030-04-01T20:00:00Z"),
            ("Moscow", "Minsk", "air", "2030-04-02T09:00:00Z", "2030-04-02T11:00:00Z"),
            ("Minsk", "Kyiv", "road", "2030-04-02T13:00:00Z", "2030-04-03T01:00:00Z"),
        ];
        let mut version = 1;
        for (from, to, mode, dep, arr) in legs {
            let current = ok(w
                .logistics
                .post(&pp("/legs"), &json!({
                    "from": from, "to": to, "mode": mode, "planned_departure": dep,
                    "planned_arrival": arr, "carrier": "Embassy convoy", "expected_version": version,
                }))
                .await)
            .await;
            version = current["version"].as_i64().unwrap();
        }
        let unchained = expect_error(
            w.logistics
                .post(&pp("/legs"), &json!({
                    "from": "Warsaw", "to": "Lviv", "mode": "road", "planned_departure": "2030-04-03T02:00:00Z",
                    "planned_arrival": "2030-04-03T08:00:00Z", "expected_version": version,
                }))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(unchained["error"]["fields"][0]["field"], "legs[3].from");
        assert_eq!(unchained["error"]["fields"][0]["code"], "legs_not_chained");
        let bad_cost = expect_error(
            w.logistics
                .put(&pp("/costs"), &json!({ "costs": [{ "amount_minor": 120000, "currency": "euro", "funded_by": "Mediator" }], "expected_version": version }))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(bad_cost["error"]["fields"][0]["field"], "costs[0].currency");
        version = ok(w
            .logistics
            .put(&pp("/costs"), &json!({ "costs": [{ "amount_minor": 120000, "currency": "EUR", "funded_by": "Mediator" }], "expected_version": version }))
            .await)
        .await["version"]
            .as_i64()
            .unwrap();
        version = ok(w
            .logistics
            .put(&pp("/escorts"), &json!({ "escorts": [{ "kind": "diplomat", "name": "Consul N." }], "expected_version": version }))
            .await)
        .await["version"]
            .as_i64()
            .unwrap();
        let documents = |b_ready: bool, v: i64| {
            json!({
                "documents": [
                    { "case_id": a["id"], "kind": "passport", "ready": true },
                    { "case_id": b["id"], "kind": "birth_certificate", "ready": b_ready },
                ],
                "expected_version": v,
            })
        };
        version = ok(w.logistics.put(&pp("/documents"), &documents(false, version)).await).await["version"]
            .as_i64()
            .unwrap();

        // An unready document blocks approval, and without an approved plan nobody travels.
        let blocked = expect_error(
            w.logistics.post(&pp("/approve"), &json!({ "expected_version": version })).await,
            StatusCode::CONFLICT,
            "plan_not_ready",
        )
        .await;
        assert!(blocked["error"]["message"].as_str().unwrap().contains("birth_certificate"), "{blocked}");
        let case_a = ok(w.cw.get(&case_path(a, "")).await).await;
        let refused = expect_error(
            w.cw.post(&case_path(a, "/transitions"), &json!({ "to": "in_transit", "expected_version": case_a["version"] })).await,
            StatusCode::CONFLICT,
            "transition_refused",
        )
        .await;
        assert_eq!(unmet(&refused), ["no_approved_transfer_plan"]);
        version = ok(w.logistics.put(&pp("/documents"), &documents(true, version)).await).await["version"]
            .as_i64()
            .unwrap();
        let approved = ok(w.logistics.post(&pp("/approve"), &json!({ "expected_version": version })).await).await;
        assert!(approved["approval"]["at"].is_string(), "{approved}");
        assert_eq!(approved["missing_for_approval"], json!([]));
        version = approved["version"].as_i64().unwrap();

        // The children go.
        for case in [a, b] {
            let c = ok(w.cw.get(&case_path(case, "")).await).await;
            assert!(c["case"]["transfer_plan"]["approved_at"].is_string(), "{c}");
            let moved = ok(w
                .cw
                .post(&case_path(case, "/transitions"), &json!({ "to": "in_transit", "expected_version": c["version"] }))
                .await)
            .await;
            assert_eq!(moved["case"]["state"], "in_transit");
        }
        ok(w.cw.post(&lp("/start"), &json!({ "expected_version": 11 })).await).await;

        // The first leg leaves two hours late: recorded, not overwritten, approval kept.
        let leg = approved["legs"][0]["id"].as_str().unwrap();
        let late = ok(w
            .logistics
            .patch(&pp(&format!("/legs/{leg}")), &json!({
                "changes": { "actual_departure": "2030-04-01T10:00:00Z" },
                "reason": "the train was held at the border",
                "expected_version": version,
            }))
            .await)
        .await;
        assert!(late["approval"]["at"].is_string(), "a delay keeps the approval: {late}");
        let history = &late["legs"][0]["history"];
        assert_eq!(history.as_array().unwrap().len(), 1);
        assert_eq!(history[0]["reason"], "the train was held at the border");
        assert_eq!(history[0]["changes"][0]["field"], "actual_departure");
        assert_eq!(history[0]["voided_approval"], false);
        assert_eq!(late["legs"][0]["planned_departure"], "2030-04-01T08:00:00Z");
        let no_reason = expect_error(
            w.logistics
                .patch(&pp(&format!("/legs/{leg}")), &json!({ "changes": { "carrier": "Other" }, "reason": "", "expected_version": late["version"] }))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(no_reason["error"]["fields"][0]["field"], "reason");
        let got = ok(w.cw.get(&pp("")).await).await;
        assert_eq!(got["legs"][0]["history"], late["legs"][0]["history"]);
        expect_error(w.o.get(&pp("")).await, StatusCode::FORBIDDEN, "forbidden").await;

        // Handovers: the children's home gives the boy to the embassy, the embassy to his aunt
        // as escort, the aunt to his mother. A handover that leaves a gap is refused.
        let ago = |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).to_rfc3339();
        let home = json!({ "kind": "custody_authority", "name": "Children's home No. 4" });
        let embassy = json!({ "kind": "mediator", "name": "Embassy" });
        let aunt = json!({ "kind": "escort", "name": "Halyna Lysenko (aunt)" });
        let mother = json!({ "kind": "family", "name": "Oksana Lysenko" });
        let mut v = ok(w.cw.get(&case_path(a, "")).await).await["version"].as_i64().unwrap();
        let hand = async |giver: &Value, receiver: &Value, days: i64, v: i64| -> i64 {
            let out = ok(w
                .logistics
                .post(&case_path(a, "/handovers"), &json!({
                    "at": ago(days), "giver": giver, "receiver": receiver,
                    "place": "Embassy, consular section", "witnesses": ["consul", "ICRC delegate"],
                    "expected_version": v,
                }))
                .await)
            .await;
            out["version"].as_i64().unwrap()
        };
        v = hand(&home, &embassy, 45, v).await;
        let gap = expect_error(
            w.logistics
                .post(&case_path(a, "/handovers"), &json!({ "at": ago(44), "giver": aunt, "receiver": mother, "expected_version": v }))
                .await,
            StatusCode::CONFLICT,
            "handover_refused",
        )
        .await;
        assert_eq!(unmet(&gap), ["custody_chain_gap"], "{gap}");
        v = hand(&embassy, &aunt, 44, v).await;
        let handed = ok(w.cw.post(&case_path(a, "/transitions"), &json!({ "to": "handed_over", "expected_version": v })).await).await;
        v = handed["version"].as_i64().unwrap();
        v = hand(&aunt, &mother, 43, v).await;
        let doc = w.cw.get(&case_path(a, "/custody-chain")).await;
        assert!(doc.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let doc = doc.text().await.unwrap();
        for line in ["1. ", "2. ", "3. ", "from: Halyna Lysenko (aunt)", "to:   Oksana Lysenko", "witnesses: consul, ICRC delegate"] {
            assert!(doc.contains(line), "{line} missing from:\n{doc}");
        }
        expect_error(w.o.get(&case_path(a, "/custody-chain")).await, StatusCode::FORBIDDEN, "forbidden").await;

        // Reunified needs the reunification recorded; recording it schedules the visits at 1, 3,
        // 6 and 12 months, the first of them (a month after 42 days ago) already overdue.
        let refused = expect_error(
            w.cw.post(&case_path(a, "/transitions"), &json!({ "to": "reunified", "expected_version": v })).await,
            StatusCode::CONFLICT,
            "transition_refused",
        )
        .await;
        assert_eq!(unmet(&refused), ["reunification_missing"]);
        let reunited = ok(w
            .cw
            .post(&case_path(a, "/reunification"), &json!({
                "at": ago(42), "place": "Kyiv",
                "with_whom": [{ "name": "Oksana Lysenko", "relationship": "mother" }],
                "family_environment": "lives with his mother and grandmother; school place arranged",
                "expected_version": v,
            }))
            .await)
        .await;
        let visits = reunited["case"]["follow_ups"].as_array().unwrap().clone();
        assert_eq!(visits.len(), 4);
        assert!(visits.iter().all(|f| f["responsible"] == w.origin_id.as_str()), "{visits:?}");
        v = reunited["version"].as_i64().unwrap();
        let service = ok(w
            .cw
            .post(&case_path(a, "/services"), &json!({
                "kind": "psychological", "provider": "Regional child psychology centre",
                "started_on": chrono::Utc::now().date_naive().to_string(), "expected_version": v,
            }))
            .await)
        .await;
        v = service["version"].as_i64().unwrap();
        let reunified = ok(w.cw.post(&case_path(a, "/transitions"), &json!({ "to": "reunified", "expected_version": v })).await).await;
        v = reunified["version"].as_i64().unwrap();

        // The overdue visit is listed for the origin side, which does the visits, with only its
        // own record; the custody side has no such list.
        let overdue = ok(w.o.get("/api/v1/follow-ups/overdue").await).await;
        assert_eq!(overdue.as_array().unwrap().len(), 1, "{overdue}");
        assert_eq!(overdue[0]["record_id"], a_req["id"]);
        assert_eq!(overdue[0]["follow_up"]["id"], visits[0]["id"]);
        let mediator_view = ok(w.cw.get("/api/v1/follow-ups/overdue").await).await;
        assert_eq!(mediator_view.as_array().unwrap().len(), 1);
        expect_error(w.c.get("/api/v1/follow-ups/overdue").await, StatusCode::FORBIDDEN, "forbidden").await;
        let first = visits[0]["id"].as_str().unwrap();
        let done = ok(w
            .o
            .post(
                &format!("/api/v1/follow-ups/{}/{first}/report", a["id"].as_str().unwrap()),
                &json!({ "outcome": "seen at home; sleeping well, back at school" }),
            )
            .await)
        .await;
        assert!(done["follow_up"]["done_at"].is_string());
        assert!(ok(w.o.get("/api/v1/follow-ups/overdue").await).await.as_array().unwrap().is_empty());
        v += 1;

        // The case closes only when every visit is done or waived in writing.
        let refused = expect_error(
            w.cw.post(&case_path(a, "/transitions"), &json!({ "to": "closed", "expected_version": v })).await,
            StatusCode::CONFLICT,
            "transition_refused",
        )
        .await;
        assert_eq!(unmet(&refused), ["follow_ups_outstanding"]);
        for f in &visits[1..3] {
            let out = ok(w
                .cw
                .post(
                    &case_path(a, &format!("/follow-ups/{}/report", f["id"].as_str().unwrap())),
                    &json!({ "outcome": "visited: well", "expected_version": v }),
                )
                .await)
            .await;
            v = out["version"].as_i64().unwrap();
        }
        let no_reason = expect_error(
            w.cw.post(
                &case_path(a, &format!("/follow-ups/{}/waive", visits[3]["id"].as_str().unwrap())),
                &json!({ "reason": " ", "expected_version": v }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(no_reason["error"]["fields"][0]["field"], "reason");
        let waived = ok(w
            .cw
            .post(
                &case_path(a, &format!("/follow-ups/{}/waive", visits[3]["id"].as_str().unwrap())),
                &json!({ "reason": "the family moved abroad; handed to the local services there", "expected_version": v }),
            )
            .await)
        .await;
        v = waived["version"].as_i64().unwrap();
        let closed = ok(w.cw.post(&case_path(a, "/transitions"), &json!({ "to": "closed", "expected_version": v })).await).await;
        assert_eq!(closed["case"]["state"], "closed");

        // The log has it all, and the chain verifies.
        let observer = t.cli_party("Audit office", "observer").await;
        t.cli_user(&observer, "aud", &["auditor"]).await;
        let aud = t.login("aud", PASSWORD).await;
        let log = ok(aud.get("/api/v1/audit?limit=1000").await).await;
        let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        for action in [
            "transfer_list.create", "transfer_list.change", "transfer_list.read", "case.listing",
            "transfer_plan.create", "transfer_plan.approve", "case.transfer_plan",
            "case.handover_record", "case.custody_chain_read", "case.reunification_record",
            "case.service_record", "case.follow_up_report", "case.follow_up_waive", "follow_up.list",
        ] {
            assert!(actions.contains(&action), "{action} missing");
        }
        ok(aud.get("/api/v1/audit/verify").await).await;
    })
    .await;
}
