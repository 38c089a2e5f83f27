//! Exports of transfer lists, plans and follow-up visits: each party exports only what its reads
//! show it (a side its lists as its side view shows them, the origin side the visits it is
//! responsible for, plans the mediator only); the chosen columns are the columns written; every
//! format opens; a CSV cell that starts like a formula is guarded.
//!
//! The round is set up in the store directly (two cases confirmed through the app, a list per
//! origin party, a plan, follow-up visits): the exports read what is stored, whichever way it
//! came there.

use super::common::{World, worlds};
use super::{config, sides};
use chrono::{Duration, Utc};
use homeward_app::console::Console;
use homeward_app::exports::{ExportFilters, ExportFormat, ExportRequest, FollowUpState};
use homeward_app::matching::CaseView as StoredCase;
use homeward_app::{AppError, Caller};
use homeward_domain::name::NameInput;
use homeward_domain::{
    AuditAction, AuditDraft, ChildRecordInput, Direction, Escort, EscortKind, FollowUp, Leg, LegId,
    ListState, PartyId, PlanApproval, TransferList, TransferListEntry, TransferListId,
    TransferPlanId, TravelMode, TravelPlan,
};
use homeward_store::CaseChange;
use std::io::Read;

/// A round to export: `other` is a second origin party, with a list of its own.
struct Round {
    origin: Caller,
    custody: Caller,
    mediator: Caller,
    other: Caller,
    /// The origin's case (Дмитро / Дмитрий) and the other origin's (Марія / Мария).
    ours: StoredCase,
    theirs: StoredCase,
    ngo: PartyId,
}

fn named(given: &str, family: &str, sex: &str, place: Option<&str>) -> ChildRecordInput {
    ChildRecordInput {
        names: vec![NameInput {
            given: Some(given.into()),
            family: Some(family.into()),
            ..Default::default()
        }],
        sex: Some(sex.into()),
        birth_date: Some("2014-05-14".into()),
        current_location: place.map(Into::into),
        ..Default::default()
    }
}

fn sought(given: &str, family: &str, sex: &str) -> ChildRecordInput {
    ChildRecordInput {
        enquirer_name: Some("Оксана Коваль".into()),
        enquirer_relationship: Some("mother".into()),
        ..named(given, family, sex, None)
    }
}

/// Files the sought child on `origin`'s side and the held one on custody's, and confirms them.
async fn case_of(
    w: &World,
    reviewer: &Caller,
    origin: &Caller,
    custody: &Caller,
    sought: ChildRecordInput,
    held: ChildRecordInput,
) -> StoredCase {
    let sought = w.app.create_record(origin, &sought).await.unwrap();
    let held = w.app.create_record(custody, &held).await.unwrap();
    let queue = w
        .app
        .review_queue(
            reviewer,
            &homeward_app::matching::QueueQuery {
                min_probability: Some(0.0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let pair = queue
        .items
        .iter()
        .find(|c| c.tracing_record_id == sought.id && c.custody_record_id == held.id)
        .expect("the pair is a candidate");
    let decided = w
        .app
        .confirm_candidate(reviewer, pair.id, Some("same child"))
        .await
        .unwrap();
    decided.case.expect("a case")
}

fn audit(by: &Caller, action: AuditAction) -> AuditDraft {
    AuditDraft {
        actor_user: Some(by.user().id),
        actor_party: Some(by.party().id),
        ..AuditDraft::new(action)
    }
}

async fn round(w: &World) -> Round {
    let s = sides(w).await;
    let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
    let second = w
        .app
        .create_party(Console::actor(), "Origin 2", "origin")
        .await
        .unwrap();
    let other = w.user(second.id, "o2.cw", &["caseworker"]).await;
    let ngo = w
        .app
        .create_party(Console::actor(), "Aid NGO", "humanitarian")
        .await
        .unwrap();
    let ours = case_of(
        w,
        &reviewer,
        &s.origin,
        &s.custody,
        sought("Дмитро", "Олійник", "m"),
        named("Дмитрий", "Олейник", "m", Some("Детский дом № 4")),
    )
    .await;
    let theirs = case_of(
        w,
        &reviewer,
        &other,
        &s.custody,
        sought("Марія", "Коваленко", "f"),
        named("Мария", "Коваленко", "f", Some("Детский дом № 2")),
    )
    .await;
    let r = Round {
        origin: s.origin,
        custody: s.custody,
        mediator: s.mediator,
        other,
        ours,
        theirs,
        ngo: ngo.id,
    };
    let store = w.db.open().await.unwrap();
    // A list per origin party; the first one's round starts like a formula.
    for (round, origin, case) in [
        ("=HYPERLINK(\"x\") round 1", &r.origin, &r.ours),
        ("Round 2", &r.other, &r.theirs),
    ] {
        let now = Utc::now();
        let mut list = TransferList::new(
            TransferListId::new(),
            round,
            origin.party().id,
            r.custody.party().id,
            r.mediator.user().id,
            now,
        )
        .unwrap();
        list.state = ListState::Proposed;
        list.entries.push(TransferListEntry {
            case_id: case.case.id,
            tracing_request: case.case.tracing_request.unwrap(),
            custody_record: case.case.custody_record.unwrap(),
            direction: Direction::ToOrigin,
            added_at: now,
            added_by: r.mediator.user().id,
            withdrawal: None,
        });
        let stored = store
            .insert_transfer_list(&list, audit(&r.mediator, AuditAction::TransferListCreate))
            .await
            .unwrap();
        // The first list travels by an approved plan, by road then by rail.
        if case.case.id == r.ours.case.id {
            let mut plan = TravelPlan::new(
                TransferPlanId::new(),
                stored.list.id,
                vec![case.case.id],
                r.mediator.user().id,
                now,
            )
            .unwrap();
            for (from, to, mode, day) in [
                ("Ростов-на-Дону", "Москва", TravelMode::Road, 1),
                ("Москва", "Київ", TravelMode::Rail, 2),
            ] {
                plan.legs.push(Leg {
                    id: LegId::new(),
                    from: from.into(),
                    to: to.into(),
                    mode,
                    planned_departure: now + Duration::days(day),
                    planned_arrival: now + Duration::days(day) + Duration::hours(8),
                    actual_departure: None,
                    actual_arrival: None,
                    carrier: None,
                    history: Vec::new(),
                });
            }
            plan.escorts.push(Escort {
                kind: EscortKind::Diplomat,
                name: "-Consul Ana Pereira".into(),
                party: None,
            });
            plan.approval = Some(PlanApproval {
                by: r.mediator.user().id,
                at: now,
            });
            let mut work = store.begin_transfer_work().await.unwrap();
            work.insert_plan(&plan).await.unwrap();
            work.commit(audit(&r.mediator, AuditAction::TransferPlanCreate), vec![])
                .await
                .unwrap();
        }
    }
    // Follow-ups: ours has one overdue for the origin and one done for the NGO; theirs one for
    // the other origin party.
    let today = Utc::now().date_naive();
    for (case, visits) in [
        (
            &r.ours,
            vec![
                FollowUp::scheduled(today - Duration::days(3), Some(r.origin.party().id)),
                FollowUp {
                    done_at: Some(Utc::now() - Duration::days(1)),
                    outcome: Some("=1+1 the child is well".into()),
                    ..FollowUp::scheduled(today - Duration::days(5), Some(r.ngo))
                },
            ],
        ),
        (
            &r.theirs,
            vec![FollowUp::scheduled(
                today + Duration::days(20),
                Some(r.other.party().id),
            )],
        ),
    ] {
        // One unit of work, as the follow-up use-case writes a case.
        let mut work = store.begin_case_work().await.unwrap();
        let mut c = work.case(case.case.id).await.unwrap().unwrap();
        c.case.follow_ups = visits;
        work.save(CaseChange {
            case: &c.case,
            expected_version: c.version,
            change: "follow_up_schedule",
            by: r.mediator.user().id,
            at: Utc::now(),
        })
        .await
        .unwrap();
        work.commit(audit(&r.mediator, AuditAction::FollowUpSchedule), vec![])
            .await
            .unwrap();
    }
    r
}

fn ask(subject: &str, format: ExportFormat, columns: &[&str]) -> ExportRequest {
    ExportRequest {
        subject: subject.into(),
        format,
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        filters: ExportFilters::default(),
        protected: false,
    }
}

/// Asks, lets the job run (inline) and downloads the file.
async fn file(w: &World, who: &Caller, req: &ExportRequest) -> Vec<u8> {
    let e = w.app.request_export(who, req).await.unwrap();
    assert_eq!(e.state, "done", "{e:?}");
    w.app.download_export(who, e.id, None).await.unwrap().bytes
}

/// The CSV's header and rows.
async fn csv_rows(w: &World, who: &Caller, req: &ExportRequest) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = file(w, who, req).await;
    let mut rd = csv::Reader::from_reader(bytes.as_slice());
    let header = rd.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = rd
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// The JSON's rows.
async fn json_rows(w: &World, who: &Caller, req: &ExportRequest) -> Vec<serde_json::Value> {
    let bytes = file(w, who, req).await;
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v.as_array().unwrap().clone()
}

/// The text of an XLSX's first sheet and its shared strings (as the record test reads it).
async fn xlsx_text(w: &World, who: &Caller, req: &ExportRequest) -> String {
    let bytes = file(w, who, req).await;
    let mut xlsx = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    xlsx.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    if let Ok(mut f) = xlsx.by_name("xl/sharedStrings.xml") {
        f.read_to_string(&mut text).unwrap();
    }
    text
}

fn code_of(e: &AppError) -> String {
    match e {
        AppError::Validation(v) => v.0[0].code.to_string(),
        other => other.code().to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn transfer_lists_are_exported_as_each_side_sees_them() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let r = round(&w).await;
        let cols = [
            "round",
            "case_number",
            "tracing_request",
            "custody_record",
            "name",
            "name_latin",
        ];
        let req = ask("transfer_lists", ExportFormat::Csv, &cols);
        let ours = (r.ours.case.tracing_request.unwrap(), r.ours.number);

        // The origin: its own list only, its own record, its own spelling; no case, no other
        // side's record.
        let (header, rows) = csv_rows(&w, &r.origin, &req).await;
        assert_eq!(header, cols);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            rows[0],
            [
                "'=HYPERLINK(\"x\") round 1",
                "",
                &ours.0.to_string(),
                "",
                "Дмитро Олійник",
                "Dmytro Oliinyk"
            ],
            "guarded against formulas, scoped to the side"
        );

        // Custody: both lists, its own records under the Russian spelling.
        let (_, rows) = csv_rows(&w, &r.custody, &req).await;
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(
            rows.iter()
                .all(|row| row[1].is_empty() && row[2].is_empty())
        );
        let mut names: Vec<&str> = rows.iter().map(|row| row[4].as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["Дмитрий Олейник", "Мария Коваленко"]);

        // The mediator: both lists, the case numbers and both sides' names.
        let rows = json_rows(
            &w,
            &r.mediator,
            &ask("transfer_lists", ExportFormat::Json, &[]),
        )
        .await;
        assert_eq!(rows.len(), 2);
        let row = rows
            .iter()
            .find(|row| row["case_number"] == ours.1.to_string())
            .unwrap_or_else(|| panic!("{rows:?}"));
        assert_eq!(row.as_object().unwrap().len(), 16, "every column: {row}");
        assert_eq!(row["direction"], "to_origin");
        assert_eq!(row["list_state"], "proposed");
        let name = row["name"].as_str().unwrap();
        assert!(
            name.contains("Дмитро") && name.contains("Дмитрий"),
            "{name}"
        );

        // Filters: by round, by state; XLSX opens.
        let mut req = ask("transfer_lists", ExportFormat::Xlsx, &["round", "name"]);
        req.filters.round = Some("Round 2".into());
        let text = xlsx_text(&w, &r.custody, &req).await;
        assert!(
            text.contains("Мария Коваленко") && !text.contains("Дмитрий"),
            "{text}"
        );
        let mut req = ask("transfer_lists", ExportFormat::Json, &[]);
        req.filters.list_state = Some(ListState::Fixed);
        assert!(json_rows(&w, &r.mediator, &req).await.is_empty());
        let mut bad = ask("transfer_lists", ExportFormat::Csv, &[]);
        bad.filters.sex = Some(homeward_domain::Sex::Male);
        let err = w.app.request_export(&r.origin, &bad).await.unwrap_err();
        assert_eq!(code_of(&err), "export_filter_not_for_subject");
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_are_the_mediators_and_name_the_children_on_them() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let r = round(&w).await;
        let cols = [
            "case_number",
            "name_latin",
            "route",
            "modes",
            "escorts",
            "round",
        ];
        let (header, rows) =
            csv_rows(&w, &r.mediator, &ask("plans", ExportFormat::Csv, &cols)).await;
        assert_eq!(header, cols);
        assert_eq!(rows.len(), 1, "{rows:?}");
        let row = &rows[0];
        assert_eq!(row[0], r.ours.number.to_string());
        assert!(row[1].contains("Dmytro"), "{row:?}");
        assert_eq!(row[2], "Ростов-на-Дону → Москва → Київ");
        assert_eq!(row[3], "road | rail");
        assert_eq!(row[4], "'-Consul Ana Pereira (diplomat)", "guarded");
        assert_eq!(row[5], "'=HYPERLINK(\"x\") round 1", "guarded");

        let rows = json_rows(&w, &r.mediator, &ask("plans", ExportFormat::Json, &[])).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].as_object().unwrap().len(), 18);
        assert!(rows[0]["approved_at"].is_string(), "{}", rows[0]);
        let mut req = ask("plans", ExportFormat::Json, &[]);
        req.filters.plan_approved = Some(false);
        assert!(json_rows(&w, &r.mediator, &req).await.is_empty());
        let text = xlsx_text(&w, &r.mediator, &ask("plans", ExportFormat::Xlsx, &[])).await;
        assert!(text.contains("Ростов-на-Дону → Москва → Київ"), "{text}");

        // The sides do not read plans, so they export none.
        for side in [&r.origin, &r.custody] {
            let err = w
                .app
                .request_export(side, &ask("plans", ExportFormat::Csv, &[]))
                .await
                .unwrap_err();
            assert_eq!(err.code(), "forbidden", "{err:?}");
        }
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_ups_are_exported_to_those_responsible_for_them_and_the_mediator() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let r = round(&w).await;
        let cols = ["case_number", "record_id", "name", "state", "responsible"];
        let req = ask("follow_ups", ExportFormat::Csv, &cols);

        // The origin: the one visit it is responsible for, its own record and spelling.
        let (header, rows) = csv_rows(&w, &r.origin, &req).await;
        assert_eq!(header, cols);
        assert_eq!(
            rows,
            [[
                r.ours.number.to_string(),
                r.ours.case.tracing_request.unwrap().to_string(),
                "Дмитро Олійник".to_owned(),
                "overdue".to_owned(),
                "Origin".to_owned(),
            ]]
        );
        // The other origin party: its own one.
        let (_, rows) = csv_rows(&w, &r.other, &req).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], r.theirs.number.to_string());
        assert_eq!(rows[0][3], "open");
        // Custody is responsible for no visit and does not read them.
        let err = w.app.request_export(&r.custody, &req).await.unwrap_err();
        assert_eq!(err.code(), "forbidden");

        // The mediator: every visit, both sides' names; the outcome guarded in CSV.
        let (_, rows) = csv_rows(
            &w,
            &r.mediator,
            &ask(
                "follow_ups",
                ExportFormat::Csv,
                &["case_number", "name", "state", "outcome"],
            ),
        )
        .await;
        assert_eq!(rows.len(), 3, "{rows:?}");
        let done = rows.iter().find(|row| row[2] == "done").unwrap();
        assert_eq!(done[3], "'=1+1 the child is well");
        assert!(done[1].contains("Дмитрий"), "{done:?}");

        // Filters: state and the period of the due date; JSON and XLSX open.
        let mut req = ask("follow_ups", ExportFormat::Json, &[]);
        req.filters.follow_up_state = Some(FollowUpState::Overdue);
        let rows = json_rows(&w, &r.mediator, &req).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].as_object().unwrap().len(), 13);
        assert_eq!(rows[0]["responsible"], "Origin");
        let mut req = ask("follow_ups", ExportFormat::Xlsx, &["name", "due"]);
        req.filters.due_from = Some(Utc::now().date_naive());
        let text = xlsx_text(&w, &r.mediator, &req).await;
        assert!(text.contains("Марія") && !text.contains("Дмитро"), "{text}");
        let mut bad = ask("follow_ups", ExportFormat::Csv, &[]);
        bad.filters.due_from = Some(Utc::now().date_naive());
        bad.filters.due_to = Some(Utc::now().date_naive() - Duration::days(1));
        let err = w.app.request_export(&r.mediator, &bad).await.unwrap_err();
        assert_eq!(code_of(&err), "out_of_range");
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_case_export_has_the_case_number() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let r = round(&w).await;
        let (header, rows) = csv_rows(
            &w,
            &r.mediator,
            &ask("cases", ExportFormat::Csv, &["case_number", "name_latin"]),
        )
        .await;
        assert_eq!(header, ["case_number", "name_latin"]);
        let mut numbers: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
        numbers.sort_unstable();
        let mut want = [r.ours.number.to_string(), r.theirs.number.to_string()];
        want.sort_unstable();
        assert_eq!(numbers, want);
        assert!(
            numbers
                .iter()
                .all(|n| n.parse::<homeward_domain::CaseNumber>().is_ok())
        );
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_job_reads_as_the_requester_is_when_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let r = round(&w).await;
        let queued = w.app.without_inline_jobs();
        let cols = ["case_number", "name"];
        let asked = [
            (&r.origin, ask("follow_ups", ExportFormat::Csv, &cols)),
            (&r.custody, ask("transfer_lists", ExportFormat::Csv, &cols)),
        ];
        let mut ids = Vec::new();
        for (who, req) in &asked {
            let e = queued.request_export(who, req).await.unwrap();
            assert_eq!(e.state, "queued");
            ids.push(e.id);
        }
        // Before the jobs run, the origin caseworker becomes a viewer (who does no visits) and
        // the custody caseworker is disabled.
        let cli = Console::actor();
        w.app
            .update_user(cli, r.origin.user().id, Some(vec!["viewer".into()]), None)
            .await
            .unwrap();
        w.app
            .update_user(cli, r.custody.user().id, None, Some(true))
            .await
            .unwrap();
        while w.app.run_job("test", None).await.unwrap().is_some() {}
        for ((who, _), id) in asked.iter().zip(ids) {
            let e = w.app.get_export(who, id).await.unwrap();
            assert_eq!((e.state.as_str(), e.progress_total), ("done", 0), "{e:?}");
        }
        w.finish().await;
    }
}

/// The names a list page shows come in each reader's scope: a side only the children of its own
/// records, no case number, no user; the mediator the case numbers, both records and the users
/// asked for; a side handing in the mediator's view is told nothing. The plan's names are the
/// mediator's, with the round.
#[tokio::test]
async fn list_pages_name_people_in_each_readers_scope() {
    let dir = tempfile::tempdir().unwrap();
    for w in worlds(config(dir.path())).await {
        let r = round(&w).await;
        let lists = w
            .app
            .list_transfer_lists(&r.origin, &Default::default())
            .await
            .unwrap();
        let [homeward_app::transfers::ListView::Party(own)] = lists.as_slice() else {
            panic!("one list for the origin: {lists:?}");
        };
        let (tracing, held) = (
            r.ours.case.tracing_request.unwrap(),
            r.ours.case.custody_record.unwrap(),
        );
        let users = [r.mediator.user().id];
        for (side, record) in [(&r.origin, tracing), (&r.custody, held)] {
            let view = w.app.get_transfer_list(side, own.id).await.unwrap();
            let p = w
                .app
                .transfer_list_people(side, &view, None, &users)
                .await
                .unwrap();
            let keys: Vec<_> = p.children.keys().copied().collect();
            assert_eq!(keys, [record], "a side names its own record only");
            assert!(p.numbers.is_empty() && p.users.is_empty() && p.records_of.is_empty());
        }
        let view = w.app.get_transfer_list(&r.mediator, own.id).await.unwrap();
        let p = w
            .app
            .transfer_list_people(&r.mediator, &view, None, &users)
            .await
            .unwrap();
        assert_eq!(p.numbers.get(&r.ours.case.id), Some(&r.ours.number));
        assert!(p.children.contains_key(&tracing) && p.children.contains_key(&held));
        assert_eq!(
            p.users.get(&r.mediator.user().id).map(String::as_str),
            Some(r.mediator.user().display_name.as_str())
        );
        let refused = w
            .app
            .transfer_list_people(&r.origin, &view, None, &users)
            .await;
        assert!(matches!(refused, Err(AppError::NotFound)), "{refused:?}");

        let plans = w
            .app
            .transfer_plans_of_list(&r.mediator, own.id)
            .await
            .unwrap();
        let (round, p) = w
            .app
            .transfer_plan_people(&r.mediator, &plans[0].plan, &users)
            .await
            .unwrap();
        assert_eq!(round, "=HYPERLINK(\"x\") round 1");
        assert_eq!(p.numbers.get(&r.ours.case.id), Some(&r.ours.number));
        let (round, p) = w
            .app
            .transfer_plan_people(&r.custody, &plans[0].plan, &users)
            .await
            .unwrap_or_default();
        assert!(
            round.is_empty() && p.children.is_empty(),
            "the plan's names are the mediator's"
        );

        // Cases named without their list: the mediator's only.
        let ids = [r.ours.case.id];
        let p = w.app.cases_named(&r.mediator, &ids).await.unwrap();
        assert_eq!(p.numbers.get(&r.ours.case.id), Some(&r.ours.number));
        assert_eq!(p.records_of[&r.ours.case.id], [tracing, held]);
        assert!(p.children.contains_key(&tracing) && p.children.contains_key(&held));
        let p = w.app.cases_named(&r.origin, &ids).await.unwrap();
        assert!(
            p.numbers.is_empty() && p.children.is_empty(),
            "a side is told nothing"
        );
    }
}
