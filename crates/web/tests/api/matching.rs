//! Matching over HTTP: a candidate appears when the custody side imports its list, only the
//! mediator's reviewers see the queue, and a confirmation opens a case in `located`.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
    Олейник,Дмитрий,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n\
    Олейник,Артём,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n";

#[tokio::test]
async fn the_queue_and_a_confirmation_over_http() {
    on_every_backend(async |t: &TestApp| {
        t.three_sides().await;
        let o = t.login("olena", PASSWORD).await;
        let c = t.login("ivan", PASSWORD).await;
        let m = t.login("maria", PASSWORD).await;

        let request = json!({
            "names": [{ "given": "Дмитро", "patronymic": "Андрійович", "family": "Олійник" }],
            "sex": "male",
            "birth_date": "2015-03-07",
            "birth_place": "Маріуполь",
            "enquirer_name": "Оксана Олійник",
            "enquirer_relationship": "mother",
        });
        let filed = expect(
            o.post("/api/v1/records", &request).await,
            StatusCode::CREATED,
        )
        .await;
        let res = c.import_custody(CUSTODY_CSV).await;
        expect(res, StatusCode::CREATED).await;

        for outsider in [&o, &c] {
            expect_error(
                outsider.get("/api/v1/matches").await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
        let queue = expect(
            m.get("/api/v1/matches?min_probability=0.5&limit=10").await,
            StatusCode::OK,
        )
        .await;
        let items = queue["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{queue}");
        let top = &items[0];
        assert_eq!(top["tracing_record_id"], filed["id"]);
        assert!(top["explanation"]["fields"].is_array(), "{top}");
        let id = top["id"].as_str().unwrap();

        let detail = expect(
            m.get(&format!("/api/v1/matches/{id}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(detail["tracing_request"]["id"], filed["id"]);
        assert_eq!(
            detail["custody_record"]["names"][0]["given"], "Дмитрий",
            "{detail}"
        );
        expect_error(
            o.post(&format!("/api/v1/matches/{id}/confirm"), &json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            m.post(
                &format!("/api/v1/matches/{id}/reject"),
                &json!({ "reason": "" }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;

        let decided = expect(
            m.post(
                &format!("/api/v1/matches/{id}/confirm"),
                &json!({ "reason": "dates, place and parents agree" }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(decided["candidate"]["status"], "confirmed");
        assert_eq!(decided["case_created"], true);
        let case_id = decided["case"]["case"]["id"].as_str().unwrap();
        let case = expect(
            m.get(&format!("/api/v1/cases/{case_id}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(case["case"]["state"], "located");
        assert_eq!(case["case"]["tracing_request"], filed["id"]);
        expect_error(
            c.get(&format!("/api/v1/cases/{case_id}")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            m.post(&format!("/api/v1/matches/{id}/confirm"), &json!({}))
                .await,
            StatusCode::CONFLICT,
            "candidate_decided",
        )
        .await;
        let queue = expect(m.get("/api/v1/matches").await, StatusCode::OK).await;
        assert!(queue["items"].as_array().unwrap().is_empty(), "{queue}");

        let trained = expect(
            m.post("/api/v1/linkage/train", &json!({})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(trained["custody_records"], 2);
    })
    .await;
}
