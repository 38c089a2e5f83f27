//! The exports page: asked for with the form, listed with state and expiry, downloaded as an
//! AES-256 zip under a password typed into the form (refused when short or not ASCII), and
//! offered only to those the app serves exports; the other side cannot download it.

use crate::attachments_config;
use crate::helpers::*;
use crate::*;
use reqwest::StatusCode;

/// The download forms' targets on the exports page, newest first.
fn download_paths(html: &str) -> Vec<String> {
    html.match_indices("action=\"/exports/")
        .map(|(i, _)| {
            let at = i + "action=\"".len();
            html[at..at + html[at..].find('"').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_exports_page_asks_follows_and_downloads_an_encrypted_export() {
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(
        attachments_config(dir.path()),
        test_options(),
        async |t: &TestApp| {
            let origin = t.cli_party("Ombudsman", "origin").await;
            let custody = t.cli_party("Custody authority", "custody").await;
            let office = t.cli_party("Prosecutor's office", "observer").await;
            t.cli_user(&origin, "olena", &["caseworker"]).await;
            t.cli_user(&custody, "kirill", &["caseworker"]).await;
            t.cli_user(&office, "prosecutor", &["viewer"]).await;
            let o = t.login("olena", PASSWORD).await;
            expect(
                o.post(
                    "/api/v1/records",
                    &child("Олександр", "Олійник", "uk-Cyrl", true),
                )
                .await,
                StatusCode::CREATED,
            )
            .await;

            let (c, csrf) = sign_in(t, "olena").await;
            let (status, page) = get(&c, t, "/exports").await;
            assert_eq!(status, StatusCode::OK);
            assert!(page.contains("href=\"/exports\""), "in the navigation");
            assert!(page.contains("id=\"export-records\""), "{page}");
            assert!(page.contains("Names in Latin letters"), "columns in words");
            assert_every_form_has_csrf(&page);
            assert!(download_paths(&page).is_empty());

            // A protected CSV with two columns, then an unprotected JSON of everything.
            let res = post_form(
                &c,
                t,
                "/exports",
                &[
                    ("csrf", &csrf),
                    ("format", "csv"),
                    ("kind", ""),
                    ("sex", "male"),
                    ("born_from", "2010"),
                    ("born_to", ""),
                    ("columns", "name"),
                    ("columns", "name_latin"),
                    ("protected", "on"),
                ],
            )
            .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            assert_eq!(res.headers()["location"], "/exports");
            let res = post_form(&c, t, "/exports", &[("csrf", &csrf), ("format", "json")]).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            // An unknown column is refused, naming it.
            let res = post_form(
                &c,
                t,
                "/exports",
                &[("csrf", &csrf), ("format", "csv"), ("columns", "password")],
            )
            .await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let body = res.text().await.unwrap();
            assert!(body.contains("columns[0]"), "{body}");

            let (_, page) = get(&c, t, "/exports").await;
            let paths = download_paths(&page);
            assert_eq!(paths.len(), 2, "both are done (jobs run inline)");
            assert!(page.contains("Ready"), "state in words");
            assert!(page.contains("password-protected"));
            let (json_path, csv_path) = (&paths[0], &paths[1]);

            // The protected one: a password is required, of 12 printable ASCII characters.
            for (pw, code) in [
                ("", "export_password_required"),
                ("eleven char", "export_password_too_short"),
                ("пароль-довгий-дуже", "export_password_not_ascii"),
            ] {
                let res = post_form(&c, t, csv_path, &[("csrf", &csrf), ("password", pw)]).await;
                assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{pw:?}");
                let body = res.text().await.unwrap();
                assert!(body.contains(code), "{pw:?}: {body}");
            }
            let res = post_form(
                &c,
                t,
                csv_path,
                &[("csrf", &csrf), ("password", "correct horse battery")],
            )
            .await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()["content-type"], "application/zip");
            assert_eq!(res.headers()["cache-control"], "no-store");
            let zip = res.bytes().await.unwrap();
            assert_eq!(&zip[..4], b"PK\x03\x04");
            assert_eq!(
                u16::from_le_bytes([zip[8], zip[9]]),
                99,
                "AES (WinZip AE-2), never ZipCrypto"
            );
            assert!(
                !zip.windows(6).any(|w| w == "Олекс".as_bytes()),
                "the name is not in the clear"
            );
            // Without a CSRF token: refused.
            let res = post_form(&c, t, csv_path, &[("password", "correct horse battery")]).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN);

            // The unprotected one comes as it is without a password.
            let res = post_form(&c, t, json_path, &[("csrf", &csrf), ("password", "")]).await;
            assert_eq!(res.status(), StatusCode::OK);
            let body = res.text().await.unwrap();
            assert!(body.contains("Олександр"), "{body}");

            let (_, page) = get(&c, t, "/exports").await;
            assert!(page.contains("<td>1</td>"), "downloads counted");

            // The other side: no such export.
            let (k, kcsrf) = sign_in(t, "kirill").await;
            let res = post_form(
                &k,
                t,
                csv_path,
                &[("csrf", &kcsrf), ("password", "correct horse battery")],
            )
            .await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND);
            let (_, kpage) = get(&k, t, "/exports").await;
            assert!(
                download_paths(&kpage).is_empty(),
                "not listed to another user"
            );

            // An observer's party sees no records: no link, and the app refuses the form.
            let (p, pcsrf) = sign_in(t, "prosecutor").await;
            let (_, dash) = get(&p, t, "/dashboard").await;
            assert!(
                !dash.contains("href=\"/exports\""),
                "no link for an observer"
            );
            let res = post_form(&p, t, "/exports", &[("csrf", &pcsrf), ("format", "csv")]).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
        },
    )
    .await;
}

#[tokio::test]
async fn the_exports_page_speaks_arabic_right_to_left() {
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(
        attachments_config(dir.path()),
        test_options(),
        async |t: &TestApp| {
            let origin = t.cli_party("Ombudsman", "origin").await;
            t.cli_user(&origin, "olena", &["caseworker"]).await;
            let (c, csrf) = sign_in(t, "olena").await;
            let res = post_form(
                &c,
                t,
                "/language",
                &[("csrf", &csrf), ("language", "ar"), ("back", "/exports")],
            )
            .await;
            assert!(res.status().is_redirection());
            let (status, page) = get(&c, t, "/exports").await;
            assert_eq!(status, StatusCode::OK);
            assert!(page.contains("dir=\"rtl\""));
            assert!(page.contains("التصدير"), "the title: {page}");
            assert!(
                page.contains("تصدير سجلات الأطفال"),
                "the records' form: {page}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn the_mediator_asks_for_an_export_of_cases_on_the_page_and_the_sides_cannot() {
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(
        attachments_config(dir.path()),
        test_options(),
        async |t: &TestApp| {
            let mediator = t.cli_party("Task force", "mediator").await;
            let origin = t.cli_party("Ombudsman", "origin").await;
            t.cli_user(&mediator, "marta", &["caseworker"]).await;
            t.cli_user(&origin, "olena", &["caseworker"]).await;

            let (m, mcsrf) = sign_in(t, "marta").await;
            let (_, page) = get(&m, t, "/exports").await;
            for subject in ["records", "cases", "transfer_lists", "plans", "follow_ups"] {
                assert!(
                    page.contains(&format!("id=\"export-{subject}\"")),
                    "{subject}: {page}"
                );
            }
            assert!(page.contains("value=\"located\""), "states to filter by");
            assert!(page.contains("Route"), "the plans' columns in words");
            assert!(
                page.contains("name=\"due_from\" type=\"date\""),
                "follow-ups by period"
            );
            assert_every_form_has_csrf(&page);
            let res = post_form(
                &m,
                t,
                "/exports",
                &[
                    ("csrf", &mcsrf),
                    ("subject", "cases"),
                    ("format", "xlsx"),
                    ("state", "located"),
                    ("columns", "case_id"),
                    ("columns", "name"),
                ],
            )
            .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            // Each new subject's form, with its own filters.
            for form in [
                &[
                    ("subject", "transfer_lists"),
                    ("list_state", "draft"),
                    ("round", "Round 7"),
                ][..],
                &[
                    ("subject", "plans"),
                    ("round", ""),
                    ("plan_approved", "true"),
                ][..],
                &[
                    ("subject", "follow_ups"),
                    ("follow_up_state", "overdue"),
                    ("due_from", "2026-01-01"),
                    ("due_to", ""),
                ][..],
            ] {
                let mut fields = vec![("csrf", mcsrf.as_str()), ("format", "csv")];
                fields.extend_from_slice(form);
                let res = post_form(&m, t, "/exports", &fields).await;
                assert_eq!(res.status(), StatusCode::SEE_OTHER, "{form:?}");
            }
            // A filter of another subject is refused, naming it.
            let res = post_form(
                &m,
                t,
                "/exports",
                &[
                    ("csrf", &mcsrf),
                    ("subject", "plans"),
                    ("format", "csv"),
                    ("due_from", "2026-01-01"),
                ],
            )
            .await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let body = res.text().await.unwrap();
            assert!(body.contains("filters.due_from"), "{body}");
            let (_, page) = get(&m, t, "/exports").await;
            assert!(
                page.contains("Follow-up visits · CSV · 13 columns"),
                "{page}"
            );
            assert!(page.contains("Cases · XLSX · 2 columns"), "{page}");
            assert!(page.contains("Ready"), "{page}");

            let (o, ocsrf) = sign_in(t, "olena").await;
            let (_, page) = get(&o, t, "/exports").await;
            assert!(
                !page.contains("id=\"export-cases\"") && !page.contains("id=\"export-plans\""),
                "not offered to a side"
            );
            for subject in ["records", "transfer_lists", "follow_ups"] {
                assert!(
                    page.contains(&format!("id=\"export-{subject}\"")),
                    "{subject}: {page}"
                );
            }
            let res = post_form(
                &o,
                t,
                "/exports",
                &[("csrf", &ocsrf), ("subject", "cases"), ("format", "csv")],
            )
            .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
        },
    )
    .await;
}
