//! The people and children of a transfer round, shared by the API's and the pages' transfer
//! tests: an origin, a custody side and the mediator's reviewer, caseworker and logistics
//! officer; up to three children filed by the origin, imported by custody, confirmed, and brought
//! to consent_obtained when a test needs it.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The custody side's list: the same three children in Russian, with where they are held.
pub const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
    Лысенко,Александр,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4 (Ростовская область)\n\
    Коваленко,Мария,Ивановна,14.05.2013,ж,Бердянск,Детский дом № 2 (Ростовская область)\n\
    Бондаренко,Пётр,Сергеевич,21.11.2012,м,Херсон,Детский дом № 7 (Ростовская область)\n";

/// `olena` (origin), `ivan` (custody), and the mediator's `maria` (reviewer), `petra`
/// (caseworker) and `lev` (logistics), signed in through the API.
pub struct People {
    pub origin_id: String,
    pub custody_id: String,
    pub o: Session,
    pub c: Session,
    pub reviewer: Session,
    pub cw: Session,
    pub logistics: Session,
}

pub async fn people(t: &TestApp) -> People {
    let ThreeSides {
        origin,
        custody,
        mediator,
    } = t.three_sides().await;
    t.cli_user(&mediator, "petra", &["caseworker"]).await;
    t.cli_user(&mediator, "lev", &["logistics"]).await;
    People {
        origin_id: origin.id.to_string(),
        custody_id: custody.id.to_string(),
        o: t.login("olena", PASSWORD).await,
        c: t.login("ivan", PASSWORD).await,
        reviewer: t.login("maria", PASSWORD).await,
        cw: t.login("petra", PASSWORD).await,
        logistics: t.login("lev", PASSWORD).await,
    }
}

pub async fn ok(res: reqwest::Response) -> Value {
    expect(res, StatusCode::OK).await
}

pub fn case_path(case: &Value, rest: &str) -> String {
    format!("/api/v1/cases/{}{rest}", case["id"].as_str().unwrap())
}

/// Files the first `n` (at most 3) tracing requests, imports the same children's custody
/// records and confirms each child's candidate; returns (tracing request, case) per child.
pub async fn located_cases(w: &People, n: usize) -> Vec<(Value, Value)> {
    let requests = [
        json!({
            "names": [{ "given": "Олександр", "patronymic": "Андрійович", "family": "Лисенко" }],
            "sex": "male", "birth_date": "2015-03-07", "birth_place": "Маріуполь",
            "enquirer_name": "Оксана Лисенко", "enquirer_relationship": "mother",
        }),
        json!({
            "names": [{ "given": "Марія", "patronymic": "Іванівна", "family": "Коваленко" }],
            "sex": "female", "birth_date": "2013-05-14", "birth_place": "Бердянськ",
            "enquirer_name": "Іван Коваленко", "enquirer_relationship": "father",
        }),
        json!({
            "names": [{ "given": "Петро", "patronymic": "Сергійович", "family": "Бондаренко" }],
            "sex": "male", "birth_date": "2012-11-21", "birth_place": "Херсон",
            "enquirer_name": "Оксана Бондаренко", "enquirer_relationship": "mother",
        }),
    ];
    assert!(n <= requests.len());
    let mut filed = Vec::new();
    for r in &requests[..n] {
        filed.push(expect(w.o.post("/api/v1/records", r).await, StatusCode::CREATED).await);
    }
    let csv: String = CUSTODY_CSV
        .lines()
        .take(n + 1)
        .map(|l| format!("{l}\n"))
        .collect();
    let res = w.c.import_custody(csv).await;
    expect(res, StatusCode::CREATED).await;
    let queue = ok(w.reviewer.get("/api/v1/matches").await).await;
    let mut out = Vec::new();
    for f in filed {
        let candidate = queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["tracing_record_id"] == f["id"])
            .unwrap_or_else(|| panic!("no candidate for {}: {queue}", f["id"]))
            .clone();
        let id = candidate["id"].as_str().unwrap();
        let decided = ok(w
            .reviewer
            .post(
                &format!("/api/v1/matches/{id}/confirm"),
                &json!({ "reason": "agree" }),
            )
            .await)
        .await;
        out.push((f, decided["case"]["case"].clone()));
    }
    out
}

/// Verification, the guardian's consent and the child's views: the case reaches
/// consent_obtained. Returns the case's version.
pub async fn to_consent_obtained(w: &People, case: &Value) -> i64 {
    let mut version = 1;
    let mut post = async |rest: &str, mut body: Value| {
        body["expected_version"] = json!(version);
        let out = ok(w.cw.post(&case_path(case, rest), &body).await).await;
        version = out["version"].as_i64().unwrap();
        out
    };
    for method in ["document_check", "photo_recognition_by_relative"] {
        post(
            "/verifications",
            json!({ "method": method, "performed_by": "ICRC delegate", "outcome": "positive" }),
        )
        .await;
    }
    post("/transitions", json!({ "to": "identity_verified" })).await;
    post(
        "/consents",
        json!({
            "giver": { "kind": "legal_guardian", "name": "Guardian", "relationship": "parent" },
            "scope": { "kind": "return" }, "decision": "given", "method": "written",
        }),
    )
    .await;
    post(
        "/child-views",
        json!({ "heard_by": "psychologist", "wish": "wants_return", "summary": "wants to go home" }),
    )
    .await;
    let out = post("/transitions", json!({ "to": "consent_obtained" })).await;
    assert_eq!(out["case"]["state"], "consent_obtained");
    version
}
