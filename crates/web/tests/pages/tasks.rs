//! Tasks for humanitarian organisations through the pages: the mediator refers a task from the
//! case page; the NGO finds it under "My tasks", sees only the brief, and reports the outcome;
//! another NGO gets the API's 404, and the NGO never sees the case.

use crate::case_forms::{located_case, part};
use crate::helpers::*;
use crate::*;
use reqwest::StatusCode;

#[tokio::test]
async fn an_ngo_reports_its_task_and_sees_nothing_else() {
    on_every_backend(async |t: &TestApp| {
        let case = located_case(t).await;
        let here = format!("/cases/{case}");
        let ngo = t.cli_party("Field NGO", "humanitarian").await;
        let other = t.cli_party("Other NGO", "humanitarian").await;
        t.cli_user(&ngo, "nadia", &["logistics"]).await;
        t.cli_user(&other, "omar", &["logistics"]).await;
        let ngo_id = ngo.id.to_string();

        // The mediator refers a verification visit from the case page.
        let (m, csrf) = sign_in(t, "mira").await;
        let (_, page) = get(&m, t, &here).await;
        let form = part(&page, "id=\"task-form\"", "</form>");
        assert!(
            form.contains("Field NGO") && form.contains("Other NGO"),
            "{form}"
        );
        assert!(
            !form.contains("Custody authority"),
            "only humanitarian parties: {form}"
        );
        let due = (chrono::Utc::now() + chrono::Duration::days(7))
            .date_naive()
            .to_string();
        let task_form = |due: &str| {
            vec![
                ("csrf".to_owned(), csrf.clone()),
                ("party".to_owned(), ngo_id.clone()),
                ("kind".to_owned(), "verification_visit".to_owned()),
                (
                    "instructions".to_owned(),
                    "Visit the children's home; show the mother's photographs".to_owned(),
                ),
                ("due".to_owned(), due.to_owned()),
            ]
        };
        // A due date in the past is refused on the form, the instructions kept.
        let res = m
            .post(t.url(&format!("{here}/tasks")))
            .form(&task_form("2020-01-01"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let bad = res.text().await.unwrap();
        let form = part(&bad, "id=\"task-form\"", "</form>");
        assert!(
            form.contains("data-field=\"due\"") && form.contains("show the mother"),
            "{form}"
        );
        let res = m
            .post(t.url(&format!("{here}/tasks")))
            .form(&task_form(&due))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, page) = get(&m, t, &here).await;
        let tasks = part(&page, "id=\"case-tasks\"", "</table>");
        assert!(
            tasks.contains("data-status=\"assigned\"") && tasks.contains("Field NGO"),
            "{tasks}"
        );
        let task = crate::review::first_link(tasks, "tasks");

        // The NGO's way in is "My tasks"; the task shows the brief and nothing of the case.
        let (n, ncsrf) = sign_in(t, "nadia").await;
        let (status, mine) = get(&n, t, "/tasks").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            mine.contains("href=\"/tasks\" aria-current=\"page\"")
                || mine.contains("aria-current=\"page\""),
            "in the navigation"
        );
        assert!(mine.contains(&format!("href=\"/tasks/{task}\"")), "{mine}");
        assert!(!mine.contains("href=\"/records\""), "no records for an NGO");
        let (status, page) = get(&n, t, &format!("/tasks/{task}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&page);
        let brief = part(&page, "id=\"brief\"", "</dl>");
        assert!(
            brief.contains("Александр") && brief.contains("2015-03-07"),
            "{brief}"
        );
        assert!(
            !brief.contains("Оксана"),
            "the enquirer is not in a visit's brief"
        );
        assert!(!page.contains(&case), "the case is never named to the NGO");
        assert!(!page.contains("href=\"/cases/"), "no way to the case");
        assert_eq!(get(&n, t, &here).await.0, StatusCode::FORBIDDEN);

        // Another NGO: the API's 404 for the task, the page and the report alike.
        let (o, ocsrf) = sign_in(t, "omar").await;
        let (_, theirs) = get(&o, t, "/tasks").await;
        assert!(!theirs.contains(&task), "{theirs}");
        assert_eq!(
            get(&o, t, &format!("/tasks/{task}")).await.0,
            StatusCode::NOT_FOUND
        );
        let res = post_form(
            &o,
            t,
            &format!("/tasks/{task}/report"),
            &[
                ("csrf", &ocsrf),
                ("done", "true"),
                ("outcome", "x"),
                ("expected_version", "1"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        // A report without an outcome is refused on the form; then the report goes in.
        let res = post_form(
            &n,
            t,
            &format!("/tasks/{task}/report"),
            &[
                ("csrf", &ncsrf),
                ("done", "false"),
                ("outcome", " "),
                ("expected_version", "1"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let bad = res.text().await.unwrap();
        let form = part(&bad, "id=\"report-form\"", "</form>");
        assert!(form.contains("data-field=\"outcome\""), "{form}");
        assert!(
            form.contains("value=\"false\" checked"),
            "the choice is kept: {form}"
        );
        let res = post_form(
            &n,
            t,
            &format!("/tasks/{task}/report"),
            &[
                ("csrf", &ncsrf),
                ("done", "true"),
                (
                    "outcome",
                    "child seen; recognised the mother on the photographs",
                ),
                ("expected_version", "1"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, page) = get(&n, t, &format!("/tasks/{task}")).await;
        assert!(page.contains("data-status=\"completed\""), "{page}");
        assert!(page.contains("recognised the mother"));
        assert!(!page.contains("id=\"report-form\""), "reported: no form");
        // Reporting again is the app's task_closed, on the page.
        let res = post_form(
            &n,
            t,
            &format!("/tasks/{task}/report"),
            &[
                ("csrf", &ncsrf),
                ("done", "true"),
                ("outcome", "again"),
                ("expected_version", "2"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert!(res.text().await.unwrap().contains("task_closed"));

        // The mediator sees the outcome on the case page; a second task is cancelled there.
        let (_, page) = get(&m, t, &here).await;
        let tasks = part(&page, "id=\"case-tasks\"", "</table>");
        assert!(
            tasks.contains("data-status=\"completed\"") && tasks.contains("recognised the mother"),
            "{tasks}"
        );
        let res = m
            .post(t.url(&format!("{here}/tasks")))
            .form(&task_form(&due))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, page) = get(&m, t, &here).await;
        let pat = format!("action=\"/cases/{case}/tasks/");
        let at = page.find(&pat).expect("a cancel form") + pat.len();
        let second = page[at..at + page[at..].find('/').unwrap()].to_owned();
        let res = post_form(
            &m,
            t,
            &format!("{here}/tasks/{second}/cancel"),
            &[
                ("csrf", &csrf),
                ("reason", "visit no longer needed"),
                ("expected_version", "1"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, page) = get(&m, t, &here).await;
        let row = part(&page, &format!("data-task=\"{second}\""), "</tr>");
        assert!(
            row.contains("data-status=\"cancelled\"") && row.contains("visit no longer needed"),
            "{row}"
        );
        // A task of this case cannot be cancelled through another case's page.
        let elsewhere = format!("/cases/{}/tasks/{task}/cancel", uuid::Uuid::now_v7());
        let res = post_form(
            &m,
            t,
            &elsewhere,
            &[("csrf", &csrf), ("reason", "x"), ("expected_version", "2")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    })
    .await;
}
