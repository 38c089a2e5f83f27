//! Privacy-preserving linkage end to end: two sides upload lists encoded by the real encoder on
//! synthetic children, the mediator links them in a job and sees only the mapping of references,
//! each side sees only its own references, a list too small or encoded with another key or
//! specification is refused with its code, and a pair whose two sides submit their clear records
//! reaches the review queue.

use crate::helpers::*;
use homeward_linkage::pprl::{Hardening, PprlKey, encode};
use homeward_linkage::{FieldKind, Table};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;

const GIVEN: [(&str, &str); 12] = [
    ("Олександр", "male"),
    ("Дмитро", "male"),
    ("Андрій", "male"),
    ("Микола", "male"),
    ("Богдан", "male"),
    ("Тарас", "male"),
    ("Олена", "female"),
    ("Наталія", "female"),
    ("Ірина", "female"),
    ("Оксана", "female"),
    ("Софія", "female"),
    ("Зоряна", "female"),
];
const FAMILY: [&str; 13] = [
    "Петренко",
    "Коваленко",
    "Бондаренко",
    "Шевчук",
    "Мельник",
    "Ткаченко",
    "Кравчук",
    "Олійник",
    "Лисенко",
    "Гнатюк",
    "Савчук",
    "Руденко",
    "Марченко",
];

/// Synthetic child `i`: a name, a sex and a date of birth distinct for every `i` below 150.
fn child(i: usize) -> (&'static str, &'static str, &'static str, String) {
    let (given, sex) = GIVEN[i % GIVEN.len()];
    let family = FAMILY[(i * 7 + i / 13) % FAMILY.len()];
    let dob = format!(
        "{}-{:02}-{:02}",
        2008 + i % 9,
        1 + (i * 5) % 12,
        1 + (i * 11) % 28
    );
    (given, family, sex, dob)
}

/// The side's list of children `range`, each under reference `PREFIX-i`, encoded with `key`.
fn encoded(prefix: &str, range: std::ops::Range<usize>, key: u8) -> String {
    let columns = [
        ("id", FieldKind::Id),
        ("given_name", FieldKind::GivenName),
        ("family_name", FieldKind::FamilyName),
        ("sex", FieldKind::Sex),
        ("birth_date", FieldKind::BirthDate),
    ]
    .map(|(n, k)| (n.to_owned(), k))
    .to_vec();
    let mut t = Table::new(columns).unwrap();
    for i in range {
        let (given, family, sex, dob) = child(i);
        let id = format!("{prefix}-{i}");
        t.push(
            id.clone(),
            [
                Some(id.as_str()),
                Some(given),
                Some(family),
                Some(sex),
                Some(&dob),
            ],
        )
        .unwrap();
    }
    let list = encode(&t, &PprlKey::from_bytes([key; 32]), Hardening::SaltDate);
    String::from_utf8(list.to_json().unwrap()).unwrap()
}

async fn upload(s: &Session, round: &str, body: String) -> reqwest::Response {
    s.client
        .post(s.url(&format!("/api/v1/pprl/lists?round={round}")))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_owned())
        .collect()
}

/// Files child `i`'s clear record on the caller's side, as that side would (its own form).
async fn file_record(s: &Session, i: usize, tracing: bool) -> String {
    let (given, family, sex, dob) = child(i);
    let mut body = json!({
        "names": [{ "given": given, "family": family }],
        "sex": sex,
        "birth_date": dob,
    });
    if tracing {
        body["enquirer_name"] = json!("Synthetic Relative");
        body["enquirer_relationship"] = json!("mother");
    } else {
        body["current_location"] = json!("Children's home No. 4");
    }
    let r = expect(s.post("/api/v1/records", &body).await, StatusCode::CREATED).await;
    r["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn two_sides_link_their_encodings_and_a_pair_reaches_review() {
    on_every_backend(async |t: &TestApp| {
        t.three_sides().await;
        let o = t.login("olena", PASSWORD).await;
        let c = t.login("ivan", PASSWORD).await;
        let m = t.login("maria", PASSWORD).await;

        // Too small to be taken: a side could probe for one child with a handful of encodings.
        expect_error(
            upload(&o, "r1", encoded("TR", 0..10, 7)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pprl_list_too_small",
        )
        .await;
        // The mediator does not upload lists; an unreadable body is refused, not a 500.
        expect_error(
            upload(&m, "r1", encoded("X", 0..60, 7)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            upload(&o, "r1", "{\"spec\": 1}".to_owned()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pprl_list_invalid",
        )
        .await;

        // Origin files 0..60, custody holds 30..110: children 30..60 are on both lists.
        let origin = expect(
            upload(&o, "r1", encoded("TR", 0..60, 7)).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(origin["records"], 60);
        // Another key, or another specification, in the same round is refused.
        expect_error(
            upload(&c, "r1", encoded("CR", 30..110, 9)).await,
            StatusCode::CONFLICT,
            "pprl_key_mismatch",
        )
        .await;
        let other_spec =
            encoded("CR", 30..110, 7).replacen(homeward_linkage::pprl::SPEC, "homeward-pprl/1", 1);
        expect_error(
            upload(&c, "r1", other_spec).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pprl_spec_unsupported",
        )
        .await;
        let custody = expect(
            upload(&c, "r1", encoded("CR", 30..110, 7)).await,
            StatusCode::CREATED,
        )
        .await;
        let (origin_id, custody_id) = (
            origin["id"].as_str().unwrap(),
            custody["id"].as_str().unwrap(),
        );

        // A side sees its own lists only; the mediator all of them.
        let own = expect(o.get("/api/v1/pprl/lists").await, StatusCode::OK).await;
        assert_eq!(strings(&own, "id"), [origin_id]);
        let all = expect(m.get("/api/v1/pprl/lists").await, StatusCode::OK).await;
        assert_eq!(all.as_array().unwrap().len(), 2);

        // Only the mediator's reviewers run a linkage, of one list of each side.
        let run_body = json!({ "left_list": custody_id, "right_list": origin_id });
        expect_error(
            o.post("/api/v1/pprl/runs", &run_body).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            m.post(
                "/api/v1/pprl/runs",
                &json!({ "left_list": origin_id, "right_list": origin_id }),
            )
            .await,
            StatusCode::CONFLICT,
            "pprl_sides_not_opposite",
        )
        .await;
        let run = expect(
            m.post("/api/v1/pprl/runs", &run_body).await,
            StatusCode::ACCEPTED,
        )
        .await;
        let run_id = run["id"].as_str().unwrap();

        // The mediator sees the mapping: references only, and (on synthetic lists this clean)
        // every child on both lists, and only those.
        let mapping = expect(
            m.get(&format!("/api/v1/pprl/runs/{run_id}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mapping["run"]["state"], "done", "{mapping}");
        let pairs = mapping["pairs"].as_array().unwrap();
        let found: HashSet<(String, String)> = pairs
            .iter()
            .map(|p| {
                (
                    p["origin_reference"].as_str().unwrap().to_owned(),
                    p["custody_reference"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let truth: HashSet<(String, String)> = (30..60)
            .map(|i| (format!("TR-{i}"), format!("CR-{i}")))
            .collect();
        assert!(
            found.is_subset(&truth),
            "false pairs: {:?}",
            found.difference(&truth)
        );
        assert!(
            found.len() >= 27,
            "only {} of 30 children found",
            found.len()
        );
        assert_eq!(mapping["run"]["pairs"], pairs.len());
        let text = mapping.to_string();
        assert!(
            !text.contains("score") && !text.contains("probability"),
            "{text}"
        );

        // Sides: no mapping, and each sees only its own references.
        for side in [&o, &c] {
            expect_error(
                side.get(&format!("/api/v1/pprl/runs/{run_id}")).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
        let mine = expect(
            o.get(&format!("/api/v1/pprl/lists/{origin_id}/references"))
                .await,
            StatusCode::OK,
        )
        .await;
        let refs = strings(&mine["references"], "reference");
        assert_eq!(refs.len(), pairs.len());
        assert!(refs.iter().all(|r| r.starts_with("TR-")), "{mine}");
        let text = mine.to_string();
        assert!(!text.contains("CR-") && !text.contains("score"), "{text}");
        assert!(
            mine["references"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["status"] == "found")
        );
        expect_error(
            o.get(&format!("/api/v1/pprl/lists/{custody_id}/references"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;

        // The mediator asks both sides for child 40's and child 41's clear records.
        let pair_of = |i: usize| {
            pairs
                .iter()
                .find(|p| p["origin_reference"] == format!("TR-{i}"))
                .unwrap_or_else(|| panic!("child {i} not found"))["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (p40, p41) = (pair_of(40), pair_of(41));
        expect_error(
            o.post(
                &format!("/api/v1/pprl/pairs/{p40}/answer"),
                &json!({ "record_id": run_id }),
            )
            .await,
            StatusCode::CONFLICT,
            "pprl_pair_state",
        )
        .await;
        let asked = expect(
            m.post(
                &format!("/api/v1/pprl/runs/{run_id}/requests"),
                &json!({ "pairs": [p40, p41] }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(asked["requested"], 2);
        let mine = expect(
            c.get(&format!("/api/v1/pprl/lists/{custody_id}/references"))
                .await,
            StatusCode::OK,
        )
        .await;
        let requested: Vec<&Value> = mine["references"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "requested")
            .collect();
        assert_eq!(requested.len(), 2, "{mine}");

        // Each side files its clear record (under the consent it holds) and answers with it.
        let tracing = file_record(&o, 40, true).await;
        let held = file_record(&c, 40, false).await;
        let answered = expect(
            o.post(
                &format!("/api/v1/pprl/pairs/{p40}/answer"),
                &json!({ "record_id": tracing }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(answered["status"], "answered");
        assert_eq!(answered["reference"], "TR-40");
        // Custody cannot answer with a record of the other side, nor anything twice.
        expect_error(
            c.post(
                &format!("/api/v1/pprl/pairs/{p40}/answer"),
                &json!({ "record_id": tracing }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pprl_wrong_record",
        )
        .await;
        expect_error(
            o.post(
                &format!("/api/v1/pprl/pairs/{p40}/answer"),
                &json!({ "record_id": tracing }),
            )
            .await,
            StatusCode::CONFLICT,
            "pprl_pair_state",
        )
        .await;
        expect(
            c.post(
                &format!("/api/v1/pprl/pairs/{p40}/answer"),
                &json!({ "record_id": held }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        // Custody declines child 41: the origin side sees the exchange closed.
        expect(
            c.post(
                &format!("/api/v1/pprl/pairs/{p41}/decline"),
                &json!({ "reason": "no consent of the carer" }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let mine = expect(
            o.get(&format!("/api/v1/pprl/lists/{origin_id}/references"))
                .await,
            StatusCode::OK,
        )
        .await;
        let status = |r: &str| {
            mine["references"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["reference"] == r)
                .unwrap()["status"]
                .clone()
        };
        assert_eq!(
            (status("TR-40"), status("TR-41")),
            (json!("answered"), json!("closed"))
        );

        // Both clear records exist: the pair is a candidate in the ordinary review queue.
        let mapping = expect(
            m.get(&format!("/api/v1/pprl/runs/{run_id}")).await,
            StatusCode::OK,
        )
        .await;
        let pair = mapping["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == p40.as_str())
            .unwrap()
            .clone();
        assert_eq!(pair["state"], "in_review", "{pair}");
        assert_eq!(pair["tracing_record_id"], tracing.as_str());
        let queue = expect(
            m.get("/api/v1/matches?min_probability=0&limit=100").await,
            StatusCode::OK,
        )
        .await;
        let candidate = queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == pair["match_id"])
            .unwrap_or_else(|| panic!("{pair} not in {queue}"));
        assert_eq!(candidate["tracing_record_id"], tracing.as_str());
        assert_eq!(candidate["custody_record_id"], held.as_str());

        // The mediator dismisses child 42's pair (a false pair, say) before asking anyone:
        // audited with its reason; the sides cannot dismiss; a pair asked about or closed
        // cannot be dismissed; a pair dismissed cannot be asked about.
        let p42 = pair_of(42);
        for side in [&o, &c] {
            expect_error(
                side.post(
                    &format!("/api/v1/pprl/pairs/{p42}/dismiss"),
                    &json!({ "reason": "not ours to say" }),
                )
                .await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
        expect_error(
            m.post(
                &format!("/api/v1/pprl/pairs/{p42}/dismiss"),
                &json!({ "reason": "  " }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let dismissed = expect(
            m.post(
                &format!("/api/v1/pprl/pairs/{p42}/dismiss"),
                &json!({ "reason": "different fathers on the clear file" }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(dismissed["state"], "dismissed", "{dismissed}");
        assert_eq!(dismissed["origin_reference"], "TR-42");
        for p in [&p42, &p40, &p41] {
            expect_error(
                m.post(
                    &format!("/api/v1/pprl/pairs/{p}/dismiss"),
                    &json!({ "reason": "again" }),
                )
                .await,
                StatusCode::CONFLICT,
                "pprl_pair_state",
            )
            .await;
        }
        expect_error(
            m.post(
                &format!("/api/v1/pprl/runs/{run_id}/requests"),
                &json!({ "pairs": [p42] }),
            )
            .await,
            StatusCode::CONFLICT,
            "pprl_pair_state",
        )
        .await;
        expect_error(
            m.post(
                &format!("/api/v1/pprl/pairs/{}/dismiss", uuid::Uuid::new_v4()),
                &json!({ "reason": "no such pair" }),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let mapping = expect(
            m.get(&format!("/api/v1/pprl/runs/{run_id}")).await,
            StatusCode::OK,
        )
        .await;
        let state42 = mapping["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == p42.as_str())
            .unwrap()["state"]
            .clone();
        assert_eq!(state42, "dismissed");
        let auditor_party = t.cli_party("Audit office", "observer").await;
        t.cli_user(&auditor_party, "aud", &["auditor"]).await;
        let aud = t.login("aud", PASSWORD).await;
        let log = expect(
            aud.get("/api/v1/audit?action=pprl.dismiss&limit=100").await,
            StatusCode::OK,
        )
        .await;
        let entries = log["items"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{log}");
        assert_eq!(entries[0]["target_id"], p42.as_str());
        assert!(
            log.to_string()
                .contains("different fathers on the clear file"),
            "{log}"
        );
    })
    .await;
}
