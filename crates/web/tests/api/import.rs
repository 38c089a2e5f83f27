//! Import over HTTP: all-or-nothing by default, the bad rows named by line, `skip_invalid` to take
//! the good ones, and a body limit of its own.

use crate::helpers::*;
use homeward_app::AppConfig;
use homeward_web::WebOptions;
use reqwest::StatusCode;
use serde_json::Value;

const CSV: &str = "\u{feff}external_ref,given_name,family_name,sex,birth_date,Who asks,enquirer_relationship\n\
TR-1,Анна,Коваль,F,2014-05,Олена Коваль,mother\n\
TR-2,Богдан,Шевченко,M,2099-01-01,Ірина Шевченко,mother\n\
TR-3,Віра,Бондар,ж,~2013,Петро Бондар,father\n";

async fn upload(
    s: &Session,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    s.client
        .post(s.url(path))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn names(s: &Session) -> Vec<String> {
    let list = expect(s.get("/api/v1/records").await, StatusCode::OK).await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["names"][0]["given"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_file_with_a_bad_row_imports_nothing_unless_told_to_skip_it() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "audrey", &["auditor"]).await;
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let mapped = "/api/v1/imports/tracing-requests?column=Who%20asks%3Denquirer_name";

        // A header Homeward does not know is a problem with the file, not with a row.
        let res = upload(&s, "/api/v1/imports/tracing-requests", "text/csv", CSV).await;
        let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "import_file_invalid").await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Who asks"),
            "{body}"
        );

        let res = upload(&s, mapped, "text/csv; charset=utf-8", CSV).await;
        let body = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "import_invalid").await;
        let rows = body["error"]["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{body}");
        assert_eq!(rows[0]["line"], 3);
        assert_eq!(rows[0]["errors"][0]["field"], "birth_date");
        assert_eq!(rows[0]["errors"][0]["code"], "date_in_future");
        assert!(
            names(&s).await.is_empty(),
            "nothing may be imported from a file with a bad row"
        );

        let res = upload(
            &s,
            &format!("{mapped}&skip_invalid=true"),
            "application/octet-stream",
            CSV,
        )
        .await;
        let report = expect(res, StatusCode::CREATED).await;
        assert_eq!(report["imported"], 2);
        assert_eq!(report["rejected"][0]["line"], 3);
        assert!(report["reject_csv"].as_str().unwrap().contains("TR-2"));
        let mut imported = names(&s).await;
        imported.sort();
        assert_eq!(imported, ["Анна", "Віра"]);

        let audrey = t.login("audrey", PASSWORD).await;
        let commits = expect(
            audrey.get("/api/v1/audit?action=import.commit").await,
            StatusCode::OK,
        )
        .await;
        let commits = commits["items"].as_array().unwrap();
        assert_eq!(commits.len(), 1);
        assert_eq!(commits[0]["target_id"], report["import_id"]);
        let details: Value = serde_json::from_str(commits[0]["details"].as_str().unwrap()).unwrap();
        assert_eq!(details["imported"], 2);
        assert!(
            !commits[0]["details"].as_str().unwrap().contains("Анна"),
            "no names in the audit log"
        );
    })
    .await;
}

/// `keep_unreadable=true`: the row with a birth date in the future comes in without it, and the
/// date as typed is in the record's notes; the report names the line and field.
#[tokio::test]
async fn an_unreadable_date_can_be_kept_in_the_notes_instead_of_refusing_the_row() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let path = "/api/v1/imports/tracing-requests?column=Who%20asks%3Denquirer_name&keep_unreadable=true";
        let report = expect(upload(&s, path, "text/csv", CSV).await, StatusCode::CREATED).await;
        assert_eq!(report["imported"], 3, "{report}");
        assert_eq!(report["rejected"].as_array().unwrap().len(), 0);
        let kept = report["kept_unreadable"].as_array().unwrap();
        assert_eq!(kept.len(), 1, "{report}");
        assert_eq!(kept[0]["line"], 3);
        assert_eq!(kept[0]["errors"][0]["field"], "birth_date");
        assert_eq!(kept[0]["errors"][0]["code"], "date_in_future");
        let list = expect(s.get("/api/v1/records").await, StatusCode::OK).await;
        let bohdan = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["names"][0]["given"] == "Богдан")
            .cloned()
            .unwrap();
        assert!(bohdan["birth_date"].is_null(), "{bohdan}");
        assert_eq!(
            bohdan["notes"],
            "birth_date: 2099-01-01 (not read on import: date_in_future)"
        );
        let res = upload(&s, "/api/v1/imports/tracing-requests?keep_unreadable=maybe", "text/csv", CSV).await;
        expect_error(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    })
    .await;
}

#[tokio::test]
async fn import_requests_are_checked_before_the_file_is_read() {
    on_every_backend(async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        t.cli_user(&origin, "vika", &["viewer"]).await;
        let s = t.login("olena", PASSWORD).await;
        let mapped = "column=Who%20asks%3Denquirer_name";

        let res = upload(
            &s,
            &format!("/api/v1/imports/custody-records?{mapped}"),
            "text/csv",
            CSV,
        )
        .await;
        expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
        let res = upload(
            &s,
            &format!("/api/v1/imports/aliens?{mapped}"),
            "text/csv",
            CSV,
        )
        .await;
        expect_error(res, StatusCode::BAD_REQUEST, "invalid_path").await;
        let res = upload(
            &s,
            &format!("/api/v1/imports/tracing-requests?{mapped}"),
            "application/json",
            CSV,
        )
        .await;
        expect_error(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        for query in [
            "column=nonsense",
            "column=Who%20asks%3Dshoe_size",
            "skip_invalid=maybe",
            "dry_run=true",
        ] {
            let res = upload(
                &s,
                &format!("/api/v1/imports/tracing-requests?{query}"),
                "text/csv",
                CSV,
            )
            .await;
            expect_error(res, StatusCode::BAD_REQUEST, "invalid_query").await;
        }
        let vika = t.login("vika", PASSWORD).await;
        let res = upload(
            &vika,
            &format!("/api/v1/imports/tracing-requests?{mapped}"),
            "text/csv",
            CSV,
        )
        .await;
        expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
        assert!(names(&s).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn imports_have_their_own_body_limit() {
    let opts = WebOptions {
        max_body_bytes: 1024,
        max_import_bytes: 8 * 1024,
        ..test_options()
    };
    on_every_backend_with(AppConfig::default(), opts, async |t: &TestApp| {
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let row = |i: usize| format!("TR-{i},Анна,Коваль,F,2014-05,Олена Коваль,mother\n");
        let header = "external_ref,given_name,family_name,sex,birth_date,enquirer_name,enquirer_relationship\n";

        // Larger than any JSON body may be, within the import limit.
        let mut file = header.to_owned();
        (0..40).for_each(|i| file.push_str(&row(i)));
        assert!(file.len() > 1024 && file.len() < 8 * 1024);
        let report = expect(upload(&s, "/api/v1/imports/tracing-requests", "text/csv", file).await, StatusCode::CREATED).await;
        assert_eq!(report["imported"], 40);

        let mut file = header.to_owned();
        (0..200).for_each(|i| file.push_str(&row(i)));
        let res = upload(&s, "/api/v1/imports/tracing-requests", "text/csv", file).await;
        expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    })
    .await;
}

#[tokio::test]
async fn the_same_file_again_is_409_already_imported_unless_forced_and_its_matching_is_a_job() {
    on_every_backend(async |t: &TestApp| {
        let (_, admin) = t.mediator_admin().await;
        let origin = t.cli_party("Ombudsman", "origin").await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let s = t.login("olena", PASSWORD).await;
        let path =
            "/api/v1/imports/tracing-requests?column=Who%20asks%3Denquirer_name&skip_invalid=true";

        let first = expect(upload(&s, path, "text/csv", CSV).await, StatusCode::CREATED).await;
        let import_id = first["import_id"].as_str().unwrap().to_owned();
        assert_eq!(first["matching"]["state"], "done", "{first}");
        let matching = expect(
            s.get(&format!("/api/v1/imports/{import_id}/matching"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(matching["state"], "done");
        assert_eq!(matching["progress_done"], 2);

        let res = upload(&s, path, "text/csv", CSV).await;
        let body = expect_error(res, StatusCode::CONFLICT, "already_imported").await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&import_id),
            "{body}"
        );
        assert_eq!(names(&s).await.len(), 2);
        let forced = format!("{path}&force=true");
        expect(
            upload(&s, &forced, "text/csv", CSV).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(names(&s).await.len(), 4);

        // Administrators read the queue; a caseworker may not.
        let jobs = expect(admin.get("/api/v1/admin/jobs").await, StatusCode::OK).await;
        assert_eq!(jobs["done"], 2, "{jobs}");
        assert_eq!(jobs["jobs"][0]["kind"], "records.match");
        expect_error(
            s.get("/api/v1/admin/jobs").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            admin.get("/api/v1/admin/jobs?state=stuck").await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
    })
    .await;
}
