//! Evidence bundles over HTTP: an observer downloads a case's signed bundle, which verifies
//! without the database and carries the case's attachment and its own export; a case outside
//! what observers may examine (no accountability record) answers 404; nobody but observers gets
//! one; every export is in the audit log.

use crate::attachments::{config, png, upload};
use crate::helpers::*;
use crate::transfer_world::{located_cases, people};
use homeward_app::evidence::EvidenceKey;
use homeward_domain::evidence::{sha256_hex, verify};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn case_path(case: &Value, rest: &str) -> String {
    format!("/api/v1/cases/{}{rest}", case["id"].as_str().unwrap())
}

#[tokio::test]
async fn observers_export_a_signed_bundle_of_the_cases_they_may_examine_only() {
    let dir = tempfile::tempdir().unwrap();
    let key = homeward_app::checkpoint::parse_signing_key(&"2a".repeat(32)).unwrap();
    let public = key.verifying_key();
    let cfg = homeward_app::AppConfig {
        evidence_key: Some(EvidenceKey::new(key)),
        ..config(dir.path())
    };
    on_every_backend_with(cfg, test_options(), async |t: &TestApp| {
        let w = people(t).await;
        let cases = located_cases(&w, 2).await;
        let (examined, other) = (&cases[0].1, &cases[1].1);
        let uploaded = expect(
            upload(&w.cw, &case_path(examined, "/attachments"), Some("image/png"), Some("фото 1.png"), png()).await,
            StatusCode::CREATED,
        )
        .await;
        expect(
            w.cw.post(
                &case_path(examined, "/accountability"),
                &json!({
                    "kind": "removal", "when": "2022-09", "place": "Mariupol",
                    "details": "moved with eleven other children by bus",
                    "sources": [{ "description": "photo of the bus", "attachment": uploaded["id"] }],
                }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let office = t.cli_party("Prosecutor's office", "observer").await;
        t.cli_user(&office, "prosecutor", &["viewer"]).await;
        let p = t.login("prosecutor", PASSWORD).await;

        let res = p.get(&case_path(examined, "/evidence")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/x-tar");
        let bytes = res.bytes().await.unwrap();
        let v = verify(&bytes, Some(&public));
        assert!(v.holds(), "{:?}", v.problems);
        let m = v.manifest.unwrap();
        assert_eq!(m.case.id.to_string(), examined["id"].as_str().unwrap());
        // Named as written, with the Ukrainian passport transliteration beside it.
        assert!(m.case.child_names[0].written.contains("Олександр"), "{:?}", m.case.child_names);
        assert!(m.case.child_names[0].latin.contains("Oleksandr"), "{:?}", m.case.child_names);
        assert_eq!(m.accountability.len(), 1);
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].sha256, sha256_hex(&png()));
        assert_eq!(m.exported_by.party_name, "Prosecutor's office");
        // The bundle carries its own export, by the prosecutor's party, up to the signed head.
        let export = m
            .audit_entries
            .iter()
            .find(|e| e.action == "evidence.export")
            .expect("the export entry");
        assert_eq!(export.actor_party, Some(office.id));
        assert!(m.audit_entries.iter().any(|e| e.action == "attachment.upload"));
        assert_eq!(m.chain.last().unwrap().seq, m.head.seq);
        // Another key does not verify it.
        let other_key = homeward_app::checkpoint::parse_signing_key(&"01".repeat(32))
            .unwrap()
            .verifying_key();
        assert!(!verify(&bytes, Some(&other_key)).holds());

        // The case without an accountability record is outside what observers examine.
        expect_error(p.get(&case_path(other, "/evidence")).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(
            p.get("/api/v1/cases/0190a0b0-0000-7000-8000-000000000001/evidence").await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let listed = expect(p.get("/api/v1/evidence/cases").await, StatusCode::OK).await;
        let items = listed["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{listed}");
        assert_eq!(items[0]["case_id"], examined["id"]);
        assert!(items[0]["names"][0]["as_written"].as_str().unwrap().contains("Олександр"));

        // Nobody else exports: the mediator's staff (who read the record) and the two sides.
        for s in [&w.cw, &w.reviewer, &w.o, &w.c] {
            expect_error(s.get(&case_path(examined, "/evidence")).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
        expect_error(w.o.get("/api/v1/evidence/cases").await, StatusCode::FORBIDDEN, "forbidden").await;

        // Each export is audited, by the observer's party.
        let aud_party = t.cli_party("Audit office", "observer").await;
        t.cli_user(&aud_party, "aud", &["auditor"]).await;
        let aud = t.login("aud", PASSWORD).await;
        let log = expect(aud.get("/api/v1/audit?action=evidence.export&limit=100").await, StatusCode::OK).await;
        let exports = log["items"].as_array().unwrap();
        assert_eq!(exports.len(), 2, "the bundle and the refused case: {log}");
        assert!(exports.iter().all(|e| e["actor_party"] == office.id.to_string()));
    })
    .await;
}

#[tokio::test]
async fn without_a_signing_key_the_export_says_so() {
    on_every_backend(async |t: &TestApp| {
        let w = people(t).await;
        let cases = located_cases(&w, 1).await;
        let office = t.cli_party("Prosecutor's office", "observer").await;
        t.cli_user(&office, "prosecutor", &["viewer"]).await;
        let p = t.login("prosecutor", PASSWORD).await;
        expect_error(
            p.get(&case_path(&cases[0].1, "/evidence")).await,
            StatusCode::SERVICE_UNAVAILABLE,
            "evidence_not_configured",
        )
        .await;
    })
    .await;
}
