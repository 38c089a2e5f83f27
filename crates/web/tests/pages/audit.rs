//! The audit viewer: newest entries first, a page at a time, filters in the form body, each entry
//! in full, the chain verified on demand (and a tampered entry named); the viewer's own reads
//! audited like the API's; the API's refusal for everyone else.

use crate::helpers::*;
use crate::*;
use homeward_app::AuditFilter;
use homeward_app::console::Console;
use reqwest::StatusCode;

/// The sequence numbers of the entries listed on a page, in order.
fn seqs(html: &str) -> Vec<i64> {
    html.match_indices("<tr data-seq=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

/// The log as the app gives it to an auditor (that read is itself appended after it).
async fn entries(t: &TestApp, filter: AuditFilter) -> Vec<homeward_domain::AuditEntry> {
    let aud = Console::new(&t.app).caller("aud").await.unwrap();
    t.app
        .list_audit(
            &aud,
            AuditFilter {
                limit: 1000,
                ..filter
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn an_auditor_pages_filters_opens_and_verifies_the_log() {
    on_every_backend(async |t: &TestApp| {
        let observer = t.cli_party("Audit office", "observer").await;
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&observer, "aud", &["auditor"]).await;
        let admin = t.cli_user(&mediator, "admin", &["admin"]).await;
        // Enough entries for more than one page.
        for i in 0..60 {
            t.cli_party(&format!("Party {i}"), "humanitarian").await;
        }
        t.login("admin", PASSWORD).await;
        let (c, csrf) = sign_in(t, "aud").await;

        let (status, page) = get(&c, t, "/audit").await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&page);
        let reads = entries(
            t,
            AuditFilter {
                action: Some("audit.read".into()),
                ..AuditFilter::default()
            },
        )
        .await;
        let read = reads.last().expect("the viewer's read is audited");
        assert!(read.details.contains("\"count\":50"), "{}", read.details);
        assert!(
            read.source
                .as_deref()
                .is_some_and(|s| s.starts_with("127."))
        );
        let first = seqs(&page);
        assert_eq!(first.len(), 50);
        assert!(first.windows(2).all(|w| w[0] > w[1]), "newest first");
        assert!(page.contains("auth.login") && page.contains("Not verified yet"));

        // The next page carries on below the last entry shown, with no overlap.
        let last = first.last().unwrap().to_string();
        let res = post_form(&c, t, "/audit", &[("csrf", &csrf), ("before", &last)]).await;
        let second = seqs(&res.text().await.unwrap());
        assert!(!second.is_empty());
        assert!(second.iter().all(|s| s < first.last().unwrap()));
        assert_eq!(*second.last().unwrap(), 1);

        // Filters: by who (username, in the body), by action, by time.
        let res = post_form(&c, t, "/audit", &[("csrf", &csrf), ("actor", "admin")]).await;
        let page = res.text().await.unwrap();
        let by_admin = seqs(&page);
        let api: Vec<i64> = entries(
            t,
            AuditFilter {
                actor_user: Some(admin.id),
                ..AuditFilter::default()
            },
        )
        .await
        .iter()
        .rev()
        .map(|e| e.seq)
        .collect();
        assert_eq!(by_admin, api);
        assert!(!by_admin.is_empty() && page.contains("value=\"admin\""));
        assert!(
            page.contains("<td><code>admin</code></td>"),
            "actors by username"
        );
        let res = post_form(
            &c,
            t,
            "/audit",
            &[("csrf", &csrf), ("action", "user.create")],
        )
        .await;
        assert_eq!(seqs(&res.text().await.unwrap()).len(), 2);
        // Targets by name, not id: a party by its name, a user by display name.
        let res = post_form(
            &c,
            t,
            "/audit",
            &[("csrf", &csrf), ("action", "party.create")],
        )
        .await;
        let page = res.text().await.unwrap();
        assert!(page.contains("<code>party Party 59</code>"), "{page}");
        assert!(!page.contains(&observer.id.to_string()), "{page}");
        let res = post_form(
            &c,
            t,
            "/audit",
            &[("csrf", &csrf), ("from", "2999-01-01T00:00")],
        )
        .await;
        assert!(res.text().await.unwrap().contains("id=\"no-entries\""));
        let res = post_form(
            &c,
            t,
            "/audit",
            &[
                ("csrf", &csrf),
                ("until", "2999-01-01T00:00"),
                ("target_kind", "user"),
            ],
        )
        .await;
        assert!(!seqs(&res.text().await.unwrap()).is_empty());
        let res = post_form(&c, t, "/audit", &[("csrf", &csrf), ("from", "last week")]).await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<code>invalid_time</code>")
        );
        let res = post_form(&c, t, "/audit", &[("csrf", &csrf), ("actor", "nobody")]).await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<code>unknown_user</code>")
        );
        let res = post_form(&c, t, "/audit", &[("actor", "admin")]).await;
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "the CSRF token is checked"
        );

        // One entry in full.
        let (status, page) = get(&c, t, "/audit/1").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("party.create") && page.contains("&#34;kind&#34;: &#34;observer&#34;"),
            "{page}"
        );
        let (status, page) = get(&c, t, "/audit/999999").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(page.contains("<code>not_found</code>"));

        // Verification: intact, then a tampered entry is named, as the API names it.
        let res = post_form(&c, t, "/audit/verify", &[("csrf", &csrf)]).await;
        let page = res.text().await.unwrap();
        assert!(page.contains("data-chain=\"intact\""), "{page}");
        t.raw_sql("UPDATE audit_log SET details = '{\"kind\":\"origin\"}' WHERE seq = 2")
            .await;
        let res = post_form(&c, t, "/audit/verify", &[("csrf", &csrf)]).await;
        let page = res.text().await.unwrap();
        assert!(page.contains("data-chain=\"broken\""), "{page}");
        assert!(page.contains("<a href=\"/audit/2\"><strong>2</strong></a>"));
        assert!(page.contains("audit_chain_broken"));
        let api = t.login("aud", PASSWORD).await;
        let body = expect_error(
            api.get("/api/v1/audit/verify").await,
            StatusCode::CONFLICT,
            "audit_chain_broken",
        )
        .await;
        assert_eq!(body["error"]["entry"], 2);
    })
    .await;
}

#[tokio::test]
async fn the_audit_viewer_refuses_whoever_the_api_refuses() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "mira", &["caseworker", "reviewer"])
            .await;
        // Mediator administrators may read the log too, by the table.
        t.cli_user(&mediator, "admin", &["admin"]).await;
        let api = t.login("mira", PASSWORD).await;
        expect_error(
            api.get("/api/v1/audit").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        let (c, csrf) = sign_in(t, "mira").await;
        let (_, dash) = get(&c, t, "/dashboard").await;
        assert!(!dash.contains("href=\"/audit\""));
        for path in ["/audit", "/audit/1"] {
            let (status, page) = get(&c, t, path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
            assert!(page.contains("<code>forbidden</code>"));
        }
        for path in ["/audit", "/audit/verify"] {
            let res = post_form(&c, t, path, &[("csrf", &csrf), ("from", "junk")]).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        }
        let res = post_form(&c, t, "/audit", &[("csrf", &csrf), ("actor", "admin")]).await;
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "no help finding usernames"
        );

        let (a, _) = sign_in(t, "admin").await;
        let (_, dash) = get(&a, t, "/dashboard").await;
        assert!(dash.contains("href=\"/audit\""));
        let (status, _) = get(&a, t, "/audit").await;
        assert_eq!(status, StatusCode::OK);
    })
    .await;
}
