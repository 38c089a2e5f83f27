//! Duplicates over HTTP: a custody import holding the same child twice yields one pair, seen by
//! the custody side and the mediator and not by the origin side; the twin is not proposed; a merge
//! keeps both histories; a dismissed pair stays dismissed when a record changes again.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The same boy in Russian and in passport Latin, his twin brother, and a girl of another family.
const CUSTODY_CSV: &str = "Фамилия,Имя,Отчество,Дата рождения,Пол,Место рождения,Местонахождение\n\
    Олейник,Дмитрий,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n\
    Oleinik,Dmitrii,Andreevich,07.03.2015,м,Mariupol,Children's home 2\n\
    Олейник,Артём,Андреевич,07.03.2015,м,Мариуполь,Детский дом № 4\n\
    Коваль,Анна,Петровна,12.05.2013,ж,Херсон,Приёмная семья\n";

struct Sides {
    origin: Session,
    custody: Session,
    mediator: Session,
    /// The custody side's records by given name.
    records: Vec<Value>,
}

impl Sides {
    fn id_of(&self, given: &str) -> String {
        self.records
            .iter()
            .find(|r| r["names"][0]["given"] == given)
            .unwrap_or_else(|| panic!("no {given}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

async fn imported(t: &TestApp) -> Sides {
    t.three_sides().await;
    let c = t.login("ivan", PASSWORD).await;
    let res = c.import_custody(CUSTODY_CSV).await;
    expect(res, StatusCode::CREATED).await;
    let listed = expect(c.get("/api/v1/records").await, StatusCode::OK).await;
    Sides {
        origin: t.login("olena", PASSWORD).await,
        mediator: t.login("maria", PASSWORD).await,
        custody: c,
        records: listed["items"].as_array().unwrap().clone(),
    }
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a < b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

fn pair_of(d: &Value) -> (String, String) {
    (
        d["first_record_id"].as_str().unwrap().to_owned(),
        d["second_record_id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn one_pair_seen_by_its_side_and_the_mediator_and_merged_keeping_both_histories() {
    on_every_backend(async |t: &TestApp| {
        let s = imported(t).await;
        let (dmitry, latin, twin) = (s.id_of("Дмитрий"), s.id_of("Dmitrii"), s.id_of("Артём"));

        let mine = expect(
            s.custody.get("/api/v1/duplicates?min_probability=0").await,
            StatusCode::OK,
        )
        .await;
        let items = mine["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{mine}");
        let d = &items[0];
        assert_eq!(pair_of(d), pair(&dmitry, &latin));
        assert!(d["explanation"]["fields"].is_array(), "{d}");
        assert!(
            !mine.to_string().contains(&twin),
            "the twin is not proposed"
        );
        let id = d["id"].as_str().unwrap();

        let theirs = expect(s.mediator.get("/api/v1/duplicates").await, StatusCode::OK).await;
        assert_eq!(theirs["items"][0]["id"], id);
        let other_side = expect(
            s.origin.get("/api/v1/duplicates?min_probability=0").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(other_side["items"], json!([]));
        expect_error(
            s.origin.get(&format!("/api/v1/duplicates/{id}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            s.custody.get("/api/v1/duplicates?limit=0").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;

        let detail = expect(
            s.custody.get(&format!("/api/v1/duplicates/{id}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(detail["first_record"]["id"], d["first_record_id"]);
        assert_eq!(detail["second_record"]["id"], d["second_record_id"]);

        let merge = |survivor_version: i64, absorbed_version: i64| {
            json!({
                "survivor": dmitry,
                "survivor_version": survivor_version,
                "absorbed_version": absorbed_version,
                "reason": "the same boy, filed by two homes",
            })
        };
        let path = format!("/api/v1/duplicates/{id}/merge");
        let stale = expect_error(
            s.custody.post(&path, &merge(1, 3)).await,
            StatusCode::CONFLICT,
            "version_conflict",
        )
        .await;
        assert_eq!(stale["error"]["record_id"], latin.as_str());
        assert_eq!(stale["error"]["current_version"], 1);
        let mut outside = merge(1, 1);
        outside["survivor"] = json!(twin);
        let bad = expect_error(
            s.custody.post(&path, &outside).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(bad["error"]["fields"][0]["field"], "survivor");
        // The other side may review its own duplicates, so it is not refused: the pair is
        // simply not there for it.
        expect_error(
            s.origin.post(&path, &merge(1, 1)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;

        let out = expect(s.custody.post(&path, &merge(1, 1)).await, StatusCode::OK).await;
        assert_eq!(out["duplicate"]["status"], "merged");
        assert_eq!(out["survivor"]["version"], 2);
        assert_eq!(out["absorbed"]["merged_into"], dmitry.as_str());
        expect_error(
            s.custody.post(&path, &merge(2, 2)).await,
            StatusCode::CONFLICT,
            "duplicate_decided",
        )
        .await;

        for who in [&s.custody, &s.mediator] {
            let listed = expect(who.get("/api/v1/records").await, StatusCode::OK).await;
            let ids: Vec<&str> = listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap())
                .collect();
            assert!(ids.contains(&dmitry.as_str()) && !ids.contains(&latin.as_str()));
            let history = expect(
                who.get(&format!("/api/v1/records/{latin}/history")).await,
                StatusCode::OK,
            )
            .await;
            let changes: Vec<(&str, &Value)> = history
                .as_array()
                .unwrap()
                .iter()
                .map(|v| (v["change"].as_str().unwrap(), &v["merged_record"]))
                .collect();
            assert_eq!(
                changes,
                [("import", &Value::Null), ("merge", &json!(dmitry))],
                "{history}"
            );
            let history = expect(
                who.get(&format!("/api/v1/records/{dmitry}/history")).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(history[1]["change"], "merge");
            assert_eq!(history[1]["merged_record"], latin.as_str());
        }
        expect_error(
            s.origin
                .get(&format!("/api/v1/records/{latin}/history"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let after = expect(
            s.custody.get("/api/v1/duplicates?min_probability=0").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(after["items"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn a_dismissed_pair_stays_dismissed_when_a_record_changes() {
    on_every_backend(async |t: &TestApp| {
        let s = imported(t).await;
        let latin = s.id_of("Dmitrii");
        let page = expect(s.custody.get("/api/v1/duplicates").await, StatusCode::OK).await;
        let id = page["items"][0]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/duplicates/{id}/dismiss");
        let bad = expect_error(
            s.custody.post(&path, &json!({ "reason": "" })).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(bad["error"]["fields"][0]["field"], "reason");
        let dismissed = expect(
            s.mediator
                .post(
                    &path,
                    &json!({ "reason": "two boys, the home confirmed it" }),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(dismissed["status"], "dismissed");
        expect_error(
            s.custody.post(&path, &json!({ "reason": "again" })).await,
            StatusCode::CONFLICT,
            "duplicate_decided",
        )
        .await;

        let update = json!({
            "expected_version": 1,
            "record": {
                "names": [{ "given": "Dmitrii", "patronymic": "Andreevich", "family": "Oleinik" }],
                "sex": "male",
                "birth_date": "2015-03-07",
                "birth_place": "Mariupol",
                "current_location": "Children's home 2",
                "notes": "moved to the ground floor",
            },
        });
        expect(
            s.custody
                .put(&format!("/api/v1/records/{latin}"), &update)
                .await,
            StatusCode::OK,
        )
        .await;
        let after = expect(
            s.custody.get("/api/v1/duplicates?min_probability=0").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(after["items"], json!([]), "{after}");
        let again = expect(
            s.custody.get(&format!("/api/v1/duplicates/{id}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(again["duplicate"]["status"], "dismissed");
    })
    .await;
}
