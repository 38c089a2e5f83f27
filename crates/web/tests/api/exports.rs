//! Exports over HTTP: asked for, followed and downloaded by the party that asked; a protected
//! export comes only as an AES-256 zip (WinZip AE-2: compression method 99), under a password
//! of 12 characters or more sent in a header; the other side cannot see it.

use crate::attachments::config;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A custody record (custody parties file where a child is, not who looks for it).
fn custody_record(given: &str) -> serde_json::Value {
    json!({
        "external_ref": format!("CR-{given}"),
        "names": [{ "given": given, "family": "Олійник", "script": "uk-Cyrl" }],
        "sex": "male",
        "birth_date": "2015-03",
        "current_location": "Shelter 4",
    })
}

async fn download(s: &Session, id: &str, password: Option<&str>) -> reqwest::Response {
    let mut req = s.client.get(s.url(&format!("/api/v1/exports/{id}/file")));
    if let Some(p) = password {
        req = req.header("homeward-export-password", p);
    }
    req.send().await.expect("download")
}

#[tokio::test]
async fn an_export_is_asked_for_followed_and_downloaded_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(config(dir.path()), test_options(), async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        let custody = t.cli_party("Custody authority", "custody").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        t.cli_user(&custody, "kirill", &["caseworker"]).await;
        let olena = t.login("olena", PASSWORD).await;
        let kirill = t.login("kirill", PASSWORD).await;
        expect(
            olena
                .post("/api/v1/records", &tracing_request("Дмитро"))
                .await,
            StatusCode::CREATED,
        )
        .await;
        expect(
            kirill
                .post("/api/v1/records", &custody_record("Кирило"))
                .await,
            StatusCode::CREATED,
        )
        .await;

        let asked =
            json!({ "format": "csv", "columns": ["name", "name_latin", "sex"], "protected": true });
        let e = expect(
            olena.post("/api/v1/exports", &asked).await,
            StatusCode::ACCEPTED,
        )
        .await;
        let id = e["id"].as_str().unwrap().to_owned();
        let got = expect(
            olena.get(&format!("/api/v1/exports/{id}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(got["state"], "done", "{got}");
        assert_eq!(got["progress_total"], 1);
        let listed = expect(olena.get("/api/v1/exports").await, StatusCode::OK).await;
        assert_eq!(listed.as_array().unwrap().len(), 1);

        // The other side: as if it did not exist.
        expect_error(
            kirill.get(&format!("/api/v1/exports/{id}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            download(&kirill, &id, Some("a long enough pw")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_eq!(
            expect(kirill.get("/api/v1/exports").await, StatusCode::OK).await,
            json!([])
        );

        // A protected export needs a password, of 12 characters or more.
        let body = expect_error(
            download(&olena, &id, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            body.to_string().contains("export_password_required"),
            "{body}"
        );
        let body = expect_error(
            download(&olena, &id, Some("eleven char")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            body.to_string().contains("export_password_too_short"),
            "{body}"
        );
        // Twelve Latin-1 characters that are six UTF-8 ones: refused as not ASCII, never
        // counted one way and zipped another.
        let latin1 = reqwest::header::HeaderValue::from_bytes(
            b"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
        )
        .unwrap();
        let res = olena
            .client
            .get(olena.url(&format!("/api/v1/exports/{id}/file")))
            .header("homeward-export-password", latin1)
            .send()
            .await
            .unwrap();
        let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(
            body.to_string().contains("export_password_not_ascii"),
            "{body}"
        );

        let res = download(&olena, &id, Some("a long enough pw")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/zip");
        assert_eq!(res.headers()["cache-control"], "no-store");
        let disposition = res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(disposition.contains(".csv.zip"), "{disposition}");
        let zip = res.bytes().await.unwrap();
        assert_eq!(&zip[..4], b"PK\x03\x04");
        // The local header's compression method: 99 is WinZip AES (ZipCrypto would be 8 with
        // the encryption flag), and the entry's name is there but not its content.
        assert_eq!(u16::from_le_bytes([zip[8], zip[9]]), 99);
        assert!(
            !zip.windows("Дмитро".len())
                .any(|w| w == "Дмитро".as_bytes())
        );

        // An unprotected JSON export, downloaded as it is.
        let asked = json!({ "format": "json", "filters": { "sex": "male" } });
        let e = expect(
            olena.post("/api/v1/exports", &asked).await,
            StatusCode::ACCEPTED,
        )
        .await;
        let res = download(&olena, e["id"].as_str().unwrap(), None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let rows: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
        assert_eq!(rows[0]["name"], "Дмитро Олійник");
        assert_eq!(rows[0]["name_latin"], "Dmytro Oliinyk");

        // Bad requests name the field.
        let bad = json!({ "format": "csv", "columns": ["name", "nope"] });
        let body = expect_error(
            olena.post("/api/v1/exports", &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(body.to_string().contains("export_column_unknown"), "{body}");
    })
    .await;
}

/// Asks for an unprotected export and downloads it (jobs run inline in tests).
async fn exported(s: &Session, asked: &Value) -> String {
    let e = expect(s.post("/api/v1/exports", asked).await, StatusCode::ACCEPTED).await;
    assert_eq!(e["state"], "done", "{e}");
    let res = download(s, e["id"].as_str().unwrap(), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

#[tokio::test]
async fn a_transfer_list_is_exported_as_each_side_reads_it() {
    use crate::transfer_world::{case_path, located_cases, ok, people, to_consent_obtained};
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(config(dir.path()), test_options(), async |t: &TestApp| {
        let w = people(t).await;
        let cases = located_cases(&w, 2).await;
        to_consent_obtained(&w, &cases[0].1).await;
        let body = json!({ "round": "Round 7", "origin_party": w.origin_id, "custody_party": w.custody_id });
        let list = expect(w.cw.post("/api/v1/transfer-lists", &body).await, StatusCode::CREATED).await;
        let entries = format!("/api/v1/transfer-lists/{}/entries", list["id"].as_str().unwrap());
        let entry = json!({ "case_id": cases[0].1["id"], "direction": "to_origin", "expected_version": 1 });
        expect(w.cw.post(&entries, &entry).await, StatusCode::OK).await;

        let asked = json!({
            "subject": "transfer_lists", "format": "csv",
            "columns": ["round", "case_number", "tracing_request", "name", "name_latin"],
            "filters": { "round": "Round 7", "list_state": "draft" },
        });
        // The origin side: its own record and spelling, no case number.
        let csv = exported(&w.o, &asked).await;
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("round,case_number,tracing_request,name,name_latin"));
        assert_eq!(
            lines.next().unwrap(),
            format!("Round 7,,{},Олександр Андрійович Лисенко,Oleksandr Andriiovych Lysenko", cases[0].0["id"].as_str().unwrap())
        );
        assert_eq!(lines.next(), None, "one child on the list: {csv}");
        // The mediator: the case number and both sides' spellings, as JSON.
        let mut asked = asked.clone();
        asked["format"] = json!("json");
        let rows: Value = serde_json::from_str(&exported(&w.cw, &asked).await).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 1);
        let case = ok(w.cw.get(&case_path(&cases[0].1, "")).await).await;
        assert_eq!(rows[0]["case_number"], case["number"], "{rows} {case}");
        assert!(rows[0]["name"].as_str().unwrap().contains("Александр"), "{rows}");

        // Plans are the mediator's; filters belong to their subject.
        let plans = json!({ "subject": "plans", "format": "csv" });
        expect_error(w.o.post("/api/v1/exports", &plans).await, StatusCode::FORBIDDEN, "forbidden").await;
        let bad = json!({ "subject": "follow_ups", "format": "csv", "filters": { "round": "Round 7" } });
        let err = expect_error(w.cw.post("/api/v1/exports", &bad).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(err["error"]["fields"][0]["code"], "export_filter_not_for_subject", "{err}");
        assert_eq!(err["error"]["fields"][0]["field"], "filters.round");
        let unknown = json!({ "subject": "lists", "format": "csv" });
        let err = expect_error(w.cw.post("/api/v1/exports", &unknown).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(err["error"]["fields"][0]["code"], "export_subject_unknown", "{err}");
    })
    .await;
}
