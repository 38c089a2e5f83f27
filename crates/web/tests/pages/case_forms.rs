//! The case page's forms over HTTP, on both backends: the API's workflow
//! (`case_workflow::from_a_tracing_request_to_consent_and_back`) driven through the page forms. A
//! refused move or disclosure comes back to the case page with the unmet conditions in words and
//! with their codes, the input kept; consents, the child's views, best interests, tasks and
//! attachments are recorded through their cards; the timeline says who did what; the parties see
//! the same 403 and 404 the API gives.

use crate::helpers::*;
use crate::review::one_candidate;
use crate::*;
use homeward_app::AppConfig;
use homeward_app::attachments::AttachmentKey;
use homeward_app::console::Console;
use reqwest::StatusCode;

/// The located case of `one_candidate`, confirmed by `mira`: the case id and the origin's party id.
pub async fn located_case(t: &TestApp) -> String {
    one_candidate(t).await;
    let m = t.login("mira", PASSWORD).await;
    let queue = expect(m.get("/api/v1/matches").await, StatusCode::OK).await;
    let id = queue["items"][0]["id"].as_str().unwrap().to_owned();
    let decided = expect(
        m.post(
            &format!("/api/v1/matches/{id}/confirm"),
            &serde_json::json!({ "reason": "same child" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    decided["case"]["case"]["id"].as_str().unwrap().to_owned()
}

/// The part of a page from `from` to the end of the enclosing element `until`.
pub fn part<'a>(page: &'a str, from: &str, until: &str) -> &'a str {
    let at = page
        .find(from)
        .unwrap_or_else(|| panic!("{from} not on the page"));
    let rest = &page[at..];
    &rest[..rest.find(until).map_or(rest.len(), |e| e + until.len())]
}

async fn send(
    c: &reqwest::Client,
    t: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let res = post_form(c, t, path, form).await;
    let status = res.status();
    (status, res.text().await.unwrap())
}

/// The id in the first `action="/cases/<case>/<what>/<id>/..."` of a page.
fn form_target(page: &str, case: &str, what: &str) -> String {
    let pat = format!("action=\"/cases/{case}/{what}/");
    let at = page.find(&pat).unwrap_or_else(|| panic!("no {what} form")) + pat.len();
    page[at..at + page[at..].find('/').unwrap()].to_owned()
}

#[tokio::test]
async fn the_workflow_through_the_case_page_forms() {
    on_every_backend(async |t: &TestApp| {
        let case = located_case(t).await;
        let here = format!("/cases/{case}");
        let origin = t.app.find_party("Ombudsman").await.unwrap().id.to_string();
        let (c, csrf) = sign_in(t, "mira").await;
        let (status, page) = get(&c, t, &here).await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&page);
        assert!(!page.contains("style="), "no inline styles under the CSP");
        for form in [
            "verification-form",
            "transition-form",
            "consent-form",
            "views-form",
            "assessment-form",
            "determination-form",
            "disclosure-form",
            "task-form",
            "attachment-form",
        ] {
            assert!(
                page.contains(&format!("id=\"{form}\"")),
                "{form} is on the page"
            );
        }
        // The child as written, with the passport transliteration beside it.
        assert!(
            page.contains("Александр") && page.contains("Aleksandr"),
            "the child's names"
        );
        // The checklist says in words what identity_verified needs, with the code.
        let item = part(&page, "data-next=\"identity_verified\"", "</ul>");
        assert!(
            item.contains("data-code=\"identity_not_verified\""),
            "{item}"
        );
        assert!(item.contains("Identity is not verified yet"), "{item}");

        let verify = |v: &'static str, method: &'static str| {
            [
                ("expected_version", v),
                ("method", method),
                ("performed_by", "ICRC delegate"),
                ("outcome", "positive"),
                ("notes", "seen in person"),
            ]
        };
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(verify("1", "document_check"));
        assert_eq!(
            send(&c, t, &format!("{here}/verifications"), &f).await.0,
            StatusCode::SEE_OTHER
        );

        // One method is not enough: the move comes back to the page, refused, in words, the
        // input still in the form.
        let (status, refused) = send(
            &c,
            t,
            &format!("{here}/transitions"),
            &[
                ("csrf", &csrf),
                ("expected_version", "2"),
                ("to", "identity_verified"),
                ("reason", "two checks done?"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let form = part(&refused, "id=\"transition-form\"", "</form>");
        assert!(
            form.contains("data-refusal=\"transition_refused\""),
            "{form}"
        );
        assert!(
            form.contains("data-code=\"identity_not_verified\""),
            "{form}"
        );
        assert!(form.contains("Identity is not verified yet"), "{form}");
        assert!(
            form.contains("<code>identity_not_verified</code>"),
            "{form}"
        );
        assert!(
            form.contains("value=\"identity_verified\" selected"),
            "the choice is kept: {form}"
        );
        assert!(form.contains("two checks done?"), "the reason is kept");
        assert!(
            refused.contains("data-state=\"located\""),
            "still the case page, unchanged"
        );
        assert_every_form_has_csrf(&refused);

        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(verify("2", "photo_recognition_by_relative"));
        assert_eq!(
            send(&c, t, &format!("{here}/verifications"), &f).await.0,
            StatusCode::SEE_OTHER
        );
        let (status, _) = send(
            &c,
            t,
            &format!("{here}/transitions"),
            &[
                ("csrf", &csrf),
                ("expected_version", "3"),
                ("to", "identity_verified"),
                ("reason", ""),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // A bad consent names the field and keeps what was typed.
        let consent = |v: &'static str| {
            vec![
                ("expected_version", v),
                ("giver_kind", "legal_guardian"),
                ("giver_name", "Оксана Лисенко"),
                ("relationship", "mother"),
                ("decision", "given"),
            ]
        };
        let mut f = vec![
            ("csrf", csrf.as_str()),
            ("scope", "return"),
            ("method", "oral_witnessed"),
            ("witness", ""),
        ];
        f.extend(consent("4"));
        let (status, bad) = send(&c, t, &format!("{here}/consents"), &f).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let form = part(&bad, "id=\"consent-form\"", "</form>");
        assert!(form.contains("data-field=\"witness\""), "{form}");
        assert!(
            form.contains("<strong>Witness</strong>"),
            "named by its label: {form}"
        );
        assert!(
            form.contains("value=\"Оксана Лисенко\""),
            "the name is kept: {form}"
        );
        assert!(form.contains("value=\"oral_witnessed\" selected"), "{form}");

        let mut f = vec![
            ("csrf", csrf.as_str()),
            ("scope", "return"),
            ("method", "written"),
        ];
        f.extend(consent("4"));
        assert_eq!(
            send(&c, t, &format!("{here}/consents"), &f).await.0,
            StatusCode::SEE_OTHER
        );
        let mut f = vec![
            ("csrf", csrf.as_str()),
            ("scope", "data_sharing"),
            ("share", "status_found"),
            ("share", "region"),
            ("method", "oral_witnessed"),
            ("witness", "ICRC delegate"),
        ];
        f.extend(consent("5"));
        assert_eq!(
            send(&c, t, &format!("{here}/consents"), &f).await.0,
            StatusCode::SEE_OTHER
        );

        // The child (11) must be heard first.
        let (status, refused) = send(
            &c,
            t,
            &format!("{here}/transitions"),
            &[
                ("csrf", &csrf),
                ("expected_version", "6"),
                ("to", "consent_obtained"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let form = part(&refused, "id=\"transition-form\"", "</form>");
        assert!(form.contains("data-code=\"child_views_missing\""), "{form}");
        assert!(form.contains("views are not recorded"), "{form}");
        let (status, _) = send(
            &c,
            t,
            &format!("{here}/child-views"),
            &[
                ("csrf", &csrf),
                ("expected_version", "6"),
                ("heard_by", "psychologist"),
                ("present", "carer, interpreter"),
                ("language", "ru"),
                ("wish", "wants_return"),
                ("summary", "wants to go home to his mother"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _) = send(
            &c,
            t,
            &format!("{here}/transitions"),
            &[
                ("csrf", &csrf),
                ("expected_version", "7"),
                ("to", "consent_obtained"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, page) = get(&c, t, &here).await;
        assert!(page.contains("data-state=\"consent_obtained\""));
        // The disclosure card shows what the consents cover now.
        let coverage = part(&page, "id=\"coverage\"", "</table>");
        let row = part(coverage, "data-field=\"region\"", "</tr>");
        assert!(row.contains("class=\"met\""), "{row}");
        let row = part(coverage, "data-field=\"current_location\"", "</tr>");
        assert!(
            row.contains("disclosure_not_covered") && row.contains("class=\"unmet\""),
            "{row}"
        );

        // The exact place is not covered: refused, per field, the input kept.
        let (status, refused) = send(
            &c,
            t,
            &format!("{here}/disclosures"),
            &[
                ("csrf", &csrf),
                ("expected_version", "8"),
                ("to_party", &origin),
                ("field", "current_location"),
                ("value_current_location", "Children's home No. 4"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let form = part(&refused, "id=\"disclosure-form\"", "</form>");
        assert!(
            form.contains("data-refusal=\"disclosure_not_covered\""),
            "{form}"
        );
        assert!(
            form.contains("Exact current location: No consent to share covers it"),
            "{form}"
        );
        assert!(
            form.contains("value=\"Children&#x27;s home No. 4\"")
                || form.contains("Children&#39;s home No. 4"),
            "{form}"
        );
        let (status, _) = send(
            &c,
            t,
            &format!("{here}/disclosures"),
            &[
                ("csrf", &csrf),
                ("expected_version", "8"),
                ("to_party", &origin),
                ("field", "status_found"),
                ("value_status_found", "found, alive and well"),
                ("field", "region"),
                ("value_region", "Rostov oblast"),
                ("value_health", "not chosen, not sent"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let o = t.login("olena", PASSWORD).await;
        let told = expect(o.get("/api/v1/disclosures").await, StatusCode::OK).await;
        assert_eq!(
            told[0]["fields"],
            serde_json::json!([
                { "field": "status_found", "value": "found, alive and well" },
                { "field": "region", "value": "Rostov oblast" },
            ])
        );
        let (_, page) = get(&c, t, &here).await;
        let card = part(&page, "id=\"disclosures-h\"", "</section>");
        assert!(
            card.contains("Ombudsman") && card.contains("Rostov oblast"),
            "{card}"
        );

        // Withdrawing the consent to return moves the case back.
        let consent_id = form_target(&page, &case, "consents");
        let (status, _) = send(
            &c,
            t,
            &format!("{here}/consents/{consent_id}/withdraw"),
            &[
                ("csrf", &csrf),
                ("expected_version", "8"),
                ("reason", "the mother asks for time"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, page) = get(&c, t, &here).await;
        assert!(
            page.contains("data-state=\"identity_verified\""),
            "moved back"
        );
        // Withdrawing it again is the app's conflict, shown although its form is gone.
        let (status, again) = send(
            &c,
            t,
            &format!("{here}/consents/{consent_id}/withdraw"),
            &[
                ("csrf", &csrf),
                ("expected_version", "9"),
                ("reason", "again"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(again.contains("data-refusal=\"conflict\""), "{again}");
        // Listing is refused with every missing condition, each in words.
        let (status, refused) = send(
            &c,
            t,
            &format!("{here}/transitions"),
            &[("csrf", &csrf), ("expected_version", "9"), ("to", "listed")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let form = part(&refused, "id=\"transition-form\"", "</form>");
        for code in [
            "illegal_transition",
            "consent_withdrawn",
            "not_on_agreed_list",
        ] {
            assert!(
                form.contains(&format!("data-code=\"{code}\"")),
                "{code}: {form}"
            );
        }

        // The timeline says who did what, in words.
        let timeline = part(&page, "id=\"timeline\"", "</ol>");
        assert!(timeline.contains("Task force"), "the party: {timeline}");
        assert!(timeline.contains("Consent withdrawn"), "{timeline}");
        assert!(
            timeline.contains("Оксана Лисенко (Legal guardian) · Return · Given"),
            "{timeline}"
        );
        assert!(
            timeline.contains("Document check: Positive · ICRC delegate"),
            "{timeline}"
        );
        assert!(
            timeline.contains("Consent obtained → Identity verified"),
            "{timeline}"
        );
        let mira = Console::new(&t.app).find_user("mira").await.unwrap();
        assert!(
            timeline.contains(&mira.display_name),
            "the name: {timeline}"
        );
        assert!(
            !timeline.contains(&mira.id.to_string()),
            "no user ids: {timeline}"
        );

        // In Ukrainian, the checklist and a refusal speak Ukrainian, codes beside.
        let (status, _) = send(
            &c,
            t,
            "/language",
            &[("csrf", &csrf), ("language", "uk"), ("back", &here)],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, uk) = get(&c, t, &here).await;
        let item = part(&uk, "data-next=\"consent_obtained\"", "</ul>");
        assert!(
            item.contains("Згоду відкликано") && item.contains("<code>consent_withdrawn</code>"),
            "{item}"
        );
        let (status, refused) = send(
            &c,
            t,
            &format!("{here}/transitions"),
            &[("csrf", &csrf), ("expected_version", "9"), ("to", "listed")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let form = part(&refused, "id=\"transition-form\"", "</form>");
        assert!(form.contains("Справу ще не можна перевести"), "{form}");
        assert!(
            form.contains("Дитини немає в погодженому списку передачі"),
            "{form}"
        );
        assert!(form.contains("<code>not_on_agreed_list</code>"), "{form}");
        let (status, _) = send(
            &c,
            t,
            "/language",
            &[("csrf", &csrf), ("language", "en"), ("back", &here)],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // Best interests: a panel too small is named on the form; a full one is recorded.
        let (status, _) = send(
            &c,
            t,
            &format!("{here}/assessments"),
            &[
                ("csrf", &csrf),
                ("expected_version", "9"),
                ("assessed_by", "child protection officer"),
                ("findings", "safe home, mother able to care"),
                ("recommendation", "return"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, bad) = send(
            &c,
            t,
            &format!("{here}/determinations"),
            &[
                ("csrf", &csrf),
                ("expected_version", "10"),
                ("panel_name", "A. Koval"),
                ("panel_role", "psychologist"),
                ("panel_name", ""),
                ("panel_role", ""),
                ("decision", "return"),
                ("reasons", "the mother wants him back; he wants to go"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let form = part(&bad, "id=\"determination-form\"", "</form>");
        assert!(
            form.contains("panel_too_small") && form.contains("value=\"A. Koval\""),
            "{form}"
        );
        let (status, _) = send(
            &c,
            t,
            &format!("{here}/determinations"),
            &[
                ("csrf", &csrf),
                ("expected_version", "10"),
                ("panel_name", "A. Koval"),
                ("panel_role", "psychologist"),
                ("panel_name", "B. Ivanenko"),
                ("panel_role", "legal adviser"),
                ("panel_name", "C. Moreau"),
                ("panel_role", "ICRC child protection"),
                ("decision", "return"),
                ("reasons", "the mother wants him back; he wants to go"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // A negative step blocks until it is resolved in writing, through its own form.
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend([
            ("expected_version", "11"),
            ("method", "video_call"),
            ("performed_by", "ICRC delegate"),
            ("outcome", "negative"),
        ]);
        assert_eq!(
            send(&c, t, &format!("{here}/verifications"), &f).await.0,
            StatusCode::SEE_OTHER
        );
        let (_, page) = get(&c, t, &here).await;
        let step = form_target(&page, &case, "verifications");
        let (status, _) = send(
            &c,
            t,
            &format!("{here}/verifications/{step}/resolve"),
            &[
                ("csrf", &csrf),
                ("expected_version", "12"),
                ("reason", "the wrong child was on the call"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, page) = get(&c, t, &here).await;
        assert!(page.contains("the wrong child was on the call"));
        assert!(
            !page.contains(&format!("/verifications/{step}/resolve")),
            "resolved: no form"
        );

        // A form decided on an old version comes back with the page as it is now.
        let (status, stale) = send(
            &c,
            t,
            &format!("{here}/child-views"),
            &[
                ("csrf", &csrf),
                ("expected_version", "3"),
                ("heard_by", "x"),
                ("wish", "undecided"),
                ("summary", "kept text"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let form = part(&stale, "id=\"views-form\"", "</form>");
        assert!(
            form.contains("data-refusal=\"version_conflict\"") && form.contains("kept text"),
            "{form}"
        );
        assert!(
            form.contains("name=\"expected_version\" value=\"13\""),
            "{form}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_parties_get_the_apis_answers_on_the_case_page() {
    on_every_backend(async |t: &TestApp| {
        let case = located_case(t).await;
        let here = format!("/cases/{case}");
        // The custody side sees no case: the API's 403, for the page and for its forms.
        let (k, csrf) = sign_in(t, "kirill").await;
        assert_eq!(get(&k, t, &here).await.0, StatusCode::FORBIDDEN);
        for (path, form) in [
            (
                "/consents",
                vec![
                    ("scope", "return"),
                    ("giver_kind", "legal_guardian"),
                    ("giver_name", "x"),
                    ("decision", "given"),
                    ("method", "written"),
                    ("expected_version", "1"),
                ],
            ),
            (
                "/disclosures",
                vec![("to_party", "nonsense"), ("expected_version", "1")],
            ),
            ("/tasks", vec![("party", ""), ("due", "")]),
        ] {
            let mut f = vec![("csrf", csrf.as_str())];
            f.extend(form);
            let (status, body) = send(&k, t, &format!("{here}{path}"), &f).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
            assert!(!body.contains("Александр"), "nothing of the case leaks");
        }
        // A case that does not exist is the API's 404, also when a form is posted to it.
        let (m, csrf) = sign_in(t, "mira").await;
        let nowhere = format!("/cases/{}", uuid::Uuid::now_v7());
        assert_eq!(get(&m, t, &nowhere).await.0, StatusCode::NOT_FOUND);
        let (status, _) = send(
            &m,
            t,
            &format!("{nowhere}/child-views"),
            &[("csrf", &csrf), ("expected_version", "x")],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // No form is taken without the session's token.
        let (status, _) = send(&m, t, &format!("{here}/consents"), &[("csrf", "forged")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    })
    .await;
}

/// A multipart body as a browser sends it: the token, a description, a file.
fn multipart(csrf: &str, filename: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----homewardtestboundary7MA4YWxk";
    let mut body = Vec::new();
    for (name, value) in [("csrf", csrf), ("description", "signed consent form")] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn attachments_are_uploaded_listed_and_downloaded_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        max_attachment_bytes: 4096,
        attachment_key: Some(AttachmentKey::generate()),
        attachment_dir: Some(dir.path().to_owned()),
        ..AppConfig::default()
    };
    on_every_backend_with(config, test_options(), async |t: &TestApp| {
        let case = located_case(t).await;
        let here = format!("/cases/{case}");
        let (c, csrf) = sign_in(t, "mira").await;
        let pdf = b"%PDF-1.4\n% synthetic test document, no real child\n%%EOF\n".to_vec();
        let (ct, body) = multipart(&csrf, "Згода Лисенко.pdf", "application/pdf", &pdf);
        let res = c
            .post(t.url(&format!("{here}/attachments")))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, page) = get(&c, t, &here).await;
        assert_every_form_has_csrf(&page);
        let list = part(&page, "id=\"attachment-list\"", "</ul>");
        assert!(
            list.contains("Згода Лисенко.pdf") && list.contains("signed consent form"),
            "{list}"
        );
        // Downloads go by id alone, by POST; the name is never in a URL.
        assert!(!page.contains("href=\"/attachments"), "no download links");
        let pat = "action=\"/attachments/";
        let at = page.find(pat).unwrap() + pat.len();
        let id = &page[at..at + page[at..].find('/').unwrap()];
        let res = post_form(
            &c,
            t,
            &format!("/attachments/{id}/download"),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(res.bytes().await.unwrap().as_ref(), pdf.as_slice());
        let res = post_form(
            &c,
            t,
            &format!("/attachments/{id}/download"),
            &[("csrf", "forged")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // The uploaded file can be named as evidence in the verification form.
        let form = part(&page, "id=\"verification-form\"", "</form>");
        assert!(
            form.contains(&format!("name=\"evidence\" value=\"{id}\"")),
            "{form}"
        );

        // A file of a kind not taken, or over the limit, is refused on the form with its reason.
        let (ct, body) = multipart(&csrf, "notes.txt", "text/plain", b"plain text");
        let res = c
            .post(t.url(&format!("{here}/attachments")))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let page = res.text().await.unwrap();
        let form = part(&page, "id=\"attachment-form\"", "</form>");
        assert!(form.contains("attachment_type_not_allowed"), "{form}");
        let mut big = b"%PDF-1.4\n".to_vec();
        big.resize(5000, b'x');
        let (ct, body) = multipart(&csrf, "big.pdf", "application/pdf", &big);
        let res = c
            .post(t.url(&format!("{here}/attachments")))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let page = res.text().await.unwrap();
        assert!(
            part(&page, "id=\"attachment-form\"", "</form>").contains("4096 bytes"),
            "the limit is named"
        );
        // Without the token nothing is stored.
        let (ct, body) = multipart("forged", "x.pdf", "application/pdf", &pdf);
        let res = c
            .post(t.url(&format!("{here}/attachments")))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // The custody side downloads nothing of the case: the API's 404.
        let (k, kcsrf) = sign_in(t, "kirill").await;
        let res = post_form(
            &k,
            t,
            &format!("/attachments/{id}/download"),
            &[("csrf", &kcsrf)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    })
    .await;
}
