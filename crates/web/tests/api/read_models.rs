//! Read models are filtered field by field: every read model (JSON and page) × every role of every
//! party kind, in a world where every kind of object exists, and no answer carries a fact the
//! permission table does not let that role see.

use crate::attachments::{config, png, upload};
use crate::helpers::*;
use crate::transfer_world::{People, case_path, located_cases, ok, to_consent_obtained};
use homeward_domain::{PartyKind, Permission as P, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A fact seeded once into the world, by the text that marks it, and who may read it: derived
/// from the permission table (and the party kinds whose records hold it), not from the code that
/// filters.
struct Secret {
    what: &'static str,
    text: &'static str,
    may_see: fn(PartyKind, Role) -> bool,
}

fn granted(p: P, k: PartyKind, r: Role) -> bool {
    p.granted(k, &[r])
}

const SECRETS: &[Secret] = &[
    Secret {
        what: "an accountability fact",
        text: "ACCT-SENTINEL",
        may_see: |k, r| granted(P::AccountabilityRead, k, r),
    },
    Secret {
        // The enquirer is in the origin's tracing request only (no task brief here carries it).
        what: "the tracing request's enquirer",
        text: "Оксана Лисенко",
        may_see: |k, r| {
            granted(P::RecordRead, k, r) && matches!(k, PartyKind::Mediator | PartyKind::Origin)
        },
    },
    Secret {
        // Where the child is held is in the custody record only (the brief here is the name).
        what: "the custody record's location",
        text: "Детский дом № 4",
        may_see: |k, r| {
            granted(P::RecordRead, k, r) && matches!(k, PartyKind::Mediator | PartyKind::Custody)
        },
    },
    Secret {
        what: "a consent in the case",
        text: "CONSENT-GIVER-SENTINEL",
        may_see: |k, r| granted(P::CaseRead, k, r),
    },
    Secret {
        // The mediator reads every disclosure of its cases; the party told reads its own.
        what: "a disclosure to the origin side",
        text: "DISCLOSED-SENTINEL",
        may_see: |k, r| {
            granted(P::CaseRead, k, r)
                || (granted(P::DisclosureRead, k, r) && k == PartyKind::Origin)
        },
    },
    Secret {
        // A file attached to the origin's record follows the record.
        what: "a record's attachment",
        text: "RECORD-FILE-SENTINEL",
        may_see: |k, r| {
            granted(P::RecordRead, k, r) && matches!(k, PartyKind::Mediator | PartyKind::Origin)
        },
    },
    Secret {
        what: "a case's attachment",
        text: "CASE-FILE-SENTINEL",
        may_see: |k, r| granted(P::CaseRead, k, r),
    },
    Secret {
        // The follow-up visits are read by the side that does them, without the case.
        what: "the reunification's family environment",
        text: "REUNION-SENTINEL",
        may_see: |k, r| granted(P::CaseRead, k, r),
    },
    Secret {
        // Tasks are read by the mediator's task readers and the party the task is referred to
        // (the only humanitarian party here).
        what: "a task's instructions",
        text: "TASK-SENTINEL",
        may_see: |k, r| granted(P::TaskRead, k, r) || granted(P::TaskManage, k, r),
    },
];

fn user_name(k: PartyKind, r: Role) -> String {
    format!("u-{}-{}", k.as_str(), r.as_str())
}

/// Every GET of the API and every page that reads a model, with the world's ids filled in.
fn paths(ids: &Ids) -> Vec<String> {
    let Ids {
        case,
        record,
        custody_record,
        task,
        list,
        plan,
        candidate,
        duplicate,
        user,
        record_file,
        case_file,
    } = ids;
    let mut out: Vec<String> = [
        "/api/v1/me",
        "/api/v1/records",
        "/api/v1/records?include_deleted=true",
        "/api/v1/matches",
        "/api/v1/duplicates",
        "/api/v1/cases",
        "/api/v1/disclosures",
        "/api/v1/tasks",
        "/api/v1/follow-ups/overdue",
        "/api/v1/accountability",
        "/api/v1/transfer-lists",
        "/api/v1/users",
        "/api/v1/parties",
        "/api/v1/audit?limit=1000",
        "/dashboard",
        "/records",
        "/matches",
        "/tasks",
        "/follow-ups",
        "/audit",
        "/admin/users",
    ]
    .map(str::to_owned)
    .to_vec();
    out.extend([
        format!("/api/v1/cases/{case}"),
        format!("/api/v1/cases/{case}/history"),
        format!("/api/v1/cases/{case}/accountability"),
        format!("/api/v1/cases/{case}/custody-chain"),
        format!("/api/v1/cases/{case}/disclosures"),
        format!("/api/v1/cases/{case}/attachments"),
        format!("/api/v1/cases?record_id={record}"),
        format!("/api/v1/records/{record}"),
        format!("/api/v1/records/{record}/history"),
        format!("/api/v1/records/{record}/attachments"),
        format!("/api/v1/records/{custody_record}"),
        format!("/api/v1/records/{custody_record}/history"),
        format!("/api/v1/matches/{candidate}"),
        format!("/api/v1/duplicates/{duplicate}"),
        format!("/api/v1/tasks/{task}"),
        format!("/api/v1/transfer-lists/{list}"),
        format!("/api/v1/transfer-lists/{list}/versions"),
        format!("/api/v1/transfer-lists/{list}/plans"),
        format!("/api/v1/transfer-plans/{plan}"),
        format!("/api/v1/users/{user}"),
        format!("/api/v1/attachments/{record_file}"),
        format!("/api/v1/attachments/{case_file}"),
        format!("/api/v1/users/{user}/tokens"),
        format!("/cases/{case}"),
        format!("/cases/{case}/custody"),
        format!("/cases/{case}/custody-chain"),
        format!("/cases/{case}/summary"),
        format!("/cases/{case}/handovers/1/receipt"),
        format!("/transfer-lists/{list}/manifest"),
        format!("/records/{record}"),
        format!("/records/{custody_record}"),
        format!("/matches/{candidate}"),
        format!("/tasks/{task}"),
        format!("/transfer-lists/{list}"),
        format!("/transfer-plans/{plan}"),
        format!("/admin/users/{user}"),
    ]);
    out
}

struct Ids {
    case: String,
    record: String,
    custody_record: String,
    task: String,
    list: String,
    plan: String,
    candidate: String,
    duplicate: String,
    user: String,
    record_file: String,
    case_file: String,
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

/// The world: two children matched into cases, one with a consent, a disclosure, an
/// accountability fact and a task; a transfer list and its plan; a duplicate pair on the origin
/// side; one user of every role in a party of every kind.
async fn world(t: &TestApp) -> Ids {
    let ThreeSides {
        origin,
        custody,
        mediator,
    } = t.three_sides().await;
    let ngo = t.cli_party("Field NGO", "humanitarian").await;
    let observer = t.cli_party("Prosecutor", "observer").await;
    for (party, k) in [
        (&mediator, PartyKind::Mediator),
        (&origin, PartyKind::Origin),
        (&custody, PartyKind::Custody),
        (&ngo, PartyKind::Humanitarian),
        (&observer, PartyKind::Observer),
    ] {
        for r in Role::ALL {
            t.cli_user(party, &user_name(k, r), &[r.as_str()]).await;
        }
    }
    t.cli_user(&mediator, "petra", &["caseworker"]).await;
    t.cli_user(&mediator, "lev", &["logistics"]).await;
    let w = People {
        origin_id: origin.id.to_string(),
        custody_id: custody.id.to_string(),
        o: t.login("olena", PASSWORD).await,
        c: t.login("ivan", PASSWORD).await,
        reviewer: t.login("maria", PASSWORD).await,
        cw: t.login("petra", PASSWORD).await,
        logistics: t.login("lev", PASSWORD).await,
    };
    let cases = located_cases(&w, 2).await;
    let (filed, case) = &cases[0];
    let mut version = to_consent_obtained(&w, case).await;
    let consent = ok(w
        .cw
        .post(
            &case_path(case, "/consents"),
            &json!({
                "giver": { "kind": "legal_guardian", "name": "CONSENT-GIVER-SENTINEL", "relationship": "parent" },
                "scope": { "kind": "data_sharing", "fields": ["status_found"] },
                "decision": "given", "method": "written", "expected_version": version,
            }),
        )
        .await)
    .await;
    version = consent["version"].as_i64().unwrap();
    let disclosed = json!({
        "to_party": w.origin_id,
        "fields": [{ "field": "status_found", "value": "DISCLOSED-SENTINEL" }],
        "expected_version": version,
    });
    expect(
        w.cw.post(&case_path(case, "/disclosures"), &disclosed)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let fact = json!({
        "kind": "removal", "when": "2022-09", "place": "Kherson",
        "details": "ACCT-SENTINEL taken from the school",
        "sources": [{ "description": "witness statement" }],
    });
    expect(
        w.cw.post(&case_path(case, "/accountability"), &fact).await,
        StatusCode::CREATED,
    )
    .await;
    let task = expect(
        w.cw.post(
            &case_path(case, "/tasks"),
            &json!({
                "party": ngo.id, "kind": "verification_visit", "instructions": "TASK-SENTINEL",
                "due": "2030-01-01", "brief": ["child_name"],
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let body =
        json!({ "round": "Round 1", "origin_party": w.origin_id, "custody_party": w.custody_id });
    let list = expect(
        w.cw.post("/api/v1/transfer-lists", &body).await,
        StatusCode::CREATED,
    )
    .await;
    let lp = |rest: &str| format!("/api/v1/transfer-lists/{}{rest}", id(&list));
    let entry = json!({ "case_id": case["id"], "direction": "to_origin", "expected_version": 1 });
    ok(w.cw.post(&lp("/entries"), &entry).await).await;
    let proposed = ok(w
        .cw
        .post(&lp("/propose"), &json!({ "expected_version": 2 }))
        .await)
    .await;
    let hash = json!({ "hash": proposed["hash"] });
    ok(w.o.post(&lp("/approve"), &hash).await).await;
    let approved = ok(w.c.post(&lp("/approve"), &hash).await).await;
    let fix = json!({ "expected_version": approved["version"] });
    let fixed = ok(w.cw.post(&lp("/fix"), &fix).await).await;
    let plan = expect(
        w.logistics
            .post(
                "/api/v1/transfer-plans",
                &json!({ "list_id": list["id"], "cases": [case["id"]] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    travel_and_reunite(&w, case, &plan, &fixed).await;
    // A second tracing request for the first child, filed again by mistake: a duplicate.
    let again = json!({
        "names": [{ "given": "Олександр", "patronymic": "Андрійович", "family": "Лисенко" }],
        "sex": "male", "birth_date": "2015-03-07", "birth_place": "Маріуполь",
        "enquirer_name": "Оксана Лисенко", "enquirer_relationship": "mother",
    });
    expect(
        w.o.post("/api/v1/records", &again).await,
        StatusCode::CREATED,
    )
    .await;
    let dups = ok(w.o.get("/api/v1/duplicates").await).await;
    let attach = async |s: &Session, path: String, name: &str| {
        let res = upload(s, &path, Some("image/png"), Some(name), png()).await;
        id(&expect(res, StatusCode::CREATED).await)
    };
    let record_file = attach(
        &w.o,
        format!("/api/v1/records/{}/attachments", id(filed)),
        "RECORD-FILE-SENTINEL.png",
    )
    .await;
    let case_file = attach(
        &w.cw,
        case_path(case, "/attachments"),
        "CASE-FILE-SENTINEL.png",
    )
    .await;
    let duplicate = id(&dups["items"][0]);
    Ids {
        case: id(case),
        record: id(filed),
        custody_record: case["custody_record"].as_str().unwrap().to_owned(),
        task: id(&task),
        list: id(&list),
        plan: id(&plan),
        candidate: case["confirmed_match"]["match_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        duplicate,
        user: w.o.body["user"]["id"].as_str().unwrap().to_owned(),
        record_file,
        case_file,
    }
}

/// The plan approved, the child taken home and reunified: the follow-up visits are scheduled
/// (the first already overdue) for the origin side.
async fn travel_and_reunite(w: &People, case: &Value, plan: &Value, list: &Value) {
    let pp = |rest: &str| format!("/api/v1/transfer-plans/{}{rest}", id(plan));
    let mut v = 1;
    let mut step = async |method: reqwest::Method, rest: &str, mut body: Value| {
        body["expected_version"] = json!(v);
        let out = ok(w.logistics.send(method, &pp(rest), &body).await).await;
        v = out["version"].as_i64().unwrap();
    };
    let leg = json!({
        "from": "Rostov-on-Don", "to": "Kyiv", "mode": "road", "carrier": "Embassy convoy",
        "planned_departure": "2030-04-01T08:00:00Z", "planned_arrival": "2030-04-02T08:00:00Z",
    });
    step(reqwest::Method::POST, "/legs", leg).await;
    let costs =
        json!({ "costs": [{ "amount_minor": 1000, "currency": "EUR", "funded_by": "Mediator" }] });
    step(reqwest::Method::PUT, "/costs", costs).await;
    let escorts = json!({ "escorts": [{ "kind": "diplomat", "name": "Consul N." }] });
    step(reqwest::Method::PUT, "/escorts", escorts).await;
    let documents =
        json!({ "documents": [{ "case_id": case["id"], "kind": "passport", "ready": true }] });
    step(reqwest::Method::PUT, "/documents", documents).await;
    step(reqwest::Method::POST, "/approve", json!({})).await;
    let version = async || ok(w.cw.get(&case_path(case, "")).await).await["version"].clone();
    let to = json!({ "to": "in_transit", "expected_version": version().await });
    ok(w.cw.post(&case_path(case, "/transitions"), &to).await).await;
    let start = json!({ "expected_version": list["version"] });
    let lp = format!("/api/v1/transfer-lists/{}/start", id(list));
    ok(w.cw.post(&lp, &start).await).await;
    let ago = |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).to_rfc3339();
    let home = json!({ "kind": "custody_authority", "name": "Children's home No. 4" });
    let mother = json!({ "kind": "family", "name": "Oksana Lysenko" });
    let hand = json!({ "at": ago(45), "giver": home, "receiver": mother, "expected_version": version().await });
    ok(w.logistics
        .post(&case_path(case, "/handovers"), &hand)
        .await)
    .await;
    let to = json!({ "to": "handed_over", "expected_version": version().await });
    ok(w.cw.post(&case_path(case, "/transitions"), &to).await).await;
    let reunion = json!({
        "at": ago(42), "place": "Kyiv",
        "with_whom": [{ "name": "Oksana Lysenko", "relationship": "mother" }],
        "family_environment": "REUNION-SENTINEL lives with his mother",
        "expected_version": version().await,
    });
    ok(w.cw
        .post(&case_path(case, "/reunification"), &reunion)
        .await)
    .await;
    let due = ok(w.o.get("/api/v1/follow-ups/overdue").await).await;
    assert!(!due.as_array().unwrap().is_empty(), "{due}");
}

#[tokio::test]
async fn no_role_reads_a_field_the_permission_table_withholds() {
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(config(dir.path()), test_options(), async |t: &TestApp| {
        let ids = world(t).await;
        let paths = paths(&ids);
        let mut leaks = Vec::new();
        let mut seen = vec![0usize; SECRETS.len()];
        for k in PartyKind::ALL {
            for r in Role::ALL {
                let s = t.login(&user_name(k, r), PASSWORD).await;
                for p in &paths {
                    let res = s.get(p).await;
                    let status = res.status();
                    let body = res.text().await.unwrap();
                    assert!(
                        !status.is_server_error(),
                        "{p} as {k:?} {r:?}: {status} {body}"
                    );
                    for (i, secret) in SECRETS.iter().enumerate() {
                        if body.contains(secret.text) {
                            seen[i] += 1;
                            if !(secret.may_see)(k, r) {
                                leaks.push(format!("{p} shows {} to {k:?} {r:?}", secret.what));
                            }
                        }
                    }
                }
            }
        }
        assert!(
            leaks.is_empty(),
            "{} leaks:\n{}",
            leaks.len(),
            leaks.join("\n")
        );
        // The walk reaches every secret (it would prove nothing otherwise).
        for (i, n) in seen.iter().enumerate() {
            assert!(*n > 0, "no read shows {}", SECRETS[i].what);
        }
    })
    .await;
}

/// The case's own reads carry its accountability record only to those who may read it, and that
/// read is audited under the accountability endpoint's action.
#[tokio::test]
async fn a_case_read_carries_accountability_only_with_the_permission_and_audits_it() {
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(config(dir.path()), test_options(), async |t: &TestApp| {
        let ids = world(t).await;
        let log_of = async |actor: &str, action: &str| -> Vec<Value> {
            let aud = t
                .login(&user_name(PartyKind::Mediator, Role::Auditor), PASSWORD)
                .await;
            let log = ok(aud
                .get(&format!("/api/v1/audit?action={action}&limit=1000"))
                .await)
            .await;
            let id = t.login(actor, PASSWORD).await.body["user"]["id"].clone();
            log["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["actor_user"] == id)
                .cloned()
                .collect()
        };
        let case = format!("/api/v1/cases/{}", ids.case);
        for (who, may) in [
            (user_name(PartyKind::Mediator, Role::Logistics), false),
            (user_name(PartyKind::Mediator, Role::Viewer), true),
        ] {
            let s = t.login(&who, PASSWORD).await;
            let one = ok(s.get(&case).await).await;
            let history = ok(s.get(&format!("{case}/history")).await).await;
            let list = ok(s.get("/api/v1/cases").await).await;
            let carried = [
                &one["case"],
                &history.as_array().unwrap().last().unwrap()["case"],
                &list["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["case"]["id"] == ids.case.as_str())
                    .unwrap()["case"],
            ];
            for c in carried {
                assert_eq!(
                    c["accountability"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty()),
                    may,
                    "{who}: {c}"
                );
            }
            let withheld = if may {
                json!(null)
            } else {
                json!(["accountability"])
            };
            assert_eq!(one["withheld"], withheld, "{who}");
            let reads = log_of(&who, "accountability.read").await;
            let lists = log_of(&who, "accountability.list").await;
            assert_eq!(
                (reads.len(), lists.len()),
                if may { (2, 1) } else { (0, 0) },
                "{who}: {reads:?} {lists:?}"
            );
            if may {
                assert!(reads.iter().all(|e| e["target_id"] == ids.case.as_str()));
                let details: Value =
                    serde_json::from_str(lists[0]["details"].as_str().unwrap()).unwrap();
                let listed = details["case_ids"].as_array().unwrap();
                assert!(listed.contains(&json!(ids.case)), "{details}");
            }
            // The case page shows the workflow only, and reads no more than that.
            let page = s.get(&format!("/cases/{}", ids.case)).await;
            assert_eq!(page.status(), StatusCode::OK);
            assert_eq!(log_of(&who, "accountability.read").await.len(), reads.len());
        }
        // The answer to a change shows the workflow only, and reads no more than that either.
        let petra = t.login("petra", PASSWORD).await;
        let before = log_of("petra", "accountability.read").await.len();
        let current = ok(petra.get(&case).await).await;
        let read = log_of("petra", "accountability.read").await.len();
        assert_eq!(read, before + 1);
        let body = json!({
            "assessed_by": "psychologist", "findings": "settled at home",
            "expected_version": current["version"],
        });
        let changed = ok(petra.post(&format!("{case}/assessments"), &body).await).await;
        assert_eq!(changed["withheld"], json!(["accountability"]), "{changed}");
        assert_eq!(changed["case"]["accountability"], json!([]));
        assert_eq!(log_of("petra", "accountability.read").await.len(), read);
    })
    .await;
}

/// The text of every page of a PDF, as a reader's copy-and-paste would get it (through each
/// font's ToUnicode map).
fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("the PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert!(!pages.is_empty());
    doc.extract_text(&pages).expect("its text extracts")
}

/// Every printable document in every language, as HTML and as PDF, names the child as written
/// and transliterated; printing is one audit entry; a reader the page refuses is refused the
/// document too.
#[tokio::test]
async fn printable_documents_name_the_child_in_every_language_within_the_page_scope() {
    let dir = tempfile::tempdir().unwrap();
    on_every_backend_with(config(dir.path()), test_options(), async |t: &TestApp| {
        let ids = world(t).await;
        let cw = t.login("petra", PASSWORD).await;
        let number = ok(cw.get(&format!("/api/v1/cases/{}", ids.case)).await).await["number"]
            .as_str()
            .unwrap()
            .to_owned();
        let case_docs = [
            format!("/cases/{}/summary", ids.case),
            format!("/cases/{}/custody-chain", ids.case),
            format!("/cases/{}/handovers/1/receipt", ids.case),
        ];
        let manifest = format!("/transfer-lists/{}/manifest", ids.list);
        let dump = std::env::var_os("HOMEWARD_DOCUMENT_DUMP");
        for doc in case_docs.iter().chain([&manifest]) {
            for lang in ["en", "uk", "ru", "ar"] {
                let res = cw.get(&format!("{doc}?lang={lang}")).await;
                assert_eq!(res.status(), StatusCode::OK, "{doc} {lang}");
                let html = res.text().await.unwrap();
                let dir = if lang == "ar" { "rtl" } else { "ltr" };
                assert!(
                    html.contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")),
                    "{html}"
                );
                for text in [
                    "Олександр Андрійович Лисенко",
                    "Oleksandr Andriiovych Lysenko",
                    "2015-03-07",
                    number.as_str(),
                ] {
                    assert!(
                        html.contains(text),
                        "{doc} {lang}: {text} missing from {html}"
                    );
                }
                let res = cw.get(&format!("{doc}?lang={lang}&format=pdf")).await;
                assert_eq!(res.status(), StatusCode::OK, "{doc} {lang} pdf");
                assert_eq!(res.headers()["content-type"], "application/pdf");
                let bytes = res.bytes().await.unwrap();
                if let Some(d) = &dump {
                    let name = doc.trim_start_matches('/').replace('/', "_");
                    std::fs::write(
                        std::path::Path::new(d).join(format!("{name}.{lang}.pdf")),
                        &bytes,
                    )
                    .unwrap();
                }
                let text = pdf_text(&bytes);
                for word in ["Лисенко", "Lysenko", &number] {
                    assert!(
                        text.contains(word),
                        "{doc} {lang}: {word} missing from the PDF's text {text}"
                    );
                }
            }
        }
        // Arabic labels are in the Arabic PDF, each shaped glyph mapped back to its letter. The
        // glyphs are stored in the order they are drawn (left to right), which a plain extractor
        // reads backwards; a reader's viewer (pdftotext too) puts them back in reading order.
        let ar = cw
            .get(&format!("{}?lang=ar&format=pdf", case_docs[0]))
            .await;
        let text = pdf_text(&ar.bytes().await.unwrap());
        let drawn: String = "الطفل".chars().rev().collect();
        assert!(text.contains(&drawn), "{text}");

        // Printing is one entry in the log, naming the document.
        let auditor = t
            .login(&user_name(PartyKind::Mediator, Role::Auditor), PASSWORD)
            .await;
        let petra = cw.body["user"]["id"].clone();
        let mine = async || -> Vec<Value> {
            let log = ok(auditor.get("/api/v1/audit?limit=1000").await).await;
            log["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["actor_user"] == petra)
                .cloned()
                .collect()
        };
        let before = mine().await.len();
        let res = cw.get(&format!("{}?format=pdf", case_docs[2])).await;
        assert_eq!(res.status(), StatusCode::OK);
        let after = mine().await;
        assert_eq!(after.len(), before + 1, "{after:?}");
        let details = after
            .iter()
            .map(|e| e["details"].as_str().unwrap_or_default())
            .collect::<Vec<_>>();
        assert!(
            details.iter().any(|d| d.contains("handover_receipt.1.pdf")),
            "{details:?}"
        );
        let before = after.len();
        let res = cw.get(&format!("{manifest}?format=pdf")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let after = mine().await;
        assert_eq!(after.len(), before + 1, "{after:?}");
        let printed = after.iter().find(|e| {
            e["details"]
                .as_str()
                .unwrap_or_default()
                .contains("manifest.pdf")
        });
        assert_eq!(
            printed.map(|e| e["action"].clone()),
            Some(json!("transfer_list.read")),
            "{after:?}"
        );

        // Each side's manifest names the children as its own records do, and nothing of the
        // other side's records (the list page's scope).
        for (user, own, other) in [
            ("olena", "Олександр Андрійович Лисенко", "Лысенко"),
            ("ivan", "Александр Андреевич Лысенко", "Лисенко"),
        ] {
            let side = t.login(user, PASSWORD).await;
            let html = side.get(&manifest).await;
            assert_eq!(html.status(), StatusCode::OK, "{user}");
            let html = html.text().await.unwrap();
            assert!(
                html.contains(own) && !html.contains(other),
                "{user}: {html}"
            );
            let pdf = side.get(&format!("{manifest}?format=pdf")).await;
            let text = pdf_text(&pdf.bytes().await.unwrap());
            assert!(!text.contains(other), "{user}: {text}");
        }

        // Whoever the page refuses, the document refuses: a side reads no case, the observer
        // and the NGO no transfer list; a handover that does not exist is not found.
        for (k, r, path) in [
            (PartyKind::Origin, Role::Caseworker, &case_docs[0]),
            (PartyKind::Custody, Role::Admin, &case_docs[1]),
            (PartyKind::Observer, Role::Viewer, &case_docs[2]),
            (PartyKind::Observer, Role::Viewer, &manifest),
            (PartyKind::Humanitarian, Role::Caseworker, &manifest),
        ] {
            let s = t.login(&user_name(k, r), PASSWORD).await;
            for q in ["", "?format=pdf"] {
                let res = s.get(&format!("{path}{q}")).await;
                assert!(
                    matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                    "{path}{q} as {k:?} {r:?}: {}",
                    res.status()
                );
                assert_ne!(res.headers()["content-type"], "application/pdf");
            }
        }
        let missing = cw
            .get(&format!("/cases/{}/handovers/9/receipt", ids.case))
            .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    })
    .await;
}
