//! The import pages over HTTP: upload (a multipart form, CSRF checked), map the columns, check
//! every row, download the rejected rows, confirm once; and the same refusals as the API.

use crate::helpers::*;
use crate::*;
use reqwest::{Client, StatusCode};

/// Three children, one header Homeward does not know (eye colour). Line 3 is born in the
/// future; line 4 has an unknown sex and no current location; lines 2 and 5 are good.
pub const CUSTODY_LIST: &str = "Фамилия;Имя;Дата рождения;Пол;Местонахождение;Цвет глаз\n\
    Лысенко;Александр;07.03.2015;м;Детский дом № 4;карие\n\
    Коваль;Анна;2030;ж;Приёмная семья;\n\
    Олейник;Дмитрий;12.03.2015;x;;серые\n\
    Петренко;Ольга;2014;ж;Детский дом № 1;\n";

/// A multipart form as a browser sends it: the text fields, then the file.
pub async fn post_multipart(
    c: &Client,
    t: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> reqwest::Response {
    let boundary = "----homewardtestboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    c.post(t.url(path))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Uploads a file through the page; the path of its mapping step.
pub async fn upload(c: &Client, t: &TestApp, csrf: &str, csv: &str) -> String {
    let res = post_multipart(
        c,
        t,
        "/import",
        &[("csrf", csrf)],
        Some(("list.csv", csv.as_bytes())),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/import/"), "{to}");
    assert!(!to.contains("list"), "nothing of the file in the URL");
    to
}

fn count(page: &str, id: &str) -> String {
    let pat = format!("id=\"{id}\">");
    let at = page.find(&pat).unwrap_or_else(|| panic!("no {id}")) + pat.len();
    page[at..at + page[at..].find('<').unwrap()].to_owned()
}

async fn stored(t: &TestApp, user: &str) -> usize {
    let s = t.login(user, PASSWORD).await;
    let list = expect(s.get("/api/v1/records").await, StatusCode::OK).await;
    list["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_list_is_uploaded_mapped_checked_row_by_row_and_imported_once() {
    on_every_backend(async |t: &TestApp| {
        let custody = t.cli_party("Custody authority", "custody").await;
        t.cli_user(&custody, "kirill", &["caseworker"]).await;
        let (c, csrf) = sign_in(t, "kirill").await;

        let (status, page) = get(&c, t, "/import").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("href=\"/import\" aria-current=\"page\""),
            "in the navigation"
        );
        assert!(page.contains("enctype=\"multipart/form-data\""));
        assert!(
            page.contains("custody records"),
            "the kind follows the party"
        );
        assert_every_form_has_csrf(&page);

        // Nothing chosen: the same form, saying so.
        let res = post_multipart(&c, t, "/import", &[("csrf", &csrf)], Some(("", b""))).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("Choose a file"));
        // Not CSV at all: refused on the upload page, with the reason.
        let res = post_multipart(
            &c,
            t,
            "/import",
            &[("csrf", &csrf)],
            Some(("x.csv", &[0xFF, 0xFE, b'a', 0])),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("UTF-16"));

        let columns = upload(&c, t, &csrf, CUSTODY_LIST).await;
        let token = columns.trim_start_matches("/import/").to_owned();
        let (status, map) = get(&c, t, &columns).await;
        assert_eq!(status, StatusCode::OK, "{map}");
        assert_every_form_has_csrf(&map);
        // Each header with its first values (names transliterated) and the field it is read as.
        assert!(map.contains("Цвет глаз") && map.contains("карие"));
        assert!(
            map.contains("Lysenko"),
            "a name sample with its transliteration"
        );
        assert!(
            map.contains("<label class=\"sr-only\" for=\"map-0\">"),
            "labelled selects"
        );
        assert!(map.contains("<option value=\"family_name\" selected>"));
        assert!(
            map.contains("<option value=\"ignore\" selected>"),
            "the unknown header is left out"
        );

        let mapping = |eyes: &'static str| {
            vec![
                ("map_0", "family_name"),
                ("map_1", "given_name"),
                ("map_2", "birth_date"),
                ("map_3", "sex"),
                ("map_4", "current_location"),
                ("map_5", eyes),
            ]
        };
        let with = |extra: &[(&'static str, &'static str)], csrf: &str| {
            let mut f = vec![("csrf".to_owned(), csrf.to_owned())];
            f.extend(
                extra
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            f
        };
        let send = async |path: String, form: Vec<(String, String)>| {
            c.post(t.url(&path)).form(&form).send().await.unwrap()
        };

        // A mapping without any name column, or with one field twice, goes back to the mapping.
        let mut no_name = mapping("ignore");
        no_name[0].1 = "ignore";
        no_name[1].1 = "ignore";
        let res = send(format!("{columns}/preview"), with(&no_name, &csrf)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = res.text().await.unwrap();
        assert!(page.contains("No column is read as the child"), "{page}");
        assert!(page.contains("<option value=\"ignore\" selected>"));
        let mut twice = mapping("ignore");
        twice[1].1 = "family_name";
        let res = send(format!("{columns}/preview"), with(&twice, &csrf)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("Фамилия, Имя"));
        let res = send(
            format!("{columns}/preview"),
            with(&[("map_0", "eye_colour")], &csrf),
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::BAD_REQUEST,
            "a field that does not exist"
        );

        // The check: counts and every bad row by line, column, code and a message in words.
        let res = send(format!("{columns}/preview"), with(&mapping("notes"), &csrf)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let preview = res.text().await.unwrap();
        assert_every_form_has_csrf(&preview);
        assert_eq!(count(&preview, "count-rows"), "4");
        assert_eq!(count(&preview, "count-valid"), "2");
        assert_eq!(count(&preview, "count-rejected"), "2");
        for (line, code) in [(3, "date_in_future"), (4, "invalid_sex"), (4, "required")] {
            assert!(
                preview.contains(&format!("data-line=\"{line}\" data-code=\"{code}\"")),
                "line {line} {code}: {preview}"
            );
        }
        assert!(!preview.contains("data-line=\"2\"") && !preview.contains("data-line=\"5\""));
        assert!(preview.contains("The date is in the future."));
        assert!(preview.contains("Not a sex Homeward knows"));
        assert!(preview.contains("Дата рождения"), "the file's own header");
        assert!(preview.contains("Import only the valid rows"));
        assert!(preview.contains("name=\"only_valid\" value=\"1\""));

        // The same check in Ukrainian: the messages are translated, the codes stay.
        let res = post_form(
            &c,
            t,
            "/language",
            &[("csrf", &csrf), ("language", "uk"), ("back", "/dashboard")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = send(format!("{columns}/preview"), with(&mapping("notes"), &csrf)).await;
        let uk = res.text().await.unwrap();
        assert!(
            uk.contains("Дата ще не настала.") && uk.contains("date_in_future"),
            "{uk}"
        );
        post_form(
            &c,
            t,
            "/language",
            &[("csrf", &csrf), ("language", "en"), ("back", "/dashboard")],
        )
        .await;

        // The rejected rows, to fix: line and problems first, then the cells as they were.
        let res = send(format!("{columns}/rejects"), with(&mapping("notes"), &csrf)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let csv = res.text().await.unwrap();
        assert!(csv.starts_with("line;error;Фамилия;Имя"), "{csv}");
        assert!(csv.contains("Коваль") && csv.contains("Олейник") && !csv.contains("Петренко"));

        // Back to the mapping, the choices kept.
        let res = send(columns.clone(), with(&mapping("notes"), &csrf)).await;
        let back = res.text().await.unwrap();
        assert!(back.contains("<option value=\"notes\" selected>"), "{back}");

        // "Import all" with bad rows is refused by the app, all or nothing; the upload stays.
        let res = send(format!("{columns}/confirm"), with(&mapping("notes"), &csrf)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(stored(t, "kirill").await, 0);

        // Only the valid rows, confirmed twice: imported once.
        let mut form = with(&mapping("notes"), &csrf);
        form.push(("only_valid".to_owned(), "1".to_owned()));
        let res = send(format!("{columns}/confirm"), form.clone()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let done_path = res.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(done_path, format!("/import/{token}/done"));
        let (status, done) = get(&c, t, &done_path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(count(&done, "count-imported"), "2");
        assert_eq!(count(&done, "count-left-out"), "2");
        assert!(!done.contains("already-imported"));
        assert!(done.contains("href=\"/records?kind=custody_record\""));

        let res = send(format!("{columns}/confirm"), form).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "a second confirm");
        assert_eq!(res.headers()["location"], done_path.as_str());
        let (_, again) = get(&c, t, &done_path).await;
        assert!(again.contains("id=\"already-imported\""));
        assert_eq!(count(&again, "count-imported"), "2");
        assert_eq!(stored(t, "kirill").await, 2, "imported once");

        // The records are there, with the unknown column kept as notes.
        let (_, records) = get(&c, t, "/records?kind=custody_record").await;
        assert!(records.contains("Лысенко") && records.contains("Петренко"));
        assert!(!records.contains("Коваль"));
        // The mapping step of a done import leads to its result.
        let res = c.get(t.url(&columns)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], done_path.as_str());

        // A corrected file uploaded from the check starts with the mapping chosen there.
        let fixed = "Фамилия;Имя;Дата рождения;Пол;Местонахождение;Цвет глаз\n\
            Коваль;Анна;2013;ж;Приёмная семья;голубые\n";
        let res = post_multipart(
            &c,
            t,
            "/import",
            &[
                ("csrf", &csrf),
                ("replaces", &token),
                ("keep", "Цвет глаз=notes"),
            ],
            Some(("fixed.csv", fixed.as_bytes())),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let next = res.headers()["location"].to_str().unwrap().to_owned();
        let (_, map) = get(&c, t, &next).await;
        assert!(map.contains("<option value=\"notes\" selected>"), "{map}");
        // A workbook is told to be saved as CSV.
        let res = post_multipart(
            &c,
            t,
            "/import",
            &[("csrf", &csrf)],
            Some(("list.xlsx", b"PK\x03\x04rest")),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("CSV UTF-8"));
    })
    .await;
}

#[tokio::test]
async fn the_upload_needs_its_csrf_token_the_permission_and_the_session_that_made_it() {
    on_every_backend(async |t: &TestApp| {
        let custody = t.cli_party("Custody authority", "custody").await;
        let origin = t.cli_party("Ombudsman", "origin").await;
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&custody, "kirill", &["caseworker"]).await;
        t.cli_user(&custody, "vera", &["viewer"]).await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        t.cli_user(&mediator, "mira", &["caseworker", "reviewer"])
            .await;
        let (c, csrf) = sign_in(t, "kirill").await;

        for fields in [vec![], vec![("csrf", "forged")]] {
            let res = post_multipart(
                &c,
                t,
                "/import",
                &fields,
                Some(("list.csv", CUSTODY_LIST.as_bytes())),
            )
            .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
            assert!(res.text().await.unwrap().contains("csrf_failed"));
        }

        // Without the permission: the page refuses as the API does, and offers no import.
        for user in ["vera", "mira"] {
            let api = t.login(user, PASSWORD).await;
            let res = api.import_custody(CUSTODY_LIST).await;
            let body = expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
            let code = body["error"]["code"].as_str().unwrap().to_owned();
            let (p, pcsrf) = sign_in(t, user).await;
            let (status, page) = get(&p, t, "/import").await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
            assert!(page.contains(&format!("<code>{code}</code>")), "{page}");
            let (_, dash) = get(&p, t, "/dashboard").await;
            assert!(
                !dash.contains("href=\"/import\""),
                "{user} has no import in the navigation"
            );
            let res = post_multipart(
                &p,
                t,
                "/import",
                &[("csrf", &pcsrf)],
                Some(("list.csv", CUSTODY_LIST.as_bytes())),
            )
            .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
        }

        // An origin caseworker files tracing requests, and cannot reach kirill's upload.
        let columns = upload(&c, t, &csrf, CUSTODY_LIST).await;
        let (o, ocsrf) = sign_in(t, "olena").await;
        let (_, page) = get(&o, t, "/import").await;
        assert!(page.contains("tracing requests"));
        let (status, page) = get(&o, t, &columns).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(page.contains("import_expired") && !page.contains("Лысенко"));
        let res = post_form(&o, t, &format!("{columns}/confirm"), &[("csrf", &ocsrf)]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let (status, _) = get(&c, t, &columns).await;
        assert_eq!(status, StatusCode::OK, "still there for its own session");
        // A made-up token is simply gone.
        let (status, _) = get(&c, t, "/import/0123456789abcdef0123456789abcdef").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Over the route's limit: a 413 page, nothing staged.
        let big = "a".repeat(17 << 20);
        let res = post_multipart(
            &c,
            t,
            "/import",
            &[("csrf", &csrf)],
            Some(("big.csv", big.as_bytes())),
        )
        .await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    })
    .await;
}

#[tokio::test]
async fn a_file_imported_before_is_refused_with_a_sentence_saying_so() {
    on_every_backend(async |t: &TestApp| {
        let custody = t.cli_party("Custody authority", "custody").await;
        t.cli_user(&custody, "kirill", &["caseworker"]).await;
        let (c, csrf) = sign_in(t, "kirill").await;
        let csv = "Фамилия;Имя;Дата рождения;Пол;Местонахождение\n\
            Лысенко;Дмитрий;12.03.2015;м;Детский дом № 4\n";
        for round in 0..2 {
            let columns = upload(&c, t, &csrf, csv).await;
            let res = post_form(&c, t, &format!("{columns}/confirm"), &[("csrf", &csrf)]).await;
            if round == 0 {
                assert_eq!(res.status(), StatusCode::SEE_OTHER);
                continue;
            }
            assert_eq!(res.status(), StatusCode::CONFLICT);
            let page = res.text().await.unwrap();
            assert!(page.contains("already imported this file"), "{page}");
            assert!(!page.contains("Someone else changed"), "{page}");
        }
        assert_eq!(stored(t, "kirill").await, 1);
    })
    .await;
}
