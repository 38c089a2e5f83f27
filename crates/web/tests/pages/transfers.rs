//! The transfer pages driven through their forms, as a browser posts them: the round of
//! `tests/api/transfers.rs` from a draft list to a reported follow-up visit, with the cases
//! brought to consent_obtained through the API first. Then the scopes: a party sees only its own
//! record ids, and the NGO and the observer get what the API gives them.

use crate::helpers::*;
use crate::transfer_world::{case_path, located_cases, ok, people, to_consent_obtained};
use crate::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

pub(crate) struct World {
    pub origin_id: String,
    pub custody_id: String,
    pub cw: Session,
    /// (tracing request, case) per child; the third is left at located.
    pub cases: Vec<(Value, Value)>,
}

pub(crate) fn id_of(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

/// Three children filed, imported and confirmed; the first two brought to consent_obtained.
pub(crate) async fn world(t: &TestApp) -> World {
    let p = people(t).await;
    let cases = located_cases(&p, 3).await;
    for (_, case) in &cases[..2] {
        to_consent_obtained(&p, case).await;
    }
    World {
        origin_id: p.origin_id,
        custody_id: p.custody_id,
        cw: p.cw,
        cases,
    }
}

/// Posts a page form with the session's CSRF token.
pub(crate) async fn submit(
    c: &Client,
    t: &TestApp,
    csrf: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    post_form(c, t, path, &form).await
}

/// A form that succeeded sends the person back to a page; returns where.
pub(crate) async fn redirected(res: reqwest::Response) -> String {
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    location.unwrap()
}

/// A refused form comes back as its page with the refusal, in the given status.
async fn refused(res: reqwest::Response, want: StatusCode, code: &str) -> String {
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, want, "{body}");
    assert!(
        body.contains(&format!("id=\"refusal\" data-code=\"{code}\"")),
        "no {code} refusal on: {body}"
    );
    body
}

/// The text of the element with this id (its first text, up to the next tag).
pub(crate) fn text_of<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    &html[start..start + html[start..].find('<').unwrap()]
}

/// What a person reads of a piece of a page: the text between its tags, attributes left out.
pub(crate) fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out
}

/// The UUIDs (8-4-4-4-12 hex digits) in a text.
pub(crate) fn uuids_in(text: &str) -> Vec<String> {
    let shape = [8, 4, 4, 4, 12];
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for start in 0..chars.len() {
        let mut at = start;
        let whole = shape.iter().enumerate().all(|(i, n)| {
            if i > 0 {
                if chars.get(at) != Some(&'-') {
                    return false;
                }
                at += 1;
            }
            let ok = (at..at + n).all(|j| chars.get(j).is_some_and(char::is_ascii_hexdigit));
            at += n;
            ok
        });
        if whole {
            found.push(chars[start..at].iter().collect());
        }
    }
    found
}

/// The element with this id, from its opening tag to the end of its section.
pub(crate) fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let end = html[at..].find("</section>").map_or(html.len(), |e| at + e);
    &html[at..end]
}

/// The sections of a list page a person reads names in show no UUID as text.
pub(crate) fn assert_no_uuid_shown(html: &str, sections: &[&str]) {
    for id in sections {
        let text = visible(section(html, id));
        assert!(uuids_in(&text).is_empty(), "a UUID shown in #{id}: {text}");
    }
}

#[test]
fn a_uuid_is_found_in_visible_text_and_not_in_an_attribute() {
    let html = "<a href=\"/cases/01a24fcf-0000-4000-8000-0000000000aa\">HW-2026-00042</a>";
    assert!(uuids_in(&visible(html)).is_empty());
    let shown = "<td><code>01a24fcf-0000-4000-8000-0000000000aa</code></td>";
    assert_eq!(uuids_in(&visible(shown)).len(), 1);
}

/// The case number the API gives a case.
async fn number_of(w: &World, case: &Value) -> String {
    ok(w.cw.get(&case_path(case, "")).await).await["number"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn local(days_ago: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days_ago))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Drafts, fills and proposes a round through the pages; returns the list's page path.
pub(crate) async fn proposed_list(t: &TestApp, w: &World, c: &Client, csrf: &str) -> String {
    let (a, b) = (&w.cases[0].1, &w.cases[1].1);
    let list = redirected(
        submit(
            c,
            t,
            csrf,
            "/transfer-lists",
            &[
                ("round", "Round 7 (March)"),
                ("origin_party", &w.origin_id),
                ("custody_party", &w.custody_id),
            ],
        )
        .await,
    )
    .await;
    assert!(list.starts_with("/transfer-lists/"), "{list}");
    // The cases ready for the list are offered by number, with the child's names.
    let (_, draft) = get(c, t, &list).await;
    let (a_no, b_no) = (number_of(w, a).await, number_of(w, b).await);
    assert!(
        draft.contains(&format!(
            "<option value=\"{a_no}\">Олександр Андрійович Лисенко (Oleksandr Andriiovych Lysenko)"
        )),
        "{draft}"
    );
    assert!(!visible(section(&draft, "add-entry")).contains(id_of(a)));
    // The first typed by its id, the second by its number as a person types it.
    let b_typed = b_no.to_lowercase().replace('-', " ");
    let entries = format!("{list}/entries");
    for (case, direction, v) in [
        (id_of(a), "to_origin", "1"),
        (b_typed.as_str(), "to_custody", "2"),
    ] {
        redirected(
            submit(
                c,
                t,
                csrf,
                &entries,
                &[
                    ("case_id", case),
                    ("direction", direction),
                    ("expected_version", v),
                ],
            )
            .await,
        )
        .await;
    }
    redirected(
        submit(
            c,
            t,
            csrf,
            &format!("{list}/step"),
            &[("step", "propose"), ("expected_version", "3")],
        )
        .await,
    )
    .await;
    list
}

#[tokio::test]
async fn a_transfer_round_through_the_pages_from_draft_to_a_reported_visit() {
    on_every_backend(async |t: &TestApp| {
        let w = world(t).await;
        let (a_req, a) = &w.cases[0];
        let (b_req, b) = &w.cases[1];
        let (_, located) = &w.cases[2];
        let (cw, cw_csrf) = sign_in(t, "petra").await;

        // The rounds: the mediator's caseworker may draft one; a list without a round is
        // refused with the field named, the parties chosen kept.
        let (status, page) = get(&cw, t, "/transfer-lists").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("href=\"/transfer-lists\" aria-current=\"page\""),
            "nav entry"
        );
        assert_every_form_has_csrf(&page);
        let bad = refused(
            submit(
                &cw,
                t,
                &cw_csrf,
                "/transfer-lists",
                &[
                    ("round", " "),
                    ("origin_party", &w.origin_id),
                    ("custody_party", &w.custody_id),
                ],
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            bad.contains("<code>round</code>: must be filled in"),
            "{bad}"
        );
        assert!(
            bad.contains(&format!("<option value=\"{}\" selected>", w.origin_id)),
            "kept"
        );

        let list = proposed_list(t, &w, &cw, &cw_csrf).await;
        let entries = format!("{list}/entries");

        // A case that is not listable is refused with each unmet condition, in words, and the
        // form keeps the case typed in.
        let not_listable = refused(
            submit(
                &cw,
                t,
                &cw_csrf,
                &entries,
                &[
                    ("case_id", id_of(located)),
                    ("direction", "to_origin"),
                    ("expected_version", "4"),
                ],
            )
            .await,
            StatusCode::CONFLICT,
            "case_not_listable",
        )
        .await;
        assert!(not_listable.contains("This case cannot go on a transfer list yet"));
        assert!(
            not_listable.contains("data-code=\"identity_not_verified\""),
            "{not_listable}"
        );
        assert!(not_listable.contains("Identity is not verified."));
        assert!(
            not_listable.contains(&format!("value=\"{}\"", id_of(located))),
            "kept"
        );

        // A number no case has is refused with the field named, what was typed kept.
        let unknown = refused(
            submit(
                &cw,
                t,
                &cw_csrf,
                &entries,
                &[
                    ("case_id", "HW-2026-99999"),
                    ("direction", "to_origin"),
                    ("expected_version", "4"),
                ],
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(unknown.contains("no case has this number"), "{unknown}");
        assert!(unknown.contains("value=\"HW-2026-99999\""), "kept");

        // The mediator sees the cases in both directions, and the hash.
        let (_, page) = get(&cw, t, &list).await;
        assert_eq!(text_of(&page, "list-state"), "Proposed");
        assert!(page.contains("data-direction=\"to_origin\""));
        assert!(page.contains("data-direction=\"to_custody\""));
        assert!(page.contains(id_of(a)) && page.contains(id_of(b)));
        assert_every_form_has_csrf(&page);
        // Each child by its case number and the names on both records, transliterated; the
        // title names the round; ids only in links.
        let rows = visible(section(&page, "entries"));
        for case in [a, b] {
            let number = number_of(&w, case).await;
            assert!(rows.contains(&number), "{number} not shown: {rows}");
        }
        for name in ["Лисенко", "Lysenko", "Лысенко", "Коваленко", "Kovalenko", "Mariia"] {
            assert!(rows.contains(name), "{name} not shown: {rows}");
        }
        assert!(rows.contains("2015-03-07"), "birth date: {rows}");
        assert_no_uuid_shown(&page, &["entries", "versions", "plans"]);
        assert!(
            page.contains("<title>Transfer list: Round 7 (March)"),
            "title: {page}"
        );
        assert!(
            visible(section(&page, "versions")).contains("petra"),
            "the version author by name"
        );
        let h1 = text_of(&page, "list-hash").to_owned();
        assert_eq!(h1.len(), 64);

        // Each side approves the hash it saw; an old one is refused with the current hash.
        let (o, o_csrf) = sign_in(t, "olena").await;
        let (ivan, ivan_csrf) = sign_in(t, "ivan").await;
        let (status, seen) = get(&o, t, &list).await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&seen);
        assert_eq!(text_of(&seen, "list-hash"), h1);
        let approve = format!("{list}/approve");
        let stale = refused(
            submit(&ivan, t, &ivan_csrf, &approve, &[("hash", &"0".repeat(64))]).await,
            StatusCode::CONFLICT,
            "stale_list_hash",
        )
        .await;
        assert!(stale.contains("The list changed since you read it"));
        assert_eq!(text_of(&stale, "current-hash"), h1);
        let own_approval = |html: &str| {
            let at = html.find("id=\"own-approval\"").expect("no #own-approval");
            html[at..at + html[at..].find("</dd>").unwrap()].to_owned()
        };
        let (_, before) = get(&o, t, &list).await;
        assert!(own_approval(&before).contains("has not approved"), "{before}");
        redirected(submit(&o, t, &o_csrf, &approve, &[("hash", &h1)]).await).await;
        // Each side sees its own approval, not the other's, and is not offered to approve again.
        let (_, mine) = get(&o, t, &list).await;
        let own = own_approval(&mine);
        assert!(own.contains("Your side approved this content") && own.contains(&h1), "{own}");
        assert!(!mine.contains("id=\"approve\""), "approve offered again: {mine}");
        let (_, theirs) = get(&ivan, t, &list).await;
        assert!(own_approval(&theirs).contains("has not approved"), "{theirs}");
        assert!(theirs.contains("id=\"approve\""));
        refused(
            submit(&o, t, &o_csrf, &approve, &[("hash", &h1)]).await,
            StatusCode::CONFLICT,
            "already_approved",
        )
        .await;
        redirected(submit(&ivan, t, &ivan_csrf, &approve, &[("hash", &h1)]).await).await;
        let (_, page) = get(&cw, t, &list).await;
        assert_eq!(text_of(&page, "list-state"), "Approved by both");
        assert_eq!(page.matches("<tr class=\"in-force\">").count(), 2, "{page}");
        let approvers = visible(section(&page, "approvals"));
        assert!(approvers.contains("olena") && approvers.contains("ivan"), "{approvers}");
        assert_no_uuid_shown(&page, &["approvals", "versions"]);

        // An edit voids both approvals, and the diff between those versions shows it.
        for (direction, v) in [("to_origin", "6"), ("to_custody", "7")] {
            redirected(
                submit(
                    &cw,
                    t,
                    &cw_csrf,
                    &entries,
                    &[
                        ("case_id", id_of(b)),
                        ("direction", direction),
                        ("expected_version", v),
                    ],
                )
                .await,
            )
            .await;
        }
        let (_, page) = get(&cw, t, &format!("{list}?from=6&to=7")).await;
        assert_eq!(text_of(&page, "list-state"), "Proposed");
        assert_eq!(page.matches("<tr class=\"voided\">").count(), 2, "{page}");
        assert_eq!(page.matches("<tr class=\"in-force\">").count(), 0);
        assert!(
            page.contains(
                "<tr class=\"diff-direction_changed\" data-change=\"direction_changed\">"
            ),
            "{page}"
        );
        assert!(page.contains("Direction changed"));
        assert!(page.contains("To the custody side → To the origin side"));
        let changed = visible(section(&page, "diff-table"));
        assert!(changed.contains(&number_of(&w, b).await), "{changed}");
        assert!(changed.contains("Коваленко") && changed.contains("Kovalenko"), "{changed}");
        assert!(page.contains(&format!("<a href=\"/cases/{}\">", id_of(b))));
        assert_no_uuid_shown(&page, &["entries", "diff", "approvals", "versions"]);
        // The origin side reads the same diff in its own record ids.
        let (_, theirs) = get(&o, t, &format!("{list}?from=6&to=7")).await;
        assert!(
            theirs.contains(&format!("/records/{}", id_of(b_req))),
            "{theirs}"
        );
        assert!(!theirs.contains(b["custody_record"].as_str().unwrap()));
        assert!(!theirs.contains(id_of(b)), "no case id for a party");
        let changed = visible(section(&theirs, "diff-table"));
        assert!(changed.contains("Марія") && changed.contains("Mariia"), "{changed}");
        assert!(!changed.contains("Мария"), "the custody side's spelling: {changed}");
        assert_no_uuid_shown(&theirs, &["entries", "diff"]);

        // Re-approved and fixed through the step form: both children are listed.
        redirected(submit(&o, t, &o_csrf, &approve, &[("hash", &h1)]).await).await;
        redirected(submit(&ivan, t, &ivan_csrf, &approve, &[("hash", &h1)]).await).await;
        redirected(
            submit(
                &cw,
                t,
                &cw_csrf,
                &format!("{list}/step"),
                &[("step", "fix"), ("expected_version", "10")],
            )
            .await,
        )
        .await;
        for case in [a, b] {
            let c = ok(w.cw.get(&case_path(case, "")).await).await;
            assert_eq!(c["case"]["state"], "listed", "{c}");
        }

        // The plan, by the logistics officer: three legs that chain; a fourth that does not is
        // refused with its field, the places typed kept.
        let (lev, lev_csrf) = sign_in(t, "lev").await;
        let plan = redirected(
            submit(
                &lev,
                t,
                &lev_csrf,
                &format!("{list}/plans"),
                &[("case0", id_of(a)), ("case1", id_of(b))],
            )
            .await,
        )
        .await;
        assert!(plan.starts_with("/transfer-plans/"), "{plan}");
        // What the new plan lacks names each child by case number and name, never by its id.
        let (_, fresh) = get(&lev, t, &plan).await;
        let missing = visible(section(&fresh, "plan-missing"));
        assert!(
            missing.contains("No travel document is listed for case"),
            "{missing}"
        );
        for case in [a, b] {
            let number = number_of(&w, case).await;
            assert!(missing.contains(&number), "{number} not in {missing}");
        }
        assert!(missing.contains("Лисенко"), "{missing}");
        assert_no_uuid_shown(&fresh, &["plan-missing"]);
        let legs = [
            (
                "Rostov-on-Don",
                "Moscow",
                "rail",
                "2030-04-01T08:00",
                "2030-04-01T20:00",
            ),
            (
                "Moscow",
                "Minsk",
                "air",
                "2030-04-02T09:00",
                "2030-04-02T11:00",
            ),
            (
                "Minsk",
                "Kyiv",
                "road",
                "2030-04-02T13:00",
                "2030-04-03T01:00",
            ),
        ];
        for (i, (from, to, mode, dep, arr)) in legs.iter().enumerate() {
            let v = (i + 1).to_string();
            redirected(
                submit(
                    &lev,
                    t,
                    &lev_csrf,
                    &format!("{plan}/legs"),
                    &[
                        ("from", from),
                        ("to", to),
                        ("mode", mode),
                        ("planned_departure", dep),
                        ("planned_arrival", arr),
                        ("carrier", "Embassy convoy"),
                        ("expected_version", &v),
                    ],
                )
                .await,
            )
            .await;
        }
        let unchained = refused(
            submit(
                &lev,
                t,
                &lev_csrf,
                &format!("{plan}/legs"),
                &[
                    ("from", "Warsaw"),
                    ("to", "Lviv"),
                    ("mode", "road"),
                    ("planned_departure", "2030-04-03T02:00"),
                    ("planned_arrival", "2030-04-03T08:00"),
                    ("expected_version", "4"),
                ],
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            unchained.contains(
                "<code>legs[3].from</code>: each leg must start where the one before ends"
            ),
            "{unchained}"
        );
        assert!(unchained.contains("value=\"Warsaw\""), "kept");
        redirected(
            submit(
                &lev,
                t,
                &lev_csrf,
                &format!("{plan}/escorts"),
                &[
                    ("escort0_kind", "diplomat"),
                    ("escort0_name", "Consul N."),
                    ("expected_version", "4"),
                ],
            )
            .await,
        )
        .await;
        // A refused cost comes back with what was typed in its rows.
        let bad_cost = refused(
            submit(
                &lev,
                t,
                &lev_csrf,
                &format!("{plan}/costs"),
                &[
                    ("cost0_amount", "12x"),
                    ("cost0_currency", "eur"),
                    ("cost0_funded_by", "Mediator fund"),
                    ("cost0_purpose", "fuel for the second leg"),
                    ("expected_version", "5"),
                ],
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        for typed in ["value=\"12x\"", "value=\"Mediator fund\"", "fuel for the second leg"] {
            assert!(bad_cost.contains(typed), "{typed} not kept: {bad_cost}");
        }
        redirected(
            submit(
                &lev,
                t,
                &lev_csrf,
                &format!("{plan}/costs"),
                &[
                    ("cost0_amount", "1200"),
                    ("cost0_currency", "eur"),
                    ("cost0_funded_by", "Mediator"),
                    ("expected_version", "5"),
                ],
            )
            .await,
        )
        .await;
        let documents = |b_ready: bool, v: &'static str| {
            let mut f = vec![
                ("doc0_case", id_of(a).to_owned()),
                ("doc0_kind", "passport".to_owned()),
                ("doc0_ready", "1".to_owned()),
                ("doc1_case", id_of(b).to_owned()),
                ("doc1_kind", "birth_certificate".to_owned()),
                ("expected_version", v.to_owned()),
            ];
            if b_ready {
                f.push(("doc1_ready", "1".to_owned()));
            }
            f
        };
        let form = documents(false, "6");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        redirected(submit(&lev, t, &lev_csrf, &format!("{plan}/documents"), &form).await).await;
        let (_, page) = get(&lev, t, &plan).await;
        assert_every_form_has_csrf(&page);
        assert!(page.contains("1200.00 EUR"));
        assert!(
            page.contains("A document is not ready: Birth certificate"),
            "{page}"
        );
        let blocked = refused(
            submit(
                &lev,
                t,
                &lev_csrf,
                &format!("{plan}/approve"),
                &[("expected_version", "7")],
            )
            .await,
            StatusCode::CONFLICT,
            "plan_not_ready",
        )
        .await;
        assert!(blocked.contains("The plan cannot be approved yet"));
        assert!(blocked.contains("A document is not ready: Birth certificate"));
        let form = documents(true, "7");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        redirected(submit(&lev, t, &lev_csrf, &format!("{plan}/documents"), &form).await).await;
        redirected(
            submit(
                &lev,
                t,
                &lev_csrf,
                &format!("{plan}/approve"),
                &[("expected_version", "8")],
            )
            .await,
        )
        .await;
        let (_, page) = get(&lev, t, &plan).await;
        assert!(text_of(&page, "plan-status").contains("approved"), "{page}");
        // The plan names its round, and its children by case number and names; the approver
        // by name; ids only in links and forms.
        assert!(
            page.contains("<title>Transfer plan: Round 7 (March)"),
            "title: {page}"
        );
        let children = visible(section(&page, "approve-plan"));
        for want in [number_of(&w, a).await.as_str(), "Лисенко", "Lysenko", "Коваленко"] {
            assert!(children.contains(want), "{want} not on the plan: {children}");
        }
        assert!(children.contains("lev"), "the approver by name: {children}");
        assert_no_uuid_shown(&page, &["approve-plan", "legs"]);
        assert!(uuids_in(&visible(&page)).is_empty(), "{}", visible(&page));
        let (_, page) = get(&cw, t, &list).await;
        assert!(
            page.contains(&format!("href=\"{plan}\"")),
            "the list links its plan"
        );
        assert!(visible(section(&page, "plans")).contains("Transfer plan 1"));

        // The children go; the first leg leaves late, recorded in its history.
        for case in [a, b] {
            let c = ok(w.cw.get(&case_path(case, "")).await).await;
            ok(w.cw
                .post(
                    &case_path(case, "/transitions"),
                    &json!({ "to": "in_transit", "expected_version": c["version"] }),
                )
                .await)
            .await;
        }
        let plan_id = plan.trim_start_matches("/transfer-plans/");
        let leg = ok(w.cw.get(&format!("/api/v1/transfer-plans/{plan_id}")).await).await["legs"][0]
            ["id"]
            .as_str()
            .unwrap()
            .to_owned();
        redirected(
            submit(
                &lev,
                t,
                &lev_csrf,
                &format!("{plan}/legs/{leg}"),
                &[
                    ("actual_departure", "2030-04-01T10:00"),
                    ("reason", "the train was held at the border"),
                    ("expected_version", "9"),
                ],
            )
            .await,
        )
        .await;
        let (_, page) = get(&lev, t, &plan).await;
        assert!(page.contains("the train was held at the border"));
        assert!(
            page.contains("actual departure: — → 2030-04-01 10:00:00 UTC"),
            "{page}"
        );
        assert!(page.contains("<tr class=\"late\">"));
        assert!(
            text_of(&page, "plan-status").contains("approved"),
            "a delay keeps the approval"
        );

        // The custody chain through its page; a handover that leaves a gap is refused with its
        // condition in words, and what was typed stays.
        let custody = format!("/cases/{}/custody", id_of(a));
        let handovers = format!("/cases/{}/handovers", id_of(a));
        let (status, page) = get(&lev, t, &custody).await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&page);
        // Titled by the case number, not the id.
        let a_no = number_of(&w, a).await;
        assert!(page.contains(&format!("<title>Custody chain and aftercare: {a_no}")), "{page}");
        let h1 = &page[page.find("<h1").unwrap()..page.find("</h1>").unwrap()];
        assert!(visible(h1).contains(&a_no) && uuids_in(&visible(h1)).is_empty(), "{h1}");
        let version = |page: &str| {
            let at = page.find("name=\"expected_version\" value=\"").unwrap() + 31;
            page[at..at + page[at..].find('"').unwrap()].to_owned()
        };
        let hand = async |giver: (&str, &str), receiver: (&str, &str), days: i64, v: &str| {
            submit(
                &lev,
                t,
                &lev_csrf,
                &handovers,
                &[
                    ("at", &local(days)),
                    ("giver_kind", giver.0),
                    ("giver_name", giver.1),
                    ("receiver_kind", receiver.0),
                    ("receiver_name", receiver.1),
                    ("place", "Embassy, consular section"),
                    ("witnesses", "consul\nICRC delegate"),
                    ("expected_version", v),
                ],
            )
            .await
        };
        let home = ("custody_authority", "Children's home No. 4");
        let embassy = ("mediator", "Embassy");
        let aunt = ("escort", "Halyna Lysenko (aunt)");
        let mother = ("family", "Oksana Lysenko");
        redirected(hand(home, embassy, 45, &version(&page)).await).await;
        let (_, page) = get(&lev, t, &custody).await;
        assert!(
            page.contains("value=\"Embassy\""),
            "the next giver is the last receiver"
        );
        let gap = refused(
            hand(aunt, mother, 44, &version(&page)).await,
            StatusCode::CONFLICT,
            "handover_refused",
        )
        .await;
        assert!(gap.contains("This handover would break the custody chain"));
        assert!(gap.contains("data-code=\"custody_chain_gap\""));
        assert!(
            gap.contains("this would leave a gap in the custody chain"),
            "{gap}"
        );
        assert!(gap.contains("value=\"Oksana Lysenko\""), "kept");
        redirected(hand(embassy, aunt, 44, &version(&page)).await).await;
        let c = ok(w.cw.get(&case_path(a, "")).await).await;
        ok(w.cw
            .post(
                &case_path(a, "/transitions"),
                &json!({ "to": "handed_over", "expected_version": c["version"] }),
            )
            .await)
        .await;
        let (_, page) = get(&lev, t, &custody).await;
        redirected(hand(aunt, mother, 43, &version(&page)).await).await;
        let (_, page) = get(&lev, t, &custody).await;
        assert_eq!(page.matches("<li><time>").count(), 3, "{page}");
        let doc = lev
            .get(t.url(&format!("/cases/{}/custody-chain", id_of(a))))
            .send()
            .await
            .unwrap();
        // The printable chain: the child by name and number, each handover a row, signed
        // below; the same as PDF.
        assert!(
            doc.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let doc = doc.text().await.unwrap();
        for text in [
            "<title>Custody chain · ",
            a_no.as_str(),
            "Олександр Андрійович Лисенко",
            "Oleksandr Andriiovych Lysenko",
            "Halyna Lysenko (aunt) (Escort)",
            "consul, ICRC delegate",
            "For the mediator: name, signature, date",
        ] {
            assert!(doc.contains(text), "{text} missing from:\n{doc}");
        }
        assert_eq!(visible(&doc).matches("Embassy, consular section").count(), 3, "{doc}");
        let (_, page) = get(&lev, t, &custody).await;
        for n in 1..=3 {
            let receipt = format!("/cases/{}/handovers/{n}/receipt", id_of(a));
            assert!(page.contains(&format!("href=\"{receipt}\"")), "{page}");
        }
        // The case page has the slot that leads here.
        let (_, case_page) = get(&cw, t, &format!("/cases/{}", id_of(a))).await;
        assert!(case_page.contains(&format!("href=\"{custody}\" id=\"custody-link\"")));

        // Reunification through the form schedules four visits, the first already overdue.
        let (_, page) = get(&cw, t, &custody).await;
        redirected(
            submit(
                &cw,
                t,
                &cw_csrf,
                &format!("/cases/{}/reunification", id_of(a)),
                &[
                    ("at", &local(42)),
                    ("place", "Kyiv"),
                    ("with0_name", "Oksana Lysenko"),
                    ("with0_relationship", "mother"),
                    ("with1_name", ""),
                    ("with1_relationship", ""),
                    (
                        "family_environment",
                        "lives with his mother and grandmother; school place arranged",
                    ),
                    ("follow_up_party", ""),
                    ("expected_version", &version(&page)),
                ],
            )
            .await,
        )
        .await;
        let (_, page) = get(&cw, t, &custody).await;
        assert_every_form_has_csrf(&page);
        assert_eq!(page.matches("data-status=\"overdue\"").count(), 1, "{page}");
        assert_eq!(page.matches("data-status=\"scheduled\"").count(), 3);
        assert!(
            page.contains("Ombudsman"),
            "the origin side does the visits"
        );
        // A waiver needs a reason.
        let last = {
            let at = page.rfind("data-follow-up=\"").unwrap() + 16;
            page[at..at + 36].to_owned()
        };
        let no_reason = refused(
            submit(
                &cw,
                t,
                &cw_csrf,
                &format!("/cases/{}/follow-ups/{last}/waive", id_of(a)),
                &[("reason", " "), ("expected_version", &version(&page))],
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(no_reason.contains("<code>reason</code>"), "{no_reason}");
        // A refused visit report comes back in that visit's row with the outcome typed.
        let bad_report = refused(
            submit(
                &cw,
                t,
                &cw_csrf,
                &format!("/cases/{}/follow-ups/{last}/report", id_of(a)),
                &[
                    ("outcome", "seen at school, settled"),
                    ("done_at", "last tuesday"),
                    ("expected_version", &version(&page)),
                ],
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            bad_report.contains(&format!(
                "id=\"fo-{last}\" name=\"outcome\" rows=\"2\" required dir=\"auto\">seen at school, settled</textarea>"
            )),
            "outcome not kept: {bad_report}"
        );
        redirected(
            submit(
                &cw,
                t,
                &cw_csrf,
                &format!("/cases/{}/follow-ups/{last}/waive", id_of(a)),
                &[
                    ("reason", "the family moved abroad"),
                    ("expected_version", &version(&page)),
                ],
            )
            .await,
        )
        .await;
        let (_, page) = get(&cw, t, &custody).await;
        assert_eq!(page.matches("data-status=\"waived\"").count(), 1);

        // The origin side reports its overdue visit from its own list, which names its own
        // record and nothing of the custody side.
        let (status, visits) = get(&o, t, "/follow-ups").await;
        assert_eq!(status, StatusCode::OK);
        assert!(visits.contains("href=\"/follow-ups\" aria-current=\"page\""));
        assert_every_form_has_csrf(&visits);
        assert_eq!(
            visits.matches("class=\"card fu-overdue\"").count(),
            1,
            "{visits}"
        );
        assert!(visits.contains(&format!("/records/{}", id_of(a_req))));
        assert!(!visits.contains(a["custody_record"].as_str().unwrap()));
        // The child by the names on its own record, no id as text, no case number.
        let shown = visible(&visits);
        assert!(shown.contains("Лисенко") && shown.contains("Lysenko"), "{shown}");
        assert!(!shown.contains("Лысенко") && !shown.contains(&a_no), "{shown}");
        assert!(uuids_in(&shown).is_empty(), "{shown}");
        // The mediator's list of overdue visits: the case by number and both records' names.
        let (_, all) = get(&cw, t, "/follow-ups").await;
        let shown = visible(&all);
        assert!(shown.contains(&a_no) && shown.contains("Лысенко"), "{shown}");
        assert!(uuids_in(&shown).is_empty(), "{shown}");
        let action = {
            let at = visits.find("action=\"/follow-ups/").unwrap() + 8;
            visits[at..at + visits[at..].find('"').unwrap()].to_owned()
        };
        let location = redirected(
            submit(
                &o,
                t,
                &o_csrf,
                &action,
                &[
                    ("outcome", "seen at home; sleeping well, back at school"),
                    ("done_at", ""),
                ],
            )
            .await,
        )
        .await;
        let (_, visits) = get(&o, t, &location).await;
        assert!(visits.contains("id=\"reported\""));
        assert!(visits.contains("id=\"no-visits\""), "{visits}");
        let (_, page) = get(&cw, t, &custody).await;
        assert_eq!(page.matches("data-status=\"done\"").count(), 1);
        assert!(page.contains("sleeping well, back at school"));
        assert_eq!(page.matches("data-status=\"overdue\"").count(), 0);
    })
    .await;
}

#[tokio::test]
async fn each_party_sees_the_list_as_the_api_shows_it() {
    on_every_backend(async |t: &TestApp| {
        let w = world(t).await;
        let (a_req, a) = &w.cases[0];
        let (b_req, b) = &w.cases[1];
        let (cw, cw_csrf) = sign_in(t, "petra").await;
        let list = proposed_list(t, &w, &cw, &cw_csrf).await;
        let list_id = list.trim_start_matches("/transfer-lists/");
        let a_custody = a["custody_record"].as_str().unwrap();
        let b_custody = b["custody_record"].as_str().unwrap();

        // The origin side: its own tracing requests, the directions, and no case or custody id.
        let (o, _) = sign_in(t, "olena").await;
        let (status, page) = get(&o, t, &list).await;
        assert_eq!(status, StatusCode::OK);
        for own in [id_of(a_req), id_of(b_req)] {
            assert!(page.contains(&format!("/records/{own}")), "{own} missing");
        }
        for hidden in [a_custody, b_custody, id_of(a), id_of(b)] {
            assert!(!page.contains(hidden), "{hidden} shown to the origin side");
        }
        // Its children by the names on its own records, never the other side's spelling or
        // the mediator's case numbers; no id as text.
        let rows = visible(section(&page, "entries"));
        for name in ["Лисенко", "Lysenko", "Марія", "Mariia", "2013-05-14"] {
            assert!(
                rows.contains(name),
                "{name} not shown to the origin side: {rows}"
            );
        }
        let (a_no, b_no) = (number_of(&w, a).await, number_of(&w, b).await);
        for hidden in ["Лысенко", "Мария", a_no.as_str(), b_no.as_str()] {
            assert!(!page.contains(hidden), "{hidden} shown to the origin side");
        }
        assert_no_uuid_shown(&page, &["entries", "diff"]);
        assert!(
            !page.contains("id=\"versions\""),
            "the versions are the mediator's"
        );
        assert!(
            !page.contains("id=\"add-entry\""),
            "a party does not edit the list"
        );
        assert!(page.contains("id=\"approve\""));
        let (_, index) = get(&o, t, "/transfer-lists").await;
        assert!(index.contains(&format!("href=\"{list}\"")));
        assert!(!index.contains("id=\"create-list\""));

        // The custody side: its own custody records.
        let (ivan, _) = sign_in(t, "ivan").await;
        let (_, page) = get(&ivan, t, &list).await;
        assert!(page.contains(a_custody) && page.contains(b_custody));
        for hidden in [id_of(a_req), id_of(b_req), id_of(a), id_of(b)] {
            assert!(!page.contains(hidden), "{hidden} shown to the custody side");
        }
        let rows = visible(section(&page, "entries"));
        for name in ["Лысенко", "Lysenko", "Мария", "Mariia"] {
            assert!(
                rows.contains(name),
                "{name} not shown to the custody side: {rows}"
            );
        }
        for hidden in ["Лисенко", "Марія", a_no.as_str(), b_no.as_str()] {
            assert!(!page.contains(hidden), "{hidden} shown to the custody side");
        }
        assert_no_uuid_shown(&page, &["entries", "diff"]);
        // The visits are done by the origin side: the custody side has no such list.
        assert_eq!(get(&ivan, t, "/follow-ups").await.0, StatusCode::FORBIDDEN);

        // A party not on the list gets the API's 404; the plan and the case are the mediator's.
        let other = t.cli_party("Other ombudsman", "origin").await;
        t.cli_user(&other, "otto", &["caseworker"]).await;
        let (otto, _) = sign_in(t, "otto").await;
        assert_eq!(get(&otto, t, &list).await.0, StatusCode::NOT_FOUND);
        let api = t.login("otto", PASSWORD).await;
        expect_error(
            api.get(&format!("/api/v1/transfer-lists/{list_id}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let (_, index) = get(&otto, t, "/transfer-lists").await;
        assert!(!index.contains(list_id));
        assert_eq!(
            get(&o, t, &format!("/cases/{}/custody", id_of(a))).await.0,
            StatusCode::FORBIDDEN
        );

        // A humanitarian party does visits but reads no list; an observer neither.
        let ngo = t.cli_party("Field NGO", "humanitarian").await;
        t.cli_user(&ngo, "nadia", &["caseworker"]).await;
        let (nadia, _) = sign_in(t, "nadia").await;
        let (status, visits) = get(&nadia, t, "/follow-ups").await;
        assert_eq!(status, StatusCode::OK);
        assert!(visits.contains("id=\"no-visits\""));
        assert_eq!(get(&nadia, t, &list).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            get(&nadia, t, "/transfer-lists").await.0,
            StatusCode::FORBIDDEN
        );
        let nadia_api = t.login("nadia", PASSWORD).await;
        expect_error(
            nadia_api.get("/api/v1/transfer-lists").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        let observer = t.cli_party("Audit office", "observer").await;
        t.cli_user(&observer, "aud", &["auditor"]).await;
        let (aud, _) = sign_in(t, "aud").await;
        for path in [list.as_str(), "/transfer-lists", "/follow-ups"] {
            assert_eq!(get(&aud, t, path).await.0, StatusCode::FORBIDDEN, "{path}");
        }
        let (_, dash) = get(&aud, t, "/dashboard").await;
        assert!(
            !dash.contains("href=\"/transfer-lists\""),
            "no nav entry without access"
        );

        // Forms without the session's token are refused before anything changes.
        let res = post_form(
            &cw,
            t,
            &format!("{list}/step"),
            &[("step", "fix"), ("expected_version", "4")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    })
    .await;
}
